package pickle

import (
	"bytes"
	"fmt"
	"math/big"
	"slices"
	"strconv"
	"testing"

	"github.com/google/go-cmp/cmp"
	gopickle "github.com/nlpodyssey/gopickle/pickle"
	gptypes "github.com/nlpodyssey/gopickle/types"
)

// This file cross-checks the decoder against github.com/nlpodyssey/gopickle
// on the same inputs. The two models differ (gopickle has one string type
// for py2 str and text, resolves classes through hooks, and calls them), so
// both results are converted to a neutral form first: nested []any of
// strings, where a py2 str and a text string compare equal.

// gpClass is what gopickle's FindClass returns for every global: calling it
// (REDUCE, OBJ, INST) or its __new__ (NEWOBJ) records the arguments, as
// our *Object does.
type gpClass struct{ module, name string }

func (c *gpClass) Call(args ...any) (any, error)  { return &gpObject{class: c, args: args}, nil }
func (c *gpClass) PyNew(args ...any) (any, error) { return &gpObject{class: c, args: args}, nil }

// gpObject records an instance and its BUILD state.
type gpObject struct {
	class *gpClass
	args  []any
	state any
}

func (o *gpObject) PySetState(state any) error { o.state = state; return nil }

// gpPersistent records a persistent id.
type gpPersistent struct{ pid any }

// gopickleDecode decodes all the pickles of data with gopickle.
func gopickleDecode(data []byte, pickles int) (out []any, err error) {
	defer func() {
		if r := recover(); r != nil {
			out, err = nil, fmt.Errorf("gopickle panics: %v", r)
		}
	}()
	u := gopickle.NewUnpickler(bytes.NewReader(data))
	u.FindClass = func(module, name string) (any, error) { return &gpClass{module, name}, nil }
	u.PersistentLoad = func(pid any) (any, error) { return &gpPersistent{pid}, nil }
	for range pickles {
		v, err := u.Load()
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// neutral converts one of our values to the neutral form.
func neutral(v Value, depth int) any {
	if depth > 50 {
		return "..."
	}
	switch v := v.(type) {
	case NoneType:
		return "None"
	case bool:
		return "bool:" + strconv.FormatBool(v)
	case int64:
		return "int:" + strconv.FormatInt(v, 10)
	case *big.Int:
		return "int:" + v.String()
	case float64:
		return "float:" + strconv.FormatFloat(v, 'g', -1, 64)
	case string:
		return "str:" + v
	case ByteString:
		return "str:" + string(v)
	case Bytes:
		return "bytes:" + string(v)
	case ByteArray:
		return "bytearray:" + string(v)
	case Tuple:
		return neutralSeq("tuple", v, depth)
	case *List:
		return neutralSeq("list", *v, depth)
	case *Dict:
		out := []any{"dict"}
		for _, it := range v.Items() {
			out = append(out, neutral(it.Key, depth+1), neutral(it.Value, depth+1))
		}
		return out
	case *Set:
		kind := "set"
		if v.Frozen {
			kind = "frozenset"
		}
		var items []any
		for _, it := range v.Items() {
			items = append(items, neutral(it, depth+1))
		}
		return neutralSet(kind, items, depth)
	case Global:
		return "global:" + v.String()
	case *Object:
		return []any{"object", neutral(v.Callable, depth+1), neutralSeq("args", v.Args, depth), "state", neutralState(v.State, depth)}
	case PersistentRef:
		return []any{"persistent", neutral(v.ID, depth+1)}
	}
	return fmt.Sprintf("unexpected %T", v)
}

func neutralState(v Value, depth int) any {
	if v == nil {
		return "no state"
	}
	return neutral(v, depth+1)
}

func neutralSeq(kind string, items []Value, depth int) any {
	out := []any{kind}
	for _, it := range items {
		out = append(out, neutral(it, depth+1))
	}
	return out
}

// neutralSet sorts members: gopickle keeps sets in Go maps.
func neutralSet(kind string, items []any, depth int) any {
	var ms []string
	for _, it := range items {
		ms = append(ms, fmt.Sprint(it))
	}
	slices.Sort(ms)
	out := []any{kind}
	for _, m := range ms {
		out = append(out, m)
	}
	return out
}

// neutralGP converts a gopickle value to the neutral form.
func neutralGP(v any, depth int) any {
	if depth > 50 {
		return "..."
	}
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool:" + strconv.FormatBool(v)
	case int:
		return "int:" + strconv.Itoa(v)
	case *big.Int:
		return "int:" + v.String()
	case float64:
		return "float:" + strconv.FormatFloat(v, 'g', -1, 64)
	case string:
		return "str:" + v
	case []byte:
		return "bytes:" + string(v)
	case *gptypes.ByteArray:
		return "bytearray:" + string(*v)
	case *gptypes.Tuple:
		return neutralGPSeq("tuple", []any(*v), depth)
	case *gptypes.List:
		return neutralGPSeq("list", []any(*v), depth)
	case *gptypes.Dict:
		out := []any{"dict"}
		for _, e := range *v {
			out = append(out, neutralGP(e.Key, depth+1), neutralGP(e.Value, depth+1))
		}
		return out
	case *gptypes.Set:
		var items []any
		for k := range *v {
			items = append(items, neutralGP(k, depth+1))
		}
		return neutralSet("set", items, depth)
	case *gptypes.FrozenSet:
		var items []any
		for k := range *v {
			items = append(items, neutralGP(k, depth+1))
		}
		return neutralSet("frozenset", items, depth)
	case *gpClass:
		return "global:" + v.module + "." + v.name
	case *gpObject:
		state := any("no state")
		if v.state != nil {
			state = neutralGP(v.state, depth+1)
		}
		return []any{"object", "global:" + v.class.module + "." + v.class.name, neutralGPSeq("args", v.args, depth), "state", state}
	case *gpPersistent:
		return []any{"persistent", neutralGP(v.pid, depth+1)}
	}
	return fmt.Sprintf("unexpected %T", v)
}

func neutralGPSeq(kind string, items []any, depth int) any {
	out := []any{kind}
	for _, it := range items {
		out = append(out, neutralGP(it, depth+1))
	}
	return out
}

// gopickleSkips lists the test inputs on which gopickle and this decoder
// disagree, and why; all other inputs must decode to the same neutral form.
var gopickleSkips = map[string]string{
	// gopickle fails.
	"INT beyond 64 bits":    "gopickle parses INT with strconv.Atoi, so Python 2 ints beyond 64 bits fail",
	"FLOAT overflow is inf": "gopickle reports strconv's range error where Python's float() gives inf",
	"LONG1 empty is zero":   "gopickle panics (index out of range) on a LONG1 of length 0, which is how protocol 2 writes 0L",
	"EXT1":                  "gopickle needs a GetExtension hook to decode extension codes",
	"EXT2":                  "gopickle needs a GetExtension hook to decode extension codes",
	"EXT4":                  "gopickle needs a GetExtension hook to decode extension codes",
	"BUILD of an empty dict on bytes is a no-op": "gopickle refuses BUILD on bytes even with an empty state, which Python accepts",
	"APPENDS to a list subclass":                 "gopickle only appends to its own list type",
	"SETITEMS to a dict subclass":                "gopickle only sets items in its own dict type",
	// gopickle keeps protocol-0 text as written.
	"STRING hex escapes":     "gopickle does not undo STRING's string-escape syntax",
	"STRING octal escapes":   "gopickle does not undo STRING's string-escape syntax",
	"STRING simple escapes":  "gopickle does not undo STRING's string-escape syntax",
	"old-style p0 (INST)":    "gopickle does not undo STRING's string-escape syntax",
	"_recon p0":              "gopickle does not undo STRING's string-escape syntax",
	"reduce p0":              "gopickle does not undo STRING's string-escape syntax",
	"UNICODE Latin-1 bytes":  "gopickle keeps UNICODE's bytes, not decoding them as raw-unicode-escape (Latin-1)",
	"UNICODE escapes":        "gopickle does not decode UNICODE's \\u escapes",
	"UNICODE lone surrogate": "gopickle does not decode UNICODE's \\u escapes",
	"UNICODE surrogate pair (Python 2 narrow build)": "gopickle does not decode UNICODE's \\u escapes",
	"encode of text beyond Latin-1":                  "gopickle does not decode UNICODE's \\u escapes",
	"bytes p0 (py3)":                                 "gopickle keeps UNICODE's bytes, not decoding them as Latin-1",
	"bytearray p0 (py2)":                             "gopickle keeps UNICODE's bytes, not decoding them as Latin-1",
	// gopickle's dict is a list of pairs that keeps repeated keys;
	// Python (and this decoder) keep one.
	"SETITEMS repeated key keeps first position": "gopickle's dict keeps repeated keys",
	"SETITEMS equal keys 1 and True":             "gopickle's dict keeps equal keys apart",
	"SETITEMS py2 str and unicode are one key":   "gopickle's dict keeps equal keys apart",
	"SETITEM on a large dict":                    "gopickle's dict keeps repeated keys",
	// Differences of the recording hooks, not of the decoders.
	"NEWOBJ_EX (CPython 3 protocol 4)": "gopickle passes the keyword arguments of NEWOBJ_EX to __new__ as a last positional argument",
	"BUILD twice merges the dicts":     "the gopickle hook records the last state; this decoder merges the two dicts as Python does",
	"copy_reg._reconstructor":          "gopickle calls copy_reg._reconstructor itself (base.__new__(class)) instead of recording it",
	"zodbpickle binary p0":             "gopickle calls copy_reg._reconstructor itself",
	"zodbpickle binary p1":             "gopickle calls copy_reg._reconstructor itself",
	"zodbpickle binary p1 (py3)":       "gopickle calls copy_reg._reconstructor itself",
}

func TestGopickleCrossCheck(t *testing.T) {
	type input struct {
		name    string
		data    []byte
		pickles int
	}
	var inputs []input
	for _, cases := range [][]decodeCase{numberCases, stringCases, containerCases, stackCases, objectCases, constructorCases, python3Cases, zeoMessageCases} {
		for _, tc := range cases {
			inputs = append(inputs, input{tc.name, []byte(tc.in), 1})
		}
	}
	for _, tc := range conflictErrorPickles {
		inputs = append(inputs, input{tc.name, []byte(tc.in), 1})
	}
	for name, b := range capturePickles(t) {
		inputs = append(inputs, input{name, b, 1})
	}
	inputs = append(inputs, input{"record pm50-p3", record(t, "pm50-p3"), 2}, input{"record pm50-p1", record(t, "pm50-p1"), 2})

	compared := 0
	for _, in := range inputs {
		if _, skip := gopickleSkips[in.name]; skip {
			continue
		}
		// Compare raw object structure: gopickle interprets no
		// constructors beyond its own few.
		d := NewDecoder(in.data, &DecoderOptions{Raw: true})
		var ours []any
		var err error
		for range in.pickles {
			var v Value
			if v, err = d.Decode(); err != nil {
				break
			}
			ours = append(ours, neutral(v, 0))
		}
		if err != nil {
			t.Errorf("%s: %v", in.name, err)
			continue
		}
		theirs, err := gopickleDecode(in.data, in.pickles)
		if err != nil {
			t.Errorf("%s: gopickle fails: %v (add it to gopickleSkips with the reason if this is gopickle's limitation)", in.name, err)
			continue
		}
		var theirsN []any
		for _, v := range theirs {
			theirsN = append(theirsN, neutralGP(v, 0))
		}
		if diff := cmp.Diff(theirsN, ours); diff != "" {
			t.Errorf("%s: gozeo and gopickle disagree (-gopickle +gozeo):\n%s", in.name, diff)
		}
		compared++
	}
	if compared < 100 {
		t.Errorf("only %d inputs compared", compared)
	}
	t.Logf("%d inputs decode alike with gopickle", compared)
}
