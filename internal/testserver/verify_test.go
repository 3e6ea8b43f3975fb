package testserver

import (
	"testing"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
	"github.com/gozeo/gozeo/zrpc"
)

func TestCacheVerification(t *testing.T) {
	stale := pickle.Bytes(zodb.TIDFromUint64(1).Bytes())
	tests := []struct {
		profile string
		peer    zrpc.Version
		method  string
		args    []pickle.Value
		want    string // repr of invalidateVerify's argument, with oid 1
	}{
		// 3.9+: verify(oid, tid) → the bare oid.
		{"z3101-py27", zrpc.Z3101, "verify", []pickle.Value{oidArg(1), stale}, `'\x00\x00\x00\x00\x00\x00\x00\x01'`},
		// ... but zeoVerify sends a pair even to Z309+ peers.
		{"z3101-py27", zrpc.Z3101, "zeoVerify", []pickle.Value{oidArg(1), stale}, `('\x00\x00\x00\x00\x00\x00\x00\x01', '')`},
		// The 308 adapter wraps the pair once more.
		{"z3101-py27", zrpc.Z308, "zeoVerify", []pickle.Value{oidArg(1), stale, ""}, `(('\x00\x00\x00\x00\x00\x00\x00\x01', ''), '')`},
		{"z3101-py27", zrpc.Z308, "verify", []pickle.Value{oidArg(1), "", stale}, `('\x00\x00\x00\x00\x00\x00\x00\x01', '')`},
		// ZODB 3.8 names the client's version.
		{"z308-py27", zrpc.Z308, "verify", []pickle.Value{oidArg(1), "", stale}, `('\x00\x00\x00\x00\x00\x00\x00\x01', '')`},
		{"z308-py27", zrpc.Z308, "zeoVerify", []pickle.Value{oidArg(1), stale, pickle.None}, `('\x00\x00\x00\x00\x00\x00\x00\x01', '')`},
	}
	for _, tt := range tests {
		t.Run(tt.profile+"/"+string(tt.peer)+"/"+tt.method, func(t *testing.T) {
			srv := Start(t, Options{Profile: tt.profile})
			srv.Store().Seed(t.Context(), zodb.OIDFromUint64(1), mappingRecord("x"))
			c := dialAs(t, srv, tt.peer, pickle.Python2)
			c.register(srv)
			c.notify(tt.method, tt.args...)
			c.notify("endZeoVerify")
			m := c.next()
			if m.Method != "invalidateVerify" || pickle.Repr(m.Args.(pickle.Tuple)[0]) != tt.want {
				t.Fatalf("got %s%s, want invalidateVerify(%s)", m.Method, pickle.Repr(m.Args), tt.want)
			}
			if m := c.next(); m.Method != "endVerify" {
				t.Fatalf("got %s, want endVerify", m.Method)
			}
		})
	}
}

func TestDeleteObject(t *testing.T) {
	srv := Start(t, Options{Profile: "z5-py3"})
	p := srv.Profile()
	tid, _ := srv.Store().Seed(t.Context(), zodb.OIDFromUint64(1), mappingRecord("x"))
	c := dial(t, srv)
	c.register(srv)
	c.beginTxn(p, 1)
	c.notify("deleteObject", oidArg(1), pickle.Bytes(tid.Bytes()), int64(1))
	c.mustCall("vote", int64(1))
	c.mustCall("tpc_finish", int64(1))
	if _, err := c.call("loadBefore", oidArg(1), pickle.Bytes(zodb.MaxTID.Bytes())); remoteClass(t, err) != "ZODB.POSException.POSKeyError" {
		t.Fatalf("load of a deleted object: %v", err)
	}
}

func TestStatusCalls(t *testing.T) {
	srv := Start(t, Options{Profile: "z5-py3"})
	c := dial(t, srv)
	c.register(srv)
	c.notify("set_client_label", "tester")
	if v := c.mustCall("ping"); !pickle.IsNone(v) {
		t.Fatalf("ping returned %s", pickle.Repr(v))
	}
	d, ok := pickle.AsDict(c.mustCall("server_status"))
	if !ok {
		t.Fatal("server_status is not a dict")
	}
	for _, k := range []string{"connections", "loads", "stores", "commits", "aborts", "active_txns", "lock_time", "conflicts", "conflicts_resolved", "start", "waiting", "last-transaction"} {
		if _, ok := d.GetString(k); !ok {
			t.Errorf("server_status has no %q", k)
		}
	}
	if n, _ := d.GetString("connections"); n != int64(1) {
		t.Errorf("connections %s, want 1", pickle.Repr(n))
	}
	// undoInfo filters like undoLog with a specification.
	srv.Store().Seed(t.Context(), zodb.OIDFromUint64(1), mappingRecord("x"))
	all, _ := pickle.AsTuple(c.mustCall("undoInfo", int64(0), int64(10), pickle.None))
	none, _ := pickle.AsTuple(c.mustCall("undoInfo", int64(0), int64(10), pickle.DictOf("description", pickle.Bytes("nothing like it"))))
	if len(all) != 1 || len(none) != 0 {
		t.Fatalf("undoInfo: %d entries unfiltered, %d filtered out; want 1 and 0", len(all), len(none))
	}
}
