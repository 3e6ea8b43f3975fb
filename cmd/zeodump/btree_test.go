package main

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/btree"
	"github.com/gozeo/gozeo/db"
	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/internal/zodbtest"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// itemLine is one line of -btree -json output.
type itemLine struct {
	Key   json.RawMessage  `json:"key"`
	Value *json.RawMessage `json:"value"`
}

func parseItems(t *testing.T, out string) []itemLine {
	t.Helper()
	var items []itemLine
	for line := range strings.Lines(out) {
		var it itemLine
		if err := json.Unmarshal([]byte(line), &it); err != nil || it.Key == nil {
			t.Fatalf("not an item line (%v): %.200s", err, line)
		}
		items = append(items, it)
	}
	return items
}

// Every BTree, TreeSet, Bucket and Set of the databases real ZODB wrote
// (trees of several levels, inline buckets, the buckets of trees on their
// own), dumped with -btree -json: the items Python iterated, in its order,
// all of them; {"key"} alone for sets.
func TestBTreeVectors(t *testing.T) {
	for _, g := range zodbtest.Generations {
		t.Run(g.Name, func(t *testing.T) {
			srv, _, want := serveVectors(t, g)
			if len(want.BTrees) == 0 {
				t.Fatal("expected.json has no btrees")
			}
			for oid, tree := range want.BTrees {
				code, out, errOut := runDump(t, "-addr", srv.Addr(), "-json", "-btree", oid.String())
				if code != 0 {
					t.Fatalf("-btree %v: exit %d: %s", oid, code, errOut)
				}
				items := parseItems(t, out)
				if len(items) != tree.Len || len(items) != len(tree.Items) {
					t.Fatalf("-btree %v (%s): %d items, Python saw %d", oid, tree.Class, len(items), tree.Len)
				}
				_, kind, _ := btree.ParseClass(tree.Class)
				for i, it := range items {
					var pair [2]json.RawMessage
					if err := json.Unmarshal(tree.Items[i], &pair); err != nil {
						t.Fatal(err)
					}
					if !sameView(t, it.Key, pair[0]) {
						t.Fatalf("-btree %v item %d: key %s, Python %s", oid, i, it.Key, pair[0])
					}
					switch {
					case kind.IsSet() && it.Value != nil:
						t.Fatalf("-btree %v (%s) item %d has a value", oid, tree.Class, i)
					case !kind.IsSet() && (it.Value == nil || !sameView(t, *it.Value, pair[1])):
						t.Fatalf("-btree %v item %d: value %s, Python %s", oid, i, out, pair[1])
					}
				}
				if !strings.Contains(errOut, fmt.Sprintf("%d items.", tree.Len)) {
					t.Errorf("-btree %v: no summary on stderr: %s", oid, errOut)
				}
			}
		})
	}
}

// seedTree commits an OOBTree of n items ("k0000": i) under the root and
// returns its oid and the commit's tid.
func seedTree(t *testing.T, srv *testserver.Server, n int) (zodb.OID, zodb.TID) {
	t.Helper()
	ctx := t.Context()
	txn, err := db.New(dial(t, srv), nil).Begin(ctx, zeo.TxnMeta{})
	if err != nil {
		t.Fatal(err)
	}
	oo, _ := btree.FamilyOf("OO")
	tr, err := btree.Create(ctx, txn, oo, btree.KindBTree)
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		if _, err := tr.Set(ctx, fmt.Sprintf("k%04d", i), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	root := record.NewMapping()
	root.Data.Set("tree", tr.Ref())
	if err := txn.Store(db.RootOID, record.ClassPersistentMapping, root.State()); err != nil {
		t.Fatal(err)
	}
	tid, err := txn.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return tr.OID(), tid
}

// A tree of many buckets: the pretty form shows "key: value" lines in key
// order and stops at -n (100 by default); -json shows every item; -tid
// shows the tree as it was.
func TestBTreeDump(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	oid, first := seedTree(t, srv, 500)

	code, out, errOut := runDump(t, "-addr", srv.Addr(), "-btree", oid.Repr())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	wantAll(t, out, "BTrees.OOBTree.OOBTree  oid "+oid.Repr(), "\n  \"k0000\": 0\n  \"k0001\": 1\n", "\n  \"k0099\": 99\n\nstopped after 100 items (-n)")
	if strings.Contains(out, "k0100") {
		t.Errorf("more than 100 items shown:\n%s", out)
	}
	code, out, _ = runDump(t, "-addr", srv.Addr(), "-btree", oid.Repr(), "-n", "0")
	if code != 0 || strings.Count(out, "\n  \"k") != 500 || !strings.Contains(out, "500 items.") {
		t.Errorf("-n 0: exit %d, %d items:\n%.300s", code, strings.Count(out, "\n  \"k"), out)
	}

	// Change the tree; the dump at the first tid shows it as it was.
	txn, err := db.New(dial(t, srv), nil).Begin(t.Context(), zeo.TxnMeta{})
	if err != nil {
		t.Fatal(err)
	}
	tr, err := btree.Open(t.Context(), txn, oid)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 250 {
		if _, err := tr.Delete(t.Context(), fmt.Sprintf("k%04d", 2*i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := txn.Commit(t.Context()); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args  []string
		n     int
		first string
	}{
		{nil, 250, `"k0001"`},
		{[]string{"-tid", first.String()}, 500, `"k0000"`},
	} {
		args := append([]string{"-addr", srv.Addr(), "-json", "-btree", oid.String()}, c.args...)
		code, out, errOut := runDump(t, args...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", c.args, code, errOut)
		}
		items := parseItems(t, out)
		if len(items) != c.n || !strings.Contains(string(items[0].Key), c.first) || items[0].Value == nil {
			t.Errorf("%v: %d items, the first %s", c.args, len(items), items[0].Key)
		}
	}
}

// -btree on the demo's trees (people: 120 items in 7 buckets, counters:
// 3000 in 99), on an object that is no BTree, and with flags it excludes.
func TestBTreeDemoAndErrors(t *testing.T) {
	code, out, errOut := runDump(t, "-demo", "-btree", "0x01", "-n", "0")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	wantAll(t, out, "BTrees.OOBTree.OOBTree  oid 0x01",
		"\n  \"alice\": -> oid 0x06 (myapp.models.Person)\n  \"bob\": -> oid 0x07 (myapp.models.Person)\n  \"user002\": ",
		"\n  \"user119\": -> oid 0x7d (myapp.models.Person)\n", "120 items.")

	code, out, errOut = runDump(t, "-demo", "-btree", "0x02")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	wantAll(t, out, "BTrees.IOBTree.IOBTree  oid 0x02", "\n  0: 0\n  7: 1\n  14: 4\n", "\n  693: 720\n\nstopped after 100 items (-n)")

	code, _, errOut = runDump(t, "-demo", "-btree", "0x03")
	if code != 1 || !strings.Contains(errOut, "not a BTrees container") {
		t.Errorf("-btree of a PersistentMapping: exit %d: %s", code, errOut)
	}
	for _, args := range [][]string{{"-oid", "1"}, {"-graph"}, {"-raw"}} {
		code, _, errOut := runDump(t, append([]string{"-demo", "-btree", "1"}, args...)...)
		if code != 2 || !strings.Contains(errOut, "-btree excludes") {
			t.Errorf("-btree %v: exit %d: %s", args, code, errOut)
		}
	}
	if code, _, errOut := runDump(t, "-demo", "-btree", "xyz"); code != 2 || !strings.Contains(errOut, "-btree") {
		t.Errorf("-btree xyz: exit %d: %s", code, errOut)
	}
}
