package zrpc

import (
	"bytes"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/gozeo/gozeo/pickle"
)

// Each preset spells the flags of calls and replies as the release it
// names does (docs/protocol.md, Messages; the captures).
func TestPresetFlags(t *testing.T) {
	syncCall := &Message{ID: int64(1), Method: "ping", Args: pickle.Tuple{}}
	oneWay := &Message{ID: int64(0), Flags: FlagAsync, Method: "info", Args: pickle.Tuple{}}
	reply := &Message{ID: int64(1), Method: ReplyMethod, Args: pickle.None}
	errReply := &Message{ID: int64(1), Flags: FlagError, Method: ReplyMethod, Args: pickle.Tuple{"builtins.KeyError", pickle.Tuple{}}}
	cases := []struct {
		preset                   string
		style                    PickleStyle
		sync, oneway, rep, error string // the flags opcode(s) after the msgid
	}{
		{"Z308Client", Z308Client.Style(), "K\x00", "K\x01", "K\x00", "K\x02"},
		{"Z3101Client", Z3101Client.Style(), "I00\n", "K\x01", "K\x00", "K\x02"},
		{"ZEO5Client", ZEO5Client.Style(), "\x89", "\x88", "K\x00", "K\x02"},
		{"ZEO 2 server", zeo2ServerStyle, "I0\n", "I1\n", "I0\n", "I2\n"},
		{"ZEO 3 server", zeo3ServerStyle, "K\x00", "K\x01", "K\x00", "K\x02"},
		{"ZEO 5 server", zeo5ServerStyle, "\x89", "\x88", "K\x00", "K\x02"},
	}
	for _, c := range cases {
		enc := NewPickleEncoding(c.style)
		for _, mc := range []struct {
			m    *Message
			want string
		}{{syncCall, c.sync}, {oneWay, c.oneway}, {reply, c.rep}, {errReply, c.error}} {
			p, err := enc.AppendMessage(nil, mc.m)
			if err != nil {
				t.Fatal(err)
			}
			// Skip the header, the MARK and the msgid (K\x01 / K\x00 / I1\n).
			rest := p[bytes.IndexByte(p, '(')+1:]
			if rest[0] == 'I' {
				rest = rest[bytes.IndexByte(rest, '\n')+1:]
			} else {
				rest = rest[2:]
			}
			if !strings.HasPrefix(string(rest), mc.want) {
				t.Errorf("%v %s: flags written %q, want %q", c.preset, messageKind(mc.m), rest[:min(len(rest), 4)], mc.want)
			}
			back, err := enc.DecodeMessage(p)
			if err != nil || back.Flags != mc.m.Flags {
				t.Errorf("%v %s: decodes to %v, %v", c.preset, messageKind(mc.m), back, err)
			}
		}
	}
}

// The presets' protocols and dialects show in their first bytes and names.
func TestPresetHeaders(t *testing.T) {
	m := &Message{ID: int64(1), Method: "register", Args: pickle.Tuple{"1", false}}
	for _, c := range []struct {
		preset PickleStyle
		name   string
		head   string
	}{
		{Z308Client.Style(), "pickle-py2", "(K\x01K\x00U\x08register"},
		{zeo2ServerStyle, "pickle-py2", "(I1\nI0\nS'register'"},
		{ZEO5Client.Style(), "pickle-py3", "\x80\x03(K\x01\x89X\x08\x00\x00\x00register"},
	} {
		enc := NewPickleEncoding(c.preset)
		p, err := enc.AppendMessage(nil, m)
		if err != nil {
			t.Fatal(err)
		}
		if enc.Name() != c.name || !strings.HasPrefix(string(p), c.head) {
			t.Errorf("%v: %s %q, want %s %q", c.preset, enc.Name(), p, c.name, c.head)
		}
	}
}

// Decoding accepts what any ZEO release sends: every protocol, py2 str or
// text method names, bool or int flags; trailing bytes after STOP are
// ignored, as Python's unpickler ignores them.
func TestPickleDecodeAccepts(t *testing.T) {
	for name, p := range map[string]string{
		"protocol 0":         "(I1\nI0\nS'register'\n(S'1'\nI0\ntt.",
		"protocol 1":         "(K\x01K\x00U\x08register(U\x011I00\ntt.",
		"protocol 2":         "\x80\x02(K\x01K\x00U\x08registerU\x011\x89\x86t.",
		"protocol 3":         "\x80\x03(K\x01\x89X\x08\x00\x00\x00registerX\x01\x00\x00\x001\x89\x86t.",
		"protocol 4 framed":  "\x80\x04\x95\x19\x00\x00\x00\x00\x00\x00\x00(K\x01\x89\x8c\x08register\x94\x8c\x011\x94\x89\x86\x94t\x94.",
		"unicode name py2":   "(K\x01K\x00X\x08\x00\x00\x00register(U\x011I00\ntt.",
		"memo opcodes":       "\x80\x03(K\x01\x89X\x08\x00\x00\x00registerq\x00X\x01\x00\x00\x001q\x01\x89\x86q\x02tq\x03.",
		"trailing bytes":     "(K\x01K\x00U\x08register(U\x011I00\ntt.garbage",
		"zodbpickle py2 str": "\x80\x03(K\x01\x89U\x08registerU\x011\x89\x86t.",
	} {
		for _, enc := range []*PickleEncoding{NewPickleEncoding(Z308Client.Style()), NewPickleEncoding(ZEO5Client.Style())} {
			m, err := enc.DecodeMessage([]byte(p))
			if err != nil {
				t.Errorf("%s (%s): %v", name, enc.Name(), err)
				continue
			}
			if m.Method != "register" || m.Flags != 0 {
				t.Errorf("%s (%s): %+v", name, enc.Name(), m)
			}
			if id, _ := pickle.AsInt(m.ID); id != 1 {
				t.Errorf("%s: msgid %s", name, pickle.Repr(m.ID))
			}
		}
	}
}

// Payloads that decode but are not messages fail with ErrMessageShape.
func TestPickleDecodeShape(t *testing.T) {
	for name, p := range map[string]string{
		"not a tuple":  "\x80\x03X\x02\x00\x00\x00hi.",
		"three items":  "(K\x01K\x00U\x08registert.",
		"five items":   "(K\x01K\x00U\x08register)Nt.",
		"flags -1":     "(K\x01J\xff\xff\xff\xffU\x08register)t.",
		"flags 256":    "(K\x01M\x00\x01U\x08register)t.",
		"flags None":   "(K\x01NU\x08register)t.",
		"bytes method": "\x80\x03(K\x01K\x00C\x08register)t.",
		"int method":   "(K\x01K\x00K\x05)t.",
	} {
		_, err := NewPickleEncoding(ZEO5Client.Style()).DecodeMessage([]byte(p))
		if !errors.Is(err, ErrMessageShape) || !errors.Is(err, ErrUndecodable) {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

// Globals (exception classes) are kept symbolic, never refused: a client
// must see the class of an error reply.
func TestPickleDecodeKeepsGlobals(t *testing.T) {
	p := "(K\x05K\x00U\x06.reply(cos\nsystem\ncos\nsystem\n(U\x02lstRtt."
	m, err := NewPickleEncoding(Z308Client.Style()).DecodeMessage([]byte(p))
	if err != nil {
		t.Fatal(err)
	}
	if g := m.Args.(pickle.Tuple)[0]; g != (pickle.Global{Module: "os", Name: "system"}) {
		t.Errorf("class %s", pickle.Repr(g))
	}
	re, ok := ErrorFromReply(m)
	if !ok || re.Class != "os.system" {
		t.Errorf("ErrorFromReply: %v %v", re, ok)
	}
}

// Decoded data aliases the payload, without spare capacity.
func TestPickleDecodeAliasesPayload(t *testing.T) {
	data := bytes.Repeat([]byte{7}, 1<<20)
	enc := NewPickleEncoding(zeo5ServerStyle)
	p, err := enc.AppendMessage(nil, &Message{ID: int64(1), Method: ReplyMethod, Args: pickle.Tuple{pickle.Bytes(data), vecTID, pickle.None}})
	if err != nil {
		t.Fatal(err)
	}
	m, err := enc.DecodeMessage(p)
	if err != nil {
		t.Fatal(err)
	}
	got := m.Args.(pickle.Tuple)[0].(pickle.Bytes)
	if !bytes.Equal(got, data) {
		t.Fatal("data differs")
	}
	start := bytes.Index(p, data)
	if &got[0] != &p[start] {
		t.Error("decoded bytes were copied out of the payload")
	}
	if cap(got) != len(got) {
		t.Errorf("decoded bytes have spare capacity %d", cap(got)-len(got))
	}
}

// Hostile nesting fails with the decoder's depth limit, not a stack
// overflow.
func TestPickleDecodeDepthLimit(t *testing.T) {
	p := "(K\x01K\x00U\x01m" + strings.Repeat("]", 5000) + strings.Repeat("a", 4999) + "t."
	_, err := NewPickleEncoding(Z308Client.Style()).DecodeMessage([]byte(p))
	if !errors.Is(err, pickle.ErrTooDeep) {
		t.Fatalf("err %v", err)
	}
}

// A message without ID or Args, or with a value outside the model, fails
// to encode and leaves dst as it was.
func TestPickleEncodeErrors(t *testing.T) {
	enc := NewPickleEncoding(ZEO5Client.Style())
	for name, m := range map[string]*Message{
		"no ID":      {Method: "ping", Args: pickle.Tuple{}},
		"no Args":    {ID: int64(1), Method: "ping"},
		"bad value":  {ID: int64(1), Method: "store", Args: pickle.Tuple{[]int{1}}},
		"bad text":   {ID: int64(1), Method: "store", Args: pickle.Tuple{"\xff"}},
		"absent arg": {ID: int64(1), Method: "store", Args: pickle.Tuple{nil}},
	} {
		out, err := enc.AppendMessage([]byte("keep"), m)
		if err == nil || string(out) != "keep" {
			t.Errorf("%s: %q, %v", name, out, err)
		}
	}
}

// Adapt switches to the peer's dialect with that dialect's protocol,
// keeping the flag style and exception variant; a matching or unknown
// payload keeps the encoding.
func TestPickleAdapt(t *testing.T) {
	py2 := NewPickleEncoding(Z3101Client.Style())
	got := py2.Adapt([]byte("\x80\x03(K\x01K\x00X\x06\x00\x00\x00.replyNt."))
	pe, ok := got.(*PickleEncoding)
	if !ok || pe.Name() != "pickle-py3" {
		t.Fatalf("adapted to %v", got)
	}
	if s := pe.Style(); s.Protocol != 3 || s.Dialect != pickle.Python3 || s.Flags != Z3101Client.Style().Flags {
		t.Errorf("adapted style %+v", s)
	}
	if py2.Adapt([]byte("(K\x01K\x00U\x06.replyNt.")) != Encoding(py2) {
		t.Error("a Python 2 payload changed a Python 2 encoding")
	}
	if py2.Adapt([]byte("\x94\x01\x00")) != Encoding(py2) || py2.Adapt(nil) != Encoding(py2) {
		t.Error("a non-pickle payload changed the encoding")
	}
	old := NewPickleEncoding(PickleStyle{Protocol: 1, Dialect: pickle.Python2, Variant: pickle.OldStyle})
	back := old.Adapt([]byte("\x80\x03(")).(*PickleEncoding).Adapt([]byte("(K")).(*PickleEncoding)
	if s := back.Style(); s.Protocol != 1 || s.Variant != pickle.OldStyle {
		t.Errorf("round trip through py3 gives %+v", s)
	}
	mp := NewMsgpackEncoding()
	if mp.Adapt([]byte("(K")) != Encoding(mp) {
		t.Error("msgpack adapted")
	}
}

func TestSniffDialect(t *testing.T) {
	for p, want := range map[string]struct {
		d  pickle.Dialect
		ok bool
	}{
		"\x80\x03(":  {pickle.Python3, true},
		"\x80\x05(":  {pickle.Python3, true},
		"\x80\x02(":  {pickle.Python2, true},
		"(K\x01":     {pickle.Python2, true},
		"(I0\n":      {pickle.Python2, true},
		"\x94\x01":   {0, false},
		"":           {0, false},
		"\x80":       {0, false},
		"\x80\x09(":  {0, false},
		"Z5":         {0, false},
		"\x80\x01(K": {0, false},
	} {
		d, ok := SniffDialect([]byte(p))
		if d != want.d || ok != want.ok {
			t.Errorf("%q: %v %v, want %v %v", p, d, ok, want.d, want.ok)
		}
	}
}

// EncodingFor picks msgpack for M5, and otherwise the pickle style of the
// releases speaking the version, in the dialect asked for.
func TestEncodingFor(t *testing.T) {
	for _, c := range []struct {
		v    Version
		d    pickle.Dialect
		side Side
		want PickleStyle // zero for msgpack
	}{
		{M5, pickle.Python3, ClientSide, PickleStyle{}},
		{M5, pickle.Python2, ServerSide, PickleStyle{}},
		{Z5, pickle.Python3, ClientSide, ZEO5Client.Style()},
		{Z5, pickle.Python3, ServerSide, zeo5ServerStyle},
		{Z5, pickle.Python2, ClientSide, PickleStyle{Protocol: 1, Dialect: pickle.Python2, Flags: ZEO5Client.Style().Flags}},
		{Z4, pickle.Python2, ClientSide, Z3101Client.Style()},
		{Z3101, pickle.Python2, ClientSide, Z3101Client.Style()},
		{Z310, pickle.Python2, ClientSide, Z3101Client.Style()},
		{Z309, pickle.Python2, ClientSide, Z308Client.Style()},
		{Z201, pickle.Python2, ClientSide, Z308Client.Style()},
		{Z4, pickle.Python3, ClientSide, PickleStyle{Protocol: 3, Dialect: pickle.Python3, Flags: Z3101Client.Style().Flags}},
		{Z3101, pickle.Python2, ServerSide, zeo3ServerStyle},
		{Z4, pickle.Python3, ServerSide, PickleStyle{Protocol: 3, Dialect: pickle.Python3}},
	} {
		enc := EncodingFor(c.v, c.d, c.side)
		if c.want == (PickleStyle{}) {
			if enc.Name() != "msgpack" {
				t.Errorf("%s %v: %s, want msgpack", c.v, c.side, enc.Name())
			}
			continue
		}
		pe, ok := enc.(*PickleEncoding)
		if !ok || pe.Style() != c.want {
			t.Errorf("%s %v %v: %v, want %+v", c.v, c.d, c.side, enc, c.want)
		}
	}
}

// One encoding serves concurrent writers and readers (run with -race).
func TestPickleConcurrentUse(t *testing.T) {
	enc := NewPickleEncoding(ZEO5Client.Style())
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 200 {
				m := &Message{ID: int64(g*1000 + i), Method: "loadBefore", Args: pickle.Tuple{vecOID, vecTID}}
				p, err := enc.AppendMessage(nil, m)
				if err != nil {
					t.Error(err)
					return
				}
				back, err := enc.DecodeMessage(p)
				if err != nil || back.ID != m.ID || back.Method != m.Method {
					t.Errorf("round trip: %v %v", back, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}

func TestPresetNames(t *testing.T) {
	if Z3101Client.String() != "Z3101Client" || Preset(99).String() != "Preset(99)" {
		t.Error(Z3101Client.String(), Preset(99).String())
	}
	if Preset(99).Style() != (PickleStyle{}) {
		t.Error("unknown preset has a style")
	}
}

// zeo2ServerStyle is how ZEO 2.0 and ZODB 3.2 servers write: protocol 0.
var zeo2ServerStyle = PickleStyle{Protocol: 0, Dialect: pickle.Python2}
