package btree

import (
	"context"
	"errors"
	"fmt"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zodb"
)

// ErrNotBTree is returned by Open for an object that is not a BTrees
// container (BTree, TreeSet, Bucket or Set of a known family).
var ErrNotBTree = errors.New("not a BTrees container")

// ErrReadOnly is returned by the write methods of a Tree opened with a
// Loader that is not a Writer.
var ErrReadOnly = errors.New("btree: the tree was opened with a Loader that cannot write")

// DefaultPrefetch is the number of buckets iteration loads ahead in one
// LoadMany when Tree.Prefetch is zero.
const DefaultPrefetch = 16

// maxDepth bounds how deep a tree may be. A real tree of 2**63 items is
// less than 20 levels deep; a deeper one has a cycle.
const maxDepth = 64

// tooDeep is the reason a walk that reached maxDepth gives.
const tooDeep = "more than 64 levels (a cycle?)"

// Tree is a BTrees container in a database: a BTree, TreeSet, Bucket or
// Set of any family, read (and, with a Writer, changed) through the Loader
// it was opened with. Its methods load the objects they need each time, so
// a Tree always shows what its Loader shows; it holds no items itself.
//
// A Tree is safe for concurrent reads if its Loader is.
type Tree struct {
	l    Loader
	oid  zodb.OID
	fam  Family
	kind Kind

	// Prefetch is how many buckets iteration (All, Range, Len) loads
	// ahead with one LoadMany, from the interior node above them: 0
	// means DefaultPrefetch; a negative value turns prefetching off, so
	// that each bucket is loaded when the previous one is done. Set it
	// before the Tree is shared: it is read, unguarded, by every walk.
	Prefetch int
}

// Open opens the BTrees container stored at oid. It loads the object once
// to learn its class; a class that is not a BTrees container is an error
// wrapping ErrNotBTree.
func Open(ctx context.Context, l Loader, oid zodb.OID) (*Tree, error) {
	rec, err := l.Load(ctx, oid)
	if err != nil {
		return nil, err
	}
	fam, kind, ok := ParseClass(rec.Class)
	if !ok {
		return nil, fmt.Errorf("btree: object %s is a %q: %w", oid, rec.Class, ErrNotBTree)
	}
	return &Tree{l: l, oid: oid, fam: fam, kind: kind}, nil
}

// OID returns the oid of the container's root object.
func (t *Tree) OID() zodb.OID { return t.oid }

// Family returns the container's family.
func (t *Tree) Family() Family { return t.fam }

// Kind returns whether the container is a BTree, TreeSet, Bucket or Set.
func (t *Tree) Kind() Kind { return t.kind }

// Class returns the container's class, e.g. "BTrees.OOBTree.OOBTree".
func (t *Tree) Class() string { return t.fam.Class(t.kind) }

// Ref returns a persistent reference to the container, to store in another
// object's state (say a PersistentMapping that should hold the tree).
func (t *Tree) Ref() pickle.PersistentRef { return record.RefTo(t.oid, t.Class()) }

// object is one loaded object of a tree: a node or a bucket.
type object struct {
	oid    zodb.OID
	node   *TreeState   // a BTree or TreeSet object
	bucket *BucketState // a Bucket or Set object, or an inline bucket
	// owner is the tree whose state holds an inline bucket.
	owner *object
}

// parse checks that rec is a node or bucket of the tree's family and reads
// its state.
func (t *Tree) parse(oid zodb.OID, rec *record.Record) (*object, error) {
	if rec == nil {
		return nil, &StateError{OID: oid, Reason: "the loader returned no record"}
	}
	fam, kind, ok := ParseClass(rec.Class)
	fits := ok && fam.Prefix == t.fam.Prefix && kind.IsSet() == t.kind.IsSet() &&
		(oid != t.oid || kind == t.kind) && // the root keeps its class
		(t.kind.IsTree() || oid == t.oid) // a lone bucket has no children
	if !fits {
		return nil, &StateError{OID: oid, Class: rec.Class, Reason: fmt.Sprintf("not a node or bucket of the %s at %s", t.Class(), t.oid)}
	}
	o := &object{oid: oid}
	var err error
	if kind.IsTree() {
		o.node, err = ParseTreeState(t.fam, kind, rec.State)
	} else {
		o.bucket, err = ParseBucketState(t.fam, kind, rec.State)
	}
	if err != nil {
		var se *StateError
		if errors.As(err, &se) {
			se.OID, se.Class = oid, rec.Class
		}
		return nil, err
	}
	return o, nil
}

func (t *Tree) load(ctx context.Context, oid zodb.OID) (*object, error) {
	rec, err := t.l.Load(ctx, oid)
	if err != nil {
		return nil, err
	}
	return t.parse(oid, rec)
}

// child returns child i of node n: the inline bucket or the loaded object.
func (t *Tree) child(ctx context.Context, n *object, i int) (*object, error) {
	c := n.node.Children[i]
	if c.Inline != nil {
		return &object{oid: n.oid, bucket: c.Inline, owner: n}, nil
	}
	return t.load(ctx, c.OID)
}

// search returns the index of the first key >= key and whether it is
// equal: the insertion point of key among sorted keys.
func search(keys []pickle.Value, key pickle.Value) (int, bool, error) {
	lo, hi := 0, len(keys)
	for lo < hi {
		mid := int(uint(lo+hi) >> 1)
		c, err := Compare(keys[mid], key)
		if err != nil {
			return 0, false, err
		}
		switch {
		case c < 0:
			lo = mid + 1
		case c > 0:
			hi = mid
		default:
			return mid, true, nil
		}
	}
	return lo, false, nil
}

// childFor returns the index of the child of n whose keys range holds key:
// the number of separating keys <= key.
func childFor(n *TreeState, key pickle.Value) (int, error) {
	i, found, err := search(n.Keys, key)
	if found {
		i++
	}
	return i, err
}

// leafFor walks from the root down to the bucket whose range holds key,
// calling visit for each node on the way with the child index taken.
func (t *Tree) leafFor(ctx context.Context, root *object, key pickle.Value, visit func(n *object, i int)) (*object, error) {
	o := root
	for depth := 0; o.node != nil; depth++ {
		if depth >= maxDepth {
			return nil, &StateError{OID: t.oid, Class: t.Class(), Reason: tooDeep}
		}
		if len(o.node.Children) == 0 {
			return nil, nil
		}
		i := 0
		if key != nil {
			var err error
			if i, err = childFor(o.node, key); err != nil {
				return nil, err
			}
		}
		if visit != nil {
			visit(o, i)
		}
		c, err := t.child(ctx, o, i)
		if err != nil {
			return nil, err
		}
		o = c
	}
	return o, nil
}

// Get returns the value stored under key (nil for a set) and whether key
// is present. Keys are compared as Python does (see Compare): a key that
// cannot be ordered against the tree's keys is an error, never a miss.
func (t *Tree) Get(ctx context.Context, key pickle.Value) (pickle.Value, bool, error) {
	key, err := t.lookupKey(key)
	if err != nil {
		return nil, false, err
	}
	root, err := t.load(ctx, t.oid)
	if err != nil {
		return nil, false, err
	}
	b, err := t.leafFor(ctx, root, key, nil)
	if err != nil || b == nil {
		return nil, false, err
	}
	i, found, err := search(b.bucket.Keys, key)
	if err != nil || !found {
		return nil, false, err
	}
	if b.bucket.Values == nil {
		return nil, true, nil
	}
	return b.bucket.Values[i], true, nil
}

// Has reports whether key is in the container.
func (t *Tree) Has(ctx context.Context, key pickle.Value) (bool, error) {
	_, ok, err := t.Get(ctx, key)
	return ok, err
}

// lookupKey converts a key given to a read method as coerce does, so that
// an int or []byte finds what the tree holds.
func (t *Tree) lookupKey(key pickle.Value) (pickle.Value, error) {
	if key == nil {
		return nil, &TypeError{Type: t.fam.Key, Value: key, What: "key"}
	}
	return t.fam.Key.coerce(key, "key")
}

// Len returns the number of items. Like len() in Python it walks the
// whole chain of buckets, loading each (Prefetch at a time); a
// BTrees.Length kept next to the tree is the cheap count applications
// maintain.
func (t *Tree) Len(ctx context.Context) (int, error) {
	n := 0
	err := t.walk(ctx, nil, nil, func(b *BucketState, from, to int) bool {
		n += to - from
		return true
	})
	return n, err
}
