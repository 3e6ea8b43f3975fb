package btree

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/gozeo/gozeo/internal/zodbtest"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
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
				var got []json.RawMessage
				for it, err := range tr.All(ctx) {
					if err != nil {
						t.Fatalf("%s: %v", oid, err)
					}
					got = append(got, json.RawMessage("["+string(view(t, it.Key))+","+string(view(t, it.Value))+"]"))
					v, ok, err := tr.Get(ctx, it.Key)
					if err != nil || !ok || string(view(t, v)) != string(view(t, it.Value)) {
						t.Errorf("%s: Get(%v) = %v, %v, %v", oid, it.Key, v, ok, err)
					}
				}
				if g, w := canonItems(t, got), canonItems(t, want.Items); g != w {
					t.Errorf("%s %s: items differ\n got %.300s\nwant %.300s", oid, want.Class, g, w)
				}
			}
		})
	}
}

// view is a key's or value's JSON view, as expected.json writes it (null
// for a set's missing value).
func view(t testing.TB, v pickle.Value) []byte {
	t.Helper()
	if v == nil {
		return []byte("null")
	}
	out, err := record.JSON(v)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// canonItems writes items so that equal views compare equal as strings.
func canonItems(t testing.TB, items []json.RawMessage) string {
	t.Helper()
	data, err := json.Marshal(items)
	if err != nil {
		t.Fatal(err)
	}
	if items == nil {
		data = []byte("[]")
	}
	c, err := zodbtest.Canonical(data)
	if err != nil {
		t.Fatal(err)
	}
	return c
}
