package record

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
)

// Records stored by real ZODB clients, from the captures in
// the workspace's shared/vectors (zeo5-full, zeo310-full): a PersistentMapping whose
// state is {'data': {'i': 0, 'rev': 2}}.
const (
	// ZODB 5.8 on Python 3.11: protocol 3, text keys, one memo across
	// both pickles (the state pickle's memo numbering continues at q2).
	capturedPy3 = "80036370657273697374656e742e6d617070696e670a50657273697374656e744d617070696e670a71004e8671012e" +
		"80037d710258040000006461746171037d71042858010000006971054b00580300000072657671064b0275732e"
	// ZODB 3.10 on Python 2.7: protocol 1, py2 str keys.
	capturedPy2 = "286370657273697374656e742e6d617070696e670a50657273697374656e744d617070696e670a71004e7471012e" +
		"7d710255046461746171037d71042855016971054b00550372657671064b0275732e"
)

func mustHex(t *testing.T, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestDecodeCapturedRecords(t *testing.T) {
	for _, tc := range []struct {
		name, hex string
		key       pickle.Value // how the writer's Python spelled 'data'
	}{
		{"python3", capturedPy3, "data"},
		{"python2", capturedPy2, pickle.ByteString("data")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, err := Decode(mustHex(t, tc.hex))
			if err != nil {
				t.Fatal(err)
			}
			if rec.Class != "persistent.mapping.PersistentMapping" || rec.ClassArgs != nil || rec.Trailing != 0 {
				t.Errorf("class %q args %v trailing %d", rec.Class, rec.ClassArgs, rec.Trailing)
			}
			state, ok := rec.State.(*pickle.Dict)
			if !ok {
				t.Fatalf("state %s", pickle.Repr(rec.State))
			}
			data, ok := state.Get(tc.key)
			if !ok {
				t.Fatalf("no %s key in %s", pickle.Repr(tc.key), pickle.Repr(state))
			}
			inner, _ := data.(*pickle.Dict)
			if v, _ := inner.GetString("rev"); v != int64(2) {
				t.Errorf("data = %s", pickle.Repr(data))
			}
		})
	}
}

// Encode writes records byte for byte as ZODB does.
func TestEncodeMatchesZODB(t *testing.T) {
	class := pickle.Global{Module: "persistent.mapping", Name: "PersistentMapping"}
	state := pickle.DictOf("data", pickle.DictOf("i", int64(0), "rev", int64(2)))
	for _, tc := range []struct {
		name string
		opts pickle.EncoderOptions
		want string
	}{
		{"python3", pickle.EncoderOptions{Protocol: 3, Dialect: pickle.Python3, Memo: true}, capturedPy3},
	} {
		// The Python 2 record of the capture was pickled with the pure
		// Python pickle module (memo from 0); ZODB's own writer on Python
		// 2 is cPickle: TestReencodeVectors checks that one.
		got, err := Encode(pickle.Tuple{class, pickle.None}, state, tc.opts)
		if err != nil {
			t.Fatal(err)
		}
		if want := mustHex(t, tc.want); !bytes.Equal(got, want) {
			t.Errorf("%s:\n got %x\nwant %x", tc.name, got, want)
		}
	}
}

func TestClassForms(t *testing.T) {
	g := pickle.Global{Module: "myapp", Name: "Thing"}
	for _, tc := range []struct {
		name     string
		meta     pickle.Value
		class    string
		withArgs bool
	}{
		{"global", g, "myapp.Thing", false},
		{"global and None", pickle.Tuple{g, pickle.None}, "myapp.Thing", false},
		{"global and args", pickle.Tuple{g, pickle.Tuple{int64(1)}}, "myapp.Thing", true},
		{"persistent class", pickle.Tuple{pickle.Tuple{pickle.ByteString("myapp"), pickle.ByteString("Thing")}, pickle.None}, "myapp.Thing", false},
		{"something else", pickle.Tuple{int64(1), int64(2), int64(3)}, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for _, opts := range []pickle.EncoderOptions{
				{Protocol: 1, Dialect: pickle.Python2, Memo: true},
				{Protocol: 3, Dialect: pickle.Python3, Memo: true},
			} {
				enc := pickle.NewEncoder(opts)
				data, err := enc.Append(nil, tc.meta)
				if err != nil {
					t.Fatal(err)
				}
				data, _ = enc.Append(data, pickle.DictOf("x", int64(1)))
				rec, err := Decode(data)
				if err != nil {
					t.Fatal(err)
				}
				if rec.Class != tc.class || (rec.ClassArgs != nil) != tc.withArgs {
					t.Errorf("protocol %d: class %q args %v", opts.Protocol, rec.Class, rec.ClassArgs)
				}
			}
		})
	}
}

func TestParseRef(t *testing.T) {
	oid := zodb.OIDFromUint64(0x2a)
	raw := pickle.Bytes(oid.Bytes())
	str := pickle.ByteString(oid.Bytes())
	g := pickle.Global{Module: "m", Name: "C"}
	for _, tc := range []struct {
		name  string
		id    pickle.Value
		want  string
		local bool
	}{
		{"bare py3 oid", raw, "-> oid 0x2a", true},
		{"bare py2 oid", str, "-> oid 0x2a", true},
		{"oid and class", pickle.Tuple{raw, g}, "-> oid 0x2a (m.C)", true},
		{"oid and module/name", pickle.Tuple{str, pickle.Tuple{"m", "C"}}, "-> oid 0x2a (m.C)", true},
		{"old weak ref", &pickle.List{str}, "-> weak oid 0x2a", true},
		{"weak ref", &pickle.List{"w", pickle.Tuple{raw}}, "-> weak oid 0x2a", true},
		{"weak ref elsewhere", &pickle.List{"w", pickle.Tuple{raw, "other"}}, `-> weak oid 0x2a in database "other"`, false},
		{"cross-database", &pickle.List{"n", pickle.Tuple{"other", raw}}, `-> oid 0x2a in database "other"`, false},
		{"cross-database with class", &pickle.List{"m", pickle.Tuple{"other", raw, g}}, `-> oid 0x2a in database "other" (m.C)`, false},
		{"short oid", pickle.Bytes("abc"), "-> persistent id b'abc'", false},
		{"unknown list form", &pickle.List{"z", pickle.Tuple{raw}}, "-> persistent id", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ParseRef(tc.id)
			if s := r.String(); !strings.HasPrefix(s, tc.want) {
				t.Errorf("got %q, want %q", s, tc.want)
			}
			if r.Local() != tc.local {
				t.Errorf("Local() = %v", r.Local())
			}
		})
	}
}

func TestRecordErrors(t *testing.T) {
	classOnly, _ := pickle.Marshal(pickle.Global{Module: "m", Name: "C"}, pickle.EncoderOptions{Protocol: 3})
	for _, tc := range []struct {
		name string
		data []byte
		want string
	}{
		{"empty", nil, "empty record"},
		{"not a pickle", []byte("hello, ZEO"), "class pickle"},
		{"class only", classOnly, "no state pickle"},
		{"truncated state", append(append([]byte{}, classOnly...), 0x80, 0x03, '}'), "state pickle"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Decode(tc.data)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one mentioning %q", err, tc.want)
			}
			if tc.name == "not a pickle" {
				var de *pickle.DecodeError
				if !errors.As(err, &de) {
					t.Errorf("error %T is not a *pickle.DecodeError", err)
				}
			}
		})
	}
}

func TestClassOf(t *testing.T) {
	g := pickle.Global{Module: "myapp", Name: "Thing"}
	for _, tc := range []struct {
		meta pickle.Value
		want string
	}{
		{g, "myapp.Thing"},
		{pickle.Tuple{g, pickle.None}, "myapp.Thing"},
		{pickle.Tuple{g, pickle.Tuple{int64(1)}}, "myapp.Thing"},
		{pickle.Tuple{pickle.Tuple{"myapp", "Thing"}, pickle.None}, "myapp.Thing"},
		{int64(3), ""},
	} {
		data, err := Encode(tc.meta, pickle.None, Py2.EncoderOptions())
		if err != nil {
			t.Fatal(err)
		}
		if got := ClassOf(data); got != tc.want {
			t.Errorf("ClassOf(%s) = %q, want %q", pickle.Repr(tc.meta), got, tc.want)
		}
	}
	if ClassOf([]byte("garbage")) != "" || ClassOf(nil) != "" {
		t.Error("garbage has a class")
	}
}

// sharedTuples is a tuple of n levels, each holding the level below
// twice, as a pickle's memo can share it: 2^n leaves from n tuples.
func sharedTuples(n int) pickle.Value {
	var v pickle.Value = pickle.Unicode("leaf")
	for range n {
		v = pickle.Tuple{v, v}
	}
	return v
}

// A value shared many times over neither blows up re-encoding (sharing is
// kept) nor the JSON view (bounded, with an error).
func TestSharedValuesStayBounded(t *testing.T) {
	state := sharedTuples(40) // 2^40 leaves when unshared
	data, err := EncodeObject("myapp.Hostile", state, Py3)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 4096 {
		t.Errorf("encoding a 40-level shared tuple took %d bytes: the sharing was lost", len(data))
	}
	rec, err := Decode(data)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rec.Encode(Py2); err != nil {
		t.Fatal(err)
	}
	if _, err := JSON(rec.State); !errors.Is(err, ErrJSON) {
		t.Errorf("JSON of a 40-level shared tuple = %v, want ErrJSON", err)
	}
	if out, err := AppendJSON(nil, sharedTuples(10), &JSONOptions{MaxBytes: 1 << 20}); err != nil || len(out) < 1<<10 {
		t.Errorf("a 10-level one under a 1 MiB bound: %d bytes, %v", len(out), err)
	}
}
