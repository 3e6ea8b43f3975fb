package testserver

import (
	"slices"
	"testing"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
	"github.com/gozeo/gozeo/zrpc"
)

// getInvalidations answers from the server's invalidation queue, which
// holds what the server broadcast: before ZEO 5.2.2 a transaction that
// only created objects is not in it at all, so the latest tid it reports
// can be older than lastTransaction. A restarted server reloads the queue
// from the storage, every object of the last transactions.
func TestGetInvalidationsFollowsTheQueue(t *testing.T) {
	for _, profile := range []string{"z308-py24", "z309-py26", "z3101-py27", "z4-py3", "z5-py3", "m5-py3"} {
		t.Run(profile, func(t *testing.T) {
			srv := Start(t, Options{Profile: profile})
			p := srv.Profile()
			a := dial(t, srv)
			a.register(srv)
			tid1, _ := a.commit(srv, 1, map[uint64]zodb.TID{1: zodb.ZeroTID}, mappingRecord("one"))
			tid2, _ := a.commit(srv, 2, map[uint64]zodb.TID{1: tid1}, mappingRecord("two"))
			_, _ = a.commit(srv, 3, map[uint64]zodb.TID{2: zodb.ZeroTID}, mappingRecord("new"))
			tid4, _ := a.commit(srv, 4, map[uint64]zodb.TID{1: tid2}, mappingRecord("three"))
			tid5, _ := a.commit(srv, 5, map[uint64]zodb.TID{3: zodb.ZeroTID}, mappingRecord("new"))
			if last := asTID(t, a.mustCall("lastTransaction")); last != tid5 {
				t.Fatalf("lastTransaction %s, want %s", last, tid5)
			}

			a.checkInvalidations(zodb.ZeroTID, false, zodb.ZeroTID, nil)
			if p.InvalidateNewObjects {
				// Every transaction is queued, with every object.
				a.checkInvalidations(tid1, true, tid5, []uint64{1, 2, 3})
				a.checkInvalidations(tid2, true, tid5, []uint64{1, 2, 3})
				a.checkInvalidations(tid5, true, tid5, []uint64{})
			} else {
				// Only tid2 and tid4 invalidated something: the queue
				// starts at tid2 and ends at tid4.
				a.checkInvalidations(tid1, false, zodb.ZeroTID, nil)
				a.checkInvalidations(tid2, true, tid4, []uint64{1})
				a.checkInvalidations(tid5, true, tid4, []uint64{})
			}

			if err := srv.Restart(); err != nil {
				t.Fatal(err)
			}
			a.waitClosed()
			a = dial(t, srv)
			a.register(srv)
			a.checkInvalidations(zodb.ZeroTID, false, zodb.ZeroTID, nil)
			a.checkInvalidations(tid1, true, tid5, []uint64{1, 2, 3})
		})
	}
}

// checkInvalidations calls getInvalidations(since) and checks the answer:
// None when !ok, else (latest, oids in any order). ZODB 3.8 sends
// (oid, version) pairs, version the empty string.
func (c *testClient) checkInvalidations(since zodb.TID, ok bool, latest zodb.TID, oids []uint64) {
	c.t.Helper()
	v := c.mustCall("getInvalidations", pickle.Bytes(since.Bytes()))
	if !ok {
		if !pickle.IsNone(v) {
			c.t.Fatalf("getInvalidations(%s) = %s, want None", since, pickle.Repr(v))
		}
		return
	}
	r, _ := pickle.AsTuple(v)
	if len(r) != 2 || asTID(c.t, r[0]) != latest {
		c.t.Fatalf("getInvalidations(%s) = %s, want (%s, %v)", since, pickle.Repr(v), latest, oids)
	}
	got := c.oidSet(r[1])
	if !slices.Equal(got, oids) {
		c.t.Fatalf("getInvalidations(%s) = %s: oids %v, want %v", since, pickle.Repr(v), got, oids)
	}
}

// oidSet reads a list of oids, or of (oid, version) pairs from a Z308
// server, into sorted numbers.
func (c *testClient) oidSet(v pickle.Value) []uint64 {
	c.t.Helper()
	items, ok := pickle.AsTuple(v)
	if !ok {
		c.t.Fatalf("not a list of oids: %s", pickle.Repr(v))
	}
	out := []uint64{}
	for _, it := range items {
		if c.server == zrpc.Z308 {
			pair, _ := pickle.AsTuple(it)
			if len(pair) != 2 || pickle.Repr(pair[1]) != "''" {
				c.t.Fatalf("Z308 invalidation item %s, want (oid, '')", pickle.Repr(it))
			}
			it = pair[0]
		}
		b, ok := pickle.AsBytes(it)
		if !ok || len(b) != 8 {
			c.t.Fatalf("not an oid: %s", pickle.Repr(it))
		}
		out = append(out, zodb.OID(b).Uint64())
	}
	slices.Sort(out)
	return out
}

// ZEO 5 queues and broadcasts every transaction, even one that changed
// nothing; older servers only those that invalidated something.
func TestEmptyTransactionInvalidation(t *testing.T) {
	for _, profile := range []string{"z3101-py27", "z5-py3"} {
		t.Run(profile, func(t *testing.T) {
			srv := Start(t, Options{Profile: profile})
			base, _ := srv.Store().Seed(t.Context(), zodb.OIDFromUint64(1), mappingRecord("v1"))
			a, b := dial(t, srv), dial(t, srv)
			a.register(srv)
			b.register(srv)
			empty, _ := a.commit(srv, 1, nil, nil)
			tid, _ := a.commit(srv, 2, map[uint64]zodb.TID{1: base}, mappingRecord("v2"))

			m := b.next()
			if srv.Profile().caps().EmptyInvalidations {
				if args := m.Args.(pickle.Tuple); m.Method != "invalidateTransaction" || asTID(t, args[0]) != empty || len(b.oidSet(args[1])) != 0 {
					t.Fatalf("got %s%s, want invalidateTransaction(%s, [])", m.Method, pickle.Repr(m.Args), empty)
				}
				a.checkInvalidations(base, true, tid, []uint64{1})
				a.checkInvalidations(empty, true, tid, []uint64{1})
				m = b.next()
			}
			if args := m.Args.(pickle.Tuple); m.Method != "invalidateTransaction" || asTID(t, args[0]) != tid {
				t.Fatalf("got %s%s, want invalidateTransaction(%s, ...)", m.Method, pickle.Repr(m.Args), tid)
			}
		})
	}
}

// ZODB 3.9 invalidates the objects a transaction deletes; 3.10.1 and later
// do not.
func TestDeleteInvalidation(t *testing.T) {
	for _, profile := range []string{"z309-py26", "z3101-py27"} {
		t.Run(profile, func(t *testing.T) {
			srv := Start(t, Options{Profile: profile})
			p := srv.Profile()
			base1, _ := srv.Store().Seed(t.Context(), zodb.OIDFromUint64(1), mappingRecord("v1"))
			base2, _ := srv.Store().Seed(t.Context(), zodb.OIDFromUint64(2), mappingRecord("v1"))
			a, b := dial(t, srv), dial(t, srv)
			a.register(srv)
			b.register(srv)
			a.beginTxn(p, 1)
			a.notify("deleteObject", oidArg(1), pickle.Bytes(base1.Bytes()), int64(1))
			a.mustCall("vote", int64(1))
			del := asTID(t, a.mustCall("tpc_finish", int64(1)))
			tid, _ := a.commit(srv, 2, map[uint64]zodb.TID{2: base2}, mappingRecord("v2"))

			m := b.next()
			if p.InvalidateDeleted {
				if args := m.Args.(pickle.Tuple); asTID(t, args[0]) != del || !slices.Equal(b.oidSet(args[1]), []uint64{1}) {
					t.Fatalf("got %s%s, want invalidateTransaction(%s, [oid 1])", m.Method, pickle.Repr(m.Args), del)
				}
				m = b.next()
			}
			if args := m.Args.(pickle.Tuple); asTID(t, args[0]) != tid {
				t.Fatalf("got %s%s, want the invalidation of %s", m.Method, pickle.Repr(m.Args), tid)
			}
		})
	}
}

// Options.InvalidationQueueSize bounds what getInvalidations can answer, as
// invalidation-queue-size does in the captures shortgap and longgap: a
// client whose cache is at the tid of the last invalidation it saw gets
// (tid, [oid]) after fewer commits than the queue holds, None after more.
// A restarted server reloads as many transactions as its queue holds.
func TestInvalidationQueueSize(t *testing.T) {
	for _, profile := range []string{"z3101-py27", "z5-py3"} {
		for _, tc := range []struct {
			name    string
			size    int
			commits int
			ok      bool
		}{
			{"shortgap", 2, 1, true},
			{"longgap", 2, 3, false},
			{"default size", 0, 3, true},
		} {
			t.Run(profile+"/"+tc.name, func(t *testing.T) {
				srv := Start(t, Options{Profile: profile, InvalidationQueueSize: tc.size})
				serial, _ := srv.Store().Seed(t.Context(), zodb.OIDFromUint64(1), mappingRecord("v0"))
				// The client's cache is at C's change of a third object.
				cacheTID, _ := srv.Store().Seed(t.Context(), zodb.OIDFromUint64(3), mappingRecord("c"))
				b := dial(t, srv)
				b.register(srv)
				for i := range tc.commits {
					serial, _ = b.commit(srv, int64(i+1), map[uint64]zodb.TID{1: serial}, mappingRecord("b"))
				}
				b.checkInvalidations(cacheTID, tc.ok, serial, []uint64{1})

				if err := srv.Restart(); err != nil {
					t.Fatal(err)
				}
				b.waitClosed()
				a := dial(t, srv)
				a.register(srv)
				a.checkInvalidations(cacheTID, tc.ok, serial, []uint64{1})
			})
		}
	}
	if _, err := New(Options{InvalidationQueueSize: -1}); err == nil {
		t.Error("New accepted a negative InvalidationQueueSize")
	}
}
