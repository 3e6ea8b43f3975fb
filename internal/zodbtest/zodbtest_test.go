package zodbtest

import (
	"io/fs"
	"slices"
	"testing"

	"github.com/gozeo/gozeo/zodb"
)

// Every generation reads whole: records under the tids of its
// transactions, oldest first, and what Python saw up to the last of them.
func TestGenerations(t *testing.T) {
	for _, g := range Generations {
		t.Run(g.Name, func(t *testing.T) {
			recs := MustRecords(t, g.Name)
			txns, err := Transactions(g.Name)
			if err != nil {
				t.Fatal(err)
			}
			want := MustExpected(t, g.Name)
			if len(recs) < 600 || len(txns) < 4 {
				t.Fatalf("%d records, %d transactions", len(recs), len(txns))
			}
			tids := make(map[zodb.TID]bool)
			for i, txn := range txns {
				if i > 0 && txns[i-1].TID.Compare(txn.TID) >= 0 {
					t.Errorf("transaction %d: tid %v after %v", i, txn.TID, txns[i-1].TID)
				}
				tids[txn.TID] = true
			}
			for i, r := range recs {
				if !tids[r.TID] {
					t.Errorf("record %d (%v) under tid %v, no transaction's", i, r.OID, r.TID)
				}
				if i > 0 && recs[i-1].TID.Compare(r.TID) > 0 {
					t.Errorf("record %d: tid %v after %v", i, r.TID, recs[i-1].TID)
				}
				if len(r.Data) == 0 {
					t.Errorf("record %d (%v) is empty", i, r.OID)
				}
			}
			if last := txns[len(txns)-1].TID; want.LastTID != last {
				t.Errorf("last_tid %v, last transaction %v", want.LastTID, last)
			}
			if root, ok := want.Names["root"]; !ok || root != zodb.OIDFromUint64(0) {
				t.Errorf("names[root] = %v, %v", root, ok)
			}
			if len(want.Objects) == 0 || len(want.BTrees) == 0 || len(want.At) == 0 {
				t.Errorf("%d objects, %d btrees, %d earlier tids", len(want.Objects), len(want.BTrees), len(want.At))
			}
			latest := Latest(recs, want.LastTID)
			for oid := range want.Objects {
				if _, ok := latest[oid]; !ok {
					t.Errorf("expected.json has %v, no record does", oid)
				}
			}
		})
	}
}

// A generation that does not exist is an error from every reader.
func TestMissingGeneration(t *testing.T) {
	for _, gen := range []string{"zeo99", "", "../zodb"} {
		if _, err := Records(gen); err == nil {
			t.Errorf("Records(%q): no error", gen)
		}
		if _, err := Transactions(gen); err == nil {
			t.Errorf("Transactions(%q): no error", gen)
		}
		if _, err := ReadExpected(gen); err == nil {
			t.Errorf("ReadExpected(%q): no error", gen)
		}
	}
}

// Generations lists every database embedded, and only those.
func TestGenerationsListed(t *testing.T) {
	dirs, err := fs.Glob(files, "testdata/zodb/*")
	if err != nil {
		t.Fatal(err)
	}
	var names, listed []string
	for _, d := range dirs {
		names = append(names, d[len("testdata/zodb/"):])
	}
	for _, g := range Generations {
		listed = append(listed, g.Name)
	}
	slices.Sort(names)
	slices.Sort(listed)
	if !slices.Equal(names, listed) {
		t.Errorf("embedded %v, Generations %v", names, listed)
	}
}
