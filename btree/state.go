package btree

import (
	"errors"
	"fmt"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zodb"
)

// ErrState is wrapped by every *StateError.
var ErrState = errors.New("malformed BTrees state")

// StateError reports an object whose state is not one BTrees writes for
// its class (or that does not fit the tree it was reached from).
type StateError struct {
	OID zodb.OID
	// Class is the object's class, when known.
	Class  string
	Reason string
}

func (e *StateError) Error() string {
	if e.Class == "" {
		return fmt.Sprintf("btree: object %s: %s", e.OID, e.Reason)
	}
	return fmt.Sprintf("btree: %s %s: %s", e.Class, e.OID, e.Reason)
}

// Unwrap returns ErrState.
func (e *StateError) Unwrap() error { return ErrState }

func stateErr(format string, args ...any) *StateError {
	return &StateError{Reason: fmt.Sprintf(format, args...)}
}

// BucketState is the state of a Bucket or a Set: its items in key order
// and the bucket that follows it in its tree.
//
// BTrees pickles it as (items,) or (items, next), where items is the flat
// tuple (k0, v0, k1, v1, ...) of a Bucket or (k0, k1, ...) of a Set, and
// next is a persistent reference to the next bucket.
type BucketState struct {
	Keys []pickle.Value
	// Values holds the value of each key; nil for a Set.
	Values []pickle.Value
	// Next is the bucket after this one in key order, when HasNext.
	Next    zodb.OID
	HasNext bool
}

// Len returns the number of items.
func (b *BucketState) Len() int { return len(b.Keys) }

// TreeState is the state of a BTree or TreeSet object: the root or an
// interior node of a tree.
//
// BTrees pickles it as:
//
//	None                                      an empty tree
//	((bucket_state,),)                        a tree of one bucket, held inline
//	((child0, key1, child1, ..., keyN, childN), firstbucket)
//
// where each child is a persistent reference to a node of the same class
// or, at the bottom level, to a bucket; keyI separates childI-1 from
// childI; and firstbucket refers to the leftmost bucket under the node.
type TreeState struct {
	// Children are the node's subtrees in key order; none for an empty
	// tree.
	Children []Child
	// Keys[i] separates Children[i] and Children[i+1]: the keys under
	// Children[i+1] are >= Keys[i], those under Children[i] are < Keys[i].
	Keys []pickle.Value
	// FirstBucket is the leftmost bucket under the node; zero for an
	// empty tree or an inline bucket.
	FirstBucket zodb.OID
}

// Child is one subtree of a TreeState.
type Child struct {
	// OID is the child object's oid; zero for an inline bucket.
	OID zodb.OID
	// Class is the child's class as the reference names it; "" when the
	// reference does not say.
	Class string
	// Inline is the bucket of a tree that has only one, which BTrees
	// stores in the tree's own state instead of as an object of its own.
	Inline *BucketState
}

// Len returns the number of children.
func (t *TreeState) Len() int { return len(t.Children) }

// ParseBucketState reads the state of a Bucket or Set of family fam
// (kind KindBucket or KindSet). Every key and value is checked against the
// family's types; a state of any other shape is a *StateError.
func ParseBucketState(fam Family, kind Kind, state pickle.Value) (*BucketState, error) {
	t, ok := state.(pickle.Tuple)
	if !ok || len(t) < 1 || len(t) > 2 {
		return nil, stateErr("bucket state has type %s, not a 1- or 2-tuple", pickle.TypeName(state))
	}
	items, ok := t[0].(pickle.Tuple)
	if !ok {
		return nil, stateErr("bucket items have type %s, not a tuple", pickle.TypeName(t[0]))
	}
	b := &BucketState{}
	if kind.IsSet() {
		b.Keys = make([]pickle.Value, len(items))
		for i, k := range items {
			if !fam.Key.check(k) {
				return nil, stateErr("key %d is %s, not a %s", i, short(k), fam.Key)
			}
			b.Keys[i] = k
		}
	} else {
		if len(items)%2 != 0 {
			return nil, stateErr("bucket items have odd length %d", len(items))
		}
		n := len(items) / 2
		b.Keys = make([]pickle.Value, n)
		b.Values = make([]pickle.Value, n)
		for i := range n {
			k, v := items[2*i], items[2*i+1]
			if !fam.Key.check(k) {
				return nil, stateErr("key %d is %s, not a %s", i, short(k), fam.Key)
			}
			if !fam.Value.check(v) {
				return nil, stateErr("value %d is %s, not a %s", i, short(v), fam.Value)
			}
			b.Keys[i], b.Values[i] = k, v
		}
	}
	if len(t) == 2 {
		oid, class, err := refOf(t[1])
		if err != nil {
			return nil, stateErr("next bucket: %v", err)
		}
		if class != "" && class != fam.Class(kind.leaf()) {
			return nil, stateErr("next bucket is a %s, not a %s", class, fam.Class(kind.leaf()))
		}
		b.Next, b.HasNext = oid, true
	}
	return b, nil
}

// ParseTreeState reads the state of a BTree or TreeSet of family fam (kind
// KindBTree or KindTreeSet). Keys are checked against the family's key
// type and children must refer to objects of the node's class or its
// bucket class; a state of any other shape is a *StateError.
func ParseTreeState(fam Family, kind Kind, state pickle.Value) (*TreeState, error) {
	if pickle.IsNone(state) {
		return &TreeState{}, nil
	}
	t, ok := state.(pickle.Tuple)
	if !ok || len(t) < 1 || len(t) > 2 {
		return nil, stateErr("tree state has type %s, not None or a 1- or 2-tuple", pickle.TypeName(state))
	}
	items, ok := t[0].(pickle.Tuple)
	if !ok {
		return nil, stateErr("tree items have type %s, not a tuple", pickle.TypeName(t[0]))
	}
	if len(items)%2 != 1 {
		return nil, stateErr("tree items have even length %d (children and keys alternate)", len(items))
	}
	n := (len(items) + 1) / 2
	ts := &TreeState{Children: make([]Child, n), Keys: make([]pickle.Value, n-1)}
	nodeClass, leafClass := fam.Class(kind), fam.Class(kind.leaf())
	for i := range n {
		if i > 0 {
			k := items[2*i-1]
			if !fam.Key.check(k) {
				return nil, stateErr("separating key %d is %s, not a %s", i-1, short(k), fam.Key)
			}
			ts.Keys[i-1] = k
		}
		c := items[2*i]
		if bs, ok := c.(pickle.Tuple); ok {
			if n != 1 || len(t) != 1 {
				return nil, stateErr("an inline bucket in a tree of %d children", n)
			}
			b, err := ParseBucketState(fam, kind.leaf(), bs)
			if err != nil {
				return nil, fmt.Errorf("inline bucket: %w", err)
			}
			if b.HasNext {
				return nil, stateErr("an inline bucket with a next bucket")
			}
			ts.Children[0].Inline = b
			return ts, nil
		}
		oid, class, err := childRef(c, nodeClass, leafClass)
		if err != nil {
			return nil, stateErr("child %d: %v", i, err)
		}
		if class != "" && class != nodeClass && class != leafClass {
			return nil, stateErr("child %d is a %s, neither %s nor %s", i, class, nodeClass, leafClass)
		}
		ts.Children[i] = Child{OID: oid, Class: class}
	}
	if len(t) == 2 {
		oid, class, err := refOf(t[1])
		if err != nil {
			return nil, stateErr("firstbucket: %v", err)
		}
		if class != "" && class != leafClass {
			return nil, stateErr("firstbucket is a %s, not a %s", class, leafClass)
		}
		ts.FirstBucket = oid
	} else {
		// BTrees takes the first child as the first bucket; it must be
		// one.
		if ts.Children[0].Class == nodeClass {
			return nil, stateErr("no firstbucket, and the first child is a %s", nodeClass)
		}
		ts.FirstBucket = ts.Children[0].OID
	}
	return ts, nil
}

// refOf reads a persistent reference to an object of this database.
func refOf(v pickle.Value) (zodb.OID, string, error) {
	pr, ok := v.(pickle.PersistentRef)
	if !ok {
		return zodb.OID{}, "", fmt.Errorf("a value of type %s, not a persistent reference", pickle.TypeName(v))
	}
	r := record.ParseRef(pr.ID)
	if !r.HasOID || r.Weak || r.Database != "" {
		return zodb.OID{}, "", fmt.Errorf("%s is not a reference to an object of this database", r)
	}
	return r.OID, r.Class, nil
}

// childRef is refOf for a node's children, which are (oid, class)
// references to one of two classes: it names the class with the node's
// own strings rather than making one per child, which is half of what
// decoding a node of hundreds of children allocates.
func childRef(v pickle.Value, nodeClass, leafClass string) (zodb.OID, string, error) {
	if pr, ok := v.(pickle.PersistentRef); ok {
		if t, ok := pr.ID.(pickle.Tuple); ok && len(t) == 2 {
			g, isGlobal := t[1].(pickle.Global)
			p, isBytes := pickle.AsBytes(t[0])
			if isGlobal && isBytes && len(p) == len(zodb.OID{}) {
				for _, class := range []string{nodeClass, leafClass} {
					if globalIs(g, class) {
						return zodb.OID(p), class, nil
					}
				}
			}
		}
	}
	return refOf(v)
}

// globalIs reports whether g names class ("module.Name").
func globalIs(g pickle.Global, class string) bool {
	m := len(g.Module)
	return len(class) == m+1+len(g.Name) && class[:m] == g.Module && class[m] == '.' && class[m+1:] == g.Name
}
