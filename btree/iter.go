package btree

import (
	"context"
	"errors"
	"iter"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
)

// Item is one item of a container: a key and its value (nil in a set).
type Item struct {
	Key   pickle.Value
	Value pickle.Value
}

// All returns the container's items in key order. See Range.
func (t *Tree) All(ctx context.Context) iter.Seq2[Item, error] {
	return t.Range(ctx, nil, nil)
}

// Range returns the items whose keys k satisfy min <= k < max, in key
// order; a nil bound is no bound (None is a key like any other and sorts
// first). On a failure (a load, a malformed object, keys that cannot be
// ordered) the sequence yields the error once, with a zero Item, and ends.
//
// Like Python's BTrees, Range finds the first bucket by descending the
// tree and then follows the buckets' next links, so that only the objects
// on the way down and the buckets of the range are read. While it follows
// them it loads the next Prefetch buckets at once with LoadMany, taking
// their oids from the interior node above; memory holds the nodes of one
// path and Prefetch buckets, whatever the size of the tree.
func (t *Tree) Range(ctx context.Context, min, max pickle.Value) iter.Seq2[Item, error] {
	return func(yield func(Item, error) bool) {
		var err error
		if min != nil {
			min, err = t.lookupKey(min)
		}
		if err == nil && max != nil {
			max, err = t.lookupKey(max)
		}
		if err == nil {
			err = t.walk(ctx, min, max, func(b *BucketState, from, to int) bool {
				for i := from; i < to; i++ {
					it := Item{Key: b.Keys[i]}
					if b.Values != nil {
						it.Value = b.Values[i]
					}
					if !yield(it, nil) {
						return false
					}
				}
				return true
			})
		}
		if err != nil {
			yield(Item{}, err)
		}
	}
}

// walk calls fn with each bucket holding keys in [lo, hi) and the index
// range of those keys in it, in key order, until fn returns false.
func (t *Tree) walk(ctx context.Context, lo, hi pickle.Value, fn func(b *BucketState, from, to int) bool) error {
	root, err := t.load(ctx, t.oid)
	if err != nil {
		return err
	}
	if root.bucket != nil { // a lone Bucket or Set: its own items only
		_, err := visit(root.bucket, lo, hi, fn)
		return err
	}
	leaf := t.fam.Class(t.kind.leaf())
	c := &chain{t: t, hi: hi, leaf: leaf, window: map[zodb.OID]loadedBucket{}}
	push := c.push
	if t.prefetch() <= 1 {
		push = nil
	}
	b, err := t.leafFor(ctx, root, lo, push)
	if err != nil || b == nil {
		return err
	}
	// Keys must rise strictly along the whole walk, within each bucket
	// and from one to the next. Besides keeping binary search honest,
	// this is what ends a damaged chain that goes round in a circle,
	// whatever the order of the keys inside its buckets.
	var last pickle.Value
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if len(b.bucket.Keys) == 0 {
			if !b.bucket.HasNext {
				return nil // an empty tree's only bucket
			}
			return &StateError{OID: b.oid, Class: leaf, Reason: "an empty bucket in the chain"}
		}
		if last != nil {
			if c, err := Compare(last, b.bucket.Keys[0]); err != nil || c >= 0 {
				if err != nil {
					return err
				}
				return &StateError{OID: b.oid, Class: leaf, Reason: "the bucket chain goes back in key order"}
			}
		}
		if err := checkSorted(b.bucket.Keys, nil, nil); err != nil {
			var se *StateError
			if errors.As(err, &se) {
				se.OID, se.Class = b.oid, leaf
			}
			return err
		}
		more, err := visit(b.bucket, lo, hi, fn)
		if err != nil || !more || !b.bucket.HasNext {
			return err
		}
		lo = nil // every later bucket's keys are above lo
		last = b.bucket.Keys[len(b.bucket.Keys)-1]
		if b, err = c.fetch(ctx, b.bucket.Next); err != nil {
			return err
		}
	}
}

// visit passes the part of b in [lo, hi) to fn and reports whether the
// walk goes on to the next bucket.
func visit(b *BucketState, lo, hi pickle.Value, fn func(b *BucketState, from, to int) bool) (bool, error) {
	from, to := 0, len(b.Keys)
	var err error
	if lo != nil {
		if from, _, err = search(b.Keys, lo); err != nil {
			return false, err
		}
	}
	if hi != nil {
		if to, _, err = search(b.Keys, hi); err != nil {
			return false, err
		}
	}
	if from < to && !fn(b, from, to) {
		return false, nil
	}
	return to == len(b.Keys), nil
}

func (t *Tree) prefetch() int {
	if t.Prefetch == 0 {
		return DefaultPrefetch
	}
	return t.Prefetch
}

type loadedBucket struct {
	o   *object
	err error
}

// chain fetches the buckets of a walk. The next bucket is always the one
// the current bucket's next link names (as in Python); the tree's interior
// nodes only predict which buckets come next, so that they can be loaded
// Prefetch at a time. If the prediction turns out wrong (a damaged tree),
// prefetching stops and the walk goes on one bucket at a time.
type chain struct {
	t  *Tree
	hi pickle.Value
	// leaf is the class of the tree's buckets.
	leaf string
	// stack is the path of interior nodes to the last predicted bucket,
	// with the child index taken in each.
	stack  []frame
	bottom int // len(stack) when the top frame's children are buckets
	done   bool
	window map[zodb.OID]loadedBucket
}

type frame struct {
	n *object
	i int
}

func (c *chain) push(n *object, i int) {
	c.stack = append(c.stack, frame{n, i})
	c.bottom = len(c.stack)
}

// fetch returns the bucket oid: from the prefetched window, or by loading
// it with the buckets predicted to follow it.
func (c *chain) fetch(ctx context.Context, oid zodb.OID) (*object, error) {
	if lb, ok := c.window[oid]; ok {
		delete(c.window, oid)
		return lb.o, lb.err
	}
	clear(c.window)
	var oids []zodb.OID
	for !c.done && len(oids) < c.t.prefetch() {
		next, ok, err := c.advance(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		oids = append(oids, next)
	}
	if len(oids) == 0 || oids[0] != oid {
		c.done = true
		return c.t.load(ctx, oid)
	}
	recs, err := c.t.l.LoadMany(ctx, oids)
	if err != nil {
		return nil, err
	}
	if len(recs) != len(oids) {
		return nil, &StateError{OID: oid, Reason: "LoadMany returned a wrong number of records"}
	}
	for i, id := range oids[1:] {
		o, err := c.t.parse(id, recs[i+1])
		c.window[id] = loadedBucket{o, err}
	}
	return c.t.parse(oid, recs[0])
}

// advance moves the prediction to the next bucket in tree order and
// returns its oid; false when the tree has no more (or none below hi).
func (c *chain) advance(ctx context.Context) (zodb.OID, bool, error) {
	for len(c.stack) > 0 {
		f := &c.stack[len(c.stack)-1]
		n := f.n.node
		if f.i+1 >= len(n.Children) {
			c.stack = c.stack[:len(c.stack)-1]
			continue
		}
		if c.hi != nil {
			// Keys[f.i] is the lowest key the next child may hold.
			if cmp, err := Compare(n.Keys[f.i], c.hi); err != nil || cmp >= 0 {
				c.done = true
				return zodb.OID{}, false, nil
			}
		}
		f.i++
		child := n.Children[f.i]
		for len(c.stack) < c.bottom {
			if child.Inline != nil || child.Class == c.leaf {
				break // the tree is not balanced: stop predicting
			}
			o, err := c.t.load(ctx, child.OID)
			if err != nil {
				return zodb.OID{}, false, err
			}
			if o.node == nil || len(o.node.Children) == 0 {
				break
			}
			c.stack = append(c.stack, frame{o, 0})
			child = o.node.Children[0]
		}
		if len(c.stack) != c.bottom || child.Inline != nil || (child.Class != "" && child.Class != c.leaf) {
			c.done = true
			return zodb.OID{}, false, nil
		}
		return child.OID, true, nil
	}
	c.done = true
	return zodb.OID{}, false, nil
}
