package store

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/gozeo/gozeo/zodb"
)

// backupHistory commits what the clone tests copy: tid1 creates oid 1 ("a")
// and oid 2 ("w"), tid2 changes oid 1 to "b", tid3 undoes tid2, so oid 1's
// current revision shares tid1's data (a backpointer).
func backupHistory(t *testing.T) (st *Store, s *Session, tids [3]zodb.TID) {
	t.Helper()
	st = newStore(t, Options{})
	s = st.NewSession(SessionOptions{})
	tids[0] = commit(t, s, write{oid(1), zodb.ZeroTID, "a"}, write{oid(2), zodb.ZeroTID, "w"}) // t0
	tids[1] = commit(t, s, write{oid(1), tids[0], "b"})                                        // t0+1s
	res, err := undo(t, s, tids[1])                                                            // t0+2s
	if err != nil {
		t.Fatal(err)
	}
	tids[2] = res.TID
	return st, s, tids
}

// A clone is the store as it was: commits on the original after the clone
// do not show in it, and everything it had is there, history, undo
// backpointers and pack marks included.
func TestCloneKeepsTheStateItWasTakenIn(t *testing.T) {
	for _, tc := range []struct {
		name string
		pack bool // pack at t0+1.5s before cloning: oid 1 loses tid1's revision
		// dataTxn is what the iterator shows as the undo record's data_txn.
		dataTxn func(tids [3]zodb.TID) zodb.TID
	}{
		{"fresh", false, func(tids [3]zodb.TID) zodb.TID { return tids[0] }},
		{"after a pack", true, func([3]zodb.TID) zodb.TID { return zodb.ZeroTID }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, s, tids := backupHistory(t)
			if tc.pack {
				if err := st.Pack(t.Context(), t0.Add(1500*time.Millisecond)); err != nil {
					t.Fatal(err)
				}
			}
			txns, dump, info := st.Transactions(), st.Dump(), st.Info()
			clone := st.Clone(Options{})
			later := commit(t, s, write{oid(1), tids[2], "c"}, write{oid(3), zodb.ZeroTID, "new"})

			if got := clone.LastTransaction(); got != tids[2] {
				t.Errorf("clone's LastTransaction = %s, want %s (the original is at %s)", got, tids[2], later)
			}
			if data, tid := mustLoad(t, clone, oid(1)); data != "a" || tid != tids[2] {
				t.Errorf("clone's oid 1 = %q at %s, want \"a\" at %s", data, tid, tids[2])
			}
			var pke *POSKeyError
			if _, _, err := clone.Load(oid(3)); !errors.As(err, &pke) {
				t.Errorf("clone loads an object created after it: %v", err)
			}
			if got := clone.Transactions(); !reflect.DeepEqual(got, txns) {
				t.Errorf("clone's transactions = %+v, want %+v", got, txns)
			}
			if got := clone.Transactions(); got[len(got)-1].Records[0].DataTxn != tc.dataTxn(tids) {
				t.Errorf("undo record's data_txn = %s, want %s", got[len(got)-1].Records[0].DataTxn, tc.dataTxn(tids))
			}
			if got := clone.Dump(); !reflect.DeepEqual(got, dump) {
				t.Errorf("clone's objects = %+v, want %+v", got, dump)
			}
			if got := clone.Info(); got != info {
				t.Errorf("clone's Info = %+v, want %+v", got, info)
			}
			// The last oid is copied: the clone hands out oid 3 again, as a
			// restored server would.
			if oids, _ := clone.NewOIDs(1); len(oids) != 1 || oids[0] != oid(3) {
				t.Errorf("clone's NewOIDs(1) = %v, want [oid 3]", oids)
			}
		})
	}
}

// The clone has no subscribers, no transaction in progress and a free
// commit lock, even when the original is in the middle of a commit; after
// that the two stores go their own ways.
func TestCloneIsIndependent(t *testing.T) {
	st, s, tids := backupHistory(t)
	var origCommits, cloneCommits []zodb.TID
	st.Subscribe(func(c Commit) { origCommits = append(origCommits, c.TID) })

	// A second client has voted on the original and holds its commit lock.
	voter := st.NewSession(SessionOptions{})
	_ = voter.TpcBegin("v", TxnMeta{})
	_ = voter.Store("v", oid(2), tids[0], []byte("w2"))
	if _, err := voter.Vote(t.Context(), "v"); err != nil {
		t.Fatal(err)
	}
	clone := st.Clone(Options{})
	clone.Subscribe(func(c Commit) { cloneCommits = append(cloneCommits, c.TID) })

	// A held lock copied into the clone would make this hang.
	cs := clone.NewSession(SessionOptions{})
	ctid := commit(t, cs, write{oid(1), tids[2], "clone"})
	if _, err := voter.Finish("v"); err != nil {
		t.Fatal(err)
	}
	otid := commit(t, s, write{oid(1), tids[2], "original"}) // no conflict with the clone's commit

	if data, _ := mustLoad(t, clone, oid(1)); data != "clone" {
		t.Errorf("clone's oid 1 = %q, want its own commit's", data)
	}
	if data, _ := mustLoad(t, clone, oid(2)); data != "w" {
		t.Errorf("clone's oid 2 = %q: the original's in-progress transaction leaked into it", data)
	}
	if data, _ := mustLoad(t, st, oid(1)); data != "original" {
		t.Errorf("original's oid 1 = %q", data)
	}
	if len(cloneCommits) != 1 || cloneCommits[0] != ctid {
		t.Errorf("clone's subscriber saw %v, want only %s", cloneCommits, ctid)
	}
	if len(origCommits) != 2 || origCommits[1] != otid {
		t.Errorf("original's subscriber saw %v, want the voter's and %s only", origCommits, otid)
	}
	if h, _ := st.History(oid(1), 10); len(h) != 4 {
		t.Errorf("original's history of oid 1 has %d revisions, want 4", len(h))
	}
}

// Undo and pack work on the clone, undo through the copied backpointer
// too, and leave the original alone.
func TestCloneUndoAndPack(t *testing.T) {
	t.Run("undo through shared data", func(t *testing.T) {
		st, _, tids := backupHistory(t)
		clone := st.Clone(Options{})
		// oid 1's current revision shares tid1's data, so tid1 (its
		// creation) can be undone: the clone kept the sharing.
		if _, err := undo(t, clone.NewSession(SessionOptions{}), tids[0]); err != nil {
			t.Fatalf("undo of tid1 on the clone: %v", err)
		}
		var pke *POSKeyError
		for _, o := range []zodb.OID{oid(1), oid(2)} {
			if _, _, err := clone.Load(o); !errors.As(err, &pke) {
				t.Errorf("clone's %s after undoing its creation: %v, want POSKeyError", o, err)
			}
		}
		if data, _ := mustLoad(t, st, oid(1)); data != "a" {
			t.Errorf("original's oid 1 = %q, want \"a\"", data)
		}
		if n := len(st.UndoLog(0, 20)); n != 3 {
			t.Errorf("original's undo log has %d entries, want 3", n)
		}
	})
	t.Run("pack", func(t *testing.T) {
		st, _, tids := backupHistory(t)
		clone := st.Clone(Options{})
		if err := clone.Pack(t.Context(), t0.Add(1500*time.Millisecond)); err != nil {
			t.Fatal(err)
		}
		if h, _ := clone.History(oid(1), 10); len(h) != 2 || h[0].TID != tids[2] || h[1].TID != tids[1] {
			t.Errorf("clone's history after pack = %+v, want tid3 and tid2", h)
		}
		if h, _ := st.History(oid(1), 10); len(h) != 3 {
			t.Errorf("original's history = %+v, want all 3 revisions", h)
		}
		if got := st.Transactions(); got[2].Records[0].DataTxn != tids[0] {
			t.Errorf("original's undo record data_txn = %s after packing the clone, want %s", got[2].Records[0].DataTxn, tids[0])
		}
	})
}
