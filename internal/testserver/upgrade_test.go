package testserver

import (
	"testing"

	"github.com/gozeo/gozeo/internal/testserver/store"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
)

// Options.Store: a server closed during an outage and a server of another
// generation started on its data (an upgrade while clients were away).
// The new server serves the same last transaction and objects, answers
// getInvalidations for the old server's transactions, and commits,
// although the old server closed with a client's voted transaction
// holding the commit lock. The closed server no longer follows the
// store's commits.
func TestStoreOutlivesItsServer(t *testing.T) {
	for _, tc := range []struct{ from, to string }{
		{"z3101-py27", "z5-py3"},
		{"z4-py3", "m5-py3"},
		{"z5-py3", "z309-py26"}, // a downgrade works the same
	} {
		t.Run(tc.from+"→"+tc.to, func(t *testing.T) {
			old := Start(t, Options{Profile: tc.from})
			seed, _ := old.Store().Seed(t.Context(), zodb.OIDFromUint64(1), mappingRecord("one"))
			a := dial(t, old)
			a.register(old)
			last, _ := a.commit(old, 1, map[uint64]zodb.TID{1: seed, 2: zodb.ZeroTID}, mappingRecord("two"))
			voter := dial(t, old)
			voter.register(old)
			voter.beginTxn(old.Profile(), 1)
			voter.store(old.Profile(), 1, 3, zodb.ZeroTID, mappingRecord("never"))
			voter.mustCall("vote", int64(1))
			old.Close()
			a.waitClosed()
			voter.waitClosed()

			srv := Start(t, Options{Profile: tc.to, Store: old.Store()})
			c := dial(t, srv)
			c.register(srv)
			if got := asTID(t, c.mustCall("lastTransaction")); got != last {
				t.Fatalf("lastTransaction %s, want the old server's %s", got, last)
			}
			for _, oid := range []uint64{1, 2} {
				r, _ := pickle.AsTuple(c.mustCall("loadBefore", oidArg(oid), pickle.Bytes(zodb.MaxTID.Bytes())))
				if data, _ := pickle.AsBytes(r[0]); len(r) != 3 || string(data) != string(mappingRecord("two")) || asTID(t, r[1]) != last {
					t.Fatalf("loadBefore(oid %d) = %s, want the old server's record of %s", oid, pickle.Repr(r), last)
				}
			}
			c.checkInvalidations(seed, true, last, []uint64{1, 2})

			tid, _ := c.commit(srv, 1, map[uint64]zodb.TID{1: last}, mappingRecord("three"))
			if got := srv.Store().LastTransaction(); got != tid {
				t.Fatalf("the new server committed %s, the store is at %s", tid, got)
			}
			if latest, _, _ := old.invq.since(last, false); latest != last {
				t.Fatalf("the closed server queued %s: it still follows the store", latest)
			}
		})
	}
}

// A server restored from an older backup (Options.Store with a clone taken
// before the last commits) on the address of the one it replaces: a
// reconnecting client finds lastTransaction gone back, and the old data.
func TestServeAnOlderClone(t *testing.T) {
	old := Start(t, Options{Profile: "z5-py3"})
	a := dial(t, old)
	a.register(old)
	tid1, _ := a.commit(old, 1, map[uint64]zodb.TID{1: zodb.ZeroTID}, mappingRecord("backed up"))
	backup := old.Store().Clone(store.Options{})
	a.commit(old, 2, map[uint64]zodb.TID{1: tid1}, mappingRecord("lost"))
	addr := old.Addr()
	old.Close()
	a.waitClosed()

	srv := Start(t, Options{Profile: "z5-py3", Store: backup, Addr: addr})
	c := dial(t, srv)
	if got := asTID(t, c.mustCall("register", "1", false)); got != tid1 {
		t.Fatalf("register answered %s, want the backup's last tid %s", got, tid1)
	}
	r, _ := pickle.AsTuple(c.mustCall("loadBefore", oidArg(1), pickle.Bytes(zodb.MaxTID.Bytes())))
	if data, _ := pickle.AsBytes(r[0]); string(data) != string(mappingRecord("backed up")) {
		t.Fatalf("loadBefore = %s, want the backed-up record", pickle.Repr(r))
	}
	if _, err := c.call("loadSerial", oidArg(1), pickle.Bytes(old.Store().LastTransaction().Bytes())); remoteClass(t, err) != "ZODB.POSException.POSKeyError" {
		t.Fatalf("loadSerial of the lost revision: %v, want POSKeyError", err)
	}
}
