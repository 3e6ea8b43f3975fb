package zrpcserver

import (
	"math/big"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/pickle"
	. "github.com/gozeo/gozeo/zrpc"
)

func posException(name string) pickle.Global {
	return pickle.Global{Module: "ZODB.POSException", Name: name}
}

// sampleConflict is the ConflictError of docs/protocol.md, Test vectors.
func sampleConflict(recon bool) *pickle.Exception {
	return &pickle.Exception{
		Class: posException("ConflictError"),
		Args:  pickle.Tuple{},
		State: pickle.DictOf(
			"class_name", pickle.None,
			"serials", pickle.Tuple{pickle.Bytes("\x03\xc5\x8a\x1b\x11\x11\x11\x11"), pickle.Bytes("\x03\xc5\x8a\x1a\x00\x00\x00\x00")},
			"message", "database conflict error",
			"oid", vecOID,
		),
		Recon: recon,
	}
}

// The error replies of docs/protocol.md, Errors, byte for byte: a ConflictError
// from a Python 2.4 server (old-style), from a Python 2.5+ server (_recon)
// and from ZEO 4 on Python 3.
func TestErrorReplyVectors(t *testing.T) {
	const (
		state = "(U\nclass_nameNU\x07serials(U\x08\x03\xc5\x8a\x1b\x11\x11\x11\x11U\x08\x03\xc5\x8a\x1a\x00\x00\x00\x00tU\x07messageU\x17database conflict errorU\x03oidU\x08\x00\x00\x00\x00\x00\x00\x00\x01"
		head  = "(K\x11K\x00U\x06.reply(cZODB.POSException\nConflictError\n"
	)
	oldStyle := head + "(cZODB.POSException\nConflictError\no}" + state + "ubtt."
	recon := head + "cZODB.POSException\n_recon\n(cZODB.POSException\nConflictError\n}" + state + "U\x04args)utRtt."
	if len(oldStyle) != 182 || len(recon) != 215 {
		t.Fatalf("vector lengths %d, %d (want 182, 215)", len(oldStyle), len(recon))
	}
	for _, c := range []struct {
		name  string
		style PickleStyle
		exc   *pickle.Exception
		want  string
	}{
		{"old-style", ZEO24Server, sampleConflict(true), oldStyle},
		{"_recon", zeo3Server, sampleConflict(true), recon},
	} {
		got, err := NewPickleEncoding(c.style).AppendMessage(nil, ErrorReply(int64(17), c.exc, ShapeClassInstance))
		if err != nil {
			t.Fatal(err)
		}
		if string(got) != c.want {
			t.Errorf("%s:\n got %s\nwant %s", c.name, pickle.ReprBytes(got), pickle.ReprBytes([]byte(c.want)))
		}
	}
	// ZEO 4 on Python 3: the listing elides the state, whose order
	// follows the server's hash order.
	py3 := EncodingFor(Z4, pickle.Python3, ServerSide)
	got, err := py3.AppendMessage(nil, ErrorReply(int64(17), sampleConflict(true), ShapeClassInstance))
	if err != nil {
		t.Fatal(err)
	}
	const py3Head = "\x80\x03(K\x11K\x00X\x06\x00\x00\x00.replycZODB.POSException\nConflictError\ncZODB.POSException\n_recon\ncZODB.POSException\nConflictError\n}("
	const py3Tail = "X\x04\x00\x00\x00args)u\x86R\x86t."
	if !strings.HasPrefix(string(got), py3Head) || !strings.HasSuffix(string(got), py3Tail) || len(got) != 235 {
		t.Errorf("Python 3 reply (%d bytes): %s", len(got), pickle.ReprBytes(got))
	}
}

// Error replies built in every shape, encoded in every style that uses
// that shape, read back as the same RemoteError.
func TestErrorReplyRoundTrip(t *testing.T) {
	excs := map[string]*pickle.Exception{
		"POSKeyError":   {Class: posException("POSKeyError"), Args: pickle.Tuple{vecOID}, Recon: true},
		"ConflictError": sampleConflict(true),
		"KeyError":      {Class: pickle.Global{Module: "exceptions", Name: "KeyError"}, Args: pickle.Tuple{vecOID}},
		"StorageTransactionError": {Class: posException("StorageTransactionError"),
			Args: pickle.Tuple{pickle.None, int64(999)}, Recon: true},
		"with attrs, not recon": {Class: pickle.Global{Module: "ZEO.Exceptions", Name: "AuthError"},
			Args: pickle.Tuple{"denied"}, State: pickle.DictOf("user", "alice")},
		"big args": {Class: pickle.Global{Module: "exceptions", Name: "ValueError"}, Args: pickle.Tuple{big.NewInt(1 << 40)}},
	}
	type target struct {
		name  string
		enc   Encoding
		shape ErrorShape
	}
	targets := []target{
		{"ZEO 2 protocol 0", NewPickleEncoding(ZEO2Server), ShapeClassInstance},
		{"Python 2.4", NewPickleEncoding(ZEO24Server), ShapeClassInstance},
		{"Python 2.7", EncodingFor(Z3101, pickle.Python2, ServerSide), ShapeClassInstance},
		{"ZODB 3.2-3.7 on 2.5+", EncodingFor(Z3101, pickle.Python2, ServerSide), ShapeClassPair},
		{"ZEO 4 on Python 3", EncodingFor(Z4, pickle.Python3, ServerSide), ShapeClassInstance},
		{"ZEO 5 pickle", EncodingFor(Z5, pickle.Python3, ServerSide), ShapeNameState},
		{"ZEO 5 on Python 2", EncodingFor(Z5, pickle.Python2, ServerSide), ShapeNameState},
		{"ZEO 5 msgpack", NewMsgpackEncoding(), ShapeNameState},
	}
	for name, exc := range excs {
		for _, tg := range targets {
			t.Run(name+"/"+tg.name, func(t *testing.T) {
				p, err := tg.enc.AppendMessage(nil, ErrorReply(pickle.Tuple{vecOID, vecTID}, exc, tg.shape))
				if err != nil {
					t.Fatal(err)
				}
				m, err := tg.enc.DecodeMessage(p)
				if err != nil {
					t.Fatal(err)
				}
				if !sameValue(m.ID, pickle.Tuple{vecOID, vecTID}) {
					t.Errorf("msgid %s", pickle.Repr(m.ID))
				}
				re, ok := ErrorFromReply(m)
				if !ok {
					t.Fatalf("not recognized as an error: %s", pickle.Repr(m.Args))
				}
				if re.Class != exc.Class.String() {
					t.Errorf("class %q", re.Class)
				}
				wantArgs, wantState := pickle.Value(exc.Args), pickle.Value(exc.State)
				if tg.shape == ShapeNameState {
					// ZEO 5 sends the attributes, or the args when none.
					if exc.State.Len() > 0 {
						wantArgs = pickle.Tuple(nil)
					} else {
						wantState = (*pickle.Dict)(nil)
					}
				}
				if !sameValue(re.Args, wantArgs) {
					t.Errorf("args %s, want %s", pickle.Repr(re.Args), pickle.Repr(wantArgs))
				}
				if !sameValue(re.State, wantState) {
					t.Errorf("state %s, want %s", pickle.Repr(re.State), pickle.Repr(wantState))
				}
			})
		}
	}
}

// The exceptions inside a ≤ 4.x serialnos call read back with
// ExceptionValue, whichever Python wrote them.
func TestSerialnosItemRoundTrip(t *testing.T) {
	exc := sampleConflict(true)
	for _, p := range []PickleStyle{ZEO2Server, ZEO24Server, zeo3Server} {
		enc := NewPickleEncoding(p)
		call := &Message{ID: int64(0), Flags: FlagAsync, Method: "serialnos",
			Args: pickle.Tuple{&pickle.List{pickle.Tuple{vecOID, vecTID}, SerialnosItem(vecOID, exc)}}}
		b, err := enc.AppendMessage(nil, call)
		if err != nil {
			t.Fatal(err)
		}
		m, err := enc.DecodeMessage(b)
		if err != nil {
			t.Fatal(err)
		}
		items := *m.Args.(pickle.Tuple)[0].(*pickle.List)
		if _, ok := ExceptionValue(items[0].(pickle.Tuple)[1]); ok {
			t.Errorf("%v: a tid taken for an exception", p)
		}
		re, ok := ExceptionValue(items[1].(pickle.Tuple)[1])
		if !ok || re.Class != "ZODB.POSException.ConflictError" || !sameValue(re.State, exc.State) {
			t.Errorf("%v: %v %v", p, re, ok)
		}
		if x, _ := re.Attr("message"); !sameValue(x, "database conflict error") {
			t.Errorf("%v: message %s", p, pickle.Repr(x))
		}
	}
}

func TestErrorShapeFor(t *testing.T) {
	for v, want := range map[Version]ErrorShape{Z5: ShapeNameState, M5: ShapeNameState, Z4: ShapeClassInstance, Z200: ShapeClassInstance} {
		if got := ErrorShapeFor(v); got != want {
			t.Errorf("%s: %v, want %v", v, got, want)
		}
	}
}

// sameValue compares decoded values across dialects: text, py2 str and
// bytes compare by their bytes, ints and longs by value, lists as tuples.
func sameValue(a, b pickle.Value) bool {
	if sa, ok := stringish(a); ok {
		sb, ok := stringish(b)
		return ok && sa == sb
	}
	if ta, ok := pickle.AsTuple(a); ok || isNilTuple(a) {
		tb, ok := pickle.AsTuple(b)
		if !ok && !isNilTuple(b) || len(ta) != len(tb) {
			return false
		}
		for i := range ta {
			if !sameValue(ta[i], tb[i]) {
				return false
			}
		}
		return true
	}
	if da, ok := a.(*pickle.Dict); ok {
		db, ok := b.(*pickle.Dict)
		if !ok || da.Len() != db.Len() {
			return false
		}
		ia, ib := da.Items(), db.Items()
		for i := range ia {
			if !sameValue(ia[i].Key, ib[i].Key) || !sameValue(ia[i].Value, ib[i].Value) {
				return false
			}
		}
		return true
	}
	if ia, ok := bigOf(a); ok {
		ib, ok := bigOf(b)
		return ok && ia.Cmp(ib) == 0
	}
	return a == b
}

// bigOf returns an int or long as a *big.Int (Python 3 and msgpack have
// one int type where Python 2 has two).
func bigOf(v pickle.Value) (*big.Int, bool) {
	switch v := v.(type) {
	case *big.Int:
		return v, true
	case int64:
		return big.NewInt(v), true
	}
	return nil, false
}

func isNilTuple(v pickle.Value) bool {
	t, ok := v.(pickle.Tuple)
	return ok && t == nil
}

func stringish(v pickle.Value) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case pickle.Unicode:
		return string(v), true
	case pickle.ByteString:
		return string(v), true
	case pickle.Bytes:
		return string(v), true
	}
	return "", false
}

// zeo3Server is the style of ZODB 3.3 – 3.10 and ZEO 4 servers on Python
// 2.5+, which EncodingFor gives a server speaking a pre-ZEO 5 version.
var zeo3Server = PickleStyle{Protocol: 1, Dialect: pickle.Python2}

// vecOID is the oid of the vectors: 1.
var vecOID = pickle.Bytes{0, 0, 0, 0, 0, 0, 0, 1}
var vecTID = pickle.Bytes{0x03, 0xc5, 0x8a, 0x1b, 0x11, 0x11, 0x11, 0x11}
