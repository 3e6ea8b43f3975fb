package testserver

import (
	"errors"
	"testing"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
	"github.com/gozeo/gozeo/zrpc"
)

// A ZODB 3.3 – 3.7 server has the version API and MVCC reads, getSerial
// instead of 3.8's getTid, and none of 3.8's blob and record_iternext
// methods: calling one drops the client (docs/protocol.md, Methods).
func TestZ303MethodSet(t *testing.T) {
	srv := Start(t, Options{Profile: "z303-py24"})
	tid, err := srv.Store().Seed(t.Context(), zodb.OIDFromUint64(1), mappingRecord("one"))
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, srv)
	if c.server != zrpc.Z303 {
		t.Fatalf("announced %s, want Z303", c.server)
	}
	c.register(srv)
	if got := asTID(t, c.mustCall("getSerial", oidArg(1))); got != tid {
		t.Fatalf("getSerial = %s, want %s", got, tid)
	}
	r, _ := pickle.AsTuple(c.mustCall("loadEx", oidArg(1), ""))
	if len(r) != 3 || asTID(t, r[1]) != tid {
		t.Fatalf("loadEx = %s, want (data, tid, version)", pickle.Repr(r))
	}
	for _, m := range []struct {
		name string
		args []pickle.Value
	}{
		{"getTid", []pickle.Value{oidArg(1)}},
		{"record_iternext", nil},
		{"storeBlobStart", nil},
		{"sendBlob", []pickle.Value{oidArg(1), pickle.Bytes(tid.Bytes())}},
		{"iterator_start", []pickle.Value{pickle.None, pickle.None}},
	} {
		d := dial(t, srv)
		d.register(srv)
		if _, err := d.call(m.name, m.args...); !errors.Is(err, zrpc.ErrDisconnected) {
			t.Errorf("%s on a 3.3 – 3.7 server: %v, want the client dropped", m.name, err)
		}
	}
}

// Python 2.4 pickles exceptions as classic instances, in error replies and
// in serialnos alike.
func TestZ303OldStyleConflictInSerialnos(t *testing.T) {
	srv := Start(t, Options{Profile: "z303-py24"})
	p := srv.Profile()
	base, err := srv.Store().Seed(t.Context(), zodb.OIDFromUint64(2), mappingRecord("v1"))
	if err != nil {
		t.Fatal(err)
	}
	a, b := dial(t, srv), dial(t, srv)
	a.register(srv)
	b.register(srv)
	a.commit(srv, 1, map[uint64]zodb.TID{2: base}, mappingRecord("a"))
	b.next() // a's invalidation

	b.beginTxn(p, 2)
	b.store(p, 2, 2, base, mappingRecord("stale"))
	b.mustCall("vote", int64(2))
	calls := b.pending()
	if len(calls) != 1 || calls[0].Method != "serialnos" {
		t.Fatalf("before the vote reply: %v, want serialnos", methods(calls))
	}
	items, _ := pickle.AsTuple(calls[0].Args.(pickle.Tuple)[0])
	item, _ := pickle.AsTuple(items[0])
	inst, ok := item[1].(*pickle.Object)
	if len(item) != 2 || !ok || inst.Kind != pickle.KindObj {
		t.Fatalf("serialnos %s, want (oid, classic ConflictError instance)", pickle.Repr(calls[0].Args))
	}
	if g, _ := inst.Callable.(pickle.Global); g.Name != "ConflictError" {
		t.Fatalf("serialnos carries %s, want a ConflictError", pickle.Repr(inst))
	}
	b.mustCall("tpc_abort", int64(2))

	_, err = b.call("loadEx", oidArg(77), "")
	var re *zrpc.RemoteError
	if !errors.As(err, &re) || re.Class != "ZODB.POSException.POSKeyError" {
		t.Fatalf("loadEx of a missing object: %v", err)
	}
	if reply := re.Raw.(pickle.Tuple)[1].(*pickle.Object); reply.Kind != pickle.KindObj {
		t.Fatalf("error reply instance built by %v, want a classic instance (OBJ)", reply.Kind)
	}
}
