package db_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gozeo/gozeo/btree"
	"github.com/gozeo/gozeo/db"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// counter is the state of the test's application object: {"v": n}.
func counter(n int64) pickle.Value { return pickle.DictOf("v", n) }

// counterOf reads n back from a counter's state.
func counterOf(t *testing.T, rec *record.Record) int64 {
	t.Helper()
	d, ok := pickle.AsDict(rec.State)
	if !ok || len(d.Items()) != 1 {
		t.Fatalf("counter state %s", pickle.Repr(rec.State))
	}
	n, ok := pickle.AsInt(d.Items()[0].Value)
	if !ok {
		t.Fatalf("counter state %s", pickle.Repr(rec.State))
	}
	return n
}

// history is what the tests of reading as of a tid commit: tid1 makes a
// root, a counter at 1 and an IOBTree of treeSize items (i → i); tid2
// sets the counter to 2, adds an object (late) and changes the tree
// (1 → -1, a new key treeSize).
type history struct {
	doc, late, tree zodb.OID
	tid1, tid2      zodb.TID
}

const treeSize = 100 // several buckets

func writeHistory(t *testing.T, d *db.DB) history {
	t.Helper()
	ctx := context.Background()
	var h history
	w := &writer{t: t, d: d}
	w.begin()
	var err error
	if h.doc, err = w.txn.NewOID(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.txn.Store(h.doc, "myapp.Counter", counter(1)); err != nil {
		t.Fatal(err)
	}
	io, _ := btree.FamilyOf("IO")
	tr, err := btree.Create(ctx, w.txn, io, btree.KindBTree)
	if err != nil {
		t.Fatal(err)
	}
	h.tree = tr.OID()
	for i := range int64(treeSize) {
		if _, err := tr.Set(ctx, i, i); err != nil {
			t.Fatal(err)
		}
	}
	root := record.NewMapping()
	root.Data.Set("doc", record.RefTo(h.doc, "myapp.Counter"))
	root.Data.Set("tree", tr.Ref())
	if err := w.txn.Store(db.RootOID, record.ClassPersistentMapping, root.State()); err != nil {
		t.Fatal(err)
	}
	h.tid1 = w.commit()

	w.begin()
	if err := w.txn.Store(h.doc, "myapp.Counter", counter(2)); err != nil {
		t.Fatal(err)
	}
	if h.late, err = w.txn.NewOID(ctx); err != nil {
		t.Fatal(err)
	}
	if err := w.txn.Store(h.late, "myapp.Counter", counter(3)); err != nil {
		t.Fatal(err)
	}
	tr = w.tree(h.tree)
	if _, err := tr.Set(ctx, int64(1), int64(-1)); err != nil {
		t.Fatal(err)
	}
	if _, err := tr.Set(ctx, int64(treeSize), int64(treeSize)); err != nil {
		t.Fatal(err)
	}
	h.tid2 = w.commit()
	return h
}

// treeItems reads tree oid through l into a map.
func treeItems(t *testing.T, l btree.Loader, oid zodb.OID) map[int64]int64 {
	t.Helper()
	ctx := context.Background()
	tr, err := btree.Open(ctx, l, oid)
	if err != nil {
		t.Fatal(err)
	}
	got := make(map[int64]int64)
	for it, err := range tr.All(ctx) {
		if err != nil {
			t.Fatal(err)
		}
		k, _ := pickle.AsInt(it.Key)
		v, _ := pickle.AsInt(it.Value)
		got[k] = v
	}
	return got
}

// A snapshot reads as of its tid on every server generation: through
// loadBefore where the server has it (z303-py24, ZODB 3.3 – 3.7, and the
// modern control), through the objects' history on ZODB 3.2 (z201-py24).
// Each is read both by the client that wrote (its cache holds the newest
// revisions) and by a client that connects afterwards.
func TestSnapshotAtOnEveryGeneration(t *testing.T) {
	ctx := context.Background()
	for _, profile := range []string{"z201-py24", "z303-py24", "z5-py3"} {
		t.Run(profile, func(t *testing.T) {
			writer, srv := open(t, profile, nil, nil)
			h := writeHistory(t, writer)
			fresh := second(t, srv)
			if fresh.At() != h.tid2 || fresh.Latest() {
				t.Errorf("a new client's DB.Snapshot is at %v (latest %v), want the last transaction %v", fresh.At(), fresh.Latest(), h.tid2)
			}
			for _, reader := range []struct {
				name string
				d    *db.DB
			}{{"writer", writer}, {"new client", fresh.DB()}} {
				d := reader.d
				old, cur := d.SnapshotAt(h.tid1), d.SnapshotAt(h.tid2)

				r, err := old.LoadRevision(ctx, h.doc)
				if err != nil {
					t.Fatalf("%s: doc at tid1: %v", reader.name, err)
				}
				if n := counterOf(t, r.Record); n != 1 || r.Serial != h.tid1 || r.Next != h.tid2 {
					t.Errorf("%s: doc at tid1 = %d, serial %v, next %v; want 1, %v, %v", reader.name, n, r.Serial, r.Next, h.tid1, h.tid2)
				}
				r, err = cur.LoadRevision(ctx, h.doc)
				if err != nil {
					t.Fatalf("%s: doc at tid2: %v", reader.name, err)
				}
				if n := counterOf(t, r.Record); n != 2 || r.Serial != h.tid2 || r.Next != (zodb.TID{}) {
					t.Errorf("%s: doc at tid2 = %d, serial %v, next %v; want 2, %v, none", reader.name, n, r.Serial, r.Next, h.tid2)
				}

				_, err = old.Load(ctx, h.late)
				var limit *db.HistoryLimitError
				if !errors.Is(err, zeo.ErrNotFound) || errors.As(err, &limit) {
					t.Errorf("%s: an object created after the snapshot: %v, want not found", reader.name, err)
				}
				if rec, err := cur.Load(ctx, h.late); err != nil || counterOf(t, rec) != 3 {
					t.Errorf("%s: the object at tid2: %v", reader.name, err)
				}

				recs, err := old.LoadMany(ctx, []zodb.OID{db.RootOID, h.doc, h.tree})
				if err != nil {
					t.Fatalf("%s: LoadMany at tid1: %v", reader.name, err)
				}
				if recs[0].Class != record.ClassPersistentMapping || counterOf(t, recs[1]) != 1 || recs[2].Class != "BTrees.IOBTree.IOBTree" {
					t.Errorf("%s: LoadMany at tid1 read %s, %s, %s", reader.name, recs[0].Class, recs[1].Class, recs[2].Class)
				}

				for _, c := range []struct {
					snap *db.Snapshot
					tid  zodb.TID
				}{{old, h.tid1}, {cur, h.tid2}} {
					got := treeItems(t, c.snap, h.tree)
					want := map[int64]int64{}
					for i := range int64(treeSize) {
						want[i] = i
					}
					if c.tid == h.tid2 {
						want[1], want[treeSize] = -1, treeSize
					}
					if len(got) != len(want) {
						t.Errorf("%s: the tree at %v has %d items, want %d", reader.name, c.tid, len(got), len(want))
					}
					for k, v := range want {
						if got[k] != v {
							t.Errorf("%s: the tree at %v: %d → %d, want %d", reader.name, c.tid, k, got[k], v)
						}
					}
				}
			}
		})
	}
}

// On a server without loadBefore a snapshot scans at most
// Options.HistoryLimit revisions of an object: one whose revision as of
// the snapshot is older than that is reported as such, not as missing.
func TestSnapshotHistoryLimit(t *testing.T) {
	ctx := context.Background()
	d, _ := open(t, "z201-py24", nil, &db.Options{HistoryLimit: 2})
	w := &writer{t: t, d: d}
	var oid zodb.OID
	var tids []zodb.TID
	for n := range int64(4) {
		w.begin()
		if n == 0 {
			var err error
			if oid, err = w.txn.NewOID(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.txn.Store(oid, "myapp.Counter", counter(n)); err != nil {
			t.Fatal(err)
		}
		tids = append(tids, w.commit())
	}
	// The revisions the scan reaches read as of their tids.
	for n := int64(2); n < 4; n++ {
		r, err := d.SnapshotAt(tids[n]).LoadRevision(ctx, oid)
		if err != nil || counterOf(t, r.Record) != n {
			t.Errorf("at revision %d: %v", n, err)
		}
	}
	// The second is three revisions back.
	_, err := d.SnapshotAt(tids[1]).Load(ctx, oid)
	var limit *db.HistoryLimitError
	if !errors.As(err, &limit) || errors.Is(err, zeo.ErrNotFound) {
		t.Fatalf("beyond the limit: %v, want a *db.HistoryLimitError", err)
	}
	if limit.OID != oid || limit.At != tids[1] || limit.Limit != 2 || limit.Oldest != tids[2] {
		t.Errorf("limit error %+v, want oid %v at %v limit 2 oldest %v", limit, oid, tids[1], tids[2])
	}
	// A larger limit reaches it.
	r, err := db.New(d.Client(), nil).SnapshotAt(tids[0]).LoadRevision(ctx, oid)
	if err != nil || counterOf(t, r.Record) != 0 || r.Next != tids[1] {
		t.Errorf("with the default limit: %v", err)
	}
}
