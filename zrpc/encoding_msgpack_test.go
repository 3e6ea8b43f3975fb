package zrpc

import (
	"bytes"
	"errors"
	"math"
	"math/big"
	"strings"
	"sync"
	"testing"

	"github.com/gozeo/gozeo/pickle"
)

// msgpackArgs encodes a one-way call whose args is v and returns the bytes
// of v alone (after the fixed message header).
func msgpackArgs(t *testing.T, v pickle.Value) []byte {
	t.Helper()
	out, err := NewMsgpackEncoding().AppendMessage(nil, &Message{ID: int64(0), Flags: FlagAsync, Method: "m", Args: v})
	if err != nil {
		t.Fatalf("encoding %s: %v", pickle.Repr(v), err)
	}
	const header = "\x94\x00\xc3\xa1m"
	if !strings.HasPrefix(string(out), header) {
		t.Fatalf("message header %q", out)
	}
	return out[len(header):]
}

// Values are written as Python's msgpack.packb(use_bin_type=True) writes
// them: ints in the smallest family, float64, str for text, bin for
// bytes; and they decode back to the value model.
func TestMsgpackValueEncoding(t *testing.T) {
	long := strings.Repeat("x", 32)
	cases := []struct {
		name string
		v    pickle.Value
		want string
		back pickle.Value // decoded value when it differs from v
	}{
		{"None", pickle.None, "\xc0", nil},
		{"False", false, "\xc2", nil},
		{"True", true, "\xc3", nil},
		{"0", int64(0), "\x00", nil},
		{"127", int64(127), "\x7f", nil},
		{"128", int64(128), "\xcc\x80", nil},
		{"255", int64(255), "\xcc\xff", nil},
		{"256", int64(256), "\xcd\x01\x00", nil},
		{"65536", int64(65536), "\xce\x00\x01\x00\x00", nil},
		{"2^32", int64(1) << 32, "\xcf\x00\x00\x00\x01\x00\x00\x00\x00", nil},
		{"txn id", int64(0x7fc393acd310), "\xcf\x00\x00\x7f\xc3\x93\xac\xd3\x10", nil},
		{"-1", int64(-1), "\xff", nil},
		{"-32", int64(-32), "\xe0", nil},
		{"-33", int64(-33), "\xd0\xdf", nil},
		{"-129", int64(-129), "\xd1\xff\x7f", nil},
		{"-32769", int64(-32769), "\xd2\xff\xff\x7f\xff", nil},
		{"min int64", int64(math.MinInt64), "\xd3\x80\x00\x00\x00\x00\x00\x00\x00", nil},
		{"Go int", 5, "\x05", int64(5)},
		{"long in int64", pickle.Long(7), "\x07", int64(7)},
		{"uint64 beyond int64", new(big.Int).SetUint64(math.MaxUint64), "\xcf\xff\xff\xff\xff\xff\xff\xff\xff", nil},
		{"float", 1.5, "\xcb\x3f\xf8\x00\x00\x00\x00\x00\x00", nil},
		{"text", "abc", "\xa3abc", nil},
		{"text 31", long[:31], "\xbf" + long[:31], nil},
		{"text 32", long, "\xd9\x20" + long, nil},
		{"Unicode", pickle.Unicode("é"), "\xa2\xc3\xa9", "é"},
		{"bytes", pickle.Bytes("\x00\x01"), "\xc4\x02\x00\x01", nil},
		{"empty bytes", pickle.Bytes(nil), "\xc4\x00", pickle.Bytes{}},
		{"py2 str", pickle.ByteString("ab"), "\xc4\x02ab", pickle.Bytes("ab")},
		{"bytearray", pickle.ByteArray("ab"), "\xc4\x02ab", pickle.Bytes("ab")},
		{"bytes 256", pickle.Bytes(make([]byte, 256)), "\xc5\x01\x00" + string(make([]byte, 256)), nil},
		{"empty tuple", pickle.Tuple{}, "\x90", nil},
		{"list", &pickle.List{int64(1), "a"}, "\x92\x01\xa1a", pickle.Tuple{int64(1), "a"}},
		{"dict", pickle.DictOf("length", int64(18), "size", int64(5136)), "\x82\xa6length\x12\xa4size\xcd\x14\x10", nil},
		{"tuple key", pickle.DictOf(pickle.Tuple{int64(1)}, pickle.None), "\x81\x91\x01\xc0", nil},
	}
	enc := NewMsgpackEncoding()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := msgpackArgs(t, c.v)
			if string(got) != c.want {
				t.Errorf("encodes as % x, want % x", got, c.want)
			}
			m, err := enc.DecodeMessage(append([]byte("\x94\x00\xc3\xa1m"), c.want...))
			if err != nil {
				t.Fatal(err)
			}
			want := c.back
			if want == nil {
				want = c.v
			}
			if pickle.Repr(m.Args) != pickle.Repr(want) || pythonType(m.Args) != pythonType(want) {
				t.Errorf("decodes to %s %s, want %s %s", pythonType(m.Args), pickle.Repr(m.Args), pythonType(want), pickle.Repr(want))
			}
		})
	}
}

// Long arrays and maps take the 16-bit length forms, as packb does.
func TestMsgpackLengthForms(t *testing.T) {
	items := make(pickle.Tuple, 16)
	for i := range items {
		items[i] = int64(i)
	}
	if got := msgpackArgs(t, items); !bytes.HasPrefix(got, []byte{0xdc, 0x00, 0x10}) {
		t.Errorf("16 items: % x", got[:3])
	}
	d := pickle.NewDict(16)
	for i := range 16 {
		d.Set(int64(i), pickle.None)
	}
	if got := msgpackArgs(t, d); !bytes.HasPrefix(got, []byte{0xde, 0x00, 0x10}) {
		t.Errorf("16 entries: % x", got[:3])
	}
}

// Values msgpack cannot carry fail to encode with ErrMsgpackUnencodable,
// naming the method; the destination is left as it was.
func TestMsgpackUnencodable(t *testing.T) {
	big128 := new(big.Int).Lsh(big.NewInt(1), 70)
	cyclic := &pickle.List{}
	*cyclic = append(*cyclic, cyclic)
	for name, v := range map[string]pickle.Value{
		"set":        pickle.NewSet(false, 0),
		"global":     pickle.Global{Module: "m", Name: "n"},
		"object":     &pickle.Object{Kind: pickle.KindReduce, Callable: pickle.Global{Module: "m", Name: "n"}},
		"long":       big128,
		"absent arg": pickle.Tuple{nil},
		"cycle":      cyclic,
		"bad text":   pickle.Tuple{"\xff"},
	} {
		dst := []byte("keep")
		out, err := NewMsgpackEncoding().AppendMessage(dst, &Message{ID: int64(1), Method: "store", Args: v})
		if !errors.Is(err, ErrMsgpackUnencodable) || !strings.Contains(err.Error(), "store") {
			t.Errorf("%s: err %v", name, err)
		}
		if string(out) != "keep" {
			t.Errorf("%s: dst became %q", name, out)
		}
	}
}

// A stray exception value is written as ZEO 5's msgpack default hook
// writes it: the (name, state) pair.
func TestMsgpackExceptionValue(t *testing.T) {
	exc := &pickle.Exception{Class: pickle.Global{Module: "builtins", Name: "KeyError"}, Args: pickle.Tuple{"k"}}
	if got, want := msgpackArgs(t, exc), "\x92\xb1builtins.KeyError\x91\xa1k"; string(got) != want {
		t.Errorf("got % x, want % x", got, want)
	}
}

// Decoded bytes alias the payload: a 1 MiB record is not copied.
func TestMsgpackDecodeAliasesPayload(t *testing.T) {
	data := bytes.Repeat([]byte{7}, 1<<20)
	enc := NewMsgpackEncoding()
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
	if &got[0] != &p[len(p)-len(data)-10-1] {
		t.Error("decoded bytes were copied out of the payload")
	}
	if cap(got) != len(got) {
		t.Errorf("decoded bytes have spare capacity %d: appending would overwrite the payload", cap(got)-len(got))
	}
}

// Malformed and hostile msgpack fails with a *MsgpackSyntaxError at the
// right offset, without allocating for lengths the payload cannot hold.
func TestMsgpackMalformed(t *testing.T) {
	const head = "\x94\x01\xc2\xa8register" // array of 4, msgid 1, False, "register"
	deep := strings.Repeat("\x91", 2000) + "\xc0"
	cases := []struct {
		name    string
		payload string
		offset  int
		want    string // in the error text
	}{
		{"ext type", head + "\xd4\x01\x02", 12, "ext type"},
		{"ext8", head + "\xc7\x01\x05x", 12, "ext type"},
		{"never used code", head + "\xc1", 12, "not a msgpack type code"},
		{"truncated str", head + "\xa5ab", 12, "5 bytes announced"},
		{"truncated bin32", head + "\xc6\xff\xff\xff\xffab", 12, "announced"},
		{"huge array", head + "\xdd\xff\xff\xff\xff\x00", 12, "4294967295 items announced"},
		{"huge map", head + "\xdf\x7f\xff\xff\xff\x00\x00", 12, "items announced"},
		{"too deep", head + deep, 12 + 999, "nesting deeper"},
		{"trailing bytes", head + "\x90\x00", 13, "1 bytes after the message"},
		{"unhashable key", head + "\x81\x81\x00\x00\x00", 13, "map key"},
		{"truncated int", head + "\xcd\x01", 12, "unexpected EOF"},
		{"missing args", head, 12, "a value was expected"},
		{"invalid UTF-8 str", head + "\xa2\xc3\x28", 12, "not UTF-8"},
		{"surrogate str", head + "\xa3\xed\xa0\x80", 12, "not UTF-8"},
	}
	enc := NewMsgpackEncoding()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := enc.DecodeMessage([]byte(c.payload))
			var se *MsgpackSyntaxError
			if !errors.As(err, &se) {
				t.Fatalf("err %v, want a *MsgpackSyntaxError", err)
			}
			if !errors.Is(err, ErrUndecodable) {
				t.Error("does not match ErrUndecodable")
			}
			if se.Offset != c.offset {
				t.Errorf("offset %d, want %d", se.Offset, c.offset)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("%v\ndoes not say %q", err, c.want)
			}
			var de *MessageDecodeError
			if errors.As(err, &de) && de.Method != "register" {
				t.Errorf("method %q not reported", de.Method)
			}
		})
	}
}

// A payload that is valid msgpack but not a message fails with
// ErrMessageShape.
func TestMsgpackNotAMessage(t *testing.T) {
	for name, p := range map[string]string{
		"map":            "\x81\xa1a\x01",
		"array of 3":     "\x93\x01\xc2\xa1m",
		"int flags -1":   "\x94\x01\xff\xa1m\x90",
		"flags 256":      "\x94\x01\xcd\x01\x00\xa1m\x90",
		"float flags":    "\x94\x01\xcb\x00\x00\x00\x00\x00\x00\x00\x00\xa1m\x90",
		"bytes method":   "\x94\x01\xc2\xc4\x01m\x90",
		"nil method":     "\x94\x01\xc2\xc0\x90",
		"nested message": "\x91\x94\x01\xc2\xa1m\x90",
	} {
		_, err := NewMsgpackEncoding().DecodeMessage([]byte(p))
		if !errors.Is(err, ErrMessageShape) || !errors.Is(err, ErrUndecodable) {
			t.Errorf("%s: err %v", name, err)
		}
	}
}

// Flags decode from bools and ints alike.
func TestMsgpackFlags(t *testing.T) {
	for p, want := range map[string]Flags{
		"\x94\x00\xc3\xa1m\x90": FlagAsync,
		"\x94\x00\xc2\xa1m\x90": 0,
		"\x94\x00\x01\xa1m\x90": FlagAsync,
		"\x94\x00\x02\xa1m\x90": FlagError,
	} {
		m, err := NewMsgpackEncoding().DecodeMessage([]byte(p))
		if err != nil || m.Flags != want {
			t.Errorf("% x: flags %v, %v; want %d", p, m, err, want)
		}
	}
}

// One encoding serves concurrent writers and readers (run with -race).
func TestMsgpackConcurrentUse(t *testing.T) {
	enc := NewMsgpackEncoding()
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
				if err != nil || back.ID != m.ID {
					t.Errorf("round trip: %v %v", back, err)
					return
				}
			}
		}()
	}
	wg.Wait()
}
