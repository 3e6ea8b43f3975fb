package btree

import (
	"context"
	"fmt"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
)

// Check walks the whole container and verifies what BTrees' own checks
// verify: BTree._check() (each node's firstbucket, children all nodes or
// all buckets, no empty bucket, the next links chaining the buckets in
// order and the last one ending the chain) and BTrees.check.check() (keys
// strictly increasing in every node and bucket, and each within the range
// its parent's separating keys give it). It also checks the size limits
// BTrees' inserts keep: no bucket above the family's MaxLeafSize, no
// interior node above MaxInternalSize children, the root below twice that.
//
// The first problem found is returned as a *StateError naming the object
// and the path to it from the root (child indexes); keys that cannot be
// ordered give a *CompareError. Check loads every object of the tree once.
func (t *Tree) Check(ctx context.Context) error {
	root, err := t.load(ctx, t.oid)
	if err != nil {
		return err
	}
	c := &checker{t: t}
	if root.bucket != nil {
		return c.wrap(checkSorted(root.bucket.Keys, nil, nil), t.oid, "root")
	}
	if len(root.node.Children) == 0 {
		return nil
	}
	if _, err := c.node(ctx, root, nil, nil, "root", 0); err != nil {
		return err
	}
	if c.prev != nil && c.prev.HasNext {
		return c.fail(c.prevOID, "root", "the last bucket links to %s", c.prev.Next)
	}
	return nil
}

type checker struct {
	t       *Tree
	prev    *BucketState // the last bucket visited, in key order
	prevOID zodb.OID
}

func (c *checker) fail(oid zodb.OID, path, format string, args ...any) error {
	return &StateError{OID: oid, Reason: fmt.Sprintf("at %s: ", path) + fmt.Sprintf(format, args...)}
}

// node checks a node whose keys must lie in [lo, hi) and returns the oid
// of its first bucket.
func (c *checker) node(ctx context.Context, o *object, lo, hi pickle.Value, path string, depth int) (zodb.OID, error) {
	n := o.node
	if depth >= maxDepth {
		return zodb.OID{}, c.fail(o.oid, path, tooDeep)
	}
	if len(n.Children) == 0 {
		return zodb.OID{}, c.fail(o.oid, path, "an empty interior node")
	}
	limit := c.t.fam.MaxInternalSize
	if o.oid == c.t.oid {
		limit = 2*limit - 1
	}
	if len(n.Children) > limit {
		return zodb.OID{}, c.fail(o.oid, path, "%d children, above the family's limit of %d", len(n.Children), limit)
	}
	if err := checkSorted(n.Keys, lo, hi); err != nil {
		return zodb.OID{}, c.wrap(err, o.oid, path)
	}
	if n.Children[0].Inline != nil {
		if o.oid != c.t.oid {
			return zodb.OID{}, c.fail(o.oid, path, "an inline bucket below the root")
		}
		return zodb.OID{}, c.bucket(o.oid, n.Children[0].Inline, lo, hi, path+".0")
	}
	var first zodb.OID
	var childIsNode bool
	for i, ch := range n.Children {
		clo, chi := lo, hi
		if i > 0 {
			clo = n.Keys[i-1]
		}
		if i < len(n.Keys) {
			chi = n.Keys[i]
		}
		cpath := fmt.Sprintf("%s.%d", path, i)
		co, err := c.t.load(ctx, ch.OID)
		if err != nil {
			return zodb.OID{}, err
		}
		if i == 0 {
			childIsNode = co.node != nil
		} else if childIsNode != (co.node != nil) {
			return zodb.OID{}, c.fail(o.oid, path, "children of different types")
		}
		var cfirst zodb.OID
		if co.node != nil {
			cfirst, err = c.node(ctx, co, clo, chi, cpath, depth+1)
		} else {
			cfirst, err = ch.OID, c.bucket(ch.OID, co.bucket, clo, chi, cpath)
		}
		if err != nil {
			return zodb.OID{}, err
		}
		if i == 0 {
			first = cfirst
		}
	}
	if n.FirstBucket != first {
		return zodb.OID{}, c.fail(o.oid, path, "firstbucket is %s, but the first bucket under it is %s", n.FirstBucket, first)
	}
	return first, nil
}

// bucket checks the next bucket in key order.
func (c *checker) bucket(oid zodb.OID, b *BucketState, lo, hi pickle.Value, path string) error {
	if len(b.Keys) == 0 {
		return c.fail(oid, path, "an empty bucket")
	}
	if len(b.Keys) > c.t.fam.MaxLeafSize {
		return c.fail(oid, path, "%d items, above the family's limit of %d", len(b.Keys), c.t.fam.MaxLeafSize)
	}
	if err := checkSorted(b.Keys, lo, hi); err != nil {
		return c.wrap(err, oid, path)
	}
	if c.prev != nil && (!c.prev.HasNext || c.prev.Next != oid) {
		return c.fail(c.prevOID, path, "the bucket before %s does not link to it", oid)
	}
	c.prev, c.prevOID = b, oid
	return nil
}

func (c *checker) wrap(err error, oid zodb.OID, path string) error {
	if se, ok := err.(*StateError); ok {
		se.OID = oid
		se.Reason = "at " + path + ": " + se.Reason
	}
	return err
}

// checkSorted checks that keys rise strictly and lie in [lo, hi).
func checkSorted(keys []pickle.Value, lo, hi pickle.Value) error {
	for i, k := range keys {
		if lo != nil {
			if c, err := Compare(lo, k); err != nil || c > 0 {
				if err != nil {
					return err
				}
				return stateErr("key %d %s is below the lower bound %s", i, short(k), short(lo))
			}
		}
		if hi != nil {
			if c, err := Compare(k, hi); err != nil || c >= 0 {
				if err != nil {
					return err
				}
				return stateErr("key %d %s is not below the upper bound %s", i, short(k), short(hi))
			}
		}
		if i > 0 {
			if c, err := Compare(keys[i-1], k); err != nil || c >= 0 {
				if err != nil {
					return err
				}
				return stateErr("key %d %s does not rise above key %d %s", i, short(k), i-1, short(keys[i-1]))
			}
		}
	}
	return nil
}
