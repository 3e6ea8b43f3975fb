package zrpc

import (
	"strings"
	"testing"

	"github.com/gozeo/gozeo/pickle"
)

var (
	posKeyError   = pickle.Global{Module: "ZODB.POSException", Name: "POSKeyError"}
	conflictError = pickle.Global{Module: "ZODB.POSException", Name: "ConflictError"}
	reconFunc     = pickle.Global{Module: "ZODB.POSException", Name: "_recon"}
	py2KeyError   = pickle.Global{Module: "exceptions", Name: "KeyError"}
	py3KeyError   = pickle.Global{Module: "builtins", Name: "KeyError"}
	testOID       = pickle.ByteString("\x00\x00\x00\x00\x00\x00\x00\x01")
	testTID       = pickle.ByteString("\x03\xc5\x8a\x1b\x11\x11\x11\x11")
)

func replyMsg(flags Flags, v pickle.Value) *Message {
	return &Message{ID: int64(4), Flags: flags, Method: ReplyMethod, Args: v}
}

// reconInstance is ZODB's _recon(Class, state) pickle of a POSError, as a
// 3.10 server sends it (docs/protocol.md, Errors; the poskeyerror capture).
func reconInstance(cls pickle.Global, args pickle.Tuple, attrs ...pickle.Value) *pickle.Object {
	st := pickle.DictOf(attrs...)
	_ = st.Set(pickle.ByteString("args"), args)
	return &pickle.Object{Kind: pickle.KindReduce, Callable: reconFunc, Args: pickle.Tuple{cls, st}}
}

func TestErrorFromReplyShapes(t *testing.T) {
	conflictState := pickle.DictOf(
		"message", "database conflict error",
		"oid", pickle.Bytes(testOID),
		"serials", pickle.Tuple{pickle.Bytes(testTID), pickle.Bytes(testTID)},
	)
	tests := []struct {
		name      string
		m         *Message
		wantClass string
		wantArgs  pickle.Tuple
		wantAttr  string // a State key expected present
	}{
		{
			name:      "zeo4 _recon POSKeyError",
			m:         replyMsg(0, pickle.Tuple{posKeyError, reconInstance(posKeyError, pickle.Tuple{testOID})}),
			wantClass: "ZODB.POSException.POSKeyError",
			wantArgs:  pickle.Tuple{testOID},
		},
		{
			name: "zeo4 old-style ConflictError",
			m: replyMsg(0, pickle.Tuple{conflictError, &pickle.Object{
				Kind: pickle.KindObj, Callable: conflictError,
				State: pickle.DictOf(pickle.ByteString("oid"), testOID, pickle.ByteString("message"), pickle.ByteString("database conflict error")),
			}}),
			wantClass: "ZODB.POSException.ConflictError",
			wantArgs:  pickle.Tuple{},
			wantAttr:  "oid",
		},
		{
			name: "zeo3.2-3.7 on py2.5 (Class, (Class, instance))",
			m: replyMsg(0, pickle.Tuple{py2KeyError, pickle.Tuple{py2KeyError,
				&pickle.Object{Kind: pickle.KindReduce, Callable: py2KeyError, Args: pickle.Tuple{testOID}}}}),
			wantClass: "exceptions.KeyError",
			wantArgs:  pickle.Tuple{testOID},
		},
		{
			name:      "zeo4 on py3 builtins",
			m:         replyMsg(0, pickle.Tuple{py3KeyError, &pickle.Object{Kind: pickle.KindReduce, Callable: py3KeyError, Args: pickle.Tuple{"x"}}}),
			wantClass: "builtins.KeyError",
			wantArgs:  pickle.Tuple{"x"},
		},
		{
			name:      "zeo4 unreadable instance still an error",
			m:         replyMsg(0, pickle.Tuple{posKeyError, pickle.None}),
			wantClass: "ZODB.POSException.POSKeyError",
		},
		{
			name:      "zeo5 args tuple",
			m:         replyMsg(FlagError, pickle.Tuple{"ZODB.POSException.POSKeyError", pickle.Tuple{pickle.Bytes(testOID)}}),
			wantClass: "ZODB.POSException.POSKeyError",
			wantArgs:  pickle.Tuple{pickle.Bytes(testOID)},
		},
		{
			name:      "zeo5 state dict",
			m:         replyMsg(FlagError, pickle.Tuple{"ZODB.POSException.ConflictError", conflictState}),
			wantClass: "ZODB.POSException.ConflictError",
			wantAttr:  "serials",
		},
		{
			name:      "zeo5 msgpack list",
			m:         replyMsg(FlagError, &pickle.List{"ZODB.POSException.StorageTransactionError", &pickle.List{pickle.None, int64(999)}}),
			wantClass: "ZODB.POSException.StorageTransactionError",
			wantArgs:  pickle.Tuple{pickle.None, int64(999)},
		},
		{
			name:      "zeo5 malformed",
			m:         replyMsg(FlagError, "oops"),
			wantClass: "",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, ok := ErrorFromReply(tt.m)
			if !ok {
				t.Fatalf("ErrorFromReply(%s) = not an error", pickle.Repr(tt.m.Args))
			}
			if e.Class != tt.wantClass {
				t.Errorf("Class = %q, want %q", e.Class, tt.wantClass)
			}
			if pickle.Repr(e.Args) != pickle.Repr(tt.wantArgs) {
				t.Errorf("Args = %s, want %s", pickle.Repr(e.Args), pickle.Repr(tt.wantArgs))
			}
			if tt.wantAttr != "" {
				if _, ok := e.Attr(tt.wantAttr); !ok {
					t.Errorf("Attr(%q) missing from %s", tt.wantAttr, pickle.Repr(e.State))
				}
			}
			if e.Raw == nil {
				t.Error("Raw not set")
			}
		})
	}
}

func TestErrorFromReplyNotErrors(t *testing.T) {
	for _, m := range []*Message{
		replyMsg(0, pickle.Tuple{testOID, testTID}),                             // loadEx (data, tid)
		replyMsg(0, pickle.Tuple{pickle.ByteString("p"), testTID, pickle.None}), // loadBefore
		replyMsg(0, pickle.Tuple{"exceptions.KeyError", "text"}),                // text is not a class
		replyMsg(0, pickle.Tuple{posKeyError}),                                  // 1-tuple
		replyMsg(0, pickle.None),
		replyMsg(0, pickle.DictOf("length", int64(1))),
		{ID: int64(0), Flags: FlagAsync | FlagError, Method: "serialnos", Args: pickle.Tuple{posKeyError, pickle.None}}, // a call, not a reply
	} {
		if e, ok := ErrorFromReply(m); ok {
			t.Errorf("ErrorFromReply(%s %s) = %v, want not an error", m.Method, pickle.Repr(m.Args), e)
		}
	}
}

func TestExceptionValueSerialnos(t *testing.T) {
	// A serialnos item (oid, ConflictError) from a 3.10 server.
	inst := reconInstance(conflictError, pickle.Tuple{},
		pickle.ByteString("oid"), testOID,
		pickle.ByteString("serials"), pickle.Tuple{testTID, testTID},
		pickle.ByteString("message"), pickle.ByteString("database conflict error"))
	e, ok := ExceptionValue(inst)
	if !ok {
		t.Fatal("ExceptionValue did not recognize a _recon ConflictError")
	}
	if e.Class != "ZODB.POSException.ConflictError" || e.Name() != "ConflictError" {
		t.Errorf("Class, Name = %q, %q", e.Class, e.Name())
	}
	if v, ok := e.Attr("oid"); !ok || pickle.Repr(v) != pickle.Repr(testOID) {
		t.Errorf("Attr(oid) = %s, %v", pickle.Repr(v), ok)
	}
	for _, v := range []pickle.Value{testTID, pickle.ByteString("rs"), testOID, pickle.None} {
		if _, ok := ExceptionValue(v); ok {
			t.Errorf("ExceptionValue(%s) recognized a non-exception", pickle.Repr(v))
		}
	}
}

func TestRemoteErrorMessage(t *testing.T) {
	e, _ := ErrorFromReply(replyMsg(FlagError, pickle.Tuple{"ZODB.POSException.POSKeyError", pickle.Tuple{pickle.Bytes(testOID)}}))
	e.Method = "loadBefore"
	got := e.Error()
	for _, want := range []string{"loadBefore", "ZODB.POSException.POSKeyError", `\x01`} {
		if !strings.Contains(got, want) {
			t.Errorf("Error() = %q, missing %q", got, want)
		}
	}
	big := replyMsg(FlagError, pickle.Tuple{"builtins.ValueError", pickle.Tuple{strings.Repeat("x", 10000)}})
	e, _ = ErrorFromReply(big)
	if n := len(e.Error()); n > 2*maxErrorRepr {
		t.Errorf("Error() of a huge argument is %d bytes long", n)
	}
	e, _ = ErrorFromReply(replyMsg(FlagError, int64(3)))
	if got := e.Error(); !strings.Contains(got, "malformed") {
		t.Errorf("Error() of a malformed reply = %q", got)
	}
}
