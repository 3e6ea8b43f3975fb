package db_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gozeo/gozeo/db"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// Create a root and an application object, change it, read everything
// back, on a Python 3 and a Python 2 generation of server: the records are
// written in the format that generation's clients read.
func TestTxnCreateModifyReadBack(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		profile string
		format  record.Format
	}{
		{"z5-py3", record.Py3},
		{"m5-py3", record.Py3},
		{"z3101-py27", record.Py2},
	} {
		t.Run(tc.profile, func(t *testing.T) {
			d, srv := open(t, tc.profile, nil, nil)
			txn, err := d.Begin(ctx, zeo.TxnMeta{User: "test", Description: "create"})
			if err != nil {
				t.Fatal(err)
			}
			if txn.Format() != tc.format {
				t.Fatalf("format %v", txn.Format())
			}
			doc, err := txn.NewOID(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := txn.Store(doc, "myapp.Document", pickle.DictOf("title", pickle.Unicode("Hello"), "tags", &pickle.List{pickle.Unicode("a")})); err != nil {
				t.Fatal(err)
			}
			root := record.NewMapping()
			root.Data.Set(pickle.Unicode("doc"), record.RefTo(doc, "myapp.Document"))
			if err := txn.Store(db.RootOID, record.ClassPersistentMapping, root.State()); err != nil {
				t.Fatal(err)
			}
			// The transaction reads its own writes.
			if rec, err := txn.Load(ctx, doc); err != nil || rec.Class != "myapp.Document" {
				t.Fatalf("own write: %v %v", rec, err)
			}
			tid1, err := txn.Commit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := txn.Commit(ctx); !errors.Is(err, db.ErrTxnDone) {
				t.Errorf("second commit: %v", err)
			}

			// The stored records are in the generation's format.
			for _, dump := range srv.Store().Dump() {
				data := dump.Revisions[len(dump.Revisions)-1].Data
				if f, ok := record.FormatOf(data); !ok || f != tc.format {
					t.Errorf("oid %v written as %x...", dump.OID, data[:4])
				}
			}

			catchUp(t, d)
			snap, err := d.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			v, err := snap.Object(ctx, db.RootOID)
			if err != nil {
				t.Fatal(err)
			}
			ref, ok := v.(*record.Mapping).Data.Get("doc")
			if !ok {
				t.Fatal("root has no 'doc'")
			}
			r := record.ParseRef(ref.(pickle.PersistentRef).ID)
			if r.OID != doc || r.Class != "myapp.Document" {
				t.Fatalf("root['doc'] = %v", r)
			}
			obj, err := snap.Object(ctx, doc)
			if err != nil {
				t.Fatal(err)
			}
			sym := obj.(*record.Object)
			title, _ := sym.State.(*pickle.Dict).Get("title")
			if sym.Class != "myapp.Document" || title != "Hello" {
				t.Fatalf("doc = %s %s", sym.Class, pickle.Repr(sym.State))
			}

			// Change the document on top of the snapshot.
			txn2, err := snap.Begin(ctx, zeo.TxnMeta{Description: "edit"})
			if err != nil {
				t.Fatal(err)
			}
			rec, err := txn2.Load(ctx, doc)
			if err != nil {
				t.Fatal(err)
			}
			state := rec.State.(*pickle.Dict)
			state.Set("title", pickle.Unicode("Changed"))
			if err := txn2.Store(doc, rec.Class, state); err != nil {
				t.Fatal(err)
			}
			tid2, err := txn2.Commit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			catchUp(t, d)
			for _, c := range []struct {
				at   zodb.TID
				want string
			}{{tid1, "Hello"}, {tid2, "Changed"}} {
				rec, err := d.SnapshotAt(c.at).Load(ctx, doc)
				if err != nil {
					t.Fatal(err)
				}
				if title, _ := rec.State.(*pickle.Dict).Get("title"); title != c.want {
					t.Errorf("at %v: title %v, want %q", c.at, title, c.want)
				}
			}
		})
	}
}

// Two transactions from one snapshot change one object: the second
// commit fails with a ConflictError naming the object, the serial it read
// and the one committed since.
func TestTxnConflict(t *testing.T) {
	ctx := context.Background()
	for _, profile := range []string{"z5-py3", "z3101-py27", "z303-py24", "z201-py24"} {
		t.Run(profile, func(t *testing.T) {
			d, _ := open(t, profile, nil, nil)
			setup, err := d.Begin(ctx, zeo.TxnMeta{})
			if err != nil {
				t.Fatal(err)
			}
			oid, _ := setup.NewOID(ctx)
			if err := setup.Store(oid, record.ClassLength, int64(0)); err != nil {
				t.Fatal(err)
			}
			created, err := setup.Commit(ctx)
			if err != nil {
				t.Fatal(err)
			}
			catchUp(t, d)
			snap, err := d.Snapshot(ctx)
			if err != nil {
				t.Fatal(err)
			}
			bump := func() (zodb.TID, error) {
				txn, err := snap.Begin(ctx, zeo.TxnMeta{})
				if err != nil {
					t.Fatal(err)
				}
				rec, err := txn.Load(ctx, oid)
				if err != nil {
					t.Fatal(err)
				}
				n, _ := pickle.AsInt(rec.State)
				if err := txn.Store(oid, rec.Class, n+1); err != nil {
					t.Fatal(err)
				}
				return txn.Commit(ctx)
			}
			won, err := bump()
			if err != nil {
				t.Fatal(err)
			}
			_, err = bump()
			var ce *db.ConflictError
			if !errors.As(err, &ce) {
				t.Fatalf("second commit: %v", err)
			}
			if ce.OID != oid || ce.Read != created || ce.Committed != won || ce.Class != record.ClassLength {
				t.Errorf("conflict %+v; want oid %v read %v committed %v", ce, oid, created, won)
			}
			if !errors.Is(err, zeo.ErrConflict) {
				t.Error("not a zeo.ErrConflict")
			}
		})
	}
}

// A value the record format cannot hold fails at Store, naming the object.
func TestTxnStoreUnencodable(t *testing.T) {
	ctx := context.Background()
	d, _ := open(t, "z5-py3", nil, nil)
	txn, err := d.Begin(ctx, zeo.TxnMeta{})
	if err != nil {
		t.Fatal(err)
	}
	err = txn.Store(zodb.OIDFromUint64(1), "m.C", []int{1})
	if !errors.Is(err, pickle.ErrUnencodable) {
		t.Errorf("store of a Go slice: %v", err)
	}
	if err := txn.Store(zodb.OIDFromUint64(1), "", int64(1)); err == nil {
		t.Error("store without a class accepted")
	}
}
