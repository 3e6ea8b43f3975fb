package pickle

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"math"
	"math/big"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"weak"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/gozeo/gozeo/internal/captures"
)

// valueOpts makes go-cmp compare decoded values by content: dicts and
// sets by their items in order, big integers by value, NaN equal to NaN,
// nil and empty slices alike.
var valueOpts = cmp.Options{
	cmp.Transformer("Dict", func(d *Dict) []DictItem {
		if d == nil {
			return nil
		}
		return d.Items()
	}),
	cmp.Transformer("Set", func(s *Set) struct {
		Frozen bool
		Items  []Value
	} {
		if s == nil {
			return struct {
				Frozen bool
				Items  []Value
			}{}
		}
		return struct {
			Frozen bool
			Items  []Value
		}{s.Frozen, s.Items()}
	}),
	cmp.Comparer(func(a, b *big.Int) bool { return a.Cmp(b) == 0 }),
	cmpopts.EquateNaNs(),
	cmpopts.EquateEmpty(),
}

// decodeOne decodes a single pickle with opts and fails the test on error
// or trailing input.
func decodeOne(t *testing.T, in string, opts *DecoderOptions) Value {
	t.Helper()
	d := NewDecoder([]byte(in), opts)
	v, err := d.Decode()
	if err != nil {
		t.Fatalf("Decode(%q): %v", in, err)
	}
	if d.Offset() != len(in) {
		t.Fatalf("Decode(%q) stopped at offset %d of %d", in, d.Offset(), len(in))
	}
	return v
}

type decodeCase struct {
	name string
	in   string
	want Value
}

func runDecodeCases(t *testing.T, cases []decodeCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := decodeOne(t, tc.in, nil)
			if diff := cmp.Diff(tc.want, got, valueOpts); diff != "" {
				t.Errorf("Decode(%q) mismatch (-want +got):\n%s", tc.in, diff)
			}
			// Aliasing the input must not change what is decoded.
			alias := decodeOne(t, tc.in, &DecoderOptions{AliasBytes: true})
			if diff := cmp.Diff(tc.want, alias, valueOpts); diff != "" {
				t.Errorf("Decode(%q) with AliasBytes mismatch (-want +got):\n%s", tc.in, diff)
			}
		})
	}
}

func bigInt(s string) *big.Int {
	b, ok := new(big.Int).SetString(s, 10)
	if !ok {
		panic(s)
	}
	return b
}

func list(items ...Value) *List {
	l := List(items)
	return &l
}

func setOf(frozen bool, items ...Value) *Set {
	s := NewSet(frozen, len(items))
	for _, it := range items {
		if err := s.Add(it); err != nil {
			panic(err)
		}
	}
	return s
}

var numberCases = []decodeCase{
	{"NONE", "N.", None},
	{"NEWTRUE", "\x80\x02\x88.", true},
	{"NEWFALSE", "\x80\x02\x89.", false},
	{"BININT1", "K\xff.", int64(255)},
	{"BININT2", "M\x34\x12.", int64(0x1234)},
	{"BININT positive", "J\xca#\x02\x00.", int64(140234)},
	{"BININT negative", "J\xff\xff\xff\xff.", int64(-1)},
	{"INT", "I42\n.", int64(42)},
	{"INT negative", "I-3\n.", int64(-3)},
	{"INT beyond 32 bits", "I12345678901\n.", int64(12345678901)},
	{"INT beyond 64 bits", "I123456789012345678901\n.", bigInt("123456789012345678901")},
	{"INT I01 is True", "I01\n.", true},
	{"INT I00 is False", "I00\n.", false},
	{"INT I0 is zero", "I0\n.", int64(0)},
	{"LONG with L", "L95L\n.", big.NewInt(95)},
	{"LONG without L (Python 3)", "L12345678901234567890\n.", bigInt("12345678901234567890")},
	{"LONG negative", "L-7L\n.", big.NewInt(-7)},
	{"LONG1 empty is zero", "\x80\x02\x8a\x00.", big.NewInt(0)},
	{"LONG1 -1", "\x80\x02\x8a\x01\xff.", big.NewInt(-1)},
	{"LONG1 128", "\x80\x02\x8a\x02\x80\x00.", big.NewInt(128)},
	{"LONG1 2**70", "\x80\x02\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00@.", new(big.Int).Lsh(big.NewInt(1), 70)},
	{"LONG1 -2**40", "\x80\x02\x8a\x06\x00\x00\x00\x00\x00\xff.", big.NewInt(-1 << 40)},
	{"LONG4", "\x80\x02\x8b\x02\x00\x00\x00\x00\x01.", big.NewInt(256)},
	{"FLOAT", "F1.5\n.", 1.5},
	{"FLOAT exponent", "F-2.5e-10\n.", -2.5e-10},
	{"FLOAT inf", "Finf\n.", math.Inf(1)},
	{"FLOAT -inf", "F-inf\n.", math.Inf(-1)},
	{"FLOAT nan", "Fnan\n.", math.NaN()},
	{"FLOAT overflow is inf", "F1e999\n.", math.Inf(1)},
	{"BINFLOAT", "G@\x04\x00\x00\x00\x00\x00\x00.", 2.5},
	{"BINFLOAT negative zero", "G\x80\x00\x00\x00\x00\x00\x00\x00.", math.Copysign(0, -1)},
}

func TestDecodeNumbers(t *testing.T) { runDecodeCases(t, numberCases) }

var stringCases = []decodeCase{
	// py2 str: STRING (Python string-escape syntax), BINSTRING, SHORT_BINSTRING.
	{"STRING single quotes", "S'register'\n.", ByteString("register")},
	{"STRING double quotes", "S\"it's\"\n.", ByteString("it's")},
	{"STRING empty", "S''\n.", ByteString{}},
	{"STRING hex escapes", `S'\x00\xff\x8a'` + "\n.", ByteString("\x00\xff\x8a")},
	{"STRING octal escapes", `S'\0\101\1234\777'` + "\n.", ByteString("\x00AS4\xff")},
	{"STRING simple escapes", `S'\a\b\f\n\r\t\v\\\'\"'` + "\n.", ByteString("\a\b\f\n\r\t\v\\'\"")},
	{"STRING unknown escape kept", `S'\q\u0041'` + "\n.", ByteString(`\q\u0041`)},
	{"BINSTRING", "T\x03\x00\x00\x00abc.", ByteString("abc")},
	{"SHORT_BINSTRING", "U\x08\x03\xc5\x8a\x1b\x11\x11\x11\x11.", ByteString("\x03\xc5\x8a\x1b\x11\x11\x11\x11")},
	{"SHORT_BINSTRING empty", "U\x00.", ByteString{}},
	// py3 bytes.
	{"SHORT_BINBYTES", "\x80\x03C\x02a\xff.", Bytes("a\xff")},
	{"BINBYTES", "\x80\x03B\x03\x00\x00\x00abc.", Bytes("abc")},
	{"BINBYTES8", "\x80\x04\x8e\x02\x00\x00\x00\x00\x00\x00\x00hi.", Bytes("hi")},
	{"BYTEARRAY8", "\x80\x05\x96\x02\x00\x00\x00\x00\x00\x00\x00xy.", ByteArray("xy")},
	// text.
	{"BINUNICODE", "X\x06\x00\x00\x00.reply.", ".reply"},
	{"BINUNICODE UTF-8", "X\x03\x00\x00\x00\xe2\x82\xac.", "€"},
	{"SHORT_BINUNICODE", "\x80\x04\x8c\x04text.", "text"},
	{"BINUNICODE8", "\x80\x04\x8d\x01\x00\x00\x00\x00\x00\x00\x00a.", "a"},
	{"UNICODE plain", "Vregister\n.", "register"},
	{"UNICODE Latin-1 bytes", "Va\xffb\n.", "aÿb"},
	{"UNICODE escapes", `Va\u005cb\u000a\u20ac\U0001f600` + "\n.", "a\\b\n€😀"},
	{"UNICODE escaped backslash is literal", `Va\\u0041` + "\n.", `a\\u0041`},
	{"UNICODE other backslash", `V\x41\` + "\n.", `\x41\`},
	{"UNICODE surrogate pair (Python 2 narrow build)", `V\ud83d\ude00` + "\n.", "😀"},
	{"UNICODE lone surrogate", `V\ud800x` + "\n.", "\xed\xa0\x80x"},
}

func TestDecodeStrings(t *testing.T) { runDecodeCases(t, stringCases) }

var containerCases = []decodeCase{
	{"EMPTY_TUPLE", ").", Tuple{}},
	{"TUPLE", "(K\x01K\x02t.", Tuple{int64(1), int64(2)}},
	{"TUPLE empty", "(t.", Tuple{}},
	{"TUPLE1", "\x80\x02K\x01\x85.", Tuple{int64(1)}},
	{"TUPLE2", "\x80\x02K\x01K\x02\x86.", Tuple{int64(1), int64(2)}},
	{"TUPLE3", "\x80\x02K\x01K\x02N\x87.", Tuple{int64(1), int64(2), None}},
	{"nested tuples", "((K\x01t(tt.", Tuple{Tuple{int64(1)}, Tuple{}}},
	{"EMPTY_LIST", "].", list()},
	{"LIST", "(K\x01K\x02l.", list(int64(1), int64(2))},
	{"APPEND", "]K\x01aK\x02a.", list(int64(1), int64(2))},
	{"APPENDS", "](K\x01K\x02K\x03e.", list(int64(1), int64(2), int64(3))},
	{"APPENDS empty", "](e.", list()},
	{"EMPTY_DICT", "}.", NewDict(0)},
	{"DICT", "(U\x01aK\x01U\x01bK\x02d.", DictOf(ByteString("a"), int64(1), ByteString("b"), int64(2))},
	{"SETITEM", "}U\x01aK\x01s.", DictOf(ByteString("a"), int64(1))},
	{"SETITEMS", "}(X\x01\x00\x00\x00aK\x01X\x01\x00\x00\x00bK\x02u.", DictOf("a", int64(1), "b", int64(2))},
	{"SETITEMS repeated key keeps first position", "}(U\x01aK\x01U\x01bK\x02U\x01aK\x03u.", DictOf(ByteString("a"), int64(3), ByteString("b"), int64(2))},
	{"SETITEMS equal keys 1 and True", "}(K\x01U\x01aI01\nU\x01bu.", DictOf(int64(1), ByteString("b"))},
	{"SETITEMS py2 str and unicode are one key", "}(U\x01aK\x01X\x01\x00\x00\x00aK\x02u.", DictOf(ByteString("a"), int64(2))},
	{"SETITEMS bytes and text differ", "\x80\x03}(C\x01aK\x01X\x01\x00\x00\x00aK\x02u.", DictOf(Bytes("a"), int64(1), "a", int64(2))},
	{"SETITEM on a large dict", "}(K\x00K\x00K\x01K\x01K\x02K\x02K\x03K\x03K\x04K\x04K\x05K\x05K\x06K\x06K\x07K\x07K\x08K\x08uK\x03K\x09sK\x09K\x09s.",
		DictOf(int64(0), int64(0), int64(1), int64(1), int64(2), int64(2), int64(3), int64(9), int64(4), int64(4),
			int64(5), int64(5), int64(6), int64(6), int64(7), int64(7), int64(8), int64(8), int64(9), int64(9))},
	{"tuple keys", "}((K\x01K\x02tK\x03u.", DictOf(Tuple{int64(1), int64(2)}, int64(3))},
	{"EMPTY_SET", "\x80\x04\x8f.", setOf(false)},
	{"ADDITEMS", "\x80\x04\x8f(K\x01K\x02K\x01\x90.", setOf(false, int64(1), int64(2))},
	{"FROZENSET", "\x80\x04(\x8c\x01a\x91.", setOf(true, "a")},
	{"frozenset as a set member", "\x80\x04\x8f((K\x01\x91\x90.", setOf(false, setOf(true, int64(1)))},
}

func TestDecodeContainers(t *testing.T) { runDecodeCases(t, containerCases) }

var stackCases = []decodeCase{
	{"POP", "K\x01K\x020.", int64(1)},
	{"POP right after MARK drops the mark", "K\x01(0.", int64(1)},
	{"POP_MARK", "K\x01(K\x02K\x031.", int64(1)},
	{"DUP", "K\x012\x86.", Tuple{int64(1), int64(1)}},
	{"FRAME", "\x80\x04\x95\x03\x00\x00\x00\x00\x00\x00\x00K\x01.", int64(1)},
	{"PROTO 5", "\x80\x05N.", None},
}

func TestDecodeStackOpcodes(t *testing.T) { runDecodeCases(t, stackCases) }

func TestDecodeMemo(t *testing.T) {
	// GET returns the very object PUT stored: lists are shared, and a
	// list can contain itself, as in Python.
	for _, in := range []string{
		"(lp0\nI1\nag0\na.",                           // protocol 0, decimal keys
		"]q\x00K\x01ah\x00a.",                         // BINPUT / BINGET
		"]r\x00\x00\x01\x00K\x01aj\x00\x00\x01\x00a.", // LONG_BINPUT / LONG_BINGET
		"\x80\x04]\x94K\x01ah\x00a.",                  // MEMOIZE
	} {
		v := decodeOne(t, in, nil)
		l, ok := v.(*List)
		if !ok || len(*l) != 2 || (*l)[0] != Value(int64(1)) || (*l)[1] != Value(l) {
			t.Errorf("Decode(%q) = %s, want a list holding 1 and itself", in, Repr(v))
		}
	}

	// Two references to one list stay one list.
	v := decodeOne(t, "\x80\x02]q\x00(]q\x01(K\x01G@\x04\x00\x00\x00\x00\x00\x00N\x88eh\x01e.", nil)
	outer := *v.(*List)
	if len(outer) != 2 || outer[0].(*List) != outer[1].(*List) {
		t.Errorf("shared list decoded as %s, want one list referenced twice", Repr(v))
	}

	// MEMOIZE numbers entries after the ones PUT explicitly, as
	// Python's len(memo) does.
	if v := decodeOne(t, "\x80\x04K\x07q\x050K\x08\x940h\x01.", nil); v != Value(int64(8)) {
		t.Errorf("MEMOIZE after BINPUT 5 stored under another key than 1: got %s", Repr(v))
	}
}

func TestDecodeMemoSharedAcrossPickles(t *testing.T) {
	// A ZODB record: the class pickle puts the class in the memo, and the
	// state pickle refers to it (persistent references carry the class).
	rec := "cmyapp\nItem\nq\x01.}q\x02U\x03refq\x03(U\x08\x00\x00\x00\x00\x00\x00\x00\x07h\x01tQs."
	d := NewDecoder([]byte(rec), nil)
	cls, err := d.Decode()
	if err != nil {
		t.Fatal(err)
	}
	if want := (Global{"myapp", "Item"}); cls != Value(want) {
		t.Fatalf("class pickle = %s, want %s", Repr(cls), want)
	}
	if d.Offset() != strings.Index(rec, ".")+1 {
		t.Errorf("Offset after the first pickle = %d", d.Offset())
	}
	state, err := d.Decode()
	if err != nil {
		t.Fatal(err)
	}
	want := DictOf(ByteString("ref"), PersistentRef{ID: Tuple{ByteString("\x00\x00\x00\x00\x00\x00\x00\x07"), Global{"myapp", "Item"}}})
	if diff := cmp.Diff(Value(want), state, valueOpts); diff != "" {
		t.Errorf("state pickle mismatch (-want +got):\n%s", diff)
	}
	if _, err := d.Decode(); err != io.EOF {
		t.Errorf("Decode at the end of input = %v, want io.EOF", err)
	}

	// Reset starts over with an empty memo.
	d.Reset([]byte("h\x01."))
	if _, err := d.Decode(); !errors.Is(err, ErrMemo) {
		t.Errorf("GET after Reset = %v, want ErrMemo", err)
	}
}

// pt is the class of the object test cases.
var pt = Global{"mymod", "Point"}
var objectCases = []decodeCase{
	{"GLOBAL", "cZODB.POSException\nPOSKeyError\n.", Global{"ZODB.POSException", "POSKeyError"}},
	{"STACK_GLOBAL", "\x80\x04\x8c\x05mymod\x8c\x05Point\x93.", pt},
	{"REDUCE", "cmymod\nPoint\n(K\x01K\x02tR.", &Object{Kind: KindReduce, Callable: pt, Args: Tuple{int64(1), int64(2)}}},
	{"REDUCE and BUILD", "cmymod\nPoint\n)R}U\x01xK\x01sb.", &Object{Kind: KindReduce, Callable: pt, Args: Tuple{}, State: DictOf(ByteString("x"), int64(1))}},
	{"NEWOBJ", "\x80\x02cmymod\nPoint\nK\x01\x85\x81.", &Object{Kind: KindNewObj, Callable: pt, Args: Tuple{int64(1)}}},
	{"NEWOBJ with slot state", "\x80\x02cmymod\nSlotted\nq\x00)\x81q\x01N}q\x02X\x01\x00\x00\x00aq\x03K\x01s\x86q\x04b.",
		&Object{Kind: KindNewObj, Callable: Global{"mymod", "Slotted"}, Args: Tuple{}, State: Tuple{None, DictOf("a", int64(1))}}},
	{"NEWOBJ_EX (CPython 3 protocol 4)", "\x80\x04\x951\x00\x00\x00\x00\x00\x00\x00\x8c\x05mymod\x94\x8c\x05Point\x94\x93\x94K\x03\x85\x94}\x94\x8c\x01y\x94K\x04s\x92\x94}\x94(\x8c\x01x\x94K\x03h\x05K\x04ub.",
		&Object{Kind: KindNewObjEx, Callable: pt, Args: Tuple{int64(3)}, Kwargs: DictOf("y", int64(4)), State: DictOf("x", int64(3), "y", int64(4))}},
	{"OBJ", "(cmymod\nPoint\nK\x01o.", &Object{Kind: KindObj, Callable: pt, Args: Tuple{int64(1)}}},
	{"INST", "(K\x01imymod\nPoint\n.", &Object{Kind: KindInst, Callable: pt, Args: Tuple{int64(1)}}},
	{"BUILD twice merges the dicts", "(cmymod\nPoint\no}U\x01xK\x01sb}U\x01yK\x02sb.",
		&Object{Kind: KindObj, Callable: pt, Args: Tuple{}, State: DictOf(ByteString("x"), int64(1), ByteString("y"), int64(2))}},
	{"BUILD of an empty dict on bytes is a no-op", "\x80\x03C\x01a}b.", Bytes("a")},
	{"APPENDS to a list subclass", "cmymod\nL\n)R(K\x01K\x02e.", &Object{Kind: KindReduce, Callable: Global{"mymod", "L"}, Args: Tuple{}, ListItems: []Value{int64(1), int64(2)}}},
	{"SETITEMS to a dict subclass", "cmymod\nD\n)R(K\x01K\x02u.", &Object{Kind: KindReduce, Callable: Global{"mymod", "D"}, Args: Tuple{}, DictItems: DictOf(int64(1), int64(2))}},
	{"copy_reg._reconstructor", "ccopy_reg\n_reconstructor\n(cmymod\nPoint\nc__builtin__\nobject\nNtR.",
		&Object{Kind: KindReduce, Callable: Global{"copy_reg", "_reconstructor"}, Args: Tuple{pt, Global{"__builtin__", "object"}, None}}},
	{"EXT1", "\x80\x02\x82\x05.", Global{"copyreg._extension_registry", "5"}},
	{"EXT2", "\x80\x02\x83\x00\x01.", Global{"copyreg._extension_registry", "256"}},
	{"EXT4", "\x80\x02\x84\x00\x00\x01\x00.", Global{"copyreg._extension_registry", "65536"}},
	{"PERSID", "Poid-7\n.", PersistentRef{ID: "oid-7"}},
	{"BINPERSID", "U\x08\x00\x00\x00\x00\x00\x00\x00\x07Q.", PersistentRef{ID: ByteString("\x00\x00\x00\x00\x00\x00\x00\x07")}},
}

func TestDecodeObjects(t *testing.T) { runDecodeCases(t, objectCases) }

var constructorCases = []decodeCase{
	// Python 3 bytes below protocol 3.
	{"bytes p0 (py3)", "c_codecs\nencode\np0\n(Va\xff\np1\nVlatin1\np2\ntp3\nRp4\n.", Bytes("a\xff")},
	{"bytes p1 (py3)", "c_codecs\nencode\nq\x00(X\x03\x00\x00\x00a\xc3\xbfq\x01X\x06\x00\x00\x00latin1q\x02tq\x03Rq\x04.", Bytes("a\xff")},
	{"bytes p2 (py3)", "\x80\x02c_codecs\nencode\nq\x00X\x03\x00\x00\x00a\xc3\xbfq\x01X\x06\x00\x00\x00latin1q\x02\x86q\x03Rq\x04.", Bytes("a\xff")},
	{"bytes latin-1 spelling", "c_codecs\nencode\n(Vab\nVlatin-1\ntR.", Bytes("ab")},
	{"empty bytes p1 (py3)", "c__builtin__\nbytes\nq\x00)Rq\x01.", Bytes{}},
	{"empty bytes p3", "\x80\x03cbuiltins\nbytes\n)R.", Bytes{}},
	// zodbpickle.binary on Python 2.
	{"zodbpickle binary p1", "ccopy_reg\n_reconstructor\nq\x00(czodbpickle\nbinary\nq\x01c__builtin__\nstr\nq\x02U\x02abq\x03tq\x04Rq\x05.", Bytes("ab")},
	{"zodbpickle binary p0", "ccopy_reg\n_reconstructor\np0\n(czodbpickle\nbinary\np1\nc__builtin__\nstr\np2\nS'ab'\np3\ntp4\nRp5\n.", Bytes("ab")},
	{"zodbpickle binary p2 with BUILD", "\x80\x02czodbpickle\nbinary\nq\x00U\x02abq\x01\x85q\x02\x81q\x03}q\x04b.", Bytes("ab")},
	{"zodbpickle binary p2 (py3)", "\x80\x02czodbpickle\nbinary\nq\x00c_codecs\nencode\nq\x01X\x02\x00\x00\x00abq\x02X\x06\x00\x00\x00latin1q\x03\x86q\x04Rq\x05\x85q\x06\x81q\x07.", Bytes("ab")},
	{"zodbpickle binary p1 (py3)", "ccopy_reg\n_reconstructor\nq\x00(czodbpickle\nbinary\nq\x01c__builtin__\nbytes\nq\x02c_codecs\nencode\nq\x03(X\x02\x00\x00\x00abq\x04X\x06\x00\x00\x00latin1q\x05tq\x06Rq\x07tq\x08Rq\t.", Bytes("ab")},
	{"zodbpickle binary by REDUCE", "czodbpickle\nbinary\n(U\x02abtR.", Bytes("ab")},
	// Sets.
	{"set p0", "c__builtin__\nset\np0\n((lp1\nI1\naI2\natp2\nRp3\n.", setOf(false, int64(1), int64(2))},
	{"set p1", "c__builtin__\nset\nq\x00(]q\x01(K\x01K\x02etq\x02Rq\x03.", setOf(false, int64(1), int64(2))},
	{"set p3", "\x80\x03cbuiltins\nset\nq\x00]q\x01(K\x01K\x02e\x85q\x02Rq\x03.", setOf(false, int64(1), int64(2))},
	{"empty set p2", "\x80\x02c__builtin__\nset\nq\x00]q\x01\x85q\x02Rq\x03.", setOf(false)},
	{"set()", "c__builtin__\nset\n)R.", setOf(false)},
	{"frozenset p1", "c__builtin__\nfrozenset\nq\x00(]q\x01K\x03atq\x02Rq\x03.", setOf(true, int64(3))},
	// Bytearrays.
	{"bytearray p0 (py2)", "c__builtin__\nbytearray\np0\n(Va\xffb\np1\nS'latin-1'\np2\ntp3\nRp4\n.", ByteArray("a\xffb")},
	{"bytearray p2 (py2)", "\x80\x02c__builtin__\nbytearray\nq\x00X\x04\x00\x00\x00a\xc3\xbfbq\x01U\x07latin-1q\x02\x86q\x03Rq\x04.", ByteArray("a\xffb")},
	{"bytearray p1 (py3)", "c__builtin__\nbytearray\nq\x00(c_codecs\nencode\nq\x01(X\x04\x00\x00\x00a\xc3\xbfbq\x02X\x06\x00\x00\x00latin1q\x03tq\x04Rq\x05tq\x06Rq\x07.", ByteArray("a\xffb")},
	{"bytearray p3", "\x80\x03cbuiltins\nbytearray\nq\x00C\x03a\xffbq\x01\x85q\x02Rq\x03.", ByteArray("a\xffb")},
	{"empty bytearray", "\x80\x03cbuiltins\nbytearray\nq\x00)Rq\x01.", ByteArray{}},
	// Shapes that are not the known ones stay objects.
	{"encode to another codec", "c_codecs\nencode\n(Vab\nVutf-8\ntR.", &Object{Kind: KindReduce, Callable: Global{"_codecs", "encode"}, Args: Tuple{"ab", "utf-8"}}},
	{"encode of text beyond Latin-1", "c_codecs\nencode\n(V\\u20ac\nVlatin1\ntR.", &Object{Kind: KindReduce, Callable: Global{"_codecs", "encode"}, Args: Tuple{"€", "latin1"}}},
	{"set of a non-iterable", "c__builtin__\nset\n(K\x01tR.", &Object{Kind: KindReduce, Callable: Global{"__builtin__", "set"}, Args: Tuple{int64(1)}}},
}

func TestDecodeKnownConstructors(t *testing.T) { runDecodeCases(t, constructorCases) }

func TestDecodeRawKeepsConstructors(t *testing.T) {
	in := "c__builtin__\nset\n(]K\x01atR."
	got := decodeOne(t, in, &DecoderOptions{Raw: true})
	want := &Object{Kind: KindReduce, Callable: Global{"__builtin__", "set"}, Args: Tuple{list(int64(1))}}
	if diff := cmp.Diff(Value(want), got, valueOpts); diff != "" {
		t.Errorf("Raw decode mismatch (-want +got):\n%s", diff)
	}
}

// Protocol 4 and 5 pickles written by CPython 3.11 for
// {'text': 'héllo €', 'bytes': b'\x00\xff', 'list': [1, 2.5, None, True],
// 'set': {1, 2}, 'fs': frozenset({'a'}), 'big': 2**70, 'neg': -2**40,
// 'ba': bytearray(b'xy'), 'tuple': (1,), 'empty': ()}.
const (
	py3Protocol4 = "\x80\x04\x95\xb3\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x04text\x94\x8c\nh\xc3\xa9llo \xe2\x82\xac\x94\x8c\x05bytes\x94C\x02\x00\xff\x94\x8c\x04list\x94]\x94(K\x01G@\x04\x00\x00\x00\x00\x00\x00N\x88e\x8c\x03set\x94\x8f\x94(K\x01K\x02\x90\x8c\x02fs\x94(\x8c\x01a\x94\x91\x94\x8c\x03big\x94\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00@\x8c\x03neg\x94\x8a\x06\x00\x00\x00\x00\x00\xff\x8c\x02ba\x94\x8c\x08builtins\x94\x8c\x09bytearray\x94\x93\x94C\x02xy\x94\x85\x94R\x94\x8c\x05tuple\x94K\x01\x85\x94\x8c\x05empty\x94)u."
	py3Protocol5 = "\x80\x05\x95\x9d\x00\x00\x00\x00\x00\x00\x00}\x94(\x8c\x04text\x94\x8c\nh\xc3\xa9llo \xe2\x82\xac\x94\x8c\x05bytes\x94C\x02\x00\xff\x94\x8c\x04list\x94]\x94(K\x01G@\x04\x00\x00\x00\x00\x00\x00N\x88e\x8c\x03set\x94\x8f\x94(K\x01K\x02\x90\x8c\x02fs\x94(\x8c\x01a\x94\x91\x94\x8c\x03big\x94\x8a\x09\x00\x00\x00\x00\x00\x00\x00\x00@\x8c\x03neg\x94\x8a\x06\x00\x00\x00\x00\x00\xff\x8c\x02ba\x94\x96\x02\x00\x00\x00\x00\x00\x00\x00xy\x94\x8c\x05tuple\x94K\x01\x85\x94\x8c\x05empty\x94)u."
)

var python3Want = DictOf(
	"text", "héllo €",
	"bytes", Bytes("\x00\xff"),
	"list", list(int64(1), 2.5, None, true),
	"set", setOf(false, int64(1), int64(2)),
	"fs", setOf(true, "a"),
	"big", new(big.Int).Lsh(big.NewInt(1), 70),
	"neg", big.NewInt(-1<<40),
	"ba", ByteArray("xy"),
	"tuple", Tuple{int64(1)},
	"empty", Tuple{},
)
var python3Cases = []decodeCase{
	{"protocol 4", py3Protocol4, python3Want},
	{"protocol 5", py3Protocol5, python3Want},
}

func TestDecodePython3Protocols(t *testing.T) { runDecodeCases(t, python3Cases) }

// ZEO messages as Python 2's cPickle (protocol 1, fast mode), ZEO 2
// (protocol 0) and ZEO 5 (protocol 3) write them (docs/protocol.md, Test
// vectors).
var msgOid = ByteString("\x00\x00\x00\x00\x00\x00\x00\x07")
var msgTid = ByteString("\x03\xc5\x8a\x1b\x11\x11\x11\x11")

const oidB = "\x00\x00\x00\x00\x00\x00\x00\x07"
const tidB = "\x03\xc5\x8a\x1b\x11\x11\x11\x11"

var zeoMessageCases = []decodeCase{
	{"getAuthProtocol", "(K\x00K\x00U\x0fgetAuthProtocol)t.", Tuple{int64(0), int64(0), ByteString("getAuthProtocol"), Tuple{}}},
	{"register", "(K\x01K\x00U\x08register(U\x011I00\ntt.", Tuple{int64(1), int64(0), ByteString("register"), Tuple{ByteString("1"), false}}},
	{"3.10 sync call", "(K\x02I00\nU\x0flastTransaction)t.", Tuple{int64(2), false, ByteString("lastTransaction"), Tuple{}}},
	{"loadEx", "(K\x03K\x00U\x06loadEx(U\x08\x00\x00\x00\x00\x00\x00\x00\x00U\x00tt.", Tuple{int64(3), int64(0), ByteString("loadEx"), Tuple{ByteString("\x00\x00\x00\x00\x00\x00\x00\x00"), ByteString{}}}},
	{"storea", "(K\x00K\x01U\x06storea(U\x08" + oidB + "U\x08" + tidB + "U\x04DATAJ\xca#\x02\x00tt.", Tuple{int64(0), int64(1), ByteString("storea"), Tuple{msgOid, msgTid, ByteString("DATA"), int64(140234)}}},
	{"reply (data, msgTid)", "(K\x03K\x00U\x06.reply(U\x04DATAU\x08" + tidB + "tt.", Tuple{int64(3), int64(0), ByteString(".reply"), Tuple{ByteString("DATA"), msgTid}}},
	{"reply loadBefore", "(K\x04K\x00U\x06.reply(U\x04DATAU\x08" + tidB + "Ntt.", Tuple{int64(4), int64(0), ByteString(".reply"), Tuple{ByteString("DATA"), msgTid, None}}},
	{"invalidateTransaction", "(K\x00K\x01U\x15invalidateTransaction(U\x08" + tidB + "]U\x08" + oidB + "att.", Tuple{int64(0), int64(1), ByteString("invalidateTransaction"), Tuple{msgTid, list(msgOid)}}},
	{"invalidateTransaction for Z308", "(K\x00K\x01U\x15invalidateTransaction(U\x08" + tidB + "](U\x08" + oidB + "U\x00tatt.", Tuple{int64(0), int64(1), ByteString("invalidateTransaction"), Tuple{msgTid, list(Tuple{msgOid, ByteString{}})}}},
	{"serialnos", "(K\x00K\x01U\tserialnos(](U\x08" + oidB + "U\x08" + tidB + "tatt.", Tuple{int64(0), int64(1), ByteString("serialnos"), Tuple{list(Tuple{msgOid, msgTid})}}},
	{"info", "(K\x00K\x01U\x04info(}(U\x06lengthK\x01U\x04sizeL95L\nutt.", Tuple{int64(0), int64(1), ByteString("info"), Tuple{DictOf(ByteString("length"), int64(1), ByteString("size"), big.NewInt(95))}}},
	{"heartbeat", "(J\xff\xff\xff\xffK\x00U\x06.replyNt.", Tuple{int64(-1), int64(0), ByteString(".reply"), None}},
	{"heartbeat py3", "\x80\x03(J\xff\xff\xff\xffK\x00X\x06\x00\x00\x00.replyNt.", Tuple{int64(-1), int64(0), ".reply", None}},
	{"reply None", "(K\x01K\x00U\x06.replyNt.", Tuple{int64(1), int64(0), ByteString(".reply"), None}},
	{"reply None py3", "\x80\x03(K\x03K\x00X\x06\x00\x00\x00.replyNt.", Tuple{int64(3), int64(0), ".reply", None}},
	{"ZEO 2 register", "(I0\nI0\nS'register'\n(S'1'\nI0\ntt.", Tuple{int64(0), int64(0), ByteString("register"), Tuple{ByteString("1"), int64(0)}}},
	{"ZEO 5 register", "\x80\x03(K\x01\x89X\x08\x00\x00\x00registerX\x01\x00\x00\x001\x89\x86t.", Tuple{int64(1), false, "register", Tuple{"1", false}}},
	{"ZEO 5 loadBefore reply", "\x80\x03(K\x08K\x00X\x06\x00\x00\x00.replyC\nrootdata-1C\x08" + tidB + "N\x87t.", Tuple{int64(8), int64(0), ".reply", Tuple{Bytes("rootdata-1"), Bytes(tidB), None}}},
}

func TestDecodeZEOMessages(t *testing.T) { runDecodeCases(t, zeoMessageCases) }

// The exception forms of docs/protocol.md, Errors, written by cPickle 2.7 in
// fast mode for a ConflictError with oid ...01, serials (03c58a1b11111111,
// 03c58a1a00000000), message "database conflict error", class_name None.
var conflictErrorPickles = []struct {
	name  string
	in    string
	style ExceptionStyle
	reply bool
}{
	{"old-style p0 (INST)", "(iZODB.POSException\nConflictError\n(dS'serials'\n(S'\\x03\\xc5\\x8a\\x1b\\x11\\x11\\x11\\x11'\nS'\\x03\\xc5\\x8a\\x1a\\x00\\x00\\x00\\x00'\ntsS'class_name'\nNsS'message'\nS'database conflict error'\nsS'oid'\nS'\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01'\nsb.", StyleOldStyle, false},
	{"old-style p1 (OBJ)", "(cZODB.POSException\nConflictError\no}(U\x07serials(U\x08\x03\xc5\x8a\x1b\x11\x11\x11\x11U\x08\x03\xc5\x8a\x1a\x00\x00\x00\x00tU\nclass_nameNU\x07messageU\x17database conflict errorU\x03oidU\x08\x00\x00\x00\x00\x00\x00\x00\x01ub.", StyleOldStyle, false},
	{"old-style p2", "\x80\x02(cZODB.POSException\nConflictError\no}(U\x07serialsU\x08\x03\xc5\x8a\x1b\x11\x11\x11\x11U\x08\x03\xc5\x8a\x1a\x00\x00\x00\x00\x86U\nclass_nameNU\x07messageU\x17database conflict errorU\x03oidU\x08\x00\x00\x00\x00\x00\x00\x00\x01ub.", StyleOldStyle, false},
	{"old-style reply p1", "(K\x11K\x00U\x06.reply(cZODB.POSException\nConflictError\n(cZODB.POSException\nConflictError\no}(U\x07serials(U\x08\x03\xc5\x8a\x1b\x11\x11\x11\x11U\x08\x03\xc5\x8a\x1a\x00\x00\x00\x00tU\nclass_nameNU\x07messageU\x17database conflict errorU\x03oidU\x08\x00\x00\x00\x00\x00\x00\x00\x01ubtt.", StyleOldStyle, true},
	{"_recon p0", "cZODB.POSException\n_recon\n(cZODB.POSException\nConflictError\n(dS'serials'\n(S'\\x03\\xc5\\x8a\\x1b\\x11\\x11\\x11\\x11'\nS'\\x03\\xc5\\x8a\\x1a\\x00\\x00\\x00\\x00'\ntsS'class_name'\nNsS'message'\nS'database conflict error'\nsS'oid'\nS'\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01'\nsS'args'\n(tstR.", StyleRecon, false},
	{"_recon p1", "cZODB.POSException\n_recon\n(cZODB.POSException\nConflictError\n}(U\x07serials(U\x08\x03\xc5\x8a\x1b\x11\x11\x11\x11U\x08\x03\xc5\x8a\x1a\x00\x00\x00\x00tU\nclass_nameNU\x07messageU\x17database conflict errorU\x03oidU\x08\x00\x00\x00\x00\x00\x00\x00\x01U\x04args)utR.", StyleRecon, false},
	{"_recon p2", "\x80\x02cZODB.POSException\n_recon\ncZODB.POSException\nConflictError\n}(U\x07serialsU\x08\x03\xc5\x8a\x1b\x11\x11\x11\x11U\x08\x03\xc5\x8a\x1a\x00\x00\x00\x00\x86U\nclass_nameNU\x07messageU\x17database conflict errorU\x03oidU\x08\x00\x00\x00\x00\x00\x00\x00\x01U\x04args)u\x86R.", StyleRecon, false},
	{"_recon reply p1", "(K\x11K\x00U\x06.reply(cZODB.POSException\nConflictError\ncZODB.POSException\n_recon\n(cZODB.POSException\nConflictError\n}(U\x07serials(U\x08\x03\xc5\x8a\x1b\x11\x11\x11\x11U\x08\x03\xc5\x8a\x1a\x00\x00\x00\x00tU\nclass_nameNU\x07messageU\x17database conflict errorU\x03oidU\x08\x00\x00\x00\x00\x00\x00\x00\x01U\x04args)utRtt.", StyleRecon, true},
	{"reduce p0", "cZODB.POSException\nConflictError\n(tR(dS'serials'\n(S'\\x03\\xc5\\x8a\\x1b\\x11\\x11\\x11\\x11'\nS'\\x03\\xc5\\x8a\\x1a\\x00\\x00\\x00\\x00'\ntsS'class_name'\nNsS'message'\nS'database conflict error'\nsS'oid'\nS'\\x00\\x00\\x00\\x00\\x00\\x00\\x00\\x01'\nsb.", StyleReduce, false},
	{"reduce p1", "cZODB.POSException\nConflictError\n)R}(U\x07serials(U\x08\x03\xc5\x8a\x1b\x11\x11\x11\x11U\x08\x03\xc5\x8a\x1a\x00\x00\x00\x00tU\nclass_nameNU\x07messageU\x17database conflict errorU\x03oidU\x08\x00\x00\x00\x00\x00\x00\x00\x01ub.", StyleReduce, false},
	{"reduce p2", "\x80\x02cZODB.POSException\nConflictError\n)R}(U\x07serialsU\x08\x03\xc5\x8a\x1b\x11\x11\x11\x11U\x08\x03\xc5\x8a\x1a\x00\x00\x00\x00\x86U\nclass_nameNU\x07messageU\x17database conflict errorU\x03oidU\x08\x00\x00\x00\x00\x00\x00\x00\x01ub.", StyleReduce, false},
}

func TestDecodeExceptions(t *testing.T) {
	conflict := Global{"ZODB.POSException", "ConflictError"}
	for _, tc := range conflictErrorPickles {
		t.Run(tc.name, func(t *testing.T) {
			v := decodeOne(t, tc.in, nil)
			if tc.reply {
				// (msgid, flags, '.reply', (Class, instance))
				msg, ok := v.(Tuple)
				if !ok || len(msg) != 4 {
					t.Fatalf("reply = %s, want a 4-tuple", Repr(v))
				}
				pair, ok := msg[3].(Tuple)
				if !ok || len(pair) != 2 || pair[0] != Value(conflict) {
					t.Fatalf("reply value = %s, want (ConflictError, instance)", Repr(msg[3]))
				}
				v = pair[1]
			}
			e, ok := AsException(v)
			if !ok {
				t.Fatalf("AsException(%s) failed", Repr(v))
			}
			if e.Class != conflict || e.Style != tc.style || len(e.Args) != 0 {
				t.Errorf("exception = %v (style %v, args %s), want %v style %v no args", e.Class, e.Style, Repr(e.Args), conflict, tc.style)
			}
			oid, _ := e.Attr("oid")
			msg, _ := e.Attr("message")
			serials, _ := e.Attr("serials")
			className, _ := e.Attr("class_name")
			if b, _ := AsBytes(oid); string(b) != "\x00\x00\x00\x00\x00\x00\x00\x01" {
				t.Errorf("oid = %s", Repr(oid))
			}
			if s, _ := AsText(msg); s != "database conflict error" {
				t.Errorf("message = %s", Repr(msg))
			}
			if s, ok := AsTuple(serials); !ok || len(s) != 2 || Repr(s[0]) != `'\x03\xc5\x8a\x1b\x11\x11\x11\x11'` {
				t.Errorf("serials = %s", Repr(serials))
			}
			if !IsNone(className) {
				t.Errorf("class_name = %s, want None", Repr(className))
			}
		})
	}
}

func TestDecodeErrorReplies(t *testing.T) {
	// A 3.10 server's POSKeyError reply to loadEx (docs/protocol.md, Errors;
	// the poskeyerror capture, there for another oid).
	in := "(K\x04K\x00U\x06.reply(cZODB.POSException\nPOSKeyError\ncZODB.POSException\n_recon\n(cZODB.POSException\nPOSKeyError\n}U\x04args(U\x08\x00\x00\x00\x00\x00\x00\x00\x00tstRtt."
	v := decodeOne(t, in, nil)
	pair := v.(Tuple)[3].(Tuple)
	e, ok := AsException(pair[1])
	if !ok || e.Class != (Global{"ZODB.POSException", "POSKeyError"}) || e.Style != StyleRecon ||
		len(e.Args) != 1 || Repr(e.Args[0]) != `'\x00\x00\x00\x00\x00\x00\x00\x00'` {
		t.Errorf("POSKeyError reply decoded as %s", Repr(pair[1]))
	}

	// Builtin error reply (KeyError, KeyError(oid)), docs/protocol.md, Test
	// vectors.
	in = "(K\x05K\x00U\x06.reply(cexceptions\nKeyError\ncexceptions\nKeyError\n(U\x08\x00\x00\x00\x00\x00\x00\x00\x05tRtt."
	v = decodeOne(t, in, nil)
	pair = v.(Tuple)[3].(Tuple)
	e, ok = AsException(pair[1])
	if !ok || e.Class != (Global{"exceptions", "KeyError"}) || e.Style != StyleReduce || len(e.Args) != 1 {
		t.Errorf("KeyError reply decoded as %s", Repr(pair[1]))
	}

	// Python 3 / ZEO 4 on Python 3 (protocol 3), written by CPython 3.11.
	in = "\x80\x03(K\x11K\x00X\x06\x00\x00\x00.replycZODB.POSException\nConflictError\nq\x00cZODB.POSException\n_recon\nq\x01h\x00}q\x02(X\x07\x00\x00\x00messageq\x03X\x17\x00\x00\x00database conflict errorq\x04X\x03\x00\x00\x00oidq\x05C\x08\x00\x00\x00\x00\x00\x00\x00\x01q\x06X\x04\x00\x00\x00argsq\x07)u\x86q\x08Rq\t\x86q\nt."
	v = decodeOne(t, in, nil)
	pair = v.(Tuple)[3].(Tuple)
	e, ok = AsException(pair[1])
	if !ok || e.Class != (Global{"ZODB.POSException", "ConflictError"}) || e.Style != StyleRecon {
		t.Fatalf("py3 ConflictError reply decoded as %s", Repr(pair[1]))
	}
	if oid, _ := e.Attr("oid"); Repr(oid) != `b'\x00\x00\x00\x00\x00\x00\x00\x01'` {
		t.Errorf("py3 ConflictError oid = %s", Repr(oid))
	}
}

func TestDecoderConsecutivePickles(t *testing.T) {
	in := []byte("K\x01.\x80\x03X\x01\x00\x00\x00a.N.")
	d := NewDecoder(in, nil)
	var got []Value
	for {
		v, err := d.Decode()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, v)
	}
	if diff := cmp.Diff([]Value{int64(1), "a", None}, got, valueOpts); diff != "" {
		t.Errorf("consecutive pickles mismatch (-want +got):\n%s", diff)
	}

	// Unmarshal ignores what follows STOP, as pickle.loads does.
	if v, err := Unmarshal([]byte("K\x07.garbage")); err != nil || v != Value(int64(7)) {
		t.Errorf("Unmarshal with trailing bytes = %v, %v", v, err)
	}
	if _, err := Unmarshal(nil); !errors.Is(err, ErrTruncated) {
		t.Errorf("Unmarshal(nil) = %v, want ErrTruncated", err)
	}

	// An error is sticky.
	d = NewDecoder([]byte("\xffK\x01."), nil)
	_, err1 := d.Decode()
	_, err2 := d.Decode()
	if !errors.Is(err1, ErrUnknownOpcode) || err2 != err1 {
		t.Errorf("errors = %v, %v; want the same ErrUnknownOpcode twice", err1, err2)
	}
}

func TestDecodeFindGlobal(t *testing.T) {
	refuse := errors.New("not on the allow list")
	var seen []string
	opts := &DecoderOptions{FindGlobal: func(module, name string) (Value, error) {
		seen = append(seen, module+"."+name)
		switch module {
		case "ZODB.POSException":
			return nil, nil // keep symbolic
		case "builtins":
			return "resolved " + name, nil
		}
		return nil, refuse
	}}
	v := decodeOne(t, "\x80\x03(cZODB.POSException\nPOSKeyError\ncbuiltins\nset\nt.", opts)
	want := Tuple{Global{"ZODB.POSException", "POSKeyError"}, "resolved set"}
	if diff := cmp.Diff(Value(want), v, valueOpts); diff != "" {
		t.Errorf("mismatch (-want +got):\n%s", diff)
	}

	for _, in := range []string{
		"(K\x01cos\nsystem\nt.",                 // GLOBAL
		"\x80\x04\x8c\x02os\x8c\x06system\x93.", // STACK_GLOBAL
		"(U\x02lsios\nsystem\n.",                // INST
		"\x80\x02\x82\x01.",                     // EXT1
	} {
		_, err := NewDecoder([]byte(in), opts).Decode()
		var de *DecodeError
		if !errors.Is(err, ErrGlobalRefused) || !errors.Is(err, refuse) || !errors.As(err, &de) {
			t.Errorf("Decode(%q) = %v, want ErrGlobalRefused wrapping the hook's error", in, err)
		}
	}
	if want := "builtins.set"; len(seen) < 2 || seen[1] != want {
		t.Errorf("hook saw %v", seen)
	}
}

func TestDecodePersistentLoad(t *testing.T) {
	opts := &DecoderOptions{PersistentLoad: func(pid Value) (Value, error) {
		if t, ok := pid.(Tuple); ok && len(t) == 2 {
			return "obj " + Repr(t[0]), nil
		}
		return nil, errors.New("bad pid")
	}}
	v := decodeOne(t, "(U\x01\x07cm\nC\ntQ.", opts)
	if v != Value(`obj '\x07'`) {
		t.Errorf("PersistentLoad result = %s", Repr(v))
	}
	_, err := NewDecoder([]byte("Pfoo\n."), opts).Decode()
	if !errors.Is(err, ErrPersistentLoad) || !strings.Contains(err.Error(), "bad pid") {
		t.Errorf("failing PersistentLoad = %v, want ErrPersistentLoad", err)
	}
}

func TestDecodeAliasBytes(t *testing.T) {
	in := []byte("\x80\x03(C\x03abcU\x03defB\x03\x00\x00\x00ghit.")
	v := decodeOne(t, string(in), nil)
	_ = v
	d := NewDecoder(in, &DecoderOptions{AliasBytes: true})
	av, err := d.Decode()
	if err != nil {
		t.Fatal(err)
	}
	copied, _ := Unmarshal(in)
	in[5], in[10], in[18] = 'A', 'D', 'G' // modify the input under the decoded values
	got := Repr(av)
	if want := `(b'Abc', 'Def', b'Ghi')`; got != want {
		t.Errorf("aliased values after changing the input = %s, want %s", got, want)
	}
	if got, want := Repr(copied), `(b'abc', 'def', b'ghi')`; got != want {
		t.Errorf("copied values after changing the input = %s, want %s", got, want)
	}
	// An aliased value cannot grow into the rest of the input.
	b, _ := AsBytes(av.(Tuple)[0])
	if cap(b) != len(b) {
		t.Errorf("aliased bytes have capacity %d beyond their length %d", cap(b), len(b))
	}
	_ = append(b, 'X')
	if in[8] != 'U' {
		t.Errorf("appending to aliased bytes overwrote the input")
	}
}

// hostileCases are malformed or malicious inputs: each must fail with
// the sentinel at the offset given, without panicking or allocating
// according to a length field.
var hostileCases = []struct {
	name   string
	in     string
	err    error
	offset int
}{
	{"empty after PROTO", "\x80\x03", ErrTruncated, 2},
	{"no STOP", "K\x01", ErrTruncated, 2},
	{"truncated BININT", "J\x01\x02", ErrTruncated, 0},
	{"truncated PROTO", "\x80", ErrTruncated, 0},
	{"BINUNICODE 1 MiB with 12 bytes", "\x80\x03(K\x01K\x00K\x02K\x03X\x00\x00\x10\x00hello world!", ErrTruncated, 11},
	{"BINBYTES 4 GiB", "B\xff\xff\xff\xff", ErrTruncated, 0},
	{"BINBYTES8 huge", "\x8e\xff\xff\xff\xff\xff\xff\xff\xffabc", ErrTruncated, 0},
	{"BINUNICODE8 huge", "\x8d\x00\x00\x00\x00\x00\x00\x00\x80", ErrTruncated, 0},
	{"BYTEARRAY8 huge", "\x96\x00\x00\x00\x00\x01\x00\x00\x00", ErrTruncated, 0},
	{"BINSTRING negative", "T\xff\xff\xff\xffabc", ErrBadValue, 0},
	{"BINSTRING too long", "T\x00\x00\x00\x01abc", ErrTruncated, 0},
	{"SHORT_BINSTRING too long", "U\x05abc", ErrTruncated, 0},
	{"LONG4 huge", "\x8b\xff\xff\xff\x7f\x00", ErrTruncated, 0},
	{"LONG4 negative", "\x8b\xff\xff\xff\xff", ErrBadValue, 0},
	{"LONG1 too long", "\x8a\x09\x01", ErrTruncated, 0},
	{"FRAME longer than the input", "\x80\x04\x95\x00\x00\x00\x00\x01\x00\x00\x00N.", ErrTruncated, 2},
	{"unknown opcode", "K\x01\xff.", ErrUnknownOpcode, 2},
	{"unknown opcode NUL", "\x00", ErrUnknownOpcode, 0},
	{"unsupported protocol", "\x80\x06N.", ErrBadValue, 0},
	{"STOP on empty stack", ".", ErrStackUnderflow, 0},
	{"STOP right after MARK", "K\x01(.", ErrStackUnderflow, 3},
	{"POP on empty stack", "0", ErrStackUnderflow, 0},
	{"APPEND without list", "K\x01a.", ErrStackUnderflow, 2},
	{"APPEND across a MARK", "](K\x01a.", ErrStackUnderflow, 4},
	{"TUPLE2 with one item", "K\x01\x86.", ErrStackUnderflow, 2},
	{"TUPLE3 across a MARK", "K\x01K\x02(K\x03\x87.", ErrStackUnderflow, 7},
	{"SETITEM with two items", "}K\x01s.", ErrStackUnderflow, 3},
	{"REDUCE alone", "R.", ErrStackUnderflow, 0},
	{"BUILD alone", "}b.", ErrStackUnderflow, 1},
	{"DUP on empty stack", "2.", ErrStackUnderflow, 0},
	{"BINPERSID on empty stack", "Q.", ErrStackUnderflow, 0},
	{"PUT on empty stack", "q\x00.", ErrStackUnderflow, 0},
	{"STACK_GLOBAL with one item", "\x8c\x01a\x93.", ErrStackUnderflow, 3},
	{"OBJ with no class", "(o.", ErrStackUnderflow, 1},
	{"NEWOBJ_EX with two items", ")}\x92.", ErrStackUnderflow, 2},
	{"TUPLE without MARK", "K\x01t.", ErrNoMark, 2},
	{"APPENDS without MARK", "]e.", ErrNoMark, 1},
	{"SETITEMS without MARK", "}u.", ErrNoMark, 1},
	{"POP_MARK without MARK", "1.", ErrNoMark, 0},
	{"DICT without MARK", "d.", ErrNoMark, 0},
	{"INST without MARK", "im\nC\n.", ErrNoMark, 0},
	{"GET unknown key", "h\x05.", ErrMemo, 0},
	{"LONG_BINGET of 2**32-1", "N0j\xff\xff\xff\xff.", ErrMemo, 2},
	{"GET key not a number", "gx\n.", ErrMemo, 0},
	{"PUT negative key", "Np-1\n.", ErrMemo, 1},
	{"APPEND to a dict", "}K\x01a.", ErrBadValue, 3},
	{"APPENDS to a tuple", ")(K\x01e.", ErrBadValue, 4},
	{"SETITEM to a list", "]K\x01K\x02s.", ErrBadValue, 5},
	{"SETITEMS odd count", "}(K\x01u.", ErrBadValue, 4},
	{"DICT odd count", "(K\x01d.", ErrBadValue, 3},
	{"ADDITEMS to a frozenset", "(\x91(K\x01\x90.", ErrBadValue, 5},
	{"ADDITEMS to a list", "](K\x01\x90.", ErrBadValue, 4},
	{"BUILD on an int", "K\x01}U\x01aK\x01sb.", ErrBadValue, 9},
	{"REDUCE with a list of args", "cm\nf\n]R.", ErrBadValue, 6},
	{"NEWOBJ with an int for args", "cm\nC\nK\x01\x81.", ErrBadValue, 7},
	{"STACK_GLOBAL with an int", "K\x01K\x02\x93.", ErrBadValue, 4},
	{"unhashable dict key", "}]K\x01s.", ErrUnhashable, 4},
	{"unhashable key in SETITEMS", "}(}K\x01u.", ErrBadValue, 5},
	{"unhashable set member", "\x8f(]\x90.", ErrUnhashable, 3},
	{"unhashable frozenset member", "(]\x91.", ErrUnhashable, 2},
	{"unhashable set() member", "c__builtin__\nset\n(]]atR.", ErrUnhashable, 22},
	{"unhashable tuple key", "}(]tK\x01s.", ErrBadValue, 6},
	{"STRING unquoted", "Sabc\n.", ErrBadValue, 0},
	{"STRING mismatched quotes", "S'abc\"\n.", ErrBadValue, 0},
	{"STRING bad \\x escape", "S'\\x4'\n.", ErrBadValue, 0},
	{"STRING trailing backslash", "S'ab\\'\n.", ErrBadValue, 0},
	{"STRING without newline", "S'abc'", ErrTruncated, 0},
	{"UNICODE truncated \\u", "V\\u12\n.", ErrBadValue, 0},
	{"UNICODE \\U out of range", "V\\U00110000\n.", ErrBadValue, 0},
	{"INT not a number", "Ifoo\n.", ErrBadValue, 0},
	{"INT empty", "I\n.", ErrBadValue, 0},
	{"LONG not a number", "L12a\n.", ErrBadValue, 0},
	{"LONG too many digits", "L" + strings.Repeat("9", 5000) + "\n.", ErrBadValue, 0},
	{"FLOAT not a number", "Fx\n.", ErrBadValue, 0},
	{"GLOBAL without newline", "cmodule", ErrTruncated, 0},
	{"GLOBAL with one line", "cmodule\n", ErrTruncated, 0},
	{"EXT code 0", "\x82\x00.", ErrBadValue, 0},
	{"EXT4 negative code", "\x84\xff\xff\xff\xff.", ErrBadValue, 0},
	{"NEXT_BUFFER", "\x80\x05\x97.", ErrOutOfBandBuffer, 2},
	{"READONLY_BUFFER", "\x80\x05C\x01a\x98.", ErrOutOfBandBuffer, 5},
	{"NEWOBJ_EX with a list for kwargs", "cm\nC\n)]\x92.", ErrBadValue, 7},
}

func TestDecodeHostile(t *testing.T) {
	for _, tc := range hostileCases {
		t.Run(tc.name, func(t *testing.T) {
			for _, alias := range []bool{false, true} {
				v, err := NewDecoder([]byte(tc.in), &DecoderOptions{AliasBytes: alias}).Decode()
				if !errors.Is(err, tc.err) {
					t.Fatalf("Decode(%q) = %s, %v; want %v", tc.in, Repr(v), err, tc.err)
				}
				var de *DecodeError
				if !errors.As(err, &de) {
					t.Fatalf("error %v is not a *DecodeError", err)
				}
				if de.Offset != tc.offset {
					t.Errorf("error offset = %d, want %d (%v)", de.Offset, tc.offset, err)
				}
				if tc.offset < len(tc.in) && !errors.Is(err, ErrTruncated) && de.Opcode != tc.in[tc.offset] {
					t.Errorf("error opcode = %#x, want %#x", de.Opcode, tc.in[tc.offset])
				}
			}
		})
	}
}

func TestDecodeErrorMessage(t *testing.T) {
	in := "\x80\x03(K\x01K\x00K\x02K\x03X\x00\x00\x10\x00hello world!"
	_, err := Unmarshal([]byte(in))
	want := "pickle: opcode 'X' (BINUNICODE) at offset 11: truncated: need 1048576 bytes, 12 remain"
	if err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant    %s", err, want)
	}
	for in, want := range map[string]string{
		"K\x01\xff.":   "pickle: opcode 0xff at offset 2: unknown opcode",
		"\x80\x03":     "pickle: at offset 2: truncated: input ends before the STOP opcode",
		"}]K\x01s.":    "pickle: opcode 's' (SETITEM) at offset 4: bad value: unhashable dict key of type list",
		"\x80\x05\x97": "pickle: opcode 0x97 (NEXT_BUFFER) at offset 2: out-of-band buffers not supported",
	} {
		if _, err := Unmarshal([]byte(in)); err == nil || err.Error() != want {
			t.Errorf("Unmarshal(%q) error = %v\nwant %s", in, err, want)
		}
	}
}

func TestDecodeMaxDepth(t *testing.T) {
	deep := func(open, close string, n int) []byte {
		return []byte(strings.Repeat(open, n) + strings.Repeat(close, n) + ".")
	}
	cases := []struct {
		name string
		in   []byte
	}{
		{"nested MARKs", deep("(", "t", 2000)},
		{"nested TUPLE1", []byte("N" + strings.Repeat("\x85", 2000) + ".")},
		{"nested lists", []byte(strings.Repeat("]", 2000) + strings.Repeat("a", 1999) + ".")},
		{"nested dicts", []byte(strings.Repeat("}K\x01", 2000) + "N" + strings.Repeat("s", 2000) + ".")},
		{"nested objects", []byte("N" + strings.Repeat("cm\nC\n\x85R", 1000) + ".")},
		{"nested persistent ids", []byte("N" + strings.Repeat("Q", 2000) + ".")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Unmarshal(tc.in)
			if !errors.Is(err, ErrTooDeep) {
				t.Errorf("Unmarshal = %v, want ErrTooDeep", err)
			}
			// The limit can be raised.
			if _, err := NewDecoder(tc.in, &DecoderOptions{MaxDepth: 5000}).Decode(); err != nil {
				t.Errorf("with MaxDepth 5000: %v", err)
			}
		})
	}
	// Depth up to the limit is fine.
	if _, err := NewDecoder([]byte("N"+strings.Repeat("\x85", 10)+"."), &DecoderOptions{MaxDepth: 10}).Decode(); err != nil {
		t.Errorf("10 nested tuples with MaxDepth 10: %v", err)
	}
	if _, err := NewDecoder([]byte("N"+strings.Repeat("\x85", 11)+"."), &DecoderOptions{MaxDepth: 10}).Decode(); !errors.Is(err, ErrTooDeep) {
		t.Errorf("11 nested tuples with MaxDepth 10: %v, want ErrTooDeep", err)
	}
}

func TestDecodeHashBudget(t *testing.T) {
	// DUP and TUPLE2 double a tuple in two bytes: 60 rounds make a key
	// of 2^60 items, which hashing would never finish.
	huge := "N" + strings.Repeat("2\x86", 60)
	for name, in := range map[string]string{
		"dict key":           "}" + huge + "K\x01s.",
		"SETITEMS key":       "}(" + huge + "K\x01u.",
		"set member":         "\x8f(" + huge + "\x90.",
		"frozenset member":   "(" + huge + "\x91.",
		"set() member":       "c__builtin__\nset\n]" + huge + "a\x85R.",
		"persistent id key":  "}" + huge + "QK\x01s.",
		"key in BUILD merge": "cm\nC\n)R}b}" + huge + "K\x01sb.",
	} {
		_, err := Unmarshal([]byte(in))
		if !errors.Is(err, ErrTooComplex) {
			t.Errorf("%s: Unmarshal = %v, want ErrTooComplex", name, err)
		}
	}
	// Ordinary large dicts are well within the budget.
	var b strings.Builder
	b.WriteString("}(")
	for i := range 100000 {
		b.WriteString("(K\x01J" + string(binary.LittleEndian.AppendUint32(nil, uint32(i))) + "t")
		b.WriteString("N")
	}
	b.WriteString("u.")
	v, err := Unmarshal([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if n := v.(*Dict).Len(); n != 100000 {
		t.Errorf("dict has %d keys, want 100000", n)
	}
}

// Decoded values can be printed whatever the input made of them.
func TestReprOfHostileValues(t *testing.T) {
	for name, in := range map[string]string{
		// A tuple holding 32 times one tuple, 8 levels deep.
		"shared tuples": "N" + strings.Repeat("q\x00("+strings.Repeat("h\x00", 32)+"t", 8) + ".",
		// An exception whose state holds the exception itself.
		"exception holding itself": "cm\nE\n)Rq\x00}U\x04selfh\x00sb.",
		// A list holding itself.
		"recursive list": "]q\x00h\x00a.",
	} {
		v, err := Unmarshal([]byte(in))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if r := Repr(v); len(r) > 10000 {
			t.Errorf("%s: Repr is %d bytes long", name, len(r))
		}
		if e, ok := AsException(v); ok {
			_ = e.Error()
		}
	}
}

func TestDecodeMemoHostileKeys(t *testing.T) {
	// A huge memo key must not size anything: it is stored sparsely.
	in := "K\x07r\xff\xff\xff\xff0j\xff\xff\xff\xff."
	allocs := testing.AllocsPerRun(10, func() {
		v, err := Unmarshal([]byte(in))
		if err != nil || v != Value(int64(7)) {
			t.Fatalf("Unmarshal = %v, %v", v, err)
		}
	})
	if allocs > 10 {
		t.Errorf("decoding a memo key of 2**32-1 took %v allocations", allocs)
	}
	d := NewDecoder([]byte(in), nil)
	if _, err := d.Decode(); err != nil {
		t.Fatal(err)
	}
	if len(d.memo.dense) != 0 || len(d.memo.sparse) != 1 {
		t.Errorf("memo has %d dense and %d sparse entries, want 0 and 1", len(d.memo.dense), len(d.memo.sparse))
	}

	// Many PUTs of one value under ever larger keys: memory follows the
	// number of PUTs, not the keys.
	var b strings.Builder
	b.WriteString("N")
	for i := range 1000 {
		b.WriteString("p" + strconv.Itoa(i*1000003) + "\n")
	}
	b.WriteString(".")
	d = NewDecoder([]byte(b.String()), nil)
	if _, err := d.Decode(); err != nil {
		t.Fatal(err)
	}
	if n := d.memo.len(); n != 1000 {
		t.Errorf("memo holds %d entries, want 1000", n)
	}
	if n := len(d.memo.dense); n > 2*d.memo.count+16 {
		t.Errorf("dense memo of %d slots for %d values", n, d.memo.count)
	}

	// Python 2's cPickle numbers memo entries from 1, with holes when
	// it memoizes values it does not write: those stay dense.
	d = NewDecoder(record(t, "pm50-p1"), nil)
	for range 2 {
		if _, err := d.Decode(); err != nil {
			t.Fatal(err)
		}
	}
	if d.memo.count < 100 || len(d.memo.sparse) != 0 {
		t.Errorf("cPickle's memo keys: %d dense, %d sparse", d.memo.count, len(d.memo.sparse))
	}

	// A key stored sparsely, then covered by the dense part, is one key.
	in = "K\x07r\x14\x00\x00\x00" // 7 under key 20: beyond 2*0+16
	for k := range 20 {
		in += "q" + string(rune(k)) // fill keys 0..19: dense grows past 20
	}
	in += "K\x08q\x14h\x14."
	d = NewDecoder([]byte(in), nil)
	if v, err := d.Decode(); err != nil || v != Value(int64(8)) {
		t.Errorf("Decode = %v, %v; want 8", v, err)
	}
	if n := d.memo.len(); n != 21 {
		t.Errorf("memo holds %d keys, want 21", n)
	}
}

func TestDecodeLengthsDoNotAllocate(t *testing.T) {
	// Length fields of gigabytes fail before allocating anything sized by
	// them.
	for _, in := range []string{
		"B\xff\xff\xff\x7f", "\x8e\xff\xff\xff\xff\xff\xff\xff\x7f", "X\xff\xff\xff\x7f",
		"\x96\xff\xff\xff\xff\xff\xff\xff\x7f", "\x8b\xff\xff\xff\x7f", "T\xff\xff\xff\x7f",
	} {
		var ms1, ms2 runtimeMemStats
		readMemStats(&ms1)
		_, err := Unmarshal([]byte(in))
		readMemStats(&ms2)
		if !errors.Is(err, ErrTruncated) {
			t.Errorf("Unmarshal(%q) = %v, want ErrTruncated", in, err)
		}
		if grew := ms2.TotalAlloc - ms1.TotalAlloc; grew > 1<<20 {
			t.Errorf("Unmarshal(%q) allocated %d bytes", in, grew)
		}
	}
}

// TestDecodeCaptures decodes every pickle that real ZEO clients and
// servers sent in the captures of internal/captures: each is a ZEO message, a 4-tuple ending exactly at
// the end of the frame, and each ZODB record it carries (class pickle +
// state pickle) decodes too.
func TestDecodeCaptures(t *testing.T) {
	frames := capturePickles(t)
	if len(frames) < 100 {
		t.Fatalf("only %d pickle frames in the captures", len(frames))
	}
	records := 0
	for name, b := range frames {
		d := NewDecoder(b, nil)
		v, err := d.Decode()
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if d.Offset() != len(b) {
			t.Errorf("%s: pickle ends at %d of %d bytes", name, d.Offset(), len(b))
		}
		msg, ok := v.(Tuple)
		if !ok || len(msg) != 4 {
			t.Errorf("%s: not a 4-tuple: %s", name, Repr(v))
			continue
		}
		if _, ok := AsText(msg[2]); !ok {
			t.Errorf("%s: method is not text: %s", name, Repr(msg[2]))
		}
		va, err := NewDecoder(b, &DecoderOptions{AliasBytes: true}).Decode()
		if err != nil || Repr(va) != Repr(v) {
			t.Errorf("%s: AliasBytes decodes differently: %v\n%s\n%s", name, err, Repr(va), Repr(v))
		}
		walkValue(v, func(x Value) {
			p, ok := AsBytes(x)
			if !ok || !looksLikeRecord(p) {
				return
			}
			records++
			d := NewDecoder(p, nil)
			_, err1 := d.Decode()
			_, err2 := d.Decode()
			if err1 != nil || err2 != nil || d.Offset() != len(p) {
				t.Errorf("%s: record %q...: %v, %v", name, p[:20], err1, err2)
			}
		})
	}
	if records < 20 {
		t.Errorf("only %d ZODB records found in the captures", records)
	}
}

// looksLikeRecord tells ZODB records (a class pickle starting with a
// GLOBAL, a MARK or PROTO) from oids, tids and names.
func looksLikeRecord(p []byte) bool {
	if len(p) < 20 {
		return false
	}
	switch p[0] {
	case opProto, opMark:
		return true
	case opGlobal:
		return bytes.IndexByte(p, '\n') > 0
	}
	return false
}

func walkValue(v Value, f func(Value)) {
	f(v)
	switch v := v.(type) {
	case Tuple:
		for _, x := range v {
			walkValue(x, f)
		}
	case *List:
		for _, x := range *v {
			walkValue(x, f)
		}
	case *Dict:
		for _, it := range v.Items() {
			walkValue(it.Key, f)
			walkValue(it.Value, f)
		}
	}
}

// capturePickles returns the pickle payloads of every capture, keyed by
// "capture:frame". Frames that are not pickles (version strings, msgpack)
// are skipped: a pickle frame starts with MARK (protocols 0 and 1) or
// PROTO.
func capturePickles(tb testing.TB) map[string][]byte {
	tb.Helper()
	out := make(map[string][]byte)
	for _, name := range captures.Names() {
		for i, fr := range captures.MustLoad(tb, name) {
			if b := fr.Payload; len(b) > 0 && (b[0] == opMark || b[0] == opProto) {
				out[name+":"+strconv.Itoa(i+1)] = b
			}
		}
	}
	return out
}

type runtimeMemStats = runtime.MemStats

func readMemStats(m *runtime.MemStats) { runtime.ReadMemStats(m) }

// Decoded values must not keep memory alive that the user cannot see:
// without AliasBytes, not the input; and a byte string taken out of a
// message (a tid) not the message's other, large values.
func TestDecodeRetention(t *testing.T) {
	collected := func(p *byte) bool {
		w := weak.Make(p)
		for range 5 {
			runtime.GC()
			if w.Value() == nil {
				return true
			}
		}
		return false
	}

	for _, name := range []string{"Unmarshal", "Decoder"} {
		input := loadBeforeReply(1 << 20)
		inputStart := &input[0]
		var v Value
		var err error
		if name == "Unmarshal" {
			v, err = Unmarshal(input)
		} else {
			v, err = NewDecoder(input, nil).Decode()
		}
		if err != nil {
			t.Fatal(err)
		}
		input = nil
		if !collected(inputStart) {
			t.Errorf("%s: the decoded value keeps the input alive", name)
		}
		runtime.KeepAlive(v)
	}

	v, err := Unmarshal(loadBeforeReply(1 << 20))
	if err != nil {
		t.Fatal(err)
	}
	args := v.(Tuple)[3].(Tuple)
	data, _ := AsBytes(args[0])
	tid, _ := AsBytes(args[1])
	dataStart := &data[0]
	v, args, data = nil, nil, nil
	if !collected(dataStart) {
		t.Errorf("a tid taken from a reply keeps the reply's 1 MiB of data alive")
	}
	if len(tid) != 8 {
		t.Errorf("tid = %x", tid)
	}
}
