package btree

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
)

// TestExportForPython writes trees built by this package, as protocol-3
// records, for testdata/python/btrees_cross.py to check with the real
// BTrees code (_check(), BTrees.check.check(), items). It runs only when
// GOZEO_BTREE_EXPORT names a directory: the check is made by hand, since
// tests never need Python.
func TestExportForPython(t *testing.T) {
	dir := os.Getenv("GOZEO_BTREE_EXPORT")
	if dir == "" {
		t.Skip("set GOZEO_BTREE_EXPORT=DIR to write trees for btrees_cross.py verify DIR")
	}
	ctx := context.Background()
	db := newMemDB()
	db.encode = py3
	rnd := rand.New(rand.NewPCG(7, 7))
	items := map[string][][2]any{}
	build := func(prefix string, kind Kind, n, deletes int, key func(i int) any, value func(i int) any) {
		tr, err := Create(ctx, db, mustFamily(t, prefix), kind)
		if err != nil {
			t.Fatal(err)
		}
		var keys []any
		for i := range n {
			k := key(i)
			keys = append(keys, k)
			if kind.IsSet() {
				_, err = tr.Insert(ctx, k)
			} else {
				_, err = tr.Set(ctx, k, value(i))
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		for _, i := range rnd.Perm(len(keys))[:deletes] {
			if _, err := tr.Delete(ctx, keys[i]); err != nil {
				t.Fatal(err)
			}
		}
		var view [][2]any
		for it, err := range tr.All(ctx) {
			if err != nil {
				t.Fatal(err)
			}
			view = append(view, [2]any{pyJSON(it.Key), pyJSON(it.Value)})
		}
		items[tr.OID().String()] = view
		t.Logf("%s %s: %d items, %d levels", tr.OID(), tr.Class(), len(view), depth(t, tr))
	}
	str := func(i int) any { return fmt.Sprintf("key%07d", rnd.IntN(1e7)) }
	build("OO", KindBTree, 12000, 3000, str, func(i int) any { return fmt.Sprintf("v%d", i) })
	build("OO", KindTreeSet, 3000, 2990, str, nil)
	build("IO", KindBTree, 40000, 5000, func(i int) any { return i }, func(i int) any { return pickle.Tuple{int64(i), "x"} })
	build("LL", KindBTree, 2000, 100, func(i int) any { return rnd.Int64() - rnd.Int64() }, func(i int) any { return rnd.Int64() })
	build("QQ", KindBTree, 2000, 100, func(i int) any { return rnd.Uint64() }, func(i int) any { return uint64(i) << 40 })
	build("IF", KindBTree, 1000, 500, func(i int) any { return int32(rnd.Uint32()) }, func(i int) any { return float64(i) / 3 })
	build("fs", KindBTree, 3000, 10, func(i int) any { return []byte{byte(i >> 8), byte(i)} }, func(i int) any { return []byte("abcdef") })
	build("OU", KindBTree, 5, 0, func(i int) any { return pickle.Tuple{int64(i), "t"} }, func(i int) any { return uint32(i) })
	build("II", KindBTree, 500, 500, func(i int) any { return i }, func(i int) any { return -i })
	build("OO", KindBucket, 50, 5, str, func(i int) any { return 1.5 })
	build("LO", KindSet, 50, 5, func(i int) any { return int64(i) << 40 }, nil)

	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	f, err := os.Create(filepath.Join(dir, "records.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	oids := make([]zodb.OID, 0, len(db.data))
	for oid := range db.data {
		oids = append(oids, oid)
	}
	slices.SortFunc(oids, zodb.OID.Compare)
	enc := json.NewEncoder(f)
	for _, oid := range oids {
		if err := enc.Encode(map[string]string{"oid": oid.String(), "data": hex.EncodeToString(db.data[oid])}); err != nil {
			t.Fatal(err)
		}
	}
	data, err := json.Marshal(items)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "items.json"), data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// pyJSON writes a key or value as btrees_cross.py reads it back.
func pyJSON(v pickle.Value) any {
	switch v := v.(type) {
	case pickle.Bytes:
		return map[string]string{"b": hex.EncodeToString(v)}
	case pickle.Tuple:
		out := []any{}
		for _, x := range v {
			out = append(out, pyJSON(x))
		}
		return map[string]any{"t": out}
	case *big.Int:
		return json.Number(v.String())
	}
	return v
}
