package btree

import (
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/gozeo/gozeo/pickle"
)

var (
	py3 = &pickle.EncoderOptions{Protocol: 3, Dialect: pickle.Python3, Memo: true}
	py2 = &pickle.EncoderOptions{Protocol: 1, Dialect: pickle.Python2, Memo: true}
)

func mustFamily(t testing.TB, prefix string) Family {
	t.Helper()
	f, ok := FamilyOf(prefix)
	if !ok {
		t.Fatalf("no family %s", prefix)
	}
	return f
}

// model is what a tree should hold: its keys (and values) in order.
type model struct {
	keys   []int
	values map[int]int
}

// keyOf makes the tree key for model key i in the family's key type.
func keyOf(fam Family, i int) pickle.Value {
	if fam.Key == Object {
		return fmt.Sprintf("k%06d", i)
	}
	return int64(i)
}

func valueOf(fam Family, v int) pickle.Value {
	switch fam.Value {
	case Object:
		return fmt.Sprintf("v%d", v)
	case Float32:
		return float64(v) + 0.5
	}
	return int64(v)
}

// verify checks the tree against the model: Check, Len, All, Get.
func verify(t *testing.T, tr *Tree, m *model) {
	t.Helper()
	ctx := context.Background()
	if err := tr.Check(ctx); err != nil {
		t.Fatalf("Check: %v", err)
	}
	n, err := tr.Len(ctx)
	if err != nil || n != len(m.keys) {
		t.Fatalf("Len = %d, %v; want %d", n, err, len(m.keys))
	}
	i := 0
	for it, err := range tr.All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		if i >= len(m.keys) {
			t.Fatalf("more items than %d", len(m.keys))
		}
		k := m.keys[i]
		if c, _ := Compare(it.Key, keyOf(tr.fam, k)); c != 0 {
			t.Fatalf("item %d: key %v, want %v", i, it.Key, keyOf(tr.fam, k))
		}
		if !tr.kind.IsSet() {
			if c, _ := Compare(it.Value, valueOf(tr.fam, m.values[k])); c != 0 {
				t.Fatalf("item %d: value %v, want %v", i, it.Value, valueOf(tr.fam, m.values[k]))
			}
		}
		i++
	}
	if i != len(m.keys) {
		t.Fatalf("%d items, want %d", i, len(m.keys))
	}
}

// Random inserts, replacements and deletes against a model, with small
// size limits so that trees of many levels split and shrink often, and
// with the family's real limits.
func TestWriteMatchesModel(t *testing.T) {
	for _, tc := range []struct {
		prefix    string
		kind      Kind
		leaf, int int // 0: the family's own limits
		keys, ops int
		enc       *pickle.EncoderOptions
		levels    int // at least this deep before the deletes
	}{
		{"OO", KindBTree, 4, 3, 400, 3000, py3, 5},
		{"OO", KindTreeSet, 3, 4, 300, 2000, py2, 5},
		{"IO", KindBTree, 5, 5, 500, 3000, nil, 4},
		{"LF", KindBTree, 2, 3, 200, 2000, py3, 6},
		{"II", KindTreeSet, 6, 3, 400, 2000, py2, 5},
		{"OO", KindBTree, 0, 0, 3000, 4000, py3, 2},
		{"QQ", KindBTree, 0, 0, 5000, 6000, py2, 2},
		{"OO", KindBucket, 0, 0, 100, 300, py3, 1},
		{"IF", KindSet, 0, 0, 100, 300, nil, 1},
	} {
		name := fmt.Sprintf("%s%s-%d-%d", tc.prefix, tc.kind, tc.leaf, tc.int)
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			db := newMemDB()
			db.encode = tc.enc
			tr, err := Create(ctx, db, mustFamily(t, tc.prefix), tc.kind)
			if err != nil {
				t.Fatal(err)
			}
			if tc.leaf > 0 {
				tr.fam.MaxLeafSize, tr.fam.MaxInternalSize = tc.leaf, tc.int
			}
			root := tr.OID()
			rnd := rand.New(rand.NewPCG(1, uint64(len(name))))
			m := &model{values: map[int]int{}}
			maxDepth := 0
			for op := range tc.ops {
				k := rnd.IntN(tc.keys)
				_, present := m.values[k]
				deleting := present && rnd.IntN(3) == 0 && op > tc.ops/3
				if op > tc.ops*3/4 {
					deleting = present && rnd.IntN(3) > 0 // shrink at the end
				}
				switch {
				case deleting:
					ok, err := tr.Delete(ctx, keyOf(tr.fam, k))
					if err != nil || !ok {
						t.Fatalf("op %d: Delete(%d) = %v, %v", op, k, ok, err)
					}
					delete(m.values, k)
					i, _ := slices.BinarySearch(m.keys, k)
					m.keys = slices.Delete(m.keys, i, i+1)
				case tc.kind.IsSet():
					added, err := tr.Insert(ctx, keyOf(tr.fam, k))
					if err != nil || added == present {
						t.Fatalf("op %d: Insert(%d) = %v, %v", op, k, added, err)
					}
				default:
					added, err := tr.Set(ctx, keyOf(tr.fam, k), valueOf(tr.fam, op))
					if err != nil || added == present {
						t.Fatalf("op %d: Set(%d) = %v, %v", op, k, added, err)
					}
				}
				if !deleting {
					if !present {
						i, _ := slices.BinarySearch(m.keys, k)
						m.keys = slices.Insert(m.keys, i, k)
					}
					if !tc.kind.IsSet() || !present {
						m.values[k] = op
					}
				}
				if op%(tc.ops/10) == 0 {
					verify(t, tr, m)
				}
				if op == tc.ops*3/4 {
					maxDepth = max(maxDepth, depth(t, tr))
				}
			}
			if maxDepth < tc.levels {
				t.Errorf("the tree grew to %d levels, want %d", maxDepth, tc.levels)
			}
			verify(t, tr, m)
			if tr.OID() != root {
				t.Fatal("the root moved")
			}
			// Deleting what is not there changes nothing.
			if ok, err := tr.Delete(ctx, keyOf(tr.fam, tc.keys+1)); ok || err != nil {
				t.Fatalf("Delete(absent) = %v, %v", ok, err)
			}
			// Empty it: a tree's state is None again.
			for _, k := range slices.Clone(m.keys) {
				if ok, err := tr.Delete(ctx, keyOf(tr.fam, k)); !ok || err != nil {
					t.Fatalf("Delete(%d) = %v, %v", k, ok, err)
				}
				m.keys = m.keys[1:]
			}
			verify(t, tr, m)
			rec, _ := db.Load(ctx, root)
			if tc.kind.IsTree() && !pickle.IsNone(rec.State) {
				t.Errorf("empty tree state %s", pickle.Repr(rec.State))
			}
		})
	}
}

// Ascending inserts with the family's own limits grow a real-size OOBTree
// as BTrees grows it: a bucket splits when it reaches 31 items, into 15
// and 16 (so the real-ZODB OOTreeSet of 700 ascending keys has 45 Sets of
// 15 and one of 25), and the root splits when it reaches 500 children,
// which happens at the 7501st item, into two nodes of 250; the right one
// splits again at its 251st child (125 and 126), and 32 more buckets later
// the nodes hold 250, 125 and 158.
func TestWriteThreeLevels(t *testing.T) {
	ctx := context.Background()
	db := newMemDB()
	tr, err := Create(ctx, db, mustFamily(t, "OO"), KindBTree)
	if err != nil {
		t.Fatal(err)
	}
	m := &model{values: map[int]int{}}
	levels := map[int]int{} // items when a level was added
	for i := range 8000 {
		before := depth(t, tr)
		if _, err := tr.Set(ctx, keyOf(tr.fam, i), valueOf(tr.fam, i)); err != nil {
			t.Fatal(err)
		}
		m.keys = append(m.keys, i)
		m.values[i] = i
		if d := depth(t, tr); d != before {
			levels[d] = i + 1
		}
	}
	if levels[2] != 31 || levels[3] != 7501 || len(levels) != 2 {
		t.Errorf("levels added at %v items, want 2 at 31 and 3 at 7501", levels)
	}
	verify(t, tr, m)
	root, err := tr.load(ctx, tr.oid)
	if err != nil {
		t.Fatal(err)
	}
	var sizes []int
	for _, c := range root.node.Children {
		o, err := tr.load(ctx, c.OID)
		if err != nil {
			t.Fatal(err)
		}
		sizes = append(sizes, len(o.node.Children))
	}
	if !slices.Equal(sizes, []int{250, 125, 158}) {
		t.Errorf("nodes of %v children, want [250 125 158]", sizes)
	}
}
