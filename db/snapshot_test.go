package db_test

import (
	"context"
	"errors"
	"testing"

	"github.com/gozeo/gozeo/db"
	"github.com/gozeo/gozeo/internal/zodbtest"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// The databases real ZODB wrote, served by the test server under their
// own tids, read back through snapshots: at the last tid every object
// Python saw, and at earlier tids the states Python saw then.
func TestSnapshotReadsVectors(t *testing.T) {
	ctx := context.Background()
	for _, g := range zodbtest.Generations {
		t.Run(g.Name, func(t *testing.T) {
			recs := zodbtest.MustRecords(t, g.Name)
			want := zodbtest.MustExpected(t, g.Name)
			d, _ := open(t, profileOf(g), replay(t, recs), nil)

			check := func(at zodb.TID, oids []zodb.OID, state func(zodb.OID) []byte, items bool) {
				snap := d.SnapshotAt(at)
				revs, err := snap.LoadRevisions(ctx, oids)
				if err != nil {
					t.Fatal(err)
				}
				classes := make(map[zodb.OID]string)
				opts := &record.JSONOptions{RefClass: func(oid zodb.OID) string {
					if c, ok := classes[oid]; ok {
						return c
					}
					rec, err := snap.Load(ctx, oid)
					if err != nil {
						t.Errorf("ref to oid %v: %v", oid, err)
						return ""
					}
					classes[oid] = rec.Class
					return rec.Class
				}}
				for i, oid := range oids {
					r := revs[i]
					if r.Serial.Compare(at) > 0 {
						t.Errorf("at %v: oid %v read at serial %v, after the snapshot", at, oid, r.Serial)
					}
					st := r.Record.State
					if items && r.Record.Class == record.ClassPersistentMapping {
						m, err := record.DecodeMapping(st)
						if err != nil {
							t.Fatal(err)
						}
						st = m.Data
					}
					view, err := record.AppendJSON(nil, st, opts)
					if err != nil {
						t.Fatal(err)
					}
					got, _ := zodbtest.Canonical(view)
					exp, _ := zodbtest.Canonical(state(oid))
					if got != exp {
						t.Errorf("at %v oid %v:\n got %.300s\nwant %.300s", at, oid, got, exp)
					}
				}
			}
			var oids []zodb.OID
			for oid := range want.Objects {
				oids = append(oids, oid)
			}
			check(want.LastTID, oids, func(oid zodb.OID) []byte { return want.Objects[oid].State }, false)
			for at, states := range want.At {
				var oids []zodb.OID
				for oid := range states {
					oids = append(oids, oid)
				}
				check(at, oids, func(oid zodb.OID) []byte { return states[oid] }, true)
			}

			snap := d.SnapshotAt(want.LastTID)
			root, err := snap.Root(ctx)
			if err != nil || root.Class != record.ClassPersistentMapping {
				t.Fatalf("root: %v, %v", root, err)
			}
			txn, err := snap.Begin(ctx, zeo.TxnMeta{})
			if err != nil {
				t.Fatal(err)
			}
			if wantF := map[bool]record.Format{false: record.Py3, true: record.Py2}[g.Py2]; txn.Format() != wantF {
				t.Errorf("writes would be %v, the database is %v", txn.Format(), wantF)
			}
		})
	}
}

// A snapshot stays at its tid while others commit, and moves only when
// asked; an object that did not exist yet is not found.
func TestSnapshotIsolation(t *testing.T) {
	ctx := context.Background()
	d, srv := open(t, "z5-py3", nil, nil)
	st := srv.Store()
	mk := func(n int64) []byte {
		data, err := record.EncodeObject(record.ClassLength, n, record.Py3)
		if err != nil {
			t.Fatal(err)
		}
		return data
	}
	oid := zodb.OIDFromUint64(7)
	if _, err := st.Seed(ctx, oid, mk(1)); err != nil {
		t.Fatal(err)
	}
	snap, err := d.Snapshot(ctx)
	if err != nil {
		t.Fatal(err)
	}
	catchUp(t, d)
	readLength := func() int64 {
		t.Helper()
		v, err := snap.Object(ctx, oid)
		if err != nil {
			t.Fatal(err)
		}
		return v.(*record.Length).Value
	}
	first := snap.At()
	if n := readLength(); n != 1 {
		t.Fatalf("length %d", n)
	}
	tid2, err := st.Seed(ctx, oid, mk(2))
	if err != nil {
		t.Fatal(err)
	}
	other := zodb.OIDFromUint64(8)
	if _, err := st.Seed(ctx, other, mk(3)); err != nil {
		t.Fatal(err)
	}
	catchUp(t, d)
	if n := readLength(); n != 1 {
		t.Errorf("snapshot at %v reads %d after a commit", first, n)
	}
	if _, err := snap.Load(ctx, other); !errors.Is(err, zeo.ErrNotFound) {
		t.Errorf("an object created after the snapshot: %v", err)
	}
	if err := snap.Advance(ctx); err != nil {
		t.Fatal(err)
	}
	if snap.At().Compare(tid2) <= 0 {
		t.Fatalf("advanced to %v, not past %v", snap.At(), tid2)
	}
	if n := readLength(); n != 2 {
		t.Errorf("after Advance: %d", n)
	}
	if _, err := d.SnapshotAt(first).Load(ctx, oid); err != nil {
		t.Error(err)
	}
	if _, err := snap.Load(ctx, zodb.OIDFromUint64(99)); !errors.Is(err, zeo.ErrNotFound) {
		t.Errorf("missing object: %v", err)
	}
	var de *db.DecodeError
	if _, err := st.Seed(ctx, oid, []byte("not a record")); err != nil {
		t.Fatal(err)
	}
	catchUp(t, d)
	snap.Advance(ctx)
	if _, err := snap.Load(ctx, oid); !errors.As(err, &de) || de.OID != oid {
		t.Errorf("garbage record: %v", err)
	}
}
