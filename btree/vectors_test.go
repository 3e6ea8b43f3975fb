package btree

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/gozeo/gozeo/internal/zodbtest"
)

// Every BTree, TreeSet, Bucket and Set of the databases real ZODB wrote
// reads back with Python's len and items, in Python's order, and every
// key is found by Get.
func TestVectorsItems(t *testing.T) {
	ctx := context.Background()
	for _, g := range zodbtest.Generations {
		t.Run(g.Name, func(t *testing.T) {
			db := loadVectors(t, g.Name)
			btrees := zodbtest.MustExpected(t, g.Name).BTrees
			if len(btrees) < 10 {
				t.Fatalf("only %d btrees in expected.json", len(btrees))
			}
			for oid, want := range btrees {
				tr, err := Open(ctx, db, oid)
				if err != nil {
					t.Fatalf("%s: %v", oid, err)
				}
				if tr.Class() != want.Class {
					t.Errorf("%s: class %s, want %s", oid, tr.Class(), want.Class)
				}
				if err := tr.Check(ctx); err != nil {
					t.Errorf("%s: Check: %v", oid, err)
				}
				n, err := tr.Len(ctx)
				if err != nil || n != want.Len {
					t.Errorf("%s %s: Len = %d, %v; want %d", oid, want.Class, n, err, want.Len)
				}
				var got [][2]any
				for it, err := range tr.All(ctx) {
					if err != nil {
						t.Fatalf("%s: %v", oid, err)
					}
					got = append(got, [2]any{jsonView(it.Key), jsonView(it.Value)})
					v, ok, err := tr.Get(ctx, it.Key)
					if err != nil || !ok || canon(t, jsonView(v)) != canon(t, jsonView(it.Value)) {
						t.Errorf("%s: Get(%v) = %v, %v, %v", oid, it.Key, v, ok, err)
					}
				}
				if g, w := canon(t, got), canonRaw(t, want.Items); g != w {
					t.Errorf("%s %s: items differ\n got %.300s\nwant %.300s", oid, want.Class, g, w)
				}
			}
		})
	}
}

func canonRaw(t testing.TB, items []json.RawMessage) string {
	var v any
	data, _ := json.Marshal(items)
	if err := json.Unmarshal(data, &v); err != nil {
		t.Fatal(err)
	}
	if items == nil {
		v = []any(nil)
	}
	return canon(t, v)
}
