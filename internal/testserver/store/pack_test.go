package store

import (
	"errors"
	"testing"
	"time"

	"github.com/gozeo/gozeo/zodb"
)

func TestPack(t *testing.T) {
	st := newStore(t, Options{})
	s := st.NewSession(SessionOptions{})
	// The clock moves one second per commit from t0.
	tid1 := commit(t, s, write{oid(1), zodb.ZeroTID, "v1"}, write{oid(2), zodb.ZeroTID, "gone"}) // t0
	tid2 := commit(t, s, write{oid(1), tid1, "v2"})                                              // t0+1s
	_ = s.TpcBegin("del", TxnMeta{})                                                             // t0+2s
	_ = s.DeleteObject("del", oid(2), tid1)
	if _, err := s.Vote(t.Context(), "del"); err != nil {
		t.Fatal(err)
	}
	_, _ = s.Finish("del")
	tid4 := commit(t, s, write{oid(1), tid2, "v3"}) // t0+3s

	// Pack at t0+2.5s: oid 1 keeps v2 (newest before) and v3; v1 goes;
	// oid 2's newest revision before is its deletion, so it disappears.
	if err := st.Pack(t.Context(), t0.Add(2500*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	h, _ := st.History(oid(1), 10)
	if len(h) != 2 || h[0].TID != tid4 || h[1].TID != tid2 {
		t.Errorf("history after pack = %+v, want v3 and v2", h)
	}
	var pke *POSKeyError
	if _, err := st.LoadSerial(oid(1), tid1); !errors.As(err, &pke) {
		t.Errorf("LoadSerial of a packed revision: %v", err)
	}
	if rev, err := st.LoadBefore(oid(1), tid2); rev != nil || err != nil {
		t.Errorf("LoadBefore(before the oldest kept revision) = %+v, %v; want none", rev, err)
	}
	if rev, err := st.LoadBefore(oid(1), tid4); err != nil || string(rev.Data) != "v2" {
		t.Errorf("LoadBefore(tid4) = %+v, %v", rev, err)
	}
	if _, err := st.History(oid(2), 1); !errors.As(err, &pke) {
		t.Errorf("deleted object survived the pack: %v", err)
	}
	if st.Info().Length != 1 {
		t.Errorf("Length after pack = %d, want 1", st.Info().Length)
	}

	// Transactions before the pack time keep only surviving records and are
	// marked 'p'; tid1 and the deletion had none left and are gone.
	txns := st.Transactions()
	if len(txns) != 2 || txns[0].TID != tid2 || txns[0].Status != 'p' || txns[1].TID != tid4 || txns[1].Status != ' ' {
		t.Fatalf("transactions after pack = %+v", txns)
	}
	// Undo stops at the pack boundary.
	if log := st.UndoLog(0, 20); len(log) != 1 || log[0].TID != tid4 {
		t.Errorf("UndoLog after pack = %+v, want only the transaction after it", log)
	}
	var ue *UndoError
	if _, err := undo(t, s, tid2); !errors.As(err, &ue) || ue.Reason != "non-undoable transaction" {
		t.Errorf("undo of a packed transaction: %v", err)
	}
	if _, err := undo(t, s, tid4); err != nil {
		t.Errorf("undo after the pack point: %v", err)
	}
	if data, _ := mustLoad(t, st, oid(1)); data != "v2" {
		t.Errorf("after undoing tid4: %q", data)
	}
}

func TestPackInvalidTime(t *testing.T) {
	st := newStore(t, Options{})
	if err := st.Pack(t.Context(), time.Date(1850, 1, 1, 0, 0, 0, 0, time.UTC)); !errors.Is(err, ErrInvalidPackTime) {
		t.Errorf("pack before 1900: %v", err)
	}
}

func TestIterator(t *testing.T) {
	st := newStore(t, Options{})
	s := st.NewSession(SessionOptions{})
	tid1 := commit(t, s, write{oid(1), zodb.ZeroTID, "a"}, write{oid(2), zodb.ZeroTID, "b"})
	tid2 := commit(t, s, write{oid(1), tid1, "a2"})
	tid3 := commit(t, s, write{oid(3), zodb.ZeroTID, "c"})

	it := st.Iterator(tid2, tid3)
	var got []TxnRecord
	for rec, ok := it.Next(); ok; rec, ok = it.Next() {
		got = append(got, rec)
	}
	if len(got) != 2 || got[0].TID != tid2 || got[1].TID != tid3 {
		t.Fatalf("Iterator(tid2, tid3) = %+v (bounds are inclusive)", got)
	}
	r := got[0]
	if r.Status != ' ' || r.User != "tester" || r.Description != "commit" || len(r.Records) != 1 {
		t.Errorf("txn record = %+v", r)
	}
	if d := r.Records[0]; d.OID != oid(1) || d.TID != tid2 || string(d.Data) != "a2" || d.DataTxn != zodb.ZeroTID {
		t.Errorf("data record = %+v", d)
	}
	all := st.Transactions()
	if len(all) != 3 || len(all[0].Records) != 2 || all[0].Records[0].OID != oid(1) || all[0].Records[1].OID != oid(2) {
		t.Errorf("Transactions = %+v", all)
	}
	if _, ok := st.Iterator(zodb.TIDFromUint64(tid3.Uint64()+1), zodb.MaxTID).Next(); ok {
		t.Error("iterator past the last transaction yielded something")
	}
	// An iterator keeps the transactions of its creation.
	it = st.Iterator(zodb.ZeroTID, zodb.MaxTID)
	commit(t, s, write{oid(4), zodb.ZeroTID, "later"})
	n := 0
	for _, ok := it.Next(); ok; _, ok = it.Next() {
		n++
	}
	if n != 3 {
		t.Errorf("iterator saw %d transactions, want the 3 that existed when it was made", n)
	}
}

func TestDump(t *testing.T) {
	st := newStore(t, Options{})
	s := st.NewSession(SessionOptions{})
	tid1 := commit(t, s, write{oid(2), zodb.ZeroTID, "b"}, write{oid(1), zodb.ZeroTID, "a"})
	tid2 := commit(t, s, write{oid(1), tid1, "a2"})
	d := st.Dump()
	if len(d) != 2 || d[0].OID != oid(1) || len(d[0].Revisions) != 2 || d[0].Revisions[1].TID != tid2 ||
		string(d[0].Revisions[0].Data) != "a" || d[1].OID != oid(2) {
		t.Errorf("Dump = %+v", d)
	}
}
