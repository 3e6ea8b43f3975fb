package zrpc

import (
	"bytes"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/internal/captures"
	"github.com/gozeo/gozeo/pickle"
)

// captureEncodings returns the encodings that re-create the frames of a
// capture: what its real client and server wrote.
func captureEncodings(t testing.TB, name string) (client, server Encoding) {
	t.Helper()
	switch {
	case strings.HasPrefix(name, "zeo5msgpack-"):
		return NewMsgpackEncoding(), NewMsgpackEncoding()
	case strings.HasPrefix(name, "zeo5-"):
		return NewPickleEncoding(ZEO5Client.Style()), NewPickleEncoding(zeo5ServerStyle)
	case strings.HasPrefix(name, "zeo310"):
		return NewPickleEncoding(Z3101Client.Style()), NewPickleEncoding(zeo3ServerStyle)
	case strings.HasPrefix(name, "zeo38"):
		return NewPickleEncoding(Z308Client.Style()), NewPickleEncoding(zeo3ServerStyle)
	}
	t.Fatalf("no encodings known for capture %s", name)
	return nil, nil
}

// captureMessage is one decoded post-handshake frame of a capture.
type captureMessage struct {
	index   int // 1-based frame number, as in the .txt listings
	frame   captures.Frame
	enc     Encoding
	message *Message
}

// replayCapture decodes every message frame of a capture (the first frame
// of each direction of each connection is the version string, skipped),
// failing the test on any frame that does not decode.
func replayCapture(t *testing.T, path string) []captureMessage {
	t.Helper()
	name := strings.TrimSuffix(filepath.Base(path), ".jsonl")
	client, server := captureEncodings(t, name)
	seen := map[captures.StreamKey]bool{}
	var out []captureMessage
	for i, fr := range captures.MustLoad(t, path) {
		k := captures.StreamKey{Conn: fr.Conn, Dir: fr.Dir}
		if !seen[k] {
			seen[k] = true
			continue
		}
		enc := client
		if fr.Dir == "s2c" {
			enc = server
		}
		// A clone, as the framer hands out fresh payloads the message
		// may alias.
		m, err := enc.DecodeMessage(bytes.Clone(fr.Payload))
		if err != nil {
			t.Errorf("frame #%d (%s): %v", i+1, fr.Dir, err)
			continue
		}
		out = append(out, captureMessage{index: i + 1, frame: fr, enc: enc, message: m})
	}
	return out
}

// Every frame of every real-server capture decodes, and re-encoding it
// with the preset of the release that sent it gives the captured bytes
// back: client frames (what the Go client must be able to imitate) and
// server frames (what the Go test server imitates) alike. The captured
// pickles carry no memo and dicts keep their wire order in the value
// model, so no frame needs a value comparison instead.
func TestCaptureReplay(t *testing.T) {
	for _, path := range captures.Names() {
		name := strings.TrimSuffix(filepath.Base(path), ".jsonl")
		t.Run(name, func(t *testing.T) {
			msgs := replayCapture(t, path)
			if len(msgs) == 0 {
				t.Fatal("no messages in the capture")
			}
			for _, cm := range msgs {
				got, err := cm.enc.AppendMessage(nil, cm.message)
				if err != nil {
					t.Errorf("frame #%d (%s %s): re-encoding: %v", cm.index, cm.frame.Dir, cm.message.Method, err)
					continue
				}
				if !bytes.Equal(got, cm.frame.Payload) {
					t.Errorf("frame #%d (%s %s) re-encodes differently with %s:\n got %s\nwant %s",
						cm.index, cm.frame.Dir, cm.message.Method, cm.enc.Name(), firstDifference(got, cm.frame.Payload), firstDifference(cm.frame.Payload, got))
				}
			}
		})
	}
}

// firstDifference shows a around the first byte where it differs from b.
func firstDifference(a, b []byte) string {
	n := 0
	for n < len(a) && n < len(b) && a[n] == b[n] {
		n++
	}
	lo := max(0, n-16)
	return "…" + pickle.ReprBytes(a[lo:min(len(a), n+32)]) + "… (byte " + strconv.Itoa(n) + ")"
}

// What the captures show about message fields: the flags each release
// spells, and the ZEO 5 loadBefore msgid (an (oid, tid) tuple) surviving
// the round trip in both encodings.
func TestCaptureMessageFields(t *testing.T) {
	type flagsSeen struct{ syncCall, oneWay, reply map[string]bool }
	for _, prefix := range []string{"zeo38-", "zeo310-", "zeo5-", "zeo5msgpack-"} {
		t.Run(strings.TrimSuffix(prefix, "-"), func(t *testing.T) {
			seen := map[string]*flagsSeen{"c2s": {map[string]bool{}, map[string]bool{}, map[string]bool{}}, "s2c": {map[string]bool{}, map[string]bool{}, map[string]bool{}}}
			tupleIDs := 0
			for _, path := range captures.Names() {
				if !strings.HasPrefix(filepath.Base(path), prefix) {
					continue
				}
				for _, cm := range replayCapture(t, path) {
					m := cm.message
					raw := m.flagsAsSent(t, cm)
					s := seen[cm.frame.Dir]
					switch {
					case m.IsReply():
						s.reply[raw] = true
					case m.Flags&FlagAsync != 0:
						s.oneWay[raw] = true
					default:
						s.syncCall[raw] = true
					}
					if id, ok := m.ID.(pickle.Tuple); ok {
						tupleIDs++
						if m.Method != "loadBefore" && !m.IsReply() {
							t.Errorf("frame #%d: tuple msgid on %s", cm.index, m.Method)
						}
						if len(id) != 2 {
							t.Errorf("frame #%d: msgid %s is not (oid, tid)", cm.index, pickle.Repr(id))
						}
						for _, x := range id {
							if b, ok := x.(pickle.Bytes); !ok || len(b) != 8 {
								t.Errorf("frame #%d: msgid item %s is not 8 bytes", cm.index, pickle.Repr(x))
							}
						}
					}
				}
			}
			want := map[string][2]string{ // prefix -> client sync/one-way spelling
				"zeo38-": {"int", "int"}, "zeo310-": {"bool", "int"}, "zeo5-": {"bool", "bool"}, "zeo5msgpack-": {"bool", "bool"},
			}[prefix]
			check := func(what string, got map[string]bool, want string) {
				t.Helper()
				if len(got) != 1 || !got[want] {
					t.Errorf("%s flags spelled %v, want only %s", what, got, want)
				}
			}
			check("client sync call", seen["c2s"].syncCall, want[0])
			check("client one-way call", seen["c2s"].oneWay, want[1])
			check("server reply", seen["s2c"].reply, "int")
			serverOneWay := "int"
			if strings.HasPrefix(prefix, "zeo5") {
				serverOneWay = "bool"
				if tupleIDs == 0 {
					t.Error("no (oid, tid) msgid in the ZEO 5 captures")
				}
			}
			check("server one-way call", seen["s2c"].oneWay, serverOneWay)
		})
	}
}

// flagsAsSent says whether the flags of a captured frame were a bool or
// an int, by re-decoding the frame's fields.
func (m *Message) flagsAsSent(t *testing.T, cm captureMessage) string {
	t.Helper()
	var f messageFields
	if cm.enc.Name() == "msgpack" {
		f = msgpackPrefixFields(cm.frame.Payload)
	} else {
		f = pickleFields(cm.frame.Payload)
	}
	if f.n < 2 {
		t.Fatalf("frame #%d: flags unreadable", cm.index)
	}
	switch f.flags.(type) {
	case bool:
		return "bool"
	case int64:
		return "int"
	}
	return pickle.Repr(f.flags)
}

// Test values standing for the <oid>, <serial> and <tid> of docs/protocol.md.
var (
	vecOID = pickle.Bytes{0, 0, 0, 0, 0, 0, 0, 1}
	vecTID = pickle.Bytes{0x03, 0xc5, 0x8a, 0x1b, 0x11, 0x11, 0x11, 0x11}
	vecZ64 = pickle.Bytes{0, 0, 0, 0, 0, 0, 0, 0}
)

// protocolVector is a message and its bytes, recorded from a real server or
// written by the Python picklers (docs/protocol.md, Test vectors).
type protocolVector struct {
	name  string
	enc   Encoding
	msg   *Message
	bytes string
}

func protocolVectors() []protocolVector {
	py2cli := NewPickleEncoding(Z308Client.Style())
	z3101 := NewPickleEncoding(Z3101Client.Style())
	py2srv := NewPickleEncoding(zeo3ServerStyle)
	zeo5cli := NewPickleEncoding(ZEO5Client.Style())
	zeo5srv := NewPickleEncoding(zeo5ServerStyle)
	mp := NewMsgpackEncoding()
	oid, tid := string(vecOID), string(vecTID)
	call := func(id int64, flags Flags, method string, args ...pickle.Value) *Message {
		return &Message{ID: id, Flags: flags, Method: method, Args: pickle.Tuple(args)}
	}
	reply := func(id pickle.Value, v pickle.Value) *Message {
		return &Message{ID: id, Method: ReplyMethod, Args: v}
	}
	info := pickle.NewDict(2)
	info.Set(pickle.ByteString("length"), int64(1))
	info.Set(pickle.ByteString("size"), pickle.Long(95))
	keyError := &pickle.Exception{Class: pickle.Global{Module: "exceptions", Name: "KeyError"}, Args: pickle.Tuple{vecOID}}
	posKeyError := &pickle.Exception{Class: pickle.Global{Module: "ZODB.POSException", Name: "POSKeyError"}, Args: pickle.Tuple{vecZ64}, Recon: true}
	posKeyError5 := &pickle.Exception{Class: pickle.Global{Module: "ZODB.POSException", Name: "POSKeyError"}, Args: pickle.Tuple{vecOID}, Recon: true}
	return []protocolVector{
		// Calls and replies of cPickle 2.7, ZEO 2 and ZEO 5.
		{"getAuthProtocol", py2cli, call(0, 0, "getAuthProtocol"), "(K\x00K\x00U\x0fgetAuthProtocol)t."},
		{"register", py2cli, call(1, 0, "register", "1", false), "(K\x01K\x00U\x08register(U\x011I00\ntt."},
		{"3.10 sync call", z3101, call(2, 0, "lastTransaction"), "(K\x02I00\nU\x0flastTransaction)t."},
		{"loadEx", py2cli, call(3, 0, "loadEx", vecZ64, ""), "(K\x03K\x00U\x06loadEx(U\x08\x00\x00\x00\x00\x00\x00\x00\x00U\x00tt."},
		{"one-way storea", z3101, call(0, FlagAsync, "storea", vecOID, vecTID, pickle.Bytes("DATA"), int64(140234)),
			"(K\x00K\x01U\x06storea(U\x08" + oid + "U\x08" + tid + "U\x04DATAJ\xca#\x02\x00tt."},
		{"reply (data, tid)", py2srv, reply(int64(3), pickle.Tuple{pickle.Bytes("DATA"), vecTID}), "(K\x03K\x00U\x06.reply(U\x04DATAU\x08" + tid + "tt."},
		{"reply loadBefore", py2srv, reply(int64(4), pickle.Tuple{pickle.Bytes("DATA"), vecTID, pickle.None}), "(K\x04K\x00U\x06.reply(U\x04DATAU\x08" + tid + "Ntt."},
		{"invalidateTransaction", py2srv, call(0, FlagAsync, "invalidateTransaction", vecTID, &pickle.List{vecOID}),
			"(K\x00K\x01U\x15invalidateTransaction(U\x08" + tid + "]U\x08" + oid + "att."},
		{"invalidateTransaction for Z308", py2srv, call(0, FlagAsync, "invalidateTransaction", vecTID, &pickle.List{pickle.Tuple{vecOID, ""}}),
			"(K\x00K\x01U\x15invalidateTransaction(U\x08" + tid + "](U\x08" + oid + "U\x00tatt."},
		{"serialnos", py2srv, call(0, FlagAsync, "serialnos", &pickle.List{pickle.Tuple{vecOID, vecTID}}),
			"(K\x00K\x01U\tserialnos(](U\x08" + oid + "U\x08" + tid + "tatt."},
		{"info", py2srv, call(0, FlagAsync, "info", info), "(K\x00K\x01U\x04info(}(U\x06lengthK\x01U\x04sizeL95L\nutt."},
		{"builtin error reply", py2srv, &Message{ID: int64(5), Method: ReplyMethod, Args: pickle.Tuple{keyError.Class, keyError}},
			"(K\x05K\x00U\x06.reply(cexceptions\nKeyError\ncexceptions\nKeyError\n(U\x08" + oid + "tRtt."},
		{"ZEO 2 protocol 0", NewPickleEncoding(PickleStyle{Protocol: 0, Dialect: pickle.Python2}), call(0, 0, "register", "1", int64(0)), "(I0\nI0\nS'register'\n(S'1'\nI0\ntt."},
		{"ZEO 5 register", zeo5cli, call(1, 0, "register", "1", false), "\x80\x03(K\x01\x89X\x08\x00\x00\x00registerX\x01\x00\x00\x001\x89\x86t."},
		{"ZEO 5 loadBefore reply", zeo5srv, reply(int64(8), pickle.Tuple{pickle.Bytes("rootdata-1"), vecTID, pickle.None}),
			"\x80\x03(K\x08K\x00X\x06\x00\x00\x00.replyC\nrootdata-1C\x08" + tid + "N\x87t."},
		// Messages, Errors, Heartbeats.
		{"3.x reply None", py2srv, reply(int64(1), pickle.None), "(K\x01K\x00U\x06.replyNt."},
		{"5.x reply None", zeo5srv, reply(int64(3), pickle.None), "\x80\x03(K\x03K\x00X\x06\x00\x00\x00.replyNt."},
		{"msgpack reply None", mp, reply(int64(3), pickle.None), "\x94\x03\x00\xa6.reply\xc0"},
		{"3.10 POSKeyError reply", py2srv, &Message{ID: int64(4), Method: ReplyMethod, Args: pickle.Tuple{posKeyError.Class, posKeyError}},
			"(K\x04K\x00U\x06.reply(cZODB.POSException\nPOSKeyError\ncZODB.POSException\n_recon\n(cZODB.POSException\nPOSKeyError\n}U\x04args(U\x08\x00\x00\x00\x00\x00\x00\x00\x00tstRtt."},
		{"3.x heartbeat", z3101, reply(int64(-1), pickle.None), "(J\xff\xff\xff\xffK\x00U\x06.replyNt."},
		{"5.x heartbeat", zeo5cli, reply(int64(-1), pickle.None), "\x80\x03(J\xff\xff\xff\xffK\x00X\x06\x00\x00\x00.replyNt."},
		{"msgpack heartbeat", mp, reply(int64(-1), pickle.None), "\x94\xff\x00\xa6.reply\xc0"},
		// msgpack.
		{"msgpack register", mp, call(1, 0, "register", "1", false), "\x94\x01\xc2\xa8register\x92\xa11\xc2"},
		{"msgpack register reply", mp, reply(int64(1), vecZ64), "\x94\x01\x00\xa6.reply\xc4\x08" + string(vecZ64)},
		{"msgpack loadBefore", mp, call(4, 0, "loadBefore", vecOID, pickle.Bytes("\x7f\xff\xff\xff\xff\xff\xff\xff")),
			"\x94\x04\xc2\xaaloadBefore\x92\xc4\x08" + oid + "\xc4\x08\x7f\xff\xff\xff\xff\xff\xff\xff"},
		{"msgpack POSKeyError reply", mp, &Message{ID: int64(4), Flags: FlagError, Method: ReplyMethod, Args: NameState(posKeyError5)},
			"\x94\x04\x02\xa6.reply\x92\xbdZODB.POSException.POSKeyError\x91\xc4\x08" + oid},
	}
}

// The byte vectors of docs/protocol.md (Messages, msgpack, Test vectors) encode
// exactly, and decode back to the same message.
func TestProtocolVectors(t *testing.T) {
	for _, v := range protocolVectors() {
		t.Run(v.name, func(t *testing.T) {
			got, err := v.enc.AppendMessage(nil, v.msg)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != v.bytes {
				t.Errorf("%s encodes as\n %s\nwant\n %s", v.enc.Name(), pickle.ReprBytes(got), pickle.ReprBytes([]byte(v.bytes)))
			}
			m, err := v.enc.DecodeMessage([]byte(v.bytes))
			if err != nil {
				t.Fatal(err)
			}
			if m.Method != v.msg.Method || m.Flags != v.msg.Flags {
				t.Errorf("decoded %s flags %d, want %s flags %d", m.Method, m.Flags, v.msg.Method, v.msg.Flags)
			}
			if again, err := v.enc.AppendMessage(nil, m); err != nil || string(again) != v.bytes {
				t.Errorf("decoded message re-encodes as %s, %v", pickle.ReprBytes(again), err)
			}
		})
	}
}

// A msgpack frame and the pickle frame of the same ZEO 5 session decode
// to the same values, once the pickle dialect's text/bytes split is
// accounted for (both are text and bytes in ZEO 5).
func TestCaptureMsgpackMatchesPickle(t *testing.T) {
	for _, scenario := range []string{"handshake", "loadbefore", "poskeyerror", "new_oids"} {
		t.Run(scenario, func(t *testing.T) {
			pk := replayCapture(t, "zeo5-"+scenario)
			mp := replayCapture(t, "zeo5msgpack-"+scenario)
			if len(pk) != len(mp) {
				t.Fatalf("%d pickle messages, %d msgpack messages", len(pk), len(mp))
			}
			for i := range pk {
				a, b := pk[i].message, mp[i].message
				if a.Method != b.Method || a.Flags != b.Flags || pickle.Repr(a.ID) != pickle.Repr(b.ID) {
					t.Errorf("message %d: pickle %s %d %s, msgpack %s %d %s", i, a.Method, a.Flags, pickle.Repr(a.ID), b.Method, b.Flags, pickle.Repr(b.ID))
				}
				// Data records and tids differ between the two sessions;
				// the shapes must not.
				if sa, sb := shapeOf(a.Args), shapeOf(b.Args); sa != sb {
					t.Errorf("message %d (%s): pickle args %s, msgpack args %s", i, a.Method, sa, sb)
				}
			}
		})
	}
}

// shapeOf describes the types in v, not their values; a list counts as a
// tuple (msgpack has only arrays).
func shapeOf(v pickle.Value) string {
	switch v := v.(type) {
	case pickle.Tuple:
		parts := make([]string, len(v))
		for i, x := range v {
			parts[i] = shapeOf(x)
		}
		return "(" + strings.Join(parts, ",") + ")"
	case *pickle.List:
		return shapeOf(pickle.Tuple(*v))
	case *pickle.Dict:
		var parts []string
		for _, it := range v.Items() {
			parts = append(parts, shapeOf(it.Key)+":"+shapeOf(it.Value))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	return pythonType(v)
}
