package zeoweb

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zodb"
)

// treeContainer walks a BTree (or a lone bucket) of the BTrees package as
// of a snapshot, loading only the nodes and buckets a page needs.
//
// The states, as BTrees' __getstate__ writes them:
//
//	BTree, empty                None
//	BTree, one inline bucket    ((bucket state,),)
//	BTree, with children        ((child0, key1, child1, …, keyN, childN), firstbucket)
//	bucket                      ((k0, v0, k1, v1, …),) or (…, next bucket)
//	set bucket (Set, TreeSet's) ((k0, k1, …),) or (…, next bucket)
type treeContainer struct {
	sn     loader
	class  string
	state  pickle.Value
	set    bool // keys only
	bucket bool // the object is a bucket, not a tree
}

func (t *treeContainer) Kind() string {
	if t.bucket {
		return "bucket"
	}
	return "BTree"
}

func (t *treeContainer) Keyed() bool { return true }

// errTreeShape reports a state that is not one of the forms above.
var errTreeShape = errors.New("not a BTrees state this page knows")

// bucketData is a bucket's items (flat) and the next bucket, if any.
type bucketData struct {
	flat []pickle.Value
	next *zodb.OID
}

func parseBucket(state pickle.Value) (bucketData, error) {
	t, ok := pickle.AsTuple(state)
	if !ok || len(t) < 1 || len(t) > 2 {
		return bucketData{}, fmt.Errorf("bucket: %w", errTreeShape)
	}
	flat, ok := pickle.AsTuple(t[0])
	if !ok {
		return bucketData{}, fmt.Errorf("bucket items: %w", errTreeShape)
	}
	b := bucketData{flat: flat}
	if len(t) == 2 {
		oid, err := refOID(t[1])
		if err != nil {
			return bucketData{}, err
		}
		b.next = &oid
	}
	return b, nil
}

func refOID(v pickle.Value) (zodb.OID, error) {
	pr, ok := v.(pickle.PersistentRef)
	if !ok {
		return zodb.OID{}, fmt.Errorf("expected a persistent reference: %w", errTreeShape)
	}
	r := record.ParseRef(pr.ID)
	if !r.HasOID || r.Database != "" {
		return zodb.OID{}, fmt.Errorf("reference %s: %w", r, errTreeShape)
	}
	return r.OID, nil
}

// treeNode is a BTree state read: empty, an inline bucket, or children.
type treeNode struct {
	inline   *bucketData
	children []pickle.Value // child0, key1, child1, …
	first    zodb.OID
}

func parseTree(state pickle.Value) (treeNode, bool, error) {
	if state == nil || pickle.IsNone(state) {
		return treeNode{}, false, nil
	}
	t, ok := pickle.AsTuple(state)
	if !ok || len(t) < 1 || len(t) > 2 {
		return treeNode{}, false, fmt.Errorf("tree: %w", errTreeShape)
	}
	if len(t) == 1 {
		b, err := parseBucket(t[0])
		return treeNode{inline: &b}, true, err
	}
	children, ok := pickle.AsTuple(t[0])
	if !ok || len(children)%2 != 1 {
		return treeNode{}, false, fmt.Errorf("tree children: %w", errTreeShape)
	}
	first, err := refOID(t[1])
	return treeNode{children: children, first: first}, true, err
}

// stride is how many flat values make one item.
func (t *treeContainer) stride() int {
	if t.set {
		return 1
	}
	return 2
}

// maxBucketHops bounds a walk along the bucket chain.
const maxBucketHops = 1 << 20

// errChainLoops reports a bucket chain that comes back to a bucket.
var errChainLoops = errors.New("the bucket chain loops back (a damaged tree)")

// chainGuard remembers the buckets a walk went through.
type chainGuard map[zodb.OID]bool

// next records oid as visited, failing if it was before.
func (g chainGuard) next(oid zodb.OID) error {
	if g[oid] {
		return fmt.Errorf("bucket %s: %w", oid.Repr(), errChainLoops)
	}
	g[oid] = true
	return nil
}

// Len walks the bucket chain and counts. When ctx has less than half of
// its time left, it stops and reports a lower bound, so that the page
// still has time to show items.
func (t *treeContainer) Len(ctx context.Context) (int, bool, error) {
	var stop time.Time
	if dl, ok := ctx.Deadline(); ok {
		stop = dl.Add(-time.Until(dl) / 2)
	}
	b, ok, err := t.firstBucket(ctx)
	if err != nil || !ok {
		return 0, true, err
	}
	n := 0
	seen := chainGuard{}
	for range maxBucketHops {
		n += len(b.flat) / t.stride()
		if b.next == nil {
			return n, true, nil
		}
		if !stop.IsZero() && time.Now().After(stop) {
			return n, false, nil
		}
		if err := seen.next(*b.next); err != nil {
			return n, false, err
		}
		if b, err = t.loadBucket(ctx, *b.next); err != nil {
			return n, false, err
		}
	}
	return n, false, nil
}

func (t *treeContainer) firstBucket(ctx context.Context) (bucketData, bool, error) {
	node, ok, err := parseTree(t.state)
	if err != nil || !ok {
		return bucketData{}, ok, err
	}
	if node.inline != nil {
		return *node.inline, true, nil
	}
	b, err := t.loadBucket(ctx, node.first)
	return b, err == nil, err
}

func (t *treeContainer) loadBucket(ctx context.Context, oid zodb.OID) (bucketData, error) {
	rec, err := t.sn.Load(ctx, oid)
	if err != nil {
		return bucketData{}, err
	}
	return parseBucket(rec.State)
}

// Page descends from the root to the bucket that holds from, then follows
// the bucket chain until it has n items and the first key after them.
func (t *treeContainer) Page(ctx context.Context, from pickle.Value, n int) (itemPage, error) {
	b, ok, err := t.bucketFor(ctx, from)
	if err != nil || !ok {
		return itemPage{}, err
	}
	st := t.stride()
	i := 0
	if from != nil {
		for i < len(b.flat)/st && compareKeys(b.flat[i*st], from) < 0 {
			i++
		}
	}
	var p itemPage
	seen := chainGuard{}
	for range maxBucketHops {
		for ; i < len(b.flat)/st; i++ {
			key := b.flat[i*st]
			if len(p.Items) == n {
				p.Next, p.HasNext = key, true
				return p, nil
			}
			it := item{Key: key}
			if !t.set {
				it.Value = b.flat[i*st+1]
			}
			p.Items = append(p.Items, it)
		}
		if b.next == nil {
			return p, nil
		}
		if err := seen.next(*b.next); err != nil {
			return p, err
		}
		if b, err = t.loadBucket(ctx, *b.next); err != nil {
			return p, err
		}
		i = 0
	}
	return p, nil
}

// maxTreeDepth bounds a descent, against a tree whose children loop.
const maxTreeDepth = 64

// bucketFor finds the bucket where key belongs (the first for nil).
func (t *treeContainer) bucketFor(ctx context.Context, key pickle.Value) (bucketData, bool, error) {
	if key == nil {
		return t.firstBucket(ctx)
	}
	state := t.state
	for range maxTreeDepth {
		node, ok, err := parseTree(state)
		if err != nil || !ok {
			return bucketData{}, ok, err
		}
		if node.inline != nil {
			return *node.inline, true, nil
		}
		// children: child0, key1, child1, …: the child after the last
		// key ≤ key.
		c := 0
		for j := 1; j < len(node.children); j += 2 {
			if compareKeys(node.children[j], key) > 0 {
				break
			}
			c = j + 1
		}
		oid, err := refOID(node.children[c])
		if err != nil {
			return bucketData{}, false, err
		}
		rec, err := t.sn.Load(ctx, oid)
		if err != nil {
			return bucketData{}, false, err
		}
		if rec.Class == t.class && !t.bucket {
			state = rec.State // an inner tree node
			continue
		}
		b, err := parseBucket(rec.State)
		return b, err == nil, err
	}
	return bucketData{}, false, fmt.Errorf("tree deeper than %d: %w", maxTreeDepth, errTreeShape)
}
