package btree

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/gozeo/gozeo/zodb"
)

// Every BTree, TreeSet, Bucket and Set of the databases real ZODB wrote
// reads back with Python's len and items, in Python's order, and every
// key is found by Get.
func TestVectorsItems(t *testing.T) {
	ctx := context.Background()
	for _, gen := range generations {
		t.Run(gen, func(t *testing.T) {
			db := loadVectors(t, gen)
			btrees, _ := loadExpected(t, gen)
			if len(btrees) < 10 {
				t.Fatalf("only %d btrees in expected.json", len(btrees))
			}
			for oidHex, want := range btrees {
				oid, err := zodb.ParseOID(oidHex)
				if err != nil {
					t.Fatal(err)
				}
				tr, err := Open(ctx, db, oid)
				if err != nil {
					t.Fatalf("%s: %v", oidHex, err)
				}
				if tr.Class() != want.Class {
					t.Errorf("%s: class %s, want %s", oidHex, tr.Class(), want.Class)
				}
				if err := tr.Check(ctx); err != nil {
					t.Errorf("%s: Check: %v", oidHex, err)
				}
				n, err := tr.Len(ctx)
				if err != nil || n != want.Len {
					t.Errorf("%s %s: Len = %d, %v; want %d", oidHex, want.Class, n, err, want.Len)
				}
				var got [][2]any
				for it, err := range tr.All(ctx) {
					if err != nil {
						t.Fatalf("%s: %v", oidHex, err)
					}
					got = append(got, [2]any{jsonView(it.Key), jsonView(it.Value)})
					v, ok, err := tr.Get(ctx, it.Key)
					if err != nil || !ok || canon(t, jsonView(v)) != canon(t, jsonView(it.Value)) {
						t.Errorf("%s: Get(%v) = %v, %v, %v", oidHex, it.Key, v, ok, err)
					}
				}
				if g, w := canon(t, got), canonRaw(t, want.Items); g != w {
					t.Errorf("%s %s: items differ\n got %.300s\nwant %.300s", oidHex, want.Class, g, w)
				}
			}
		})
	}
}

func canonRaw(t testing.TB, items [][2]json.RawMessage) string {
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
