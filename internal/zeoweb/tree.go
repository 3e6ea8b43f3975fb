package zeoweb

import (
	"context"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"time"

	"github.com/gozeo/gozeo/btree"
	"github.com/gozeo/gozeo/pickle"
)

// treeContainer pages a BTrees container (a BTree, TreeSet, Bucket or Set
// of any family) through package btree, which descends to the first key
// of a page and follows the bucket chain from there, loading only the
// objects the page needs.
type treeContainer struct{ t *btree.Tree }

func (c *treeContainer) Kind() string { return c.t.Kind().String() }

func (c *treeContainer) Keyed() bool { return true }

// Len counts the items along the bucket chain (btree's Len). When ctx has
// less than half of its time left it stops and reports a lower bound, so
// that the page still has time to show items.
func (c *treeContainer) Len(ctx context.Context) (int, bool, error) {
	count := ctx
	if dl, ok := ctx.Deadline(); ok {
		var cancel context.CancelFunc
		count, cancel = context.WithDeadline(ctx, dl.Add(-time.Until(dl)/2))
		defer cancel()
	}
	c.t.Prefetch = 0 // btree.DefaultPrefetch
	n, err := c.t.Len(count)
	if err != nil {
		if count.Err() != nil && ctx.Err() == nil {
			return n, false, nil
		}
		return n, false, err
	}
	return n, true, nil
}

// Page returns up to n items from the first key ≥ from, and the key after
// them.
func (c *treeContainer) Page(ctx context.Context, from pickle.Value, n int) (itemPage, error) {
	// Enough buckets ahead for a page of half-full buckets, no more.
	c.t.Prefetch = min(btree.DefaultPrefetch, 1+(n+1)/max(1, c.t.Family().MaxLeafSize/2))
	var p itemPage
	for it, err := range c.t.Range(ctx, from, nil) {
		if err != nil {
			return p, err
		}
		if len(p.Items) == n {
			p.Next, p.HasNext = it.Key, true
			break
		}
		p.Items = append(p.Items, it)
	}
	return p, nil
}

// Key reads a key typed into "jump to key" as the tree's keys are: an
// integer for the integer families, two bytes for fs; for object keys,
// the kind of the tree's first key (a number, text, or a Python 2 or 3
// byte string).
func (c *treeContainer) Key(ctx context.Context, s string) (pickle.Value, error) {
	switch c.t.Family().Key {
	case btree.Int32, btree.Uint32, btree.Int64, btree.Uint64:
		n, ok := parseInteger(s)
		if !ok {
			return nil, badRequestf(fmt.Sprintf("the keys of a %s are integers: %q is not one", c.t.Class(), s))
		}
		return n, nil
	case btree.Bytes2:
		return pickle.Bytes(s), nil
	}
	var first pickle.Value
	for it, err := range c.t.All(ctx) {
		if err == nil {
			first = it.Key
		}
		break
	}
	switch first.(type) {
	case bool, int64, int, *big.Int, float64:
		if n, ok := parseInteger(s); ok {
			return n, nil
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return f, nil
		}
	case pickle.ByteString:
		return pickle.ByteString(s), nil
	case pickle.Bytes:
		return pickle.Bytes(s), nil
	}
	return s, nil
}

// parseInteger reads a decimal integer of any size.
func parseInteger(s string) (pickle.Value, bool) {
	b, ok := new(big.Int).SetString(s, 10)
	switch {
	case !ok:
		return nil, false
	case b.IsInt64():
		return b.Int64(), true
	}
	return b, true
}

// treeTrouble says in words why a walk stopped: a damaged tree, a key
// that cannot be compared with the tree's, or what the error says.
func treeTrouble(err error) string {
	switch {
	case errors.Is(err, btree.ErrState):
		return "The tree is damaged, so the items end here: " + err.Error()
	case errors.Is(err, btree.ErrUnorderable):
		return "The key cannot be compared with the tree's keys: " + err.Error()
	case errors.Is(err, btree.ErrType):
		return "Not a key of this tree: " + err.Error()
	}
	return "The items end here, because reading further failed: " + err.Error()
}
