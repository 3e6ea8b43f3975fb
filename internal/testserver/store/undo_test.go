package store

import (
	"errors"
	"testing"

	"github.com/gozeo/gozeo/zodb"
)

// undo runs a transaction undoing tid on s and returns the vote result.
func undo(t *testing.T, s *Session, tid zodb.TID) (*VoteResult, error) {
	t.Helper()
	id := new(int)
	if err := s.TpcBegin(id, TxnMeta{Description: "undo"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Undo(id, UndoID(tid)); err != nil {
		t.Fatal(err)
	}
	res, err := s.Vote(t.Context(), id)
	if err != nil {
		s.Abort(id)
		return nil, err
	}
	if _, err := s.Finish(id); err != nil {
		t.Fatal(err)
	}
	return res, nil
}

func TestUndoLog(t *testing.T) {
	st := newStore(t, Options{})
	s := st.NewSession(SessionOptions{})
	var tids []zodb.TID
	for i := range 5 {
		tids = append(tids, commit(t, s, write{oid(uint64(i + 1)), zodb.ZeroTID, "x"}))
	}
	log := st.UndoLog(0, 20)
	if len(log) != 5 || log[0].TID != tids[4] || log[4].TID != tids[0] {
		t.Fatalf("UndoLog = %+v", log)
	}
	// FileStorage's id is encodebytes(tid).rstrip(); Python gives this for
	// tid 03f58e0000000000.
	if got := string(UndoID(zodb.TIDFromUint64(0x03f58e0000000000))); got != "A/WOAAAAAAA=" {
		t.Errorf("UndoID = %q, want FileStorage's A/WOAAAAAAA=", got)
	}
	if string(log[0].ID) != string(UndoID(tids[4])) {
		t.Errorf("entry id %q is not UndoID of its tid", log[0].ID)
	}
	if log[0].User != "tester" || log[0].Description != "commit" || log[0].Size <= 0 {
		t.Errorf("entry = %+v", log[0])
	}
	if got := st.UndoLog(1, 3); len(got) != 2 || got[0].TID != tids[3] || got[1].TID != tids[2] {
		t.Errorf("UndoLog(1, 3) = %+v", got)
	}
	if got := st.UndoLog(1, -2); len(got) != 2 || got[0].TID != tids[3] {
		t.Errorf("UndoLog(1, -2) = %+v, want two entries from the second", got)
	}
	odd := func(e UndoEntry) bool { return e.TID == tids[1] || e.TID == tids[3] }
	if got := st.UndoInfo(0, 20, odd); len(got) != 2 || got[0].TID != tids[3] || got[1].TID != tids[1] {
		t.Errorf("UndoInfo(filter) = %+v", got)
	}
	if got := st.UndoInfo(1, 20, odd); len(got) != 1 || got[0].TID != tids[1] {
		t.Errorf("UndoInfo(first 1, filter) = %+v: first counts filtered entries", got)
	}
}

func TestUndoRestoresPreviousRevision(t *testing.T) {
	st := newStore(t, Options{})
	s := st.NewSession(SessionOptions{})
	tid1 := commit(t, s, write{oid(1), zodb.ZeroTID, "v1"}, write{oid(2), zodb.ZeroTID, "w1"})
	tid2 := commit(t, s, write{oid(1), tid1, "v2"}, write{oid(2), tid1, "w2"})

	res, err := undo(t, s, tid2)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Objects) != 2 || res.Objects[0] != (ObjectResult{oid(1), Undone}) || res.Objects[1] != (ObjectResult{oid(2), Undone}) {
		t.Errorf("undo vote = %+v", res.Objects)
	}
	if got := res.ResolvedOIDs(); len(got) != 2 {
		t.Errorf("ResolvedOIDs = %v, want both undone oids", got)
	}
	data, tid := mustLoad(t, st, oid(1))
	if data != "v1" || tid != res.TID {
		t.Errorf("after undo: %q at %s, want v1 at the undo's tid %s", data, tid, res.TID)
	}
	// The iterator shows the undo's records pointing at the restored data.
	txns := st.Transactions()
	last := txns[len(txns)-1]
	if last.TID != res.TID || last.Records[0].DataTxn != tid1 || string(last.Records[0].Data) != "v1" {
		t.Errorf("undo transaction record = %+v, want data_txn %s", last, tid1)
	}
}

func TestUndoCreation(t *testing.T) {
	st := newStore(t, Options{})
	s := st.NewSession(SessionOptions{})
	tid1 := commit(t, s, write{oid(1), zodb.ZeroTID, "new"})
	if _, err := undo(t, s, tid1); err != nil {
		t.Fatal(err)
	}
	var pke *POSKeyError
	if _, _, err := st.Load(oid(1)); !errors.As(err, &pke) {
		t.Errorf("Load after undoing the creation: %v, want POSKeyError", err)
	}
}

func TestUndoFailsAfterLaterChange(t *testing.T) {
	st := newStore(t, Options{})
	s := st.NewSession(SessionOptions{})
	tid1 := commit(t, s, write{oid(1), zodb.ZeroTID, "v1"}, write{oid(2), zodb.ZeroTID, "w1"})
	tid2 := commit(t, s, write{oid(1), tid1, "v2"}, write{oid(2), tid1, "w2"})
	commit(t, s, write{oid(1), tid2, "v3"}) // oid 1 changed after tid2

	_, err := undo(t, s, tid2)
	var multi *MultipleUndoErrors
	if !errors.As(err, &multi) || len(multi.Errors) != 1 || multi.Errors[0].OID != oid(1) {
		t.Fatalf("undo of an overwritten change: %v", err)
	}
	var ue *UndoError
	if !errors.As(err, &ue) || ue.Reason != "Some data were modified by a later transaction" {
		t.Errorf("first UndoError = %+v", ue)
	}
	// Nothing was applied, not even for the undoable oid 2.
	if data, _ := mustLoad(t, st, oid(2)); data != "w2" {
		t.Errorf("a failed undo changed oid 2 to %q", data)
	}
}

// An object whose current revision is an undo that points at the data the
// undone transaction wrote can still be undone: FileStorage compares data,
// not revisions.
func TestUndoThroughSharedData(t *testing.T) {
	st := newStore(t, Options{})
	s := st.NewSession(SessionOptions{})
	tid1 := commit(t, s, write{oid(1), zodb.ZeroTID, "a"})
	tid2 := commit(t, s, write{oid(1), tid1, "b"})
	if _, err := undo(t, s, tid2); err != nil { // back to tid1's data
		t.Fatal(err)
	}
	// Undoing tid1 now: current revision is the undo, but it shares tid1's
	// data, so the creation can be undone.
	if _, err := undo(t, s, tid1); err != nil {
		t.Fatalf("undo of the creation through shared data: %v", err)
	}
	var pke *POSKeyError
	if _, _, err := st.Load(oid(1)); !errors.As(err, &pke) {
		t.Errorf("Load = %v, want POSKeyError", err)
	}
}

func TestUndoInvalidAndNotSupported(t *testing.T) {
	st := newStore(t, Options{})
	s := st.NewSession(SessionOptions{})
	commit(t, s, write{oid(1), zodb.ZeroTID, "a"})
	var ue *UndoError
	for _, id := range [][]byte{[]byte("garbage!"), UndoID(zodb.TIDFromUint64(12345))} {
		_ = s.TpcBegin("u", TxnMeta{})
		_ = s.Undo("u", id)
		if _, err := s.Vote(t.Context(), "u"); !errors.As(err, &ue) || ue.Reason != "Invalid transaction id" || ue.HasOID {
			t.Errorf("undo of %q: %v", id, err)
		}
		s.Abort("u")
	}

	no := newStore(t, Options{NoUndo: true})
	ns := no.NewSession(SessionOptions{})
	tid := commit(t, ns, write{oid(1), zodb.ZeroTID, "a"})
	if no.Info().SupportsUndo || len(no.UndoLog(0, 20)) != 0 {
		t.Error("NoUndo store advertises undo")
	}
	if _, err := undo(t, ns, tid); !errors.As(err, &ue) {
		t.Errorf("undo on a NoUndo store: %v", err)
	}
}

func TestUndoNow(t *testing.T) {
	st := newStore(t, Options{})
	s := st.NewSession(SessionOptions{})
	tid1 := commit(t, s, write{oid(1), zodb.ZeroTID, "v1"})
	tid2 := commit(t, s, write{oid(1), tid1, "v2"})

	_ = s.TpcBegin("u", TxnMeta{})
	_ = s.Store("u", oid(7), zodb.ZeroTID, []byte("buffered before the undo"))
	tid, oids, err := s.UndoNow(t.Context(), "u", UndoID(tid2))
	if err != nil || len(oids) != 1 || oids[0] != oid(1) || tid.Compare(tid2) <= 0 {
		t.Fatalf("UndoNow = %s, %v, %v", tid, oids, err)
	}
	// Changes after the synchronous undo apply too.
	_ = s.Store("u", oid(8), zodb.ZeroTID, []byte("after"))
	res, err := s.Vote(t.Context(), "u")
	if err != nil || res.TID != tid || len(res.Objects) != 3 {
		t.Fatalf("vote after UndoNow = %+v, %v", res, err)
	}
	if got, _ := s.Finish("u"); got != tid {
		t.Errorf("Finish = %s, want %s", got, tid)
	}
	if data, _ := mustLoad(t, st, oid(1)); data != "v1" {
		t.Errorf("oid 1 = %q", data)
	}
	if data, _ := mustLoad(t, st, oid(8)); data != "after" {
		t.Errorf("oid 8 = %q", data)
	}
}
