package testserver

import (
	"errors"
	"testing"
	"time"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
	"github.com/gozeo/gozeo/zrpc"
)

type callResult struct {
	v   pickle.Value
	err error
}

func TestSecondVoteWaitsForCommitLock(t *testing.T) {
	for _, profile := range []string{"z308-py24", "z3101-py27", "z5-py3"} {
		t.Run(profile, func(t *testing.T) {
			srv := Start(t, Options{Profile: profile})
			p := srv.Profile()
			a, b := dial(t, srv), dial(t, srv)
			a.register(srv)
			b.register(srv)
			a.beginTxn(p, 1)
			a.store(p, 1, 1, zodb.ZeroTID, mappingRecord("a"))
			a.mustCall("vote", int64(1)) // a holds the commit lock

			b.beginTxn(p, 2)
			b.store(p, 2, 2, zodb.ZeroTID, mappingRecord("b"))
			done := make(chan callResult, 1)
			go func() {
				v, err := b.call("vote", int64(2))
				done <- callResult{v, err}
			}()
			waitFor(t, func() bool { return srv.stats.waiting.Load() == 1 })
			b.mustCall("lastTransaction") // the connection is served while the vote waits
			select {
			case r := <-done:
				t.Fatalf("the second vote was answered while the lock was held: %s %v", pickle.Repr(r.v), r.err)
			default:
			}
			tidA := asTID(t, a.mustCall("tpc_finish", int64(1)))
			r := <-done
			if r.err != nil {
				t.Fatalf("second vote: %v", r.err)
			}
			tidB := asTID(t, b.mustCall("tpc_finish", int64(2)))
			if tidB.Compare(tidA) <= 0 {
				t.Fatalf("tids %s then %s: not increasing", tidA, tidB)
			}
		})
	}
}

func TestWriteConflict(t *testing.T) {
	for _, profile := range []string{"z308-py27", "z3101-py27", "z4-py3", "z5-py3", "m5-py3"} {
		t.Run(profile, func(t *testing.T) {
			srv := Start(t, Options{Profile: profile})
			p := srv.Profile()
			base, err := srv.Store().Seed(t.Context(), zodb.OIDFromUint64(1), mappingRecord("v1"))
			if err != nil {
				t.Fatal(err)
			}
			a, b := dial(t, srv), dial(t, srv)
			a.register(srv)
			b.register(srv)
			tidA, _ := a.commit(srv, 1, map[uint64]zodb.TID{1: base}, mappingRecord("a"))

			b.beginTxn(p, 2)
			b.store(p, 2, 1, base, mappingRecord("b")) // stale serial
			v, err := b.call("vote", int64(2))
			var re *zrpc.RemoteError
			if p.caps().StoreResultsInVote {
				if !errors.As(err, &re) {
					t.Fatalf("ZEO 5 vote: %s %v, want a ConflictError reply", pickle.Repr(v), err)
				}
			} else {
				if err != nil {
					t.Fatalf("ZEO ≤ 4 vote: %v, want None after serialnos", err)
				}
				calls := b.pending()
				var sn *zrpc.Message
				for _, m := range calls {
					if m.Method == "serialnos" {
						sn = m
					}
				}
				if sn == nil {
					t.Fatalf("no serialnos before the vote reply: %v", methods(calls))
				}
				items, _ := pickle.AsTuple(sn.Args.(pickle.Tuple)[0])
				item, _ := pickle.AsTuple(items[0])
				var ok bool
				if re, ok = zrpc.ExceptionValue(item[1]); !ok {
					t.Fatalf("serialnos item %s is not (oid, exception)", pickle.Repr(items[0]))
				}
			}
			if re.Name() != "ConflictError" {
				t.Fatalf("got %s", re.Class)
			}
			oid, _ := re.Attr("oid")
			serials, _ := re.Attr("serials")
			st, _ := pickle.AsTuple(serials)
			if b, _ := pickle.AsBytes(oid); zodb.OID(b) != zodb.OIDFromUint64(1) || len(st) != 2 ||
				asTID(t, st[0]) != tidA || asTID(t, st[1]) != base {
				t.Fatalf("ConflictError oid %s serials %s, want 1 and (%s, %s)", pickle.Repr(oid), pickle.Repr(serials), tidA, base)
			}
			if class, _ := re.Attr("class_name"); pickle.Repr(class) == "None" {
				t.Fatalf("class_name None; the record names persistent.mapping.PersistentMapping")
			}
			if v := b.mustCall("tpc_abort", int64(2)); !pickle.IsNone(v) {
				t.Fatalf("tpc_abort returned %s", pickle.Repr(v))
			}
			// The lock is free again.
			a.commit(srv, 3, map[uint64]zodb.TID{2: zodb.ZeroTID}, mappingRecord("c"))
		})
	}
}

func TestReadConflict(t *testing.T) {
	for _, profile := range []string{"z3101-py27", "z5-py3"} {
		t.Run(profile, func(t *testing.T) {
			srv := Start(t, Options{Profile: profile})
			p := srv.Profile()
			old, _ := srv.Store().Seed(t.Context(), zodb.OIDFromUint64(1), mappingRecord("v1"))
			srv.Store().Seed(t.Context(), zodb.OIDFromUint64(1), mappingRecord("v2"))
			c := dial(t, srv)
			c.register(srv)
			c.beginTxn(p, 1)
			c.notify("checkCurrentSerialInTransaction", oidArg(1), pickle.Bytes(old.Bytes()), int64(1))
			_, err := c.call("vote", int64(1))
			var class string
			if p.caps().StoreResultsInVote {
				class = remoteClass(t, err)
			} else {
				sn := c.pending()[0]
				items, _ := pickle.AsTuple(sn.Args.(pickle.Tuple)[0])
				item, _ := pickle.AsTuple(items[0])
				re, _ := zrpc.ExceptionValue(item[1])
				class = re.Class
			}
			if class != "ZODB.POSException.ReadConflictError" {
				t.Fatalf("got %s, want ReadConflictError", class)
			}
		})
	}
}

func TestUndoForms(t *testing.T) {
	for _, profile := range []string{"z303-py24", "z309-py26", "z3101-py27", "z5-py3"} {
		t.Run(profile, func(t *testing.T) {
			srv := Start(t, Options{Profile: profile})
			p := srv.Profile()
			a, b := dial(t, srv), dial(t, srv)
			a.register(srv)
			b.register(srv)
			tid1, _ := a.commit(srv, 1, map[uint64]zodb.TID{1: zodb.ZeroTID}, mappingRecord("one"))
			tid2, _ := a.commit(srv, 2, map[uint64]zodb.TID{1: tid1}, mappingRecord("two"))
			for m := b.next(); asTID(t, m.Args.(pickle.Tuple)[0]) != tid2; m = b.next() {
			}
			log, _ := pickle.AsTuple(a.mustCall("undoLog", int64(0), int64(10)))
			if len(log) != 2 {
				t.Fatalf("undoLog %s, want 2 transactions", pickle.Repr(log))
			}
			last, _ := pickle.AsDict(log[0])
			id, _ := last.GetString("id")

			a.beginTxn(p, 3)
			switch {
			case p.caps().UndoSync:
				r, _ := pickle.AsTuple(a.mustCall("undo", id, int64(3)))
				if oids, _ := pickle.AsTuple(r[1]); len(r) != 2 || len(oids) != 1 {
					t.Fatalf("undo returned %s, want (tid, [oid])", pickle.Repr(r))
				}
				a.mustCall("vote", int64(3))
			case p.caps().StoreResultsInVote:
				a.notify("undoa", id, int64(3))
				if oids, _ := pickle.AsTuple(a.mustCall("vote", int64(3))); len(oids) != 1 {
					t.Fatalf("vote after undoa returned %s, want [oid]", pickle.Repr(oids))
				}
			default:
				a.notify("undoa", id, int64(3))
				a.mustCall("vote", int64(3))
				sn := a.pending()[0]
				items, _ := pickle.AsTuple(sn.Args.(pickle.Tuple)[0])
				item, _ := pickle.AsTuple(items[0])
				if rs, _ := pickle.AsBytes(item[1]); string(rs) != "rs" {
					t.Fatalf("serialnos after undoa %s, want (oid, 'rs')", pickle.Repr(sn.Args))
				}
			}
			tid3 := asTID(t, a.mustCall("tpc_finish", int64(3)))
			if m := b.next(); m.Method != "invalidateTransaction" || asTID(t, m.Args.(pickle.Tuple)[0]) != tid3 {
				t.Fatalf("other client got %s %s, want the undo's invalidation", m.Method, pickle.Repr(m.Args))
			}
			r, _ := pickle.AsTuple(b.mustCall("loadBefore", oidArg(1), pickle.Bytes(zodb.MaxTID.Bytes())))
			if data, _ := pickle.AsBytes(r[0]); string(data) != string(mappingRecord("one")) {
				t.Fatalf("after undo the object holds %q", data)
			}
		})
	}
}

func TestIterator(t *testing.T) {
	srv := Start(t, Options{Profile: "z4-py3"})
	c := dial(t, srv)
	c.register(srv)
	tid, _ := c.commit(srv, 1, map[uint64]zodb.TID{1: zodb.ZeroTID}, mappingRecord("one"))
	iid := c.mustCall("iterator_start", pickle.None, pickle.None)
	txn, _ := pickle.AsTuple(c.mustCall("iterator_next", iid))
	if len(txn) != 5 || asTID(t, txn[0]) != tid {
		t.Fatalf("iterator_next %s", pickle.Repr(txn))
	}
	rid := c.mustCall("iterator_record_start", iid, txn[0])
	rec, _ := pickle.AsTuple(c.mustCall("iterator_record_next", rid))
	if len(rec) != 4 || asTID(t, rec[1]) != tid || !pickle.IsNone(rec[3]) {
		t.Fatalf("iterator_record_next %s", pickle.Repr(rec))
	}
	if v := c.mustCall("iterator_record_next", rid); !pickle.IsNone(v) {
		t.Fatalf("record iterator did not end: %s", pickle.Repr(v))
	}
	if v := c.mustCall("iterator_next", iid); !pickle.IsNone(v) {
		t.Fatalf("transaction iterator did not end: %s", pickle.Repr(v))
	}
	// An exhausted (or unknown) iterator is a KeyError.
	if _, err := c.call("iterator_next", iid); remoteClass(t, err) != "builtins.KeyError" {
		t.Fatalf("iterator_next after the end: %v", err)
	}
	c.notify("iterator_gc", &pickle.List{iid})
	c.mustCall("lastTransaction")
}

func TestPackBroadcastsInfo(t *testing.T) {
	srv := Start(t, Options{Profile: "z3101-py27", ReadOnly: true})
	srv.Store().Seed(t.Context(), zodb.OIDFromUint64(1), mappingRecord("x"))
	a, b := dial(t, srv), dial(t, srv)
	a.mustCall("register", "1", true)
	b.mustCall("register", "1", true)
	if v := a.mustCall("pack", 4e9); !pickle.IsNone(v) {
		t.Fatalf("pack returned %s", pickle.Repr(v))
	}
	for _, c := range []*testClient{a, b} {
		if m := c.next(); m.Method != "info" {
			t.Fatalf("after pack: %s, want info", m.Method)
		}
	}
}

func TestReadOnly(t *testing.T) {
	srv := Start(t, Options{Profile: "z309-py26", ReadOnly: true})
	c := dial(t, srv)
	c.mustCall("getAuthProtocol")
	if _, err := c.call("register", "1", false); remoteClass(t, err) != "ZODB.POSException.ReadOnlyError" {
		t.Fatalf("writable register on a read-only server: %v", err)
	}
	c.mustCall("register", "1", true)
	if _, err := c.call("new_oids"); remoteClass(t, err) != "ZODB.POSException.ReadOnlyError" {
		t.Fatalf("new_oids: %v", err)
	}
	if _, err := c.call("tpc_begin", int64(1), "", "", pickle.NewDict(0), pickle.None, " "); remoteClass(t, err) != "ZODB.POSException.ReadOnlyError" {
		t.Fatalf("tpc_begin: %v", err)
	}
	// A client registering read-only on a writable server is read-only.
	rw := Start(t, Options{Profile: "z5-py3"})
	r := dial(t, rw)
	r.mustCall("register", "1", true)
	if _, err := r.call("new_oids"); remoteClass(t, err) != "ZODB.POSException.ReadOnlyError" {
		t.Fatalf("new_oids on a read-only registration: %v", err)
	}
}

func TestReadsAndGetInvalidations(t *testing.T) {
	srv := Start(t, Options{Profile: "z5-py3"})
	c := dial(t, srv)
	c.register(srv)
	start := asTID(t, c.mustCall("lastTransaction"))
	tid1, _ := c.commit(srv, 1, map[uint64]zodb.TID{1: zodb.ZeroTID}, mappingRecord("one"))
	tid2, _ := c.commit(srv, 2, map[uint64]zodb.TID{1: tid1}, mappingRecord("two"))

	r, _ := pickle.AsTuple(c.mustCall("loadBefore", oidArg(1), pickle.Bytes(tid2.Bytes())))
	if asTID(t, r[1]) != tid1 || asTID(t, r[2]) != tid2 {
		t.Fatalf("loadBefore %s", pickle.Repr(r))
	}
	if v := c.mustCall("loadBefore", oidArg(1), pickle.Bytes(tid1.Bytes())); !pickle.IsNone(v) {
		t.Fatalf("loadBefore the first revision: %s, want None", pickle.Repr(v))
	}
	if d, _ := pickle.AsBytes(c.mustCall("loadSerial", oidArg(1), pickle.Bytes(tid1.Bytes()))); string(d) != string(mappingRecord("one")) {
		t.Fatalf("loadSerial %q", d)
	}
	h, _ := pickle.AsTuple(c.mustCall("history", oidArg(1), int64(5)))
	if len(h) != 2 {
		t.Fatalf("history %s", pickle.Repr(h))
	}
	if got := asTID(t, c.mustCall("getTid", oidArg(1))); got != tid2 {
		t.Fatalf("getTid %s", got)
	}
	rec, _ := pickle.AsTuple(c.mustCall("record_iternext"))
	if len(rec) != 4 || !pickle.IsNone(rec[3]) {
		t.Fatalf("record_iternext %s", pickle.Repr(rec))
	}
	// The server started on an empty storage: its invalidation queue
	// begins with tid1, so a client older than that must verify.
	if v := c.mustCall("getInvalidations", pickle.Bytes(start.Bytes())); !pickle.IsNone(v) {
		t.Fatalf("getInvalidations(%s) = %s, want None", start, pickle.Repr(v))
	}
	inv, _ := pickle.AsTuple(c.mustCall("getInvalidations", pickle.Bytes(tid1.Bytes())))
	if oids, _ := pickle.AsTuple(inv[1]); len(inv) != 2 || asTID(t, inv[0]) != tid2 || len(oids) != 1 {
		t.Fatalf("getInvalidations %s", pickle.Repr(inv))
	}
	if v := c.mustCall("tpc_abort", int64(99)); !pickle.IsNone(v) {
		t.Fatalf("tpc_abort of an unknown transaction: %s", pickle.Repr(v))
	}
}

// A ZEO ≤ 4 server replays the stores at vote and stops at the first that
// fails: serialnos lists (oid, tid) for each store before it, then (oid,
// exception), and nothing for the stores after it (docs/protocol.md, Commit;
// ZEOStorage._store appends to the same serials list either way).
func TestFailedVoteListsEarlierStores(t *testing.T) {
	frozen := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	for _, profile := range []string{"z3101-py27", "z308-py24"} {
		t.Run(profile, func(t *testing.T) {
			srv := Start(t, Options{Profile: profile, Clock: func() time.Time { return frozen }})
			p := srv.Profile()
			base, err := srv.Store().Seed(t.Context(), zodb.OIDFromUint64(2), mappingRecord("v1"))
			if err != nil {
				t.Fatal(err)
			}
			a, b := dial(t, srv), dial(t, srv)
			a.register(srv)
			b.register(srv)
			tidA, _ := a.commit(srv, 1, map[uint64]zodb.TID{2: base}, mappingRecord("a"))
			b.next() // a's invalidateTransaction, which may still be on its way

			b.beginTxn(p, 2)
			b.store(p, 2, 1, zodb.ZeroTID, mappingRecord("new"))
			b.store(p, 2, 2, base, mappingRecord("stale")) // conflicts with tidA
			b.store(p, 2, 3, zodb.ZeroTID, mappingRecord("never tried"))
			want := zodb.NextTID(tidA, frozen) // the tid the vote commits under
			if v := b.mustCall("vote", int64(2)); !pickle.IsNone(v) {
				t.Fatalf("vote returned %s, want None after serialnos", pickle.Repr(v))
			}
			calls := b.pending()
			if len(calls) != 1 || calls[0].Method != "serialnos" {
				t.Fatalf("before the vote reply: %v, want serialnos", methods(calls))
			}
			checkFailedSerialnos(t, calls[0], want, tidA, base)

			_, err = b.call("vote", int64(2))
			if p.caps().UndoSync {
				// ZODB ≤ 3.9 answers a second vote with the same report.
				if err != nil {
					t.Fatalf("second vote: %v", err)
				}
				checkFailedSerialnos(t, b.next(), want, tidA, base)
			} else if re := (*zrpc.RemoteError)(nil); !errors.As(err, &re) || re.Name() != "StorageTransactionError" || pickle.Repr(re.Args) != "('Already voting (locked)',)" {
				t.Fatalf("second vote: %v, want StorageTransactionError('Already voting (locked)')", err)
			}
			b.mustCall("tpc_abort", int64(2))
			if _, _, err := srv.Store().Load(zodb.OIDFromUint64(1)); err == nil {
				t.Fatal("the aborted transaction's first store was committed")
			}
		})
	}
}

// checkFailedSerialnos asserts the serialnos of the failed vote above:
// exactly [(oid 1, tid), (oid 2, ConflictError(serials=(committed, read)))].
func checkFailedSerialnos(t *testing.T, m *zrpc.Message, tid, committed, read zodb.TID) {
	t.Helper()
	args, _ := m.Args.(pickle.Tuple)
	if m.Method != "serialnos" || len(args) != 1 {
		t.Fatalf("got %s%s, want serialnos([...])", m.Method, pickle.Repr(m.Args))
	}
	items, _ := pickle.AsTuple(args[0])
	if len(items) != 2 {
		t.Fatalf("serialnos %s: want 2 items, the store before the conflict and the conflict", pickle.Repr(args[0]))
	}
	first, _ := pickle.AsTuple(items[0])
	if len(first) != 2 || !bytesEqual(first[0], zodb.OIDFromUint64(1).Bytes()) || !bytesEqual(first[1], tid.Bytes()) {
		t.Errorf("first item %s, want (oid 1, the transaction's tid %s)", pickle.Repr(items[0]), tid)
	}
	second, _ := pickle.AsTuple(items[1])
	if len(second) != 2 || !bytesEqual(second[0], zodb.OIDFromUint64(2).Bytes()) {
		t.Fatalf("second item %s, want (oid 2, ConflictError)", pickle.Repr(items[1]))
	}
	re, ok := zrpc.ExceptionValue(second[1])
	if !ok || re.Class != "ZODB.POSException.ConflictError" {
		t.Fatalf("second item %s, want (oid 2, ConflictError)", pickle.Repr(items[1]))
	}
	serials, _ := re.Attr("serials")
	if st, _ := pickle.AsTuple(serials); len(st) != 2 || asTID(t, st[0]) != committed || asTID(t, st[1]) != read {
		t.Errorf("ConflictError serials %s, want (%s, %s)", pickle.Repr(serials), committed, read)
	}
}

func bytesEqual(v pickle.Value, want []byte) bool {
	b, ok := pickle.AsBytes(v)
	return ok && string(b) == string(want)
}

// When the storage refuses the transaction itself at vote (here a tid the
// client asked for that is not later than the last one), ZODB 3.10+ abort
// it at once: the commit lock is free without the client's tpc_abort.
func TestVoteErrorAbortsOn310(t *testing.T) {
	srv := Start(t, Options{Profile: "z3101-py27"})
	p := srv.Profile()
	a, b := dial(t, srv), dial(t, srv)
	a.register(srv)
	b.register(srv)
	tid1, _ := a.commit(srv, 1, map[uint64]zodb.TID{1: zodb.ZeroTID}, mappingRecord("one"))
	a.notify("tpc_begin", int64(2), pickle.Bytes("user"), pickle.Bytes("desc"), pickle.NewDict(0), pickle.Bytes(tid1.Bytes()), " ")
	a.store(p, 2, 2, zodb.ZeroTID, mappingRecord("two"))
	if _, err := a.call("vote", int64(2)); remoteClass(t, err) != "ZODB.POSException.StorageTransactionError" {
		t.Fatalf("vote under an old tid: %v, want StorageTransactionError", err)
	}
	b.commit(srv, 3, map[uint64]zodb.TID{3: zodb.ZeroTID}, mappingRecord("three")) // would wait for the lock
	if v := a.mustCall("tpc_abort", int64(2)); !pickle.IsNone(v) {
		t.Fatalf("tpc_abort of the aborted transaction: %s", pickle.Repr(v))
	}
}
