package testserver

import (
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
	"github.com/gozeo/gozeo/zrpc"
)

// dialAs connects answering version v, in dialect d.
func dialAs(t *testing.T, srv *Server, v zrpc.Version, d pickle.Dialect) *testClient {
	t.Helper()
	c := rawDial(t, srv, nil)
	c.answer(v)
	c.start(d)
	return c
}

func remoteClass(t *testing.T, err error) string {
	t.Helper()
	var re *zrpc.RemoteError
	if !errors.As(err, &re) {
		t.Fatalf("want a remote error, got %v", err)
	}
	return re.Class
}

func TestUnknownOrDisallowedMethodDropsClient(t *testing.T) {
	tests := []struct {
		profile  string
		register bool
		method   string
		args     []pickle.Value
	}{
		{"z5-py3", false, "lastTransaction", nil},             // ZEO 5: only register first
		{"z5-py3", true, "loadEx", []pickle.Value{oidArg(0)}}, // removed in ZEO 5
		{"m5-py3", true, "getAuthProtocol", nil},
		{"z3101-py27", true, "zeoLoad", []pickle.Value{oidArg(0)}}, // Z309+ peers have no version API
		{"z308-py27", true, "iterator_start", []pickle.Value{pickle.None, pickle.None}},
		{"z308-py27", true, "checkCurrentSerialInTransaction", []pickle.Value{oidArg(0), oidArg(0), int64(1)}},
		{"z309-py26", true, "undoa", []pickle.Value{pickle.Bytes("x"), int64(1)}},
		{"z4-py27", false, "lastTransaction", nil}, // bound to the storage only by register
		{"z4-py27", true, "_check_tid", []pickle.Value{int64(1)}},
		{"z4-py27", true, "auth_get_challenge", nil}, // no authentication configured
		{"z3101-py27", true, "no_such_method", nil},
	}
	for _, tt := range tests {
		t.Run(tt.profile+"/"+tt.method, func(t *testing.T) {
			srv := Start(t, Options{Profile: tt.profile})
			c := dial(t, srv)
			if tt.register {
				c.register(srv)
			}
			_, err := c.call(tt.method, tt.args...)
			if !errors.Is(err, zrpc.ErrDisconnected) {
				t.Fatalf("%s: got %v, want the connection dropped", tt.method, err)
			}
		})
	}
}

func TestMethodSetAllowsWhatTheGenerationHas(t *testing.T) {
	srv := Start(t, Options{Profile: "z3101-py27"})
	// A Z308 peer of a 3.10 server goes through the version adapter.
	old := dialAs(t, srv, zrpc.Z308, pickle.Python2)
	old.register(srv)
	if _, err := old.call("zeoLoad", oidArg(0)); remoteClass(t, err) != "ZODB.POSException.POSKeyError" {
		t.Fatalf("zeoLoad via the adapter: %v", err)
	}
	if _, err := old.call("loadEx", oidArg(0), ""); remoteClass(t, err) != "ZODB.POSException.POSKeyError" {
		t.Fatalf("loadEx(oid, version) via the adapter: %v", err)
	}
	// 3.10 keeps undo but raises NotImplementedError.
	if _, err := old.call("undo", pickle.Bytes("x"), int64(1)); remoteClass(t, err) != "exceptions.NotImplementedError" {
		t.Fatalf("undo on 3.10: %v", err)
	}
	// Before register, non-delegated methods fail without dropping.
	fresh := dial(t, srv)
	if _, err := fresh.call("new_oids"); remoteClass(t, err) != "exceptions.AttributeError" {
		t.Fatalf("new_oids before register: %v", err)
	}
	fresh.register(srv)
	fresh.mustCall("lastTransaction")
}

func TestOneWayErrorLoggedOrDisconnect(t *testing.T) {
	for _, profile := range []string{"z303-py24", "z308-py24", "z3101-py27", "z4-py3", "z5-py3", "m5-py3"} {
		t.Run(profile, func(t *testing.T) {
			srv := Start(t, Options{Profile: profile})
			p := srv.Profile()
			c := dial(t, srv)
			c.register(srv)
			// storea without a transaction raises StorageTransactionError.
			c.store(p, 99, 1, zodb.ZeroTID, mappingRecord("x"))
			_, err := c.call("lastTransaction")
			if p.caps().OneWayErrorsDisconnect {
				if !errors.Is(err, zrpc.ErrDisconnected) {
					t.Fatalf("ZEO 5 kept the connection after a failing one-way call: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ZEO ≤ 4 must only log a failing one-way call, got %v", err)
			}
		})
	}
}

func TestSerialnosBeforeVoteReply(t *testing.T) {
	for _, profile := range []string{"z303-py24", "z308-py24", "z309-py26", "z3101-py27", "z4-py3"} {
		t.Run(profile, func(t *testing.T) {
			srv := Start(t, Options{Profile: profile})
			p := srv.Profile()
			c := dial(t, srv)
			c.register(srv)
			c.beginTxn(p, 7)
			c.store(p, 7, 1, zodb.ZeroTID, mappingRecord("a"))
			c.store(p, 7, 2, zodb.ZeroTID, mappingRecord("b"))
			if v := c.mustCall("vote", int64(7)); !pickle.IsNone(v) {
				t.Fatalf("vote returned %s, want None", pickle.Repr(v))
			}
			// The handler runs in wire order before the reply is delivered:
			// serialnos must already be here.
			calls := c.pending()
			if len(calls) != 1 || calls[0].Method != "serialnos" {
				t.Fatalf("before the vote reply: %v, want one serialnos", methods(calls))
			}
			items, _ := pickle.AsTuple(calls[0].Args.(pickle.Tuple)[0])
			if len(items) != 2 {
				t.Fatalf("serialnos %s, want two (oid, tid)", pickle.Repr(calls[0].Args))
			}
			tid := asTID(t, c.mustCall("tpc_finish", int64(7)))
			pair, _ := pickle.AsTuple(items[0])
			if got := asTID(t, pair[1]); got != tid {
				t.Fatalf("serialnos carried %s, tpc_finish returned %s", got, tid)
			}
		})
	}
}

func TestZEO5VoteReturnsList(t *testing.T) {
	srv := Start(t, Options{Profile: "z5-py3"})
	p := srv.Profile()
	c := dial(t, srv)
	c.register(srv)
	c.beginTxn(p, 7)
	c.store(p, 7, 1, zodb.ZeroTID, mappingRecord("a"))
	v := c.mustCall("vote", int64(7))
	if l, ok := v.(*pickle.List); !ok || len(*l) != 0 {
		t.Fatalf("vote returned %s, want []", pickle.Repr(v))
	}
	if calls := c.pending(); len(calls) != 0 {
		t.Fatalf("ZEO 5 sent %v before the vote reply", methods(calls))
	}
	c.mustCall("tpc_finish", int64(7))
	if calls := c.pending(); len(calls) != 1 || calls[0].Method != "info" {
		t.Fatalf("before the tpc_finish reply: %v, want info", methods(calls))
	}
}

func methods(ms []*zrpc.Message) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Method)
	}
	return out
}

func TestInvalidationForms(t *testing.T) {
	tests := []struct {
		profile string
		peer    zrpc.Version
		dialect pickle.Dialect
		pairs   bool
		newObjs bool // the first commit (new objects) is invalidated too
	}{
		{"z303-py24", zrpc.Z303, pickle.Python2, true, false},
		{"z308-py24", zrpc.Z308, pickle.Python2, true, false},
		{"z308-py27", zrpc.Z303, pickle.Python2, true, false},
		{"z309-py26", zrpc.Z308, pickle.Python2, true, false},
		{"z309-py26", zrpc.Z309, pickle.Python2, false, false},
		{"z3101-py27", zrpc.Z308, pickle.Python2, true, false},
		{"z3101-py27", zrpc.Z3101, pickle.Python2, false, false},
		{"z4-py3", zrpc.Z4, pickle.Python3, false, false},
		{"z5-py3", zrpc.Z5, pickle.Python3, false, true},
		{"m5-py3", zrpc.M5, pickle.Python3, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.profile+"/"+string(tt.peer), func(t *testing.T) {
			srv := Start(t, Options{Profile: tt.profile})
			a := dial(t, srv)
			a.register(srv)
			b := dialAs(t, srv, tt.peer, tt.dialect)
			b.register(srv)
			tid1, _ := a.commit(srv, 1, map[uint64]zodb.TID{5: zodb.ZeroTID}, mappingRecord("new"))
			tid2, _ := a.commit(srv, 2, map[uint64]zodb.TID{5: tid1}, mappingRecord("changed"))
			m := b.next()
			if tt.newObjs {
				checkInvalidation(t, m, tid1, tt.pairs)
				m = b.next()
			}
			checkInvalidation(t, m, tid2, tt.pairs)
			if a := a.pending(); len(a) > 0 && a[0].Method == "invalidateTransaction" {
				t.Fatalf("the committer got its own invalidation")
			}
		})
	}
}

func checkInvalidation(t *testing.T, m *zrpc.Message, tid zodb.TID, pairs bool) {
	t.Helper()
	if m.Method != "invalidateTransaction" {
		t.Fatalf("got %s, want invalidateTransaction", m.Method)
	}
	args := m.Args.(pickle.Tuple)
	if got := asTID(t, args[0]); got != tid {
		t.Fatalf("invalidation for %s, want %s", got, tid)
	}
	oids, _ := pickle.AsTuple(args[1])
	if len(oids) != 1 {
		t.Fatalf("invalidated %s, want one object", pickle.Repr(args[1]))
	}
	pair, isPair := oids[0].(pickle.Tuple)
	if isPair != pairs {
		t.Fatalf("invalidated %s; want pairs: %v", pickle.Repr(args[1]), pairs)
	}
	if isPair {
		if v, _ := pickle.AsText(pair[1]); len(pair) != 2 || v != "" {
			t.Fatalf("pair %s, want (oid, '')", pickle.Repr(pair))
		}
	}
}

func TestGetInfoKeysPerGeneration(t *testing.T) {
	want := map[string]string{
		"z201-py24":  "extensionMethods length name size supportsTransactionalUndo supportsUndo supportsVersions",
		"z303-py24":  "extensionMethods length name size supportsUndo supportsVersions",
		"z308-py24":  "extensionMethods length name size supportsUndo supportsVersions supports_record_iternext",
		"z309-py26":  "extensionMethods interfaces length name size supportsUndo supports_record_iternext",
		"z3101-py27": "extensionMethods interfaces length name size supportsUndo supports_record_iternext",
		"z4-py3":     "extensionMethods interfaces length name size supportsUndo supports_record_iternext",
		"z5-py3":     "interfaces length name size supportsUndo supports_record_iternext",
		"m5-py3":     "interfaces length name size supportsUndo supports_record_iternext",
	}
	for profile, keys := range want {
		t.Run(profile, func(t *testing.T) {
			srv := Start(t, Options{Profile: profile})
			c := dial(t, srv)
			c.register(srv)
			d, ok := pickle.AsDict(c.mustCall("get_info"))
			if !ok {
				t.Fatal("get_info is not a dict")
			}
			var got []string
			for _, it := range d.Items() {
				k, _ := pickle.AsText(it.Key)
				got = append(got, k)
			}
			sort.Strings(got)
			if strings.Join(got, " ") != keys {
				t.Fatalf("keys %v, want %s", got, keys)
			}
			size, _ := d.GetString("size")
			_, isLong := size.(interface{ IsInt64() bool })
			if py2 := srv.Profile().Python == 2; py2 != isLong {
				t.Fatalf("size %T on a Python %d server", size, srv.Profile().Python)
			}
		})
	}
}

func TestRegisterReturns(t *testing.T) {
	for _, profile := range []string{"z3101-py27", "z5-py3"} {
		srv := Start(t, Options{Profile: profile})
		tid, err := srv.Store().Seed(t.Context(), zodb.OIDFromUint64(1), mappingRecord("x"))
		if err != nil {
			t.Fatal(err)
		}
		c := dial(t, srv)
		if srv.Profile().caps().GetAuthProtocol {
			c.mustCall("getAuthProtocol")
		}
		v := c.mustCall("register", "1", false)
		if srv.Profile().caps().RegisterReturnsTID {
			if asTID(t, v) != tid {
				t.Fatalf("%s: register returned %s, want the last tid %s", profile, pickle.Repr(v), tid)
			}
		} else if !pickle.IsNone(v) {
			t.Fatalf("%s: register returned %s, want None", profile, pickle.Repr(v))
		}
		_, err = c.call("register", "1", false)
		if srv.Profile().caps().RegisterFirst {
			// register is not among ZEO 5's registered methods.
			if !errors.Is(err, zrpc.ErrDisconnected) {
				t.Fatalf("%s: second register: %v, want the client dropped", profile, err)
			}
		} else if remoteClass(t, err) != srv.Profile().builtins()+".ValueError" {
			t.Fatalf("%s: second register: %v", profile, err)
		}
		other := dial(t, srv)
		if _, err := other.call("register", "2", false); remoteClass(t, err) != srv.Profile().builtins()+".ValueError" {
			t.Fatalf("%s: unknown storage: %v", profile, err)
		}
	}
}

func TestOneWayMsgidCounter(t *testing.T) {
	// ZODB ≤ 3.9 number their one-way calls; 3.10+ send 0.
	for profile, counted := range map[string]bool{"z308-py27": true, "z309-py26": true, "z3101-py27": false} {
		srv := Start(t, Options{Profile: profile})
		c := dial(t, srv)
		c.register(srv)
		c.notify("endZeoVerify")
		c.notify("endZeoVerify")
		c.mustCall("lastTransaction") // both handled before this reply
		calls := c.pending()
		if len(calls) != 2 {
			t.Fatalf("%s: %v, want two endVerify", profile, methods(calls))
		}
		for i, m := range calls {
			want := int64(0)
			if counted {
				want = int64(i)
			}
			if id, _ := pickle.AsInt(m.ID); m.Method != "endVerify" || id != want {
				t.Fatalf("%s: call %d is %s msgid %s, want endVerify msgid %d", profile, i, m.Method, pickle.Repr(m.ID), want)
			}
		}
	}
}

func TestServerDecodeLimits(t *testing.T) {
	tests := []struct {
		profile string
		payload string
	}{
		// Python 2 servers cannot read protocol 3.
		{"z3101-py27", "\x80\x03(K\x01\x89X\x08\x00\x00\x00registerX\x01\x00\x00\x001\x89\x86t."},
		// Python 3 servers read py2 strings as ASCII: a non-ASCII oid fails.
		{"z5-py3", "\x80\x02(K\x01\x89X\n\x00\x00\x00loadBefore(U\x08\x00\x00\x00\x00\x00\x00\x00\xffU\x08\x7f\xff\xff\xff\xff\xff\xff\xfftt."},
		// Python 3 bytes written the protocol 2 way use a refused global.
		{"z4-py27", "\x80\x02(K\x01K\x00X\x08\x00\x00\x00registerc_codecs\nencode\nX\x01\x00\x00\x001X\x06\x00\x00\x00latin1\x86R\x89\x86t."},
	}
	for _, tt := range tests {
		t.Run(tt.profile, func(t *testing.T) {
			srv := Start(t, Options{Profile: tt.profile})
			c := rawDial(t, srv, nil)
			c.answer(c.server)
			c.fw.WriteFrame([]byte(tt.payload))
			c.fw.Flush()
			if p, err := c.fr.ReadFrame(); err == nil {
				t.Fatalf("the server answered %s; a real one drops the client", pickle.ReprBytes(p))
			}
		})
	}
}

func TestOldStyleExceptionsOnPython24(t *testing.T) {
	srv := Start(t, Options{Profile: "z308-py24"})
	c := rawDial(t, srv, nil)
	c.answer(c.server)
	c.start(pickle.Python2)
	c.register(srv)
	// Capture the raw reply: a 2.4 server pickles the instance with OBJ.
	_, err := c.call("loadEx", oidArg(77), "")
	var re *zrpc.RemoteError
	if !errors.As(err, &re) || re.Class != "ZODB.POSException.POSKeyError" {
		t.Fatalf("loadEx of a missing object: %v", err)
	}
	inst := re.Raw.(pickle.Tuple)[1].(*pickle.Object)
	if inst.Kind != pickle.KindObj {
		t.Fatalf("the instance was built by %v; Python 2.4 servers pickle classic instances (OBJ)", inst.Kind)
	}
	py27 := Start(t, Options{Profile: "z308-py27"})
	c2 := dial(t, py27)
	c2.register(py27)
	_, err = c2.call("loadEx", oidArg(77), "")
	if !errors.As(err, &re) {
		t.Fatal(err)
	}
	inst = re.Raw.(pickle.Tuple)[1].(*pickle.Object)
	if g, _ := inst.Callable.(pickle.Global); g.Name != "_recon" {
		t.Fatalf("a 3.8 server on Python 2.7 pickles POSErrors through _recon, got %s", pickle.Repr(inst))
	}
	if msg, _ := re.Attr("message"); msg == nil {
		t.Fatalf("ZODB 3.8's _recon state has 'message': %s", pickle.Repr(re.State))
	}
}

func TestRuok(t *testing.T) {
	srv := Start(t, Options{Profile: "z4-py27"})
	c := rawDial(t, srv, nil)
	c.answer("ruok")
	p, err := c.fr.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(string(p), `{"1":{`) || !strings.Contains(string(p), `"last-transaction":"0000000000000000"`) {
		t.Fatalf("ruok answered %s", p)
	}
	if _, err := c.fr.ReadFrame(); err == nil {
		t.Fatal("the server kept the connection after ruok")
	}
}

func TestHandshakeAcceptance(t *testing.T) {
	srv := Start(t, Options{Profile: "z3101-py27"})
	for v, ok := range map[zrpc.Version]bool{zrpc.Z309: true, zrpc.Z308: true, zrpc.Z200: true, zrpc.Z4: false, zrpc.Z5: false} {
		c := dialAs(t, srv, v, pickle.Python2)
		_, err := c.call("getAuthProtocol")
		if got := err == nil; got != ok {
			t.Errorf("answering %s to a Z3101 server: err %v, want accepted=%v", v, err, ok)
		}
	}
	// A ZEO 5.1+ server uses the client's letter: M5 to a Z5 server is msgpack.
	z5 := Start(t, Options{Profile: "z5-py3"})
	c := dialAs(t, z5, zrpc.M5, pickle.Python3)
	c.register(z5)
	if c.conn.Encoding().Name() != "msgpack" {
		t.Fatal("test client not in msgpack")
	}
}
