package zrpc

import (
	"errors"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/internal/captures"
	"github.com/gozeo/gozeo/pickle"
)

// captureFrameBytes returns the payload of frame number n (1-based, as in
// the .txt listings) of a capture.
func captureFrameBytes(t *testing.T, capture string, n int) []byte {
	t.Helper()
	frames := captures.MustLoad(t, capture)
	if n < 1 || n > len(frames) {
		t.Fatalf("%s has %d frames", capture, len(frames))
	}
	return frames[n-1].Payload
}

// findCaptureFrame returns the first payload of a capture whose bytes
// contain all of parts (the first one at the start).
func findCaptureFrame(t *testing.T, capture string, parts ...string) []byte {
	t.Helper()
	for _, fr := range captures.MustLoad(t, capture) {
		ok := strings.HasPrefix(string(fr.Payload), parts[0])
		for _, p := range parts[1:] {
			ok = ok && strings.Contains(string(fr.Payload), p)
		}
		if ok {
			return fr.Payload
		}
	}
	t.Fatalf("no frame of %s contains %q", capture, parts)
	return nil
}

// decodeError decodes p with enc and returns the *MessageDecodeError.
func decodeError(t *testing.T, enc Encoding, p []byte) *MessageDecodeError {
	t.Helper()
	m, err := enc.DecodeMessage(p)
	if err == nil {
		t.Fatalf("decoded %+v", m)
	}
	if !errors.Is(err, ErrUndecodable) {
		t.Errorf("%v does not match ErrUndecodable", err)
	}
	var de *MessageDecodeError
	if !errors.As(err, &de) {
		t.Fatalf("%T is not a *MessageDecodeError", err)
	}
	return de
}

func assertSays(t *testing.T, err error, phrases ...string) {
	t.Helper()
	msg := err.Error()
	for _, p := range phrases {
		if !strings.Contains(msg, p) {
			t.Errorf("error does not say %q:\n%s", p, msg)
		}
	}
}

// The message that started this project: a 3.8 client dropped a 3.9
// server's serialnos call with "can't decode message: '(K\x11K\x01U\tserialnos(]((U\x08...'"
// and nothing else. Here the same kind of call, cut short: the error
// names the method, msgid and flags, the format, where decoding stopped,
// the bytes in Python's notation, and the likely cause.
func TestDiagnoseTruncatedSerialnos(t *testing.T) {
	full := findCaptureFrame(t, "zeo38-conflict", "(K", "serialnos", "_recon")
	cut := full[:len(full)-40]
	de := decodeError(t, NewPickleEncoding(Z308Client.Style()), cut)
	if de.Fields != 3 || de.Method != "serialnos" || de.ID != int64(2) || de.Flags != int64(1) {
		t.Errorf("fields %d: msgid %s flags %s method %q", de.Fields, pickle.Repr(de.ID), pickle.Repr(de.Flags), de.Method)
	}
	if de.Offset <= 0 || de.Offset >= len(cut) || de.Format != "pickle protocol 1" || de.Size != len(cut) {
		t.Errorf("offset %d format %q size %d", de.Offset, de.Format, de.Size)
	}
	assertSays(t, de, `method "serialnos"`, "msgid 2", "flags 1", "pickle protocol 1", "pickle-py2 connection",
		`'(K\x02K\x01U\tserialnos(]`, "truncated", "cut short")
	var pe *pickle.DecodeError
	if !errors.As(de, &pe) {
		t.Error("the pickle error is not reachable with errors.As")
	}
}

// The (oid, tid) msgid of a ZEO 5 loadBefore is built by TUPLE2 after its
// two items: a damaged message still reports it whole.
func TestDiagnoseTupleMsgid(t *testing.T) {
	full := findCaptureFrame(t, "zeo5-conflict", "\x80\x03(C\x08", "loadBefore")
	if !strings.HasPrefix(string(full), "\x80\x03(C\x08") {
		t.Fatalf("expected a tuple msgid, got %s", pickle.ReprBytes(full[:20]))
	}
	de := decodeError(t, NewPickleEncoding(ZEO5Client.Style()), full[:len(full)-5])
	id, ok := de.ID.(pickle.Tuple)
	if de.Method != "loadBefore" || !ok || len(id) != 2 || de.Flags != false {
		t.Errorf("msgid %s flags %s method %q", pickle.Repr(de.ID), pickle.Repr(de.Flags), de.Method)
	}
}

// A Python 3 server's protocol-3 pickle that fails on a connection that
// sends the Python 2 dialect: besides the failure, the error notes the
// dialect mismatch (what this side sends, the server cannot read).
func TestDiagnoseDialectMismatch(t *testing.T) {
	p := captureFrameBytes(t, "zeo5-handshake", 4) // the register reply
	de := decodeError(t, NewPickleEncoding(Z3101Client.Style()), p[:len(p)-3])
	assertSays(t, de, "pickle protocol 3", `method ".reply"`,
		"protocol-3 pickle from a Python 3 server while this connection uses the Python 2 dialect")
	if de.Method != ".reply" {
		t.Errorf("method %q", de.Method)
	}
	// And the other way round.
	de = decodeError(t, NewPickleEncoding(ZEO5Client.Style()), []byte("(K\x01K\x00U\x06.reply(U\x04DATA"))
	assertSays(t, de, "Python 2 pickle", "Python 3 dialect")
}

// msgpack arriving on a pickle connection is recognized and read.
func TestDiagnoseMsgpackOnPickle(t *testing.T) {
	p := captureFrameBytes(t, "zeo5msgpack-handshake", 4) // the register reply
	de := decodeError(t, NewPickleEncoding(ZEO5Client.Style()), p)
	assertSays(t, de, "msgpack (an array of 4)", "msgpack data on a pickle connection", "announced M5", `method ".reply"`)
	if de.Fields != 3 || de.ID != int64(1) {
		t.Errorf("fields %d msgid %s", de.Fields, pickle.Repr(de.ID))
	}
}

// A pickle arriving on a msgpack connection is recognized and read.
func TestDiagnosePickleOnMsgpack(t *testing.T) {
	for _, p := range [][]byte{
		captureFrameBytes(t, "zeo5-handshake", 4),
		findCaptureFrame(t, "zeo310-handshake", "(K", ".reply"),
	} {
		de := decodeError(t, NewMsgpackEncoding(), p)
		assertSays(t, de, "a pickle on a msgpack connection", "M5", "pickle protocol")
		if de.Method != ".reply" {
			t.Errorf("method %q", de.Method)
		}
	}
}

// An exception instance pickled old-style, as a Python 2.4 server does,
// that cannot be built.
func TestDiagnoseOldStyleException(t *testing.T) {
	// OBJ with nothing after its MARK: no class to instantiate.
	p := "(K\x11K\x00U\x06.reply(cZODB.POSException\nConflictError\n(o}(U\x03oidU\x08\x00\x00\x00\x00\x00\x00\x00\x01ubtt."
	de := decodeError(t, NewPickleEncoding(Z308Client.Style()), []byte(p))
	assertSays(t, de, "old-style", "Python 2.4 server", `method ".reply"`, "msgid 17")
}

// A method name pickled as bytes (the p3-bytes probe of
// server-decode-probe.txt, which every server refused).
func TestDiagnoseBytesMethod(t *testing.T) {
	p := "\x80\x03(K\x01K\x00C\x08registerq\x00C\x011q\x01\x89\x86q\x02tq\x03."
	de := decodeError(t, NewPickleEncoding(zeo5ServerStyle), []byte(p))
	assertSays(t, de, "method name sent as bytes", "text")
	if !errors.Is(de, ErrMessageShape) || de.Offset != -1 {
		t.Errorf("shape error expected at offset -1, got %v at %d", de.Err, de.Offset)
	}
}

func TestDiagnoseOddPayloads(t *testing.T) {
	cases := []struct {
		name    string
		enc     Encoding
		payload string
		says    []string
	}{
		{"empty", NewPickleEncoding(zeo3ServerStyle), "", []string{"empty frame", "out-of-step"}},
		{"empty msgpack", NewMsgpackEncoding(), "", []string{"empty frame"}},
		{"version string", NewPickleEncoding(Z3101Client.Style()), "Z3101", []string{"version string 'Z3101'", "handshake"}},
		{"version on msgpack", NewMsgpackEncoding(), "M5", []string{"handshake"}},
		{"http", NewPickleEncoding(Z3101Client.Style()), "HTTP/1.1 400 Bad Request\r\n", []string{"neither a pickle nor msgpack", "not a ZEO server"}},
		{"deep", NewPickleEncoding(Z3101Client.Style()), strings.Repeat("(", 3000), []string{"nesting", "too deep"}},
		{"protocol 4", NewPickleEncoding(ZEO5Client.Style()), "\x80\x04\x95\x05\x00\x00\x00\x00\x00\x00\x00(K", []string{"protocol-4 pickle, which no ZEO release writes"}},
		{"memo", NewPickleEncoding(Z308Client.Style()), "(K\x01K\x00U\x01mh\x05t.", []string{"memo", "never stored"}},
		{"bad opcode", NewPickleEncoding(Z308Client.Style()), "(K\x01K\x00U\x01m\xfft.", []string{"unknown opcode", "malformed pickle", `method "m"`}},
		{"not a message", NewPickleEncoding(Z308Client.Style()), "(K\x01t.", []string{"tuple of 1 items", "not a ZEO message"}},
		{"msgpack ext", NewMsgpackEncoding(), "\x94\x01\xc2\xa1m\xd6\xff\x00\x00\x00\x00", []string{"ext type, which ZEO 5 never sends", `method "m"`}},
		{"msgpack cut", NewMsgpackEncoding(), "\x94\x01\xc2\xa1m\xc4\x08\x00", []string{"cut short"}},
		{"msgpack oid as str", NewMsgpackEncoding(), "\x94\x01\xc2\xa1m\x91\xa8\x00\x00\x00\x00\x00\x00\x00\xff", []string{"use_bin_type off", "not UTF-8"}},
		{"msgpack c1", NewMsgpackEncoding(), "\x94\x01\xc2\xa1m\xc1", []string{"no msgpack type"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assertSays(t, decodeError(t, c.enc, []byte(c.payload)), c.says...)
		})
	}
}

// The payload shown is bounded, whatever the payload's size.
func TestDiagnoseBoundsHead(t *testing.T) {
	p := append([]byte("(K\x01K\x00U\x01m(T\x00\x00\x10\x00"), make([]byte, 1<<20)...)
	de := decodeError(t, NewPickleEncoding(Z308Client.Style()), p)
	if len(de.Head) != maxHeadBytes || len(de.Error()) > 1000 {
		t.Errorf("head %d bytes, message %d bytes", len(de.Head), len(de.Error()))
	}
	assertSays(t, de, "...; likely")
}

func TestDescribePayload(t *testing.T) {
	serialnos := findCaptureFrame(t, "zeo38-conflict", "(K", "serialnos", "_recon")
	for _, c := range []struct {
		name string
		p    []byte
		says []string
	}{
		{"3.8 serialnos", serialnos, []string{"bytes of pickle protocol 1", "msgid 2", "flags 1", `method "serialnos"`, `'(K\x02K\x01U\tserialnos(]`, "..."}},
		{"damaged", serialnos[:100], []string{"100 bytes", `method "serialnos"`}},
		{"zeo5 loadBefore", findCaptureFrame(t, "zeo5-conflict", "\x80\x03(C\x08", "loadBefore"), []string{"pickle protocol 3", "msgid (b'", "flags False", `method "loadBefore"`}},
		{"msgpack", captureFrameBytes(t, "zeo5msgpack-handshake", 3), []string{"msgpack (an array of 4)", "msgid 1", "flags False", `method "register"`}},
		{"empty", nil, []string{"0 bytes of nothing"}},
		{"garbage", []byte("\x00\x01"), []string{"unknown data", `'\x00\x01'`}},
	} {
		got := DescribePayload(c.p)
		for _, s := range c.says {
			if !strings.Contains(got, s) {
				t.Errorf("%s: %q does not say %q", c.name, got, s)
			}
		}
	}
}

// The sentinel of picklePrefixFields is a well-formed BINUNICODE.
func TestPrefixSentinel(t *testing.T) {
	v, err := pickle.Unmarshal([]byte(prefixSentinel + "t."))
	if err != nil || pickle.Repr(v) != pickle.Repr(pickle.Tuple{sentinelText}) {
		t.Fatalf("%s, %v", pickle.Repr(v), err)
	}
}
