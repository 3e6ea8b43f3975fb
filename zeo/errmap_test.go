package zeo

import (
	"errors"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
	"github.com/gozeo/gozeo/zrpc"
)

// decodeMsg decodes a recorded or hand-written message payload.
func decodeMsg(t *testing.T, payload string) *zrpc.Message {
	t.Helper()
	m, err := zrpc.NewPickleEncoding(zrpc.PickleStyle{Protocol: 1, Dialect: pickle.Python2}).DecodeMessage([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// The old-style (Python 2.4) ConflictError instance of docs/protocol.md,
// Errors, inside a serialnos call as a ZODB 3.8 server on Python 2.4 sends it,
// next to a successful store.
const oldStyleConflict = "(cZODB.POSException\nConflictError\no}(U\nclass_nameNU\x07serials(U\x08\x03\xc5\x8a\x1b\x11\x11\x11\x11U\x08\x03\xc5\x8a\x1a\x00\x00\x00\x00tU\x07messageU\x17database conflict errorU\x03oidU\x08\x00\x00\x00\x00\x00\x00\x00\x01ub"

func TestSerialnosOldStyleConflict(t *testing.T) {
	payload := "(K\x11K\x01U\tserialnos(]((U\x08\x00\x00\x00\x00\x00\x00\x00\x02U\x08\x03\xc5\x8a\x1b\x11\x11\x11\x11t(U\x08\x00\x00\x00\x00\x00\x00\x00\x01" +
		oldStyleConflict + "t(U\x08\x00\x00\x00\x00\x00\x00\x00\x03U\x02rstU\x08\x00\x00\x00\x00\x00\x00\x00\x04ett."
	m := decodeMsg(t, payload)
	c := &Client{targets: []target{{address: "old:1"}}}
	args, _ := pickle.AsTuple(m.Args)
	items, _ := pickle.AsTuple(args[0])
	rs := c.parseSerialnos(items)
	if len(rs) != 4 {
		t.Fatalf("got %d results: %+v", len(rs), rs)
	}
	if rs[0].OID != zodb.OIDFromUint64(2) || rs[0].Serial != zodb.TIDFromUint64(0x03c58a1b11111111) || rs[0].Err != nil {
		t.Errorf("successful store: %+v", rs[0])
	}
	var ce *ConflictError
	if !errors.As(rs[1].Err, &ce) {
		t.Fatalf("old-style ConflictError not recognised: %v", rs[1].Err)
	}
	if !ce.OIDKnown || ce.OID != zodb.OIDFromUint64(1) || ce.Committed != zodb.TIDFromUint64(0x03c58a1b11111111) || ce.Read != zodb.TIDFromUint64(0x03c58a1a00000000) {
		t.Errorf("conflict fields %+v", ce)
	}
	if !rs[2].Resolved || rs[2].OID != zodb.OIDFromUint64(3) {
		t.Errorf("'rs' item: %+v", rs[2])
	}
	if !rs[3].Resolved || rs[3].OID != zodb.OIDFromUint64(4) {
		t.Errorf("bare oid item: %+v", rs[3])
	}
}

func TestConflictFromZEO5Dict(t *testing.T) {
	re := &zrpc.RemoteError{Class: "ZODB.POSException.ConflictError", State: pickle.DictOf(
		"message", "database conflict error",
		"oid", pickle.Bytes{0, 0, 0, 0, 0, 0, 1, 0xf8},
		"class_name", "persistent.mapping.PersistentMapping",
		"serials", pickle.Tuple{pickle.Bytes{4, 0xd, 0x40, 0xe2, 0xa1, 0xda, 0x5b, 0x55}, pickle.Bytes{4, 0xd, 0x40, 0xe2, 0xa1, 0xc3, 0x66, 0x44}},
	)}
	c := &Client{targets: []target{{address: "srv:8100"}}}
	err := c.fromRemote(re, op{method: "vote"})
	var ce *ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, ErrConflict) {
		t.Fatalf("%v", err)
	}
	if ce.OID != zodb.OIDFromUint64(0x1f8) || ce.Class != "persistent.mapping.PersistentMapping" || ce.Read.String() != "040d40e2a1c36644" {
		t.Errorf("%+v", ce)
	}
	for _, want := range []string{"0x01f8", "PersistentMapping", "0x040d40e2a1c36644", "0x040d40e2a1da5b55", "srv:8100", "retry"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
}

func TestConflictFromArgsOnly(t *testing.T) {
	oid := pickle.ByteString{0, 0, 0, 0, 0, 0, 0, 7}
	re := &zrpc.RemoteError{Class: "ZODB.POSException.ConflictError", Args: pickle.Tuple{
		"database conflict error", oid, pickle.Tuple{pickle.ByteString("\x03\xc5\x8a\x1b\x11\x11\x11\x11"), pickle.ByteString("\x03\xc5\x8a\x1a\x00\x00\x00\x00")},
	}}
	c := &Client{}
	var ce *ConflictError
	if err := c.fromRemote(re, op{method: "vote"}); !errors.As(err, &ce) || ce.OID != zodb.OIDFromUint64(7) || ce.Read != zodb.TIDFromUint64(0x03c58a1a00000000) {
		t.Fatalf("%v %+v", err, ce)
	}
}

func TestReadConflictMatchesBoth(t *testing.T) {
	c := &Client{}
	err := c.fromRemote(&zrpc.RemoteError{Class: "ZODB.POSException.ReadConflictError", State: pickle.DictOf("oid", pickle.Bytes{0, 0, 0, 0, 0, 0, 0, 9})}, op{method: "vote"})
	if !errors.Is(err, ErrReadConflict) || !errors.Is(err, ErrConflict) {
		t.Fatalf("%v does not match both sentinels", err)
	}
	var ce *ConflictError
	var rce *ReadConflictError
	if !errors.As(err, &rce) || !errors.As(err, &ce) || ce.OID != zodb.OIDFromUint64(9) {
		t.Fatalf("errors.As: %v %v", rce, ce)
	}
}

func TestKeyErrorIsNotFoundOnlyForAnOID(t *testing.T) {
	c := &Client{}
	re := &zrpc.RemoteError{Class: "exceptions.KeyError", Args: pickle.Tuple{"x"}}
	if err := c.fromRemote(re, op{method: "loadEx", oid: zodb.OIDFromUint64(5), oidKnown: true}); !errors.Is(err, ErrNotFound) {
		t.Errorf("KeyError from a load: %v", err)
	}
	var se *ServerError
	if err := c.fromRemote(re, op{method: "undoLog"}); !errors.As(err, &se) || se.Class != "exceptions.KeyError" {
		t.Errorf("KeyError elsewhere: %v", err)
	}
}

func TestUndoErrors(t *testing.T) {
	c := &Client{}
	single := &pickle.Object{Kind: pickle.KindReduce, Callable: pickle.Global{Module: "ZODB.POSException", Name: "_recon"},
		Args: pickle.Tuple{pickle.Global{Module: "ZODB.POSException", Name: "UndoError"}, pickle.DictOf("_reason", "non-undoable transaction", "_oid", pickle.Bytes{0, 0, 0, 0, 0, 0, 0, 3}, "args", pickle.Tuple{})}}
	re := &zrpc.RemoteError{Class: "ZODB.POSException.MultipleUndoErrors", State: pickle.DictOf("_errs", pickle.Tuple{single})}
	err := c.fromRemote(re, op{method: "vote"})
	var ue *UndoError
	if !errors.As(err, &ue) || !errors.Is(err, ErrUndo) || len(ue.Errs) != 1 || ue.Errs[0].Reason != "non-undoable transaction" || ue.Errs[0].OID != zodb.OIDFromUint64(3) {
		t.Fatalf("%v %+v", err, ue)
	}
}

func TestOtherErrorsKeepClass(t *testing.T) {
	c := &Client{targets: []target{{address: "h:1"}}}
	err := c.fromRemote(&zrpc.RemoteError{Class: "builtins.ValueError", Args: pickle.Tuple{"bad data"}}, op{method: "vote"})
	var se *ServerError
	if !errors.As(err, &se) || se.Class != "builtins.ValueError" || se.Message != "bad data" || !strings.Contains(err.Error(), "h:1") {
		t.Fatalf("%v", err)
	}
	var re *zrpc.RemoteError
	if !errors.As(err, &re) {
		t.Error("ServerError does not unwrap to the RemoteError")
	}
}

func TestParseTarget(t *testing.T) {
	cases := []struct {
		in       string
		network  string
		addr     string
		storage  string
		readOnly bool
		wantErr  bool
	}{
		{in: "localhost:8100", network: "tcp", addr: "localhost:8100"},
		{in: "[::1]:8100", network: "tcp", addr: "[::1]:8100"},
		{in: "/var/run/zeo.sock", network: "unix", addr: "/var/run/zeo.sock"},
		{in: "./zeo.sock", network: "unix", addr: "./zeo.sock"},
		{in: "zeo://db.example:8100?storage=main&read_only=true", network: "tcp", addr: "db.example:8100", storage: "main", readOnly: true},
		{in: "zeo:///tmp/z.sock?storage=2", network: "unix", addr: "/tmp/z.sock", storage: "2"},
		{in: "localhost", wantErr: true},
		{in: "zeo://host", wantErr: true},
		{in: "zeo://host:1?colour=red", wantErr: true},
		{in: "zeo://host:1?read_only=maybe", wantErr: true},
		{in: "", wantErr: true},
	}
	for _, tc := range cases {
		var o Options
		tg, err := parseTarget(tc.in, &o)
		if tc.wantErr {
			var ae *AddressError
			if !errors.As(err, &ae) {
				t.Errorf("%q: err %v, want an *AddressError", tc.in, err)
			}
			continue
		}
		if err != nil || tg.network != tc.network || tg.address != tc.addr || o.Storage != tc.storage || o.ReadOnly != tc.readOnly {
			t.Errorf("%q: %+v %+v %v", tc.in, tg, o, err)
		}
	}
}
