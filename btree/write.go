package btree

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zodb"
)

// Create makes a new, empty container of family fam and kind k: it takes
// an oid from w and stores the object. Nothing refers to it yet: store
// its Ref in some object reachable from the root, or it is garbage at
// the next pack.
func Create(ctx context.Context, w Writer, fam Family, k Kind) (*Tree, error) {
	if _, ok := FamilyOf(fam.Prefix); !ok || k < KindBTree || k > KindSet {
		return nil, fmt.Errorf("btree: no %s%s in BTrees", fam.Prefix, k)
	}
	oid, err := w.NewOID(ctx)
	if err != nil {
		return nil, err
	}
	t := &Tree{l: w, oid: oid, fam: fam, kind: k}
	var state pickle.Value = pickle.None
	if !k.IsTree() {
		state = pickle.Tuple{pickle.Tuple{}}
	}
	if err := w.Store(oid, t.Class(), state); err != nil {
		return nil, err
	}
	return t, nil
}

// Set stores value under key in a BTree or Bucket and reports whether the
// key is new. The key and value are converted to the family's types as
// BTrees converts them (an int for an integer key, a []byte of two bytes
// for an fs key, ...): anything else is a *TypeError. Object keys must be
// orderable against the tree's keys (see Compare).
//
// The change follows BTrees' insert exactly: a bucket that grows past the
// family's MaxLeafSize is split in half, and so is an interior node past
// MaxInternalSize children; the root, which keeps its oid, splits into two
// new children when it reaches twice that. New buckets and nodes take
// oids from the Writer; every changed object is stored through it, once,
// when the whole change is done (nothing is stored on an error).
func (t *Tree) Set(ctx context.Context, key, value pickle.Value) (bool, error) {
	if t.kind.IsSet() {
		return false, fmt.Errorf("btree: Set on a %s, which holds keys only: use Insert", t.Class())
	}
	v, err := t.fam.Value.coerce(value, "value")
	if err != nil {
		return false, err
	}
	return t.insert(ctx, key, v)
}

// Insert adds key to a TreeSet or Set and reports whether it was absent.
// See Set for conversions and splits.
func (t *Tree) Insert(ctx context.Context, key pickle.Value) (bool, error) {
	if !t.kind.IsSet() {
		return false, fmt.Errorf("btree: Insert on a %s, which maps keys to values: use Set", t.Class())
	}
	return t.insert(ctx, key, nil)
}

// Delete removes key and reports whether it was there. As in BTrees, a
// bucket left empty is unlinked from the chain and removed from its node
// (and a node left empty from its parent); the tree is not rebalanced.
func (t *Tree) Delete(ctx context.Context, key pickle.Value) (bool, error) {
	m, err := t.mutate(ctx)
	if err != nil {
		return false, err
	}
	k, err := t.lookupKey(key)
	if err != nil {
		return false, err
	}
	root, err := m.load(t.oid)
	if err != nil {
		return false, err
	}
	if root.bucket != nil {
		found, err := bucketDelete(root.bucket, k)
		if err != nil || !found {
			return false, err
		}
		m.changed(root)
	} else if _, err := m.delete(root, k, 0); err != nil {
		if errors.Is(err, errAbsent) {
			return false, nil
		}
		return false, err
	}
	return true, m.flush()
}

func (t *Tree) insert(ctx context.Context, key, value pickle.Value) (bool, error) {
	m, err := t.mutate(ctx)
	if err != nil {
		return false, err
	}
	k, err := t.fam.Key.coerce(key, "key")
	if err != nil {
		return false, err
	}
	root, err := m.load(t.oid)
	if err != nil {
		return false, err
	}
	var grew bool
	if root.bucket != nil {
		var changed bool
		grew, changed, err = m.bucketSet(root.bucket, k, value)
		if changed {
			m.changed(root)
		}
	} else {
		grew, err = m.set(root, k, value, 0)
	}
	if err != nil {
		return false, err
	}
	return grew, m.flush()
}

// errAbsent is how delete reports a key that is not there (Python's
// KeyError) up through the levels.
var errAbsent = errors.New("key not found")

// mutation is one insert or delete: the objects it loaded (through the
// Writer, so that they are committed against the revision read) and the
// ones it changed or created, stored together at the end.
type mutation struct {
	ctx   context.Context
	t     *Tree
	w     Writer
	objs  map[zodb.OID]*object
	dirty []*object // in the order they first changed
	isSet bool
}

func (t *Tree) mutate(ctx context.Context) (*mutation, error) {
	w, ok := t.l.(Writer)
	if !ok {
		return nil, ErrReadOnly
	}
	return &mutation{ctx: ctx, t: t, w: w, objs: map[zodb.OID]*object{}, isSet: t.kind.IsSet()}, nil
}

func (m *mutation) load(oid zodb.OID) (*object, error) {
	if o, ok := m.objs[oid]; ok {
		return o, nil
	}
	if len(m.objs) > 1<<16 {
		return nil, &StateError{OID: oid, Class: m.t.Class(), Reason: "a change that touches more than 65536 objects (a cycle?)"}
	}
	rec, err := m.w.Load(m.ctx, oid)
	if err != nil {
		return nil, err
	}
	o, err := m.t.parse(oid, rec)
	if err != nil {
		return nil, err
	}
	m.objs[oid] = o
	return o, nil
}

// child returns child i of node o (an inline bucket as an object with o's
// oid).
func (m *mutation) child(o *object, i int) (*object, error) {
	c := o.node.Children[i]
	if c.Inline != nil {
		return &object{oid: o.oid, bucket: c.Inline, owner: o}, nil
	}
	return m.load(c.OID)
}

func (m *mutation) changed(o *object) {
	if o.owner != nil {
		o = o.owner // an inline bucket is part of its tree's state
	}
	if !slices.Contains(m.dirty, o) {
		m.dirty = append(m.dirty, o)
	}
}

// create gives a new object an oid.
func (m *mutation) create(o *object) error {
	oid, err := m.w.NewOID(m.ctx)
	if err != nil {
		return err
	}
	o.oid = oid
	m.objs[oid] = o
	m.changed(o)
	return nil
}

func (m *mutation) nodeClass() string { return m.t.fam.Class(m.t.kind) }
func (m *mutation) leafClass() string { return m.t.fam.Class(m.t.kind.leaf()) }

// bucketSet is BTrees' _bucket_set for an insert: it reports whether the
// bucket grew and whether it changed at all.
func (m *mutation) bucketSet(b *BucketState, key, value pickle.Value) (grew, changed bool, err error) {
	i, found, err := search(b.Keys, key)
	if err != nil {
		return false, false, err
	}
	if found {
		if m.isSet || m.t.fam.Value.sameValue(b.Values[i], value) {
			return false, false, nil
		}
		b.Values[i] = value
		return false, true, nil
	}
	b.Keys = slices.Insert(b.Keys, i, key)
	if !m.isSet {
		b.Values = slices.Insert(b.Values, i, value)
	}
	return true, true, nil
}

// bucketDelete removes key from b and reports whether it was there.
func bucketDelete(b *BucketState, key pickle.Value) (bool, error) {
	i, found, err := search(b.Keys, key)
	if err != nil || !found {
		return false, err
	}
	b.Keys = slices.Delete(b.Keys, i, i+1)
	if b.Values != nil {
		b.Values = slices.Delete(b.Values, i, i+1)
	}
	return true, nil
}

// set is BTrees' _BTree_set for an insert into node o: it reports whether
// the tree under o grew by one item.
func (m *mutation) set(o *object, key, value pickle.Value, depth int) (bool, error) {
	if depth >= maxDepth {
		return false, &StateError{OID: o.oid, Class: m.nodeClass(), Reason: tooDeep}
	}
	n := o.node
	if len(n.Children) == 0 {
		// An empty tree gets one bucket, held in the tree's own state
		// until a split gives it an oid.
		b := &BucketState{Keys: []pickle.Value{}}
		if !m.isSet {
			b.Values = []pickle.Value{}
		}
		n.Children, n.Keys, n.FirstBucket = []Child{{Inline: b}}, nil, zodb.OID{}
		m.changed(o)
	}
	i, err := childFor(n, key)
	if err != nil {
		return false, err
	}
	c, err := m.child(o, i)
	if err != nil {
		return false, err
	}
	var grew bool
	var size, limit int
	if c.node != nil {
		if grew, err = m.set(c, key, value, depth+1); err != nil {
			return false, err
		}
		size, limit = len(c.node.Children), m.t.fam.MaxInternalSize
	} else {
		var changed bool
		if grew, changed, err = m.bucketSet(c.bucket, key, value); err != nil {
			return false, err
		}
		if changed {
			m.changed(c) // the node itself for an inline bucket
		}
		size, limit = len(c.bucket.Keys), m.t.fam.MaxLeafSize
	}
	if grew && size > limit {
		if err := m.grow(o, i); err != nil {
			return false, err
		}
	}
	return grew, nil
}

// grow is BTrees' BTree_grow: it splits child i of node o in half, puts
// the new right half after it, and splits o itself (keeping its oid) when
// it has grown to twice the family's node limit.
func (m *mutation) grow(o *object, i int) error {
	n := o.node
	c, err := m.child(o, i)
	if err != nil {
		return err
	}
	var right Child
	var sep pickle.Value
	if c.node != nil {
		v := c.node
		at := len(v.Children) / 2
		e := &TreeState{
			Children: slices.Clone(v.Children[at:]),
			Keys:     slices.Clone(v.Keys[at:]),
		}
		sep = v.Keys[at-1]
		v.Children, v.Keys = slices.Clone(v.Children[:at]), slices.Clone(v.Keys[:at-1])
		if e.FirstBucket, err = m.firstBucket(e.Children[0]); err != nil {
			return err
		}
		eo := &object{node: e}
		if err := m.create(eo); err != nil {
			return err
		}
		m.changed(c)
		right = Child{OID: eo.oid, Class: m.nodeClass()}
	} else {
		if n.Children[i].Inline != nil {
			// The inline bucket becomes an object of its own, as ZODB
			// gives it an oid when a tree with two buckets is stored.
			c.owner = nil
			if err := m.create(c); err != nil {
				return err
			}
			n.Children[i] = Child{OID: c.oid, Class: m.leafClass()}
			n.FirstBucket = c.oid
		}
		v := c.bucket
		at := len(v.Keys) / 2
		e := &BucketState{Keys: slices.Clone(v.Keys[at:]), Next: v.Next, HasNext: v.HasNext}
		v.Keys = slices.Clone(v.Keys[:at])
		if v.Values != nil {
			e.Values = slices.Clone(v.Values[at:])
			v.Values = slices.Clone(v.Values[:at])
		}
		eo := &object{bucket: e}
		if err := m.create(eo); err != nil {
			return err
		}
		v.Next, v.HasNext = eo.oid, true
		m.changed(c)
		sep = e.Keys[0]
		right = Child{OID: eo.oid, Class: m.leafClass()}
	}
	n.Children = slices.Insert(n.Children, i+1, right)
	n.Keys = slices.Insert(n.Keys, i, sep)
	m.changed(o)
	if len(n.Children) >= 2*m.t.fam.MaxInternalSize {
		return m.splitRoot(o)
	}
	return nil
}

// splitRoot is BTree_split_root: the node's children move to a new node,
// its only child, which is then split; the node keeps its oid.
func (m *mutation) splitRoot(o *object) error {
	moved := &object{node: o.node}
	if err := m.create(moved); err != nil {
		return err
	}
	o.node = &TreeState{
		Children:    []Child{{OID: moved.oid, Class: m.nodeClass()}},
		FirstBucket: moved.node.FirstBucket,
	}
	m.changed(o)
	return m.grow(o, 0)
}

// firstBucket returns the oid of the leftmost bucket under child c.
func (m *mutation) firstBucket(c Child) (zodb.OID, error) {
	if c.Class == m.leafClass() {
		return c.OID, nil
	}
	o, err := m.load(c.OID)
	if err != nil {
		return zodb.OID{}, err
	}
	if o.node != nil {
		return o.node.FirstBucket, nil
	}
	return c.OID, nil
}

// delete is BTrees' _BTree_set for a delete from node o. It returns 2
// when the first bucket under o went away, so that the caller unlinks it
// from the bucket before (BTrees' status 2), else 1; errAbsent when the
// key is not there.
func (m *mutation) delete(o *object, key pickle.Value, depth int) (int, error) {
	if depth >= maxDepth {
		return 0, &StateError{OID: o.oid, Class: m.nodeClass(), Reason: tooDeep}
	}
	n := o.node
	if len(n.Children) == 0 {
		return 0, errAbsent
	}
	i, err := childFor(n, key)
	if err != nil {
		return 0, err
	}
	c, err := m.child(o, i)
	if err != nil {
		return 0, err
	}
	status := 1
	var size int
	if c.node != nil {
		if status, err = m.delete(c, key, depth+1); err != nil {
			return 0, err
		}
		size = len(c.node.Children)
	} else {
		found, err := bucketDelete(c.bucket, key)
		if err != nil {
			return 0, err
		}
		if !found {
			return 0, errAbsent
		}
		m.changed(c)
		size = len(c.bucket.Keys)
	}

	if i > 0 && size > 0 {
		// The separating key was the deleted one: the child's new
		// first key takes its place.
		if cmp, err := Compare(key, n.Keys[i-1]); err != nil {
			return 0, err
		} else if cmp == 0 {
			first := c.bucket
			if c.node != nil {
				fb, err := m.load(c.node.FirstBucket)
				if err != nil {
					return 0, err
				}
				first = fb.bucket
			}
			if first == nil || len(first.Keys) == 0 {
				return 0, &StateError{OID: c.oid, Class: m.leafClass(), Reason: "firstbucket is not a bucket with keys"}
			}
			n.Keys[i-1] = first.Keys[0]
			m.changed(o)
		}
	}

	if status == 2 {
		if i > 0 {
			// The bucket that went away follows the last bucket of
			// the subtree on the left: unlink it there.
			if err := m.unlinkAfterSubtree(n.Children[i-1]); err != nil {
				return 0, err
			}
			status = 1
		} else {
			n.FirstBucket = c.node.FirstBucket
			m.changed(o)
		}
	}
	if size > 0 {
		return status, nil
	}

	// The child is empty: remove it, and a bucket from the chain.
	if c.node == nil {
		if i > 0 {
			prev, err := m.load(n.Children[i-1].OID)
			if err != nil {
				return 0, err
			}
			if prev.bucket == nil {
				return 0, &StateError{OID: prev.oid, Class: m.nodeClass(), Reason: "a node next to a bucket"}
			}
			prev.bucket.Next, prev.bucket.HasNext = c.bucket.Next, c.bucket.HasNext
			m.changed(prev)
		} else {
			n.FirstBucket = c.bucket.Next
			if !c.bucket.HasNext {
				n.FirstBucket = zodb.OID{}
			}
			status = 2
		}
	}
	if i > 0 {
		n.Keys = slices.Delete(n.Keys, i-1, i)
	} else if len(n.Keys) > 0 {
		n.Keys = slices.Delete(n.Keys, 0, 1)
	}
	n.Children = slices.Delete(n.Children, i, i+1)
	m.changed(o)
	return status, nil
}

// unlinkAfterSubtree is BTree_deleteNextBucket: the last bucket under c
// gets the next link of the bucket after it, which went away.
func (m *mutation) unlinkAfterSubtree(c Child) error {
	o, err := m.load(c.OID)
	for depth := 0; err == nil && o.node != nil; depth++ {
		if depth >= maxDepth || len(o.node.Children) == 0 {
			return &StateError{OID: o.oid, Class: m.nodeClass(), Reason: "no last bucket under the node"}
		}
		o, err = m.load(o.node.Children[len(o.node.Children)-1].OID)
	}
	if err != nil {
		return err
	}
	b := o.bucket
	if !b.HasNext {
		return nil
	}
	gone, err := m.load(b.Next)
	if err != nil {
		return err
	}
	if gone.bucket == nil {
		return &StateError{OID: gone.oid, Class: m.nodeClass(), Reason: "a next link to a node"}
	}
	b.Next, b.HasNext = gone.bucket.Next, gone.bucket.HasNext
	m.changed(o)
	return nil
}

// flush stores every object the change touched.
func (m *mutation) flush() error {
	for _, o := range m.dirty {
		class, state, err := m.encode(o)
		if err != nil {
			return err
		}
		if err := m.w.Store(o.oid, class, state); err != nil {
			return err
		}
	}
	return nil
}

// encode returns an object's class and state as BTrees' __getstate__
// writes them.
func (m *mutation) encode(o *object) (string, pickle.Value, error) {
	if o.bucket != nil {
		class := m.leafClass()
		if o.oid == m.t.oid {
			class = m.t.Class()
		}
		return class, m.bucketState(o.bucket), nil
	}
	n := o.node
	switch {
	case len(n.Children) == 0:
		return m.nodeClass(), pickle.None, nil
	case len(n.Children) == 1 && n.Children[0].Inline != nil:
		return m.nodeClass(), pickle.Tuple{pickle.Tuple{m.bucketState(n.Children[0].Inline)}}, nil
	}
	items := make(pickle.Tuple, 0, 2*len(n.Children)-1)
	for i, c := range n.Children {
		if i > 0 {
			items = append(items, n.Keys[i-1])
		}
		class := c.Class
		if class == "" {
			co, err := m.load(c.OID)
			if err != nil {
				return "", nil, err
			}
			class = m.leafClass()
			if co.node != nil {
				class = m.nodeClass()
			}
		}
		items = append(items, record.RefTo(c.OID, class))
	}
	return m.nodeClass(), pickle.Tuple{items, record.RefTo(n.FirstBucket, m.leafClass())}, nil
}

func (m *mutation) bucketState(b *BucketState) pickle.Value {
	var items pickle.Tuple
	if b.Values == nil {
		items = append(pickle.Tuple{}, b.Keys...)
	} else {
		items = make(pickle.Tuple, 0, 2*len(b.Keys))
		for i, k := range b.Keys {
			items = append(items, k, b.Values[i])
		}
	}
	if b.HasNext {
		return pickle.Tuple{items, record.RefTo(b.Next, m.leafClass())}
	}
	return pickle.Tuple{items}
}
