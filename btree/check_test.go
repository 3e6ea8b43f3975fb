package btree

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zodb"
)

// buildOO makes an OOBTree of n keys "k00000"... with small limits (4
// items a bucket, 3 children a node) so that it has several levels.
func buildOO(t *testing.T, n int) (*memDB, *Tree) {
	t.Helper()
	ctx := context.Background()
	db := newMemDB()
	tr, err := Create(ctx, db, mustFamily(t, "OO"), KindBTree)
	if err != nil {
		t.Fatal(err)
	}
	tr.fam.MaxLeafSize, tr.fam.MaxInternalSize = 4, 3
	for i := range n {
		if _, err := tr.Set(ctx, fmt.Sprintf("k%05d", i), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	return db, tr
}

// buckets returns the tree's buckets in order, by walking down.
func buckets(t *testing.T, tr *Tree) []*object {
	t.Helper()
	ctx := context.Background()
	var out []*object
	var walk func(o *object)
	walk = func(o *object) {
		for i := range o.node.Children {
			c, err := tr.child(ctx, o, i)
			if err != nil {
				t.Fatal(err)
			}
			if c.node != nil {
				walk(c)
			} else {
				out = append(out, c)
			}
		}
	}
	root, err := tr.load(ctx, tr.oid)
	if err != nil {
		t.Fatal(err)
	}
	walk(root)
	return out
}

// rewrite stores a changed object back.
func rewrite(t *testing.T, db *memDB, tr *Tree, o *object) {
	t.Helper()
	m := &mutation{t: tr, w: db, objs: map[zodb.OID]*object{}, isSet: tr.kind.IsSet()}
	class, state, err := m.encode(o)
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Store(o.oid, class, state); err != nil {
		t.Fatal(err)
	}
}

// Check finds each kind of damage BTrees' checks find.
func TestCheckFindsDamage(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		damage func(t *testing.T, db *memDB, tr *Tree)
	}{
		{"a next link skips a bucket", func(t *testing.T, db *memDB, tr *Tree) {
			bs := buckets(t, tr)
			bs[3].bucket.Next = bs[5].oid
			rewrite(t, db, tr, bs[3])
		}},
		{"the last bucket links on", func(t *testing.T, db *memDB, tr *Tree) {
			bs := buckets(t, tr)
			last := bs[len(bs)-1]
			last.bucket.Next, last.bucket.HasNext = bs[0].oid, true
			rewrite(t, db, tr, last)
		}},
		{"keys out of order", func(t *testing.T, db *memDB, tr *Tree) {
			b := buckets(t, tr)[2]
			b.bucket.Keys[0], b.bucket.Keys[1] = b.bucket.Keys[1], b.bucket.Keys[0]
			rewrite(t, db, tr, b)
		}},
		{"a key beyond its separator", func(t *testing.T, db *memDB, tr *Tree) {
			b := buckets(t, tr)[2]
			b.bucket.Keys[len(b.bucket.Keys)-1] = "k99999"
			rewrite(t, db, tr, b)
		}},
		{"an empty bucket", func(t *testing.T, db *memDB, tr *Tree) {
			b := buckets(t, tr)[4]
			b.bucket.Keys, b.bucket.Values = nil, []pickle.Value{}
			rewrite(t, db, tr, b)
		}},
		{"an oversized bucket", func(t *testing.T, db *memDB, tr *Tree) {
			b := buckets(t, tr)[0]
			k := b.bucket.Keys[len(b.bucket.Keys)-1].(string)
			for i := range 5 {
				b.bucket.Keys = append(b.bucket.Keys, fmt.Sprintf("%s%d", k, i))
				b.bucket.Values = append(b.bucket.Values, int64(i))
			}
			rewrite(t, db, tr, b)
		}},
		{"a wrong firstbucket", func(t *testing.T, db *memDB, tr *Tree) {
			root, _ := tr.load(context.Background(), tr.oid)
			root.node.FirstBucket = buckets(t, tr)[1].oid
			rewrite(t, db, tr, root)
		}},
		{"keys that cannot be ordered", func(t *testing.T, db *memDB, tr *Tree) {
			b := buckets(t, tr)[1]
			b.bucket.Keys[1] = int64(5)
			rewrite(t, db, tr, b)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			db, tr := buildOO(t, 200)
			if err := tr.Check(ctx); err != nil {
				t.Fatalf("before: %v", err)
			}
			tc.damage(t, db, tr)
			err := tr.Check(ctx)
			if !errors.Is(err, ErrState) && !errors.Is(err, ErrUnorderable) {
				t.Fatalf("Check = %v", err)
			}
			t.Log(err)
		})
	}
}

// A bucket chain that goes back in key order (here in a circle) ends a
// walk with an error instead of going round forever.
func TestWalkStopsOnCircularChain(t *testing.T) {
	ctx := context.Background()
	db, tr := buildOO(t, 100)
	bs := buckets(t, tr)
	last := bs[len(bs)-1]
	last.bucket.Next, last.bucket.HasNext = bs[0].oid, true
	rewrite(t, db, tr, last)
	for _, prefetch := range []int{-1, 0} {
		tr.Prefetch = prefetch
		n := 0
		var err error
		for _, err = range tr.All(ctx) {
			if err != nil {
				break
			}
			n++
		}
		if !errors.Is(err, ErrState) || n != 100 {
			t.Errorf("prefetch %d: %d items, then %v", prefetch, n, err)
		}
	}
}

// Buckets whose own keys are out of order can chain in a circle that
// every bucket-to-bucket check passes: B1 (x, a) -> B2 (n, p) -> B1. A
// walk, Len included, still ends with an error rather than going round.
func TestWalkStopsOnCircleOfUnsortedBuckets(t *testing.T) {
	ctx := context.Background()
	db, tr := buildOO(t, 8)
	bs := buckets(t, tr)
	b1, b2 := bs[0], bs[1]
	b1.bucket.Keys = []pickle.Value{"x", "a"}
	b1.bucket.Values = []pickle.Value{int64(1), int64(2)}
	b2.bucket.Keys = []pickle.Value{"n", "p"}
	b2.bucket.Values = []pickle.Value{int64(3), int64(4)}
	b2.bucket.Next, b2.bucket.HasNext = b1.oid, true
	rewrite(t, db, tr, b1)
	rewrite(t, db, tr, b2)
	for _, prefetch := range []int{-1, 0} {
		tr.Prefetch = prefetch
		if _, err := tr.Len(ctx); !errors.Is(err, ErrState) {
			t.Errorf("prefetch %d: Len = %v, want a StateError", prefetch, err)
		}
		n := 0
		for _, err := range tr.All(ctx) {
			if err != nil {
				if !errors.Is(err, ErrState) {
					t.Errorf("prefetch %d: %v, want a StateError", prefetch, err)
				}
				break
			}
			if n++; n > 100 {
				t.Fatalf("prefetch %d: the walk goes round", prefetch)
			}
		}
	}
}

// An empty first bucket with a next one is damage, reported as such (it
// once made the walk index Keys[-1]).
func TestWalkEmptyFirstBucket(t *testing.T) {
	ctx := context.Background()
	db, tr := buildOO(t, 20)
	b := buckets(t, tr)[0]
	b.bucket.Keys, b.bucket.Values = nil, nil
	rewrite(t, db, tr, b)
	for _, err := range tr.All(ctx) {
		if !errors.Is(err, ErrState) {
			t.Fatalf("All = %v, want a StateError first", err)
		}
		break
	}
	if _, err := tr.Len(ctx); !errors.Is(err, ErrState) {
		t.Errorf("Len = %v, want a StateError", err)
	}
}

// A walk ends when its context does.
func TestWalkHonoursContext(t *testing.T) {
	_, tr := buildOO(t, 50)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n := 0
	var err error
	for _, err = range tr.All(ctx) {
		if err != nil {
			break
		}
		if n++; n == 10 {
			cancel()
		}
	}
	if !errors.Is(err, context.Canceled) || n >= 50 {
		t.Errorf("after cancel: %d items, then %v", n, err)
	}
}

func TestGetErrors(t *testing.T) {
	ctx := context.Background()
	_, tr := buildOO(t, 50)
	if _, _, err := tr.Get(ctx, int64(5)); !errors.Is(err, ErrUnorderable) {
		t.Errorf("Get(5) in a tree of text keys: %v", err)
	}
	if v, ok, err := tr.Get(ctx, "k00007"); v != int64(7) || !ok || err != nil {
		t.Errorf("Get = %v, %v, %v", v, ok, err)
	}
	if _, ok, err := tr.Get(ctx, "k"); ok || err != nil {
		t.Errorf("Get(absent) = %v, %v", ok, err)
	}
	db := newMemDB()
	io, _ := Create(ctx, db, mustFamily(t, "IO"), KindBTree)
	var te *TypeError
	if _, _, err := io.Get(ctx, "x"); !errors.As(err, &te) {
		t.Errorf("Get(text) in an IOBTree: %v", err)
	}
	if _, err := io.Set(ctx, int64(1)<<31, "v"); !errors.As(err, &te) {
		t.Errorf("Set(2**31) in an IOBTree: %v", err)
	}
	if _, err := io.Insert(ctx, int64(1)); err == nil {
		t.Error("Insert into a BTree")
	}
	ro, _ := Open(ctx, readOnly{db}, io.OID())
	if _, err := ro.Set(ctx, 1, "v"); !errors.Is(err, ErrReadOnly) {
		t.Errorf("Set through a Loader: %v", err)
	}
	if _, err := Open(ctx, db, zodb.OIDFromUint64(999)); err == nil {
		t.Error("Open of a missing object")
	}
	db.Store(zodb.OIDFromUint64(50), "persistent.mapping.PersistentMapping", pickle.NewDict(0))
	if _, err := Open(ctx, db, zodb.OIDFromUint64(50)); !errors.Is(err, ErrNotBTree) {
		t.Errorf("Open of a mapping: %v", err)
	}
}

// readOnly hides memDB's write methods.
type readOnly struct{ Loader }

// Check of a lone Bucket whose keys are out of order names the bucket.
func TestCheckLoneBucketNamesIt(t *testing.T) {
	ctx := context.Background()
	db := newMemDB()
	b, err := Create(ctx, db, mustFamily(t, "OO"), KindBucket)
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Check(ctx); err != nil {
		t.Fatalf("Check of an empty bucket: %v", err)
	}
	db.Store(b.OID(), b.Class(), pickle.Tuple{pickle.Tuple{pickle.Unicode("b"), int64(1), pickle.Unicode("a"), int64(2)}})
	var se *StateError
	if err := b.Check(ctx); !errors.As(err, &se) || se.OID != b.OID() {
		t.Fatalf("Check of a bucket with keys out of order = %v, want a *StateError for %s", err, b.OID())
	}
}

// Check of a node that is its own only child stops at 64 levels, and the
// path it names is 64 levels long.
func TestCheckStopsOnSelfChild(t *testing.T) {
	ctx := context.Background()
	db, tr := buildOO(t, 50)
	self := record.RefTo(tr.OID(), tr.Class())
	first := record.RefTo(buckets(t, tr)[0].oid, tr.fam.Class(KindBucket))
	db.Store(tr.OID(), tr.Class(), pickle.Tuple{pickle.Tuple{self}, first})
	var se *StateError
	err := tr.Check(ctx)
	if !errors.As(err, &se) || !strings.Contains(se.Reason, "more than 64 levels") {
		t.Fatalf("Check of a node that is its own child = %v", err)
	}
	path, _, _ := strings.Cut(strings.TrimPrefix(se.Reason, "at "), ":")
	if levels := strings.Count(path, "."); levels != 64 {
		t.Errorf("Check stopped at %q, %d levels down", path, levels)
	}
}

// An object of another family under a tree is an error that names both.
func TestForeignObjectNamesTree(t *testing.T) {
	ctx := context.Background()
	db, tr := buildOO(t, 50)
	bs := buckets(t, tr)
	io := mustFamily(t, "IO")
	db.Store(bs[1].oid, io.Class(KindBucket), pickle.Tuple{pickle.Tuple{int64(1), pickle.None}})
	var se *StateError
	_, _, err := tr.Get(ctx, bs[1].bucket.Keys[0])
	if !errors.As(err, &se) || se.OID != bs[1].oid || !strings.Contains(err.Error(), tr.Class()) || !strings.Contains(err.Error(), io.Class(KindBucket)) {
		t.Fatalf("Get through an IOBucket in an OOBTree = %v", err)
	}
	t.Log(err)
}
