package db_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gozeo/gozeo/btree"
	"github.com/gozeo/gozeo/db"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// A Snapshot reads BTrees and a Txn writes them: the compiler checks the
// interfaces package btree asks for.
var (
	_ btree.Loader = (*db.Snapshot)(nil)
	_ btree.Writer = (*db.Txn)(nil)
)

// The Writer contract: Load and LoadMany of a Txn return what Store stored
// earlier in the same transaction (the last state stored, with its class),
// and what the snapshot holds for the objects it did not store, in the
// order asked.
func TestTxnLoadsWhatItStored(t *testing.T) {
	ctx := context.Background()
	for _, profile := range []string{"z5-py3", "z3101-py27"} {
		t.Run(profile, func(t *testing.T) {
			d, _ := open(t, profile, nil, nil)
			setup, err := d.Begin(ctx, zeo.TxnMeta{})
			if err != nil {
				t.Fatal(err)
			}
			counter, _ := setup.NewOID(ctx)
			if err := setup.Store(counter, record.ClassLength, int64(7)); err != nil {
				t.Fatal(err)
			}
			root := record.NewMapping()
			root.Data.Set("n", record.RefTo(counter, record.ClassLength))
			if err := setup.Store(db.RootOID, record.ClassPersistentMapping, root.State()); err != nil {
				t.Fatal(err)
			}
			if _, err := setup.Commit(ctx); err != nil {
				t.Fatal(err)
			}
			catchUp(t, d)

			txn, err := d.Begin(ctx, zeo.TxnMeta{})
			if err != nil {
				t.Fatal(err)
			}
			bucket, err := txn.NewOID(ctx)
			if err != nil {
				t.Fatal(err)
			}
			const class = "BTrees.IOBTree.IOBucket"
			for _, n := range []int64{1, 2} { // the second Store wins
				state := pickle.Tuple{pickle.Tuple{n, "one", n + 1, "two"}}
				if err := txn.Store(bucket, class, state); err != nil {
					t.Fatal(err)
				}
			}
			if err := txn.Store(counter, record.ClassLength, int64(8)); err != nil {
				t.Fatal(err)
			}
			rec, err := txn.Load(ctx, bucket)
			if err != nil {
				t.Fatal(err)
			}
			if got := pickle.Repr(rec.State); rec.Class != class || got != pickle.Repr(pickle.Tuple{pickle.Tuple{int64(2), textIn(profile, "one"), int64(3), textIn(profile, "two")}}) {
				t.Errorf("Load of a stored bucket: %s %s", rec.Class, got)
			}
			recs, err := txn.LoadMany(ctx, []zodb.OID{counter, db.RootOID, bucket})
			if err != nil {
				t.Fatal(err)
			}
			if n, _ := pickle.AsInt(recs[0].State); recs[0].Class != record.ClassLength || n != 8 {
				t.Errorf("LoadMany[0] = %s %s, want the Length stored (8)", recs[0].Class, pickle.Repr(recs[0].State))
			}
			if recs[1].Class != record.ClassPersistentMapping {
				t.Errorf("LoadMany[1] = %s, want the root as of the snapshot", recs[1].Class)
			}
			if recs[2].Class != class || pickle.Repr(recs[2].State) != pickle.Repr(rec.State) {
				t.Errorf("LoadMany[2] = %s %s, want what Load gave", recs[2].Class, pickle.Repr(recs[2].State))
			}
			// A caller that changes a loaded state without storing it does
			// not change what the transaction holds.
			rec.State.(pickle.Tuple)[0].(pickle.Tuple)[1] = "changed"
			if again, _ := txn.Load(ctx, bucket); pickle.Repr(again.State) == pickle.Repr(rec.State) {
				t.Error("a Load's state is shared with the transaction")
			}
			txn.Abort()
		})
	}
}

// textIn is how a Go string stored through a Txn reads back: text in a
// Python 3 database, a py2 str in a Python 2 one.
func textIn(profile, s string) pickle.Value {
	if profile == "z3101-py27" {
		return pickle.ByteString(s)
	}
	return s
}

// BTree writes through a Txn read the buckets and nodes the same
// transaction changed before: many inserts in one transaction split
// buckets and nodes, and the tree reads back whole before and after the
// commit.
func TestTxnBTreeReadsOwnWrites(t *testing.T) {
	ctx := context.Background()
	d, _ := open(t, "z5-py3", nil, nil)
	txn, err := d.Begin(ctx, zeo.TxnMeta{})
	if err != nil {
		t.Fatal(err)
	}
	oo, _ := btree.FamilyOf("OO")
	tr, err := btree.Create(ctx, txn, oo, btree.KindBTree)
	if err != nil {
		t.Fatal(err)
	}
	root := record.NewMapping()
	root.Data.Set("tree", tr.Ref())
	if err := txn.Store(db.RootOID, record.ClassPersistentMapping, root.State()); err != nil {
		t.Fatal(err)
	}
	const n = 1000 // 60+ buckets of at most 30
	for i := range n {
		if _, err := tr.Set(ctx, fmt.Sprintf("k%04d", (i*7)%n), int64(i)); err != nil {
			t.Fatal(err)
		}
	}
	check := func(l btree.Loader, when string) {
		tr, err := btree.Open(ctx, l, tr.OID())
		if err != nil {
			t.Fatal(err)
		}
		if err := tr.Check(ctx); err != nil {
			t.Fatalf("%s: Check: %v", when, err)
		}
		if got, err := tr.Len(ctx); got != n || err != nil {
			t.Fatalf("%s: Len = %d, %v", when, got, err)
		}
		for i := range n {
			v, ok, err := tr.Get(ctx, fmt.Sprintf("k%04d", (i*7)%n))
			if w, _ := pickle.AsInt(v); !ok || err != nil || w != int64(i) {
				t.Fatalf("%s: Get(%d) = %v, %v, %v", when, i, v, ok, err)
			}
		}
	}
	check(txn, "in the transaction")
	tid, err := txn.Commit(ctx)
	if err != nil {
		t.Fatal(err)
	}
	check(d.SnapshotAt(tid), "after the commit")
}
