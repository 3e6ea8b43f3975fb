package store

import (
	"errors"
	"testing"

	"github.com/gozeo/gozeo/zodb"
)

func TestMVCCReads(t *testing.T) {
	st := newStore(t, Options{})
	s := st.NewSession(SessionOptions{})
	tid1 := commit(t, s, write{oid(1), zodb.ZeroTID, "v1"})
	tid2 := commit(t, s, write{oid(1), tid1, "v2"}, write{oid(2), zodb.ZeroTID, "other"})
	tid3 := commit(t, s, write{oid(1), tid2, "v3"})

	if data, tid := mustLoad(t, st, oid(1)); data != "v3" || tid != tid3 {
		t.Errorf("Load = %q, %s; want v3, %s", data, tid, tid3)
	}
	cases := []struct {
		before     zodb.TID
		data       string
		start, end zodb.TID
	}{
		{zodb.TIDFromUint64(tid1.Uint64() + 1), "v1", tid1, tid2},
		{tid2, "v1", tid1, tid2},
		{tid3, "v2", tid2, tid3},
		{zodb.MaxTID, "v3", tid3, zodb.ZeroTID},
	}
	for _, c := range cases {
		rev, err := st.LoadBefore(oid(1), c.before)
		if err != nil || rev == nil {
			t.Fatalf("LoadBefore(%s) = %v, %v", c.before, rev, err)
		}
		if string(rev.Data) != c.data || rev.Start != c.start || rev.End != c.end {
			t.Errorf("LoadBefore(%s) = %q [%s, %s), want %q [%s, %s)", c.before, rev.Data, rev.Start, rev.End, c.data, c.start, c.end)
		}
	}
	if rev, err := st.LoadBefore(oid(1), tid1); rev != nil || err != nil {
		t.Errorf("LoadBefore(first tid) = %v, %v; want no revision, no error", rev, err)
	}
	var pke *POSKeyError
	if _, err := st.LoadBefore(oid(99), zodb.MaxTID); !errors.As(err, &pke) || pke.OID != oid(99) {
		t.Errorf("LoadBefore(unknown) error = %v, want POSKeyError(99)", err)
	}
	if _, _, err := st.Load(oid(99)); !errors.As(err, &pke) {
		t.Errorf("Load(unknown) error = %v", err)
	}
	if data, err := st.LoadSerial(oid(1), tid2); err != nil || string(data) != "v2" {
		t.Errorf("LoadSerial(tid2) = %q, %v", data, err)
	}
	if _, err := st.LoadSerial(oid(1), zodb.TIDFromUint64(tid2.Uint64()+1)); !errors.As(err, &pke) {
		t.Errorf("LoadSerial(unknown serial) error = %v, want POSKeyError", err)
	}
	if got, err := st.GetTID(oid(2)); err != nil || got != tid2 {
		t.Errorf("GetTID(2) = %s, %v", got, err)
	}
	if st.LastTransaction() != tid3 {
		t.Errorf("LastTransaction = %s, want %s", st.LastTransaction(), tid3)
	}
}

func TestHistory(t *testing.T) {
	st := newStore(t, Options{})
	s := st.NewSession(SessionOptions{})
	id := "t1"
	_ = s.TpcBegin(id, TxnMeta{User: "alice", Description: "first", Extension: map[string]string{"k": "v"}})
	_ = s.Store(id, oid(1), zodb.ZeroTID, []byte("abc"))
	if _, err := s.Vote(t.Context(), id); err != nil {
		t.Fatal(err)
	}
	tid1, _ := s.Finish(id)
	tid2 := commit(t, s, write{oid(1), tid1, "abcdef"})

	h, err := st.History(oid(1), 5)
	if err != nil {
		t.Fatal(err)
	}
	if len(h) != 2 || h[0].TID != tid2 || h[1].TID != tid1 {
		t.Fatalf("History = %+v", h)
	}
	if h[1].User != "alice" || h[1].Description != "first" || h[1].Size != 3 || h[0].Size != 6 {
		t.Errorf("History entry = %+v", h[1])
	}
	if ext, ok := h[1].Extension.(map[string]string); !ok || ext["k"] != "v" {
		t.Errorf("extension not kept: %#v", h[1].Extension)
	}
	if !h[0].Time.Equal(tid2.Time()) {
		t.Errorf("Time = %v, want %v", h[0].Time, tid2.Time())
	}
	if h, _ := st.History(oid(1), 1); len(h) != 1 || h[0].TID != tid2 {
		t.Errorf("History(size 1) = %+v", h)
	}
	var pke *POSKeyError
	if _, err := st.History(oid(7), 1); !errors.As(err, &pke) {
		t.Errorf("History(unknown) error = %v", err)
	}
}

func TestNewOIDs(t *testing.T) {
	st := newStore(t, Options{})
	got, err := st.NewOIDs(150)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 100 {
		t.Errorf("NewOIDs(150) gave %d oids, want the cap of 100", len(got))
	}
	if got[0] != oid(1) || got[99] != oid(100) {
		t.Errorf("oids run %s..%s, want 1..100", got[0], got[99])
	}
	if none, _ := st.NewOIDs(0); len(none) != 0 {
		t.Errorf("NewOIDs(0) = %v", none)
	}
	// Oids stored above the counter push it.
	if _, err := st.Seed(t.Context(), oid(500), []byte("x")); err != nil {
		t.Fatal(err)
	}
	if next, _ := st.NewOIDs(1); next[0] != oid(501) {
		t.Errorf("after storing oid 500, NewOIDs gave %s", next[0])
	}
}

func TestRecordIterNext(t *testing.T) {
	st := newStore(t, Options{})
	if _, _, _, err := st.RecordIterNext(zodb.ZeroOID); !errors.Is(err, ErrNoMoreRecords) {
		t.Errorf("empty store: error = %v", err)
	}
	_, _ = st.SeedMany(t.Context(), map[zodb.OID][]byte{oid(5): []byte("five"), oid(2): []byte("two")})
	rec, next, more, err := st.RecordIterNext(zodb.ZeroOID)
	if err != nil || rec.OID != oid(2) || string(rec.Data) != "two" || !more || next != oid(5) {
		t.Errorf("first = %+v, %s, %v, %v", rec, next, more, err)
	}
	rec, _, more, err = st.RecordIterNext(next)
	if err != nil || rec.OID != oid(5) || more {
		t.Errorf("second = %+v, %v, %v", rec, more, err)
	}
	if _, _, _, err := st.RecordIterNext(oid(6)); !errors.Is(err, ErrNoMoreRecords) {
		t.Errorf("past the end: %v", err)
	}
}

func TestInfo(t *testing.T) {
	st := newStore(t, Options{Name: "main"})
	before := st.Info()
	if before.Name != "main" || before.Length != 0 || !before.SupportsUndo || before.ReadOnly {
		t.Errorf("Info = %+v", before)
	}
	_, _ = st.SeedMany(t.Context(), map[zodb.OID][]byte{oid(1): []byte("a"), oid(2): []byte("b")})
	after := st.Info()
	if after.Length != 2 || after.Size <= before.Size {
		t.Errorf("Info after seeding two objects = %+v (before %+v)", after, before)
	}
}
