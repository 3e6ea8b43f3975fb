package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gozeo/gozeo/zodb"
)

func TestCommitReportsResults(t *testing.T) {
	st := newStore(t, Options{})
	s := st.NewSession(SessionOptions{})
	oids, _ := s.NewOIDs(2)
	id := int64(140234)
	if err := s.TpcBegin(id, TxnMeta{User: "u", Description: "d"}); err != nil {
		t.Fatal(err)
	}
	for i, o := range oids {
		if err := s.Store(id, o, zodb.ZeroTID, []byte{byte('a' + i)}); err != nil {
			t.Fatal(err)
		}
	}
	res, err := s.Vote(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	want := []ObjectResult{{oids[0], Stored}, {oids[1], Stored}}
	if len(res.Objects) != 2 || res.Objects[0] != want[0] || res.Objects[1] != want[1] {
		t.Errorf("vote objects = %v, want %v", res.Objects, want)
	}
	if len(res.ResolvedOIDs()) != 0 {
		t.Errorf("ResolvedOIDs = %v, want none", res.ResolvedOIDs())
	}
	// Not visible before Finish.
	if _, _, err := st.Load(oids[0]); err == nil {
		t.Error("voted but unfinished data is visible")
	}
	tid, err := s.Finish(id)
	if err != nil || tid != res.TID {
		t.Fatalf("Finish = %s, %v; vote said %s", tid, err, res.TID)
	}
	if data, got := mustLoad(t, st, oids[1]); data != "b" || got != tid {
		t.Errorf("Load = %q, %s", data, got)
	}
}

func TestStoredDataIsCopied(t *testing.T) {
	st := newStore(t, Options{})
	s := st.NewSession(SessionOptions{})
	buf := []byte("original")
	_ = s.TpcBegin(1, TxnMeta{})
	_ = s.Store(1, oid(1), zodb.ZeroTID, buf)
	copy(buf, "XXXXXXXX") // the caller reuses its buffer
	if _, err := s.Vote(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	_, _ = s.Finish(1)
	if data, _ := mustLoad(t, st, oid(1)); data != "original" {
		t.Errorf("stored data changed with the caller's buffer: %q", data)
	}
}

func TestEmptyRecordIsNotMissing(t *testing.T) {
	st := newStore(t, Options{})
	s := st.NewSession(SessionOptions{})
	tid := commit(t, s, write{oid(1), zodb.ZeroTID, ""})
	data, got, err := st.Load(oid(1))
	if err != nil || data == nil || len(data) != 0 || got != tid {
		t.Errorf("Load of an empty record = %q (nil=%v), %s, %v", data, data == nil, got, err)
	}
}

func TestConflict(t *testing.T) {
	st := newStore(t, Options{ClassName: func([]byte) string { return "persistent.mapping.PersistentMapping" }})
	a, b := st.NewSession(SessionOptions{}), st.NewSession(SessionOptions{})
	base := commit(t, a, write{oid(3), zodb.ZeroTID, "v1"})
	newer := commit(t, a, write{oid(3), base, "v2"})

	_, err := tryCommit(b, write{oid(3), base, "stale"})
	var ce *ConflictError
	if !errors.As(err, &ce) {
		t.Fatalf("stale store: error = %v, want ConflictError", err)
	}
	if ce.OID != oid(3) || ce.Committed != newer || ce.Read != base || string(ce.Data) != "stale" ||
		ce.ClassName != "persistent.mapping.PersistentMapping" || ce.Message() != "database conflict error" {
		t.Errorf("ConflictError = %+v", ce)
	}
	var rce *ReadConflictError
	if errors.As(err, &rce) {
		t.Error("a write conflict matched ReadConflictError")
	}
	if data, _ := mustLoad(t, st, oid(3)); data != "v2" {
		t.Errorf("after the conflict the object holds %q", data)
	}
	// Storing an existing object as new (serial z64) conflicts too.
	if _, err := tryCommit(b, write{oid(3), zodb.ZeroTID, "new?"}); !errors.As(err, &ce) || ce.Read != zodb.ZeroTID {
		t.Errorf("z64 store of an existing object: %v", err)
	}
	// Storing an oid the store never saw is accepted with any serial, as
	// FileStorage does.
	if _, err := tryCommit(b, write{oid(4), newer, "fresh"}); err != nil {
		t.Errorf("store of an unknown oid with a non-zero serial: %v", err)
	}
}

// The message format is ZODB's; this one was printed by a real ZEO 3.10
// client (zeo310-conflict.log).
func TestConflictErrorTextMatchesZODB(t *testing.T) {
	committed, _ := zodb.ParseTID("040d40e349046600")
	read, _ := zodb.ParseTID("040d40e347ce3111")
	e := &ConflictError{OID: oid(0x1f8), Committed: committed, Read: read, ClassName: "persistent.mapping.PersistentMapping"}
	want := "database conflict error (oid 0x01f8, class persistent.mapping.PersistentMapping, " +
		"serial this txn started with 0x040d40e347ce3111 2026-11-25 13:23:16.829399, " +
		"serial currently committed 0x040d40e349046600 2026-11-25 13:23:17.113402)"
	if e.Error() != want {
		t.Errorf("Error() =\n%s\nwant\n%s", e.Error(), want)
	}
}

func TestConflictResolution(t *testing.T) {
	var seen Conflict
	st := newStore(t, Options{Resolve: func(c Conflict) ([]byte, bool) {
		seen = c
		return []byte(string(c.CommittedData) + "+" + string(c.New)), true
	}})
	s := st.NewSession(SessionOptions{})
	base := commit(t, s, write{oid(1), zodb.ZeroTID, "a"})
	newer := commit(t, s, write{oid(1), base, "b"})
	id := "r"
	_ = s.TpcBegin(id, TxnMeta{})
	_ = s.Store(id, oid(1), base, []byte("c"))
	res, err := s.Vote(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	if res.Objects[0].Kind != Resolved || len(res.ResolvedOIDs()) != 1 {
		t.Errorf("vote = %+v, want the store reported resolved", res)
	}
	if seen.Committed != newer || seen.Read != base || string(seen.Old) != "a" || string(seen.CommittedData) != "b" || string(seen.New) != "c" {
		t.Errorf("resolver saw %+v", seen)
	}
	_, _ = s.Finish(id)
	if data, _ := mustLoad(t, st, oid(1)); data != "b+c" {
		t.Errorf("resolved data = %q", data)
	}
}

func TestReadConflict(t *testing.T) {
	st := newStore(t, Options{})
	a, b := st.NewSession(SessionOptions{}), st.NewSession(SessionOptions{})
	base := commit(t, a, write{oid(1), zodb.ZeroTID, "x"}, write{oid(2), zodb.ZeroTID, "y"})

	// Current serial: fine.
	_ = b.TpcBegin("ok", TxnMeta{})
	_ = b.CheckCurrentSerial("ok", oid(1), base)
	_ = b.Store("ok", oid(2), base, []byte("y2"))
	if _, err := b.Vote(t.Context(), "ok"); err != nil {
		t.Fatalf("check of a current serial failed: %v", err)
	}
	_, _ = b.Finish("ok")

	newer := commit(t, a, write{oid(1), base, "x2"})
	_ = b.TpcBegin("stale", TxnMeta{})
	_ = b.CheckCurrentSerial("stale", oid(1), base)
	_, err := b.Vote(t.Context(), "stale")
	var rce *ReadConflictError
	if !errors.As(err, &rce) || rce.OID != oid(1) || rce.Committed != newer || rce.Read != base {
		t.Fatalf("error = %v, want ReadConflictError(1, %s, %s)", err, newer, base)
	}
	if rce.Message() != "database read conflict error" || !strings.HasPrefix(err.Error(), "database read conflict error (oid 0x01") {
		t.Errorf("message = %q / %q", rce.Message(), err.Error())
	}
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.OID != oid(1) {
		t.Errorf("a read conflict does not match ConflictError as in Python: %v", err)
	}
	b.Abort("stale")

	_ = b.TpcBegin("missing", TxnMeta{})
	_ = b.CheckCurrentSerial("missing", oid(9), base)
	var pke *POSKeyError
	if _, err := b.Vote(t.Context(), "missing"); !errors.As(err, &pke) || pke.OID != oid(9) {
		t.Errorf("check of a missing object: %v", err)
	}
	b.Abort("missing")
}

func TestDeleteObject(t *testing.T) {
	st := newStore(t, Options{})
	s := st.NewSession(SessionOptions{})
	tid1 := commit(t, s, write{oid(1), zodb.ZeroTID, "x"})

	_ = s.TpcBegin("stale", TxnMeta{})
	_ = s.DeleteObject("stale", oid(1), zodb.TIDFromUint64(5))
	var ce *ConflictError
	if _, err := s.Vote(t.Context(), "stale"); !errors.As(err, &ce) || ce.Committed != tid1 {
		t.Errorf("delete with a stale serial: %v", err)
	}
	s.Abort("stale")

	_ = s.TpcBegin("del", TxnMeta{})
	_ = s.DeleteObject("del", oid(1), tid1)
	res, err := s.Vote(t.Context(), "del")
	if err != nil || res.Objects[0] != (ObjectResult{oid(1), Deleted}) {
		t.Fatalf("delete vote = %+v, %v", res, err)
	}
	tid2, _ := s.Finish("del")

	var pke *POSKeyError
	if _, _, err := st.Load(oid(1)); !errors.As(err, &pke) {
		t.Errorf("Load after delete: %v", err)
	}
	if _, err := st.LoadBefore(oid(1), zodb.MaxTID); !errors.As(err, &pke) {
		t.Errorf("LoadBefore(max) after delete: %v", err)
	}
	if rev, err := st.LoadBefore(oid(1), tid2); err != nil || string(rev.Data) != "x" || rev.End != tid2 {
		t.Errorf("LoadBefore(delete tid) = %+v, %v; want the old data", rev, err)
	}
	if h, _ := st.History(oid(1), 5); len(h) != 2 {
		t.Errorf("history of a deleted object has %d entries, want 2", len(h))
	}
	_ = s.TpcBegin("unknown", TxnMeta{})
	_ = s.DeleteObject("unknown", oid(42), tid1)
	if _, err := s.Vote(t.Context(), "unknown"); !errors.As(err, &pke) {
		t.Errorf("delete of an unknown object: %v", err)
	}
	s.Abort("unknown")
}

func TestEmptyTransaction(t *testing.T) {
	st := newStore(t, Options{})
	s := st.NewSession(SessionOptions{})
	tid := commit(t, s)
	if st.LastTransaction() != tid {
		t.Errorf("LastTransaction = %s, want the empty transaction's %s", st.LastTransaction(), tid)
	}
	if txns := st.Transactions(); len(txns) != 0 {
		t.Errorf("an empty transaction left a record: %+v", txns)
	}
}

func TestTransactionIDs(t *testing.T) {
	st := newStore(t, Options{})
	s := st.NewSession(SessionOptions{})
	var ste *StorageTransactionError

	if err := s.Store(7, oid(1), zodb.ZeroTID, nil); !errors.As(err, &ste) || ste.Current != nil || ste.Given != 7 {
		t.Errorf("store without a transaction: %v", err)
	}
	// Decoded pickle values can be uncomparable (tuples are slices).
	id := []any{int64(1), "x"}
	if err := s.TpcBegin(id, TxnMeta{}); err != nil {
		t.Fatal(err)
	}
	if err := s.TpcBegin([]any{int64(1), "x"}, TxnMeta{}); err != nil {
		t.Errorf("duplicate tpc_begin with an equal id: %v", err)
	}
	if err := s.TpcBegin(8, TxnMeta{}); !errors.As(err, &ste) || !strings.Contains(ste.Msg, "Multiple simultaneous") {
		t.Errorf("second tpc_begin: %v", err)
	}
	if err := s.Store(8, oid(1), zodb.ZeroTID, nil); !errors.As(err, &ste) || ste.Given != 8 {
		t.Errorf("store with the wrong id: %v", err)
	}
	if _, err := s.Vote(t.Context(), 8); !errors.As(err, &ste) {
		t.Errorf("vote with the wrong id: %v", err)
	}
	if _, err := s.Finish(id); !errors.As(err, &ste) || !strings.Contains(ste.Msg, "without a successful vote") {
		t.Errorf("finish before vote: %v", err)
	}
	if s.Abort(8) {
		t.Error("Abort of another id aborted the current transaction")
	}
	if s.Abort("never begun") {
		t.Error("Abort of an unknown id reported an abort")
	}
	if _, err := s.Vote(t.Context(), []any{int64(1), "x"}); err != nil {
		t.Fatalf("vote: %v", err)
	}
	if _, err := s.Vote(t.Context(), id); !errors.As(err, &ste) {
		t.Errorf("second vote: %v", err)
	}
	if err := s.Store(id, oid(1), zodb.ZeroTID, nil); !errors.As(err, &ste) {
		t.Errorf("store after vote: %v", err)
	}
	if !s.Abort(id) {
		t.Error("Abort of the current transaction reported nothing")
	}
}

func TestExplicitTID(t *testing.T) {
	st := newStore(t, Options{})
	s := st.NewSession(SessionOptions{})
	last := commit(t, s, write{oid(1), zodb.ZeroTID, "a"})
	want := zodb.TIDFromUint64(last.Uint64() + 1000)
	_ = s.TpcBegin(1, TxnMeta{TID: want})
	_ = s.Store(1, oid(2), zodb.ZeroTID, []byte("b"))
	if res, err := s.Vote(t.Context(), 1); err != nil || res.TID != want {
		t.Fatalf("vote = %+v, %v; want tid %s", res, err, want)
	}
	if got, _ := s.Finish(1); got != want {
		t.Errorf("Finish = %s", got)
	}
	_ = s.TpcBegin(2, TxnMeta{TID: last})
	var ste *StorageTransactionError
	if _, err := s.Vote(t.Context(), 2); !errors.As(err, &ste) || !strings.Contains(ste.Msg, "not later") {
		t.Errorf("vote with an old explicit tid: %v", err)
	}
	s.Abort(2)
}

func TestTIDsIncreaseWithFrozenClock(t *testing.T) {
	frozen := func() time.Time { return t0 }
	st := New(Options{Clock: frozen})
	s := st.NewSession(SessionOptions{})
	first := commit(t, s, write{oid(1), zodb.ZeroTID, "0"})
	if first != zodb.TIDFromTime(t0) {
		t.Errorf("first tid = %s, want the clock's %s", first, zodb.TIDFromTime(t0))
	}
	prev := first
	for i := range 20 {
		tid := commit(t, s, write{oid(1), prev, string(rune('a' + i))})
		if tid.Uint64() != prev.Uint64()+1 {
			t.Fatalf("commit %d: tid %s after %s, want one unit later", i, tid, prev)
		}
		prev = tid
	}
	// Seeds draw from the same sequence.
	if seeded, _ := st.Seed(t.Context(), oid(2), []byte("s")); seeded.Uint64() != prev.Uint64()+1 {
		t.Errorf("Seed tid = %s after %s", seeded, prev)
	}
}

func TestReadOnly(t *testing.T) {
	st := newStore(t, Options{ReadOnly: true})
	var roe *ReadOnlyError
	s := st.NewSession(SessionOptions{})
	if err := s.TpcBegin(1, TxnMeta{}); !errors.As(err, &roe) || roe.Op != "tpc_begin" {
		t.Errorf("tpc_begin on a read-only store: %v", err)
	}
	if _, err := st.NewOIDs(1); !errors.As(err, &roe) {
		t.Errorf("new_oids on a read-only store: %v", err)
	}
	if err := st.Pack(t.Context(), t0); !errors.As(err, &roe) {
		t.Errorf("pack on a read-only store: %v", err)
	}
	if _, err := st.Seed(t.Context(), oid(1), []byte("fixture")); err != nil {
		t.Errorf("Seed on a read-only store: %v", err)
	}
	if data, _ := mustLoad(t, st, oid(1)); data != "fixture" {
		t.Errorf("read-only store does not serve its fixture: %q", data)
	}
	if !st.Info().ReadOnly {
		t.Error("Info does not say read-only")
	}

	rw := newStore(t, Options{})
	ro := rw.NewSession(SessionOptions{ReadOnly: true})
	if err := ro.TpcBegin(1, TxnMeta{}); !errors.As(err, &roe) {
		t.Errorf("tpc_begin on a read-only session: %v", err)
	}
	if _, err := ro.NewOIDs(1); !errors.As(err, &roe) {
		t.Errorf("new_oids on a read-only session: %v", err)
	}
}

func TestClosedSession(t *testing.T) {
	st := newStore(t, Options{})
	s := st.NewSession(SessionOptions{})
	_ = s.TpcBegin(1, TxnMeta{})
	if _, err := s.Vote(t.Context(), 1); err != nil {
		t.Fatal(err)
	}
	s.Close() // holds the commit lock: Close must release it
	s.Close()
	if err := s.TpcBegin(2, TxnMeta{}); !errors.Is(err, ErrSessionClosed) {
		t.Errorf("TpcBegin after Close: %v", err)
	}
	other := st.NewSession(SessionOptions{})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	if _, err := tryCommitCtx(ctx, other); err != nil {
		t.Errorf("commit after the lock holder closed: %v", err)
	}
}

func tryCommitCtx(ctx context.Context, s *Session) (zodb.TID, error) {
	_ = s.TpcBegin("c", TxnMeta{})
	if _, err := s.Vote(ctx, "c"); err != nil {
		return zodb.ZeroTID, err
	}
	return s.Finish("c")
}

// A failed vote says how far the replay got: a ZEO ≤ 4 server reports the
// changes applied before the failure, then the failure, and nothing of the
// changes after it.
func TestVoteErrorReportsAppliedChanges(t *testing.T) {
	st := newStore(t, Options{Resolve: func(c Conflict) ([]byte, bool) { return c.New, c.OID == oid(4) }})
	a, b := st.NewSession(SessionOptions{}), st.NewSession(SessionOptions{})
	base := commit(t, a, write{oid(2), zodb.ZeroTID, "v1"}, write{oid(4), zodb.ZeroTID, "v1"})
	commit(t, a, write{oid(2), base, "v2"}, write{oid(4), base, "v2"})
	last := st.LastTransaction()

	_ = b.TpcBegin("t", TxnMeta{})
	_ = b.Store("t", oid(1), zodb.ZeroTID, []byte("new"))
	_ = b.Store("t", oid(4), base, []byte("merged")) // resolved
	_ = b.Store("t", oid(2), base, []byte("stale"))  // conflicts
	_ = b.Store("t", oid(3), zodb.ZeroTID, []byte("never tried"))
	_, err := b.Vote(t.Context(), "t")
	var ve *VoteError
	if !errors.As(err, &ve) {
		t.Fatalf("vote: %v, want a *VoteError", err)
	}
	want := []ObjectResult{{oid(1), Stored}, {oid(4), Resolved}}
	if ve.OID != oid(2) || ve.TID.Compare(last) <= 0 || !slices.Equal(ve.Applied, want) {
		t.Errorf("VoteError{TID %s, OID %s, Applied %v}, want tid after %s, oid 2, applied %v", ve.TID, ve.OID, ve.Applied, last, want)
	}
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.OID != oid(2) || err.Error() != ce.Error() {
		t.Errorf("the VoteError does not carry the conflict: %v", err)
	}
	if _, again := b.Vote(t.Context(), "t"); !errors.As(again, &ve) || ve.OID != oid(2) {
		t.Errorf("second vote: %v, want the same VoteError", again)
	}
	b.Abort("t")

	// An undo that fails is reported against z64.
	_ = b.TpcBegin("u", TxnMeta{})
	_ = b.Undo("u", []byte("no such transaction"))
	if _, err := b.Vote(t.Context(), "u"); !errors.As(err, &ve) || ve.OID != zodb.ZeroOID || len(ve.Applied) != 0 {
		t.Errorf("failed undo: %v", err)
	}
	b.Abort("u")
}
