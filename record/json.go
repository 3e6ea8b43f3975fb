package record

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"unicode/utf8"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
)

// The JSON view of a Python value keeps apart what Python keeps apart, so
// that any language can read ZODB data without a pickle decoder:
//
//	{"u": "text"}                      unicode (py2) / str (py3)
//	{"s": "text"}                      py2 str, ASCII
//	{"b": "00ff"}                      bytes, and a py2 str that is not ASCII (hex)
//	42                                 int within ±2^53
//	{"int": "1180591620717411303424"}  int beyond ±2^53
//	{"f": "3.25"}                      float, by its Python repr
//	null, true, false                  None, bool
//	{"list": [...]}, {"tuple": [...]}  list, tuple
//	{"dict": [[k, v], ...]}            dict, in the record's order
//	{"set": [...]}                     set and frozenset
//	{"ref": "00000000000001cf", "class": "module.Name"}
//	                                   a persistent object; "class" when known,
//	                                   "database" for a cross-database reference
//	{"weakref": "00000000000001d0"}    a persistent weak reference
//
// These are the forms of the workspace's real-ZODB vectors (expected.json).
// Values those never hold have forms of their own: {"bytearray": hex},
// {"global": "module.name"}, {"object": "module.Name", "args": view,
// "state": view} for an object a pickle builds by calling its class,
// {"persistent_id": view} for a persistent id none of the reference forms
// match, and {"recursive": "list"} where a container holds itself.

// ErrJSON reports a value the JSON view has no form for: a Go type outside
// the pickle value model, or nesting deeper than MaxJSONDepth.
var ErrJSON = errors.New("record: no JSON view")

// MaxJSONDepth bounds the nesting the JSON view follows.
const MaxJSONDepth = 1000

// DefaultMaxJSONBytes bounds the JSON view of one value unless
// JSONOptions.MaxBytes says otherwise. A pickle can share a value many
// times over (a few hundred bytes can nest shared tuples whose view
// doubles with each level), and the view writes each use in full.
const DefaultMaxJSONBytes = 64 << 20

// JSONOptions adjusts the JSON view.
type JSONOptions struct {
	// MaxBytes bounds the view AppendJSON appends: 0 means
	// DefaultMaxJSONBytes, a negative value no bound. A bigger view is
	// an error matching ErrJSON.
	MaxBytes int
	// RefClass returns the class of object oid, for references that do
	// not carry it (ZODB writes a bare oid for classes with
	// __getnewargs__). Nil, or "" returned, leaves "class" out.
	RefClass func(oid zodb.OID) string
}

// JSON returns the JSON view of v (see above).
func JSON(v pickle.Value) ([]byte, error) { return AppendJSON(nil, v, nil) }

// AppendJSON appends the JSON view of v to dst. opts may be nil.
func AppendJSON(dst []byte, v pickle.Value, opts *JSONOptions) ([]byte, error) {
	w := jsonWriter{buf: dst, start: len(dst)}
	if opts != nil {
		w.opts = *opts
	}
	switch {
	case w.opts.MaxBytes == 0:
		w.limit = len(dst) + DefaultMaxJSONBytes
	case w.opts.MaxBytes > 0:
		w.limit = len(dst) + w.opts.MaxBytes
	default:
		w.limit = -1
	}
	if err := w.value(v, 0); err != nil {
		return dst, err
	}
	return w.buf, nil
}

type jsonWriter struct {
	buf   []byte
	start int // len(buf) when the view began
	limit int // the length buf may reach; -1 for none
	opts  JSONOptions
	open  map[any]bool // containers being written, to stop at a cycle
}

// jstr appends s as a JSON string (encoding/json's escaping: valid UTF-8
// out, whatever the input).
func (w *jsonWriter) jstr(s string) {
	if utf8.ValidString(s) && isPlainASCII(s) {
		w.buf = append(w.buf, '"')
		w.buf = append(w.buf, s...)
		w.buf = append(w.buf, '"')
		return
	}
	b, _ := json.Marshal(s) // never fails for a string
	w.buf = append(w.buf, b...)
}

// isPlainASCII reports printable ASCII needing no JSON escape.
func isPlainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}

// tagged appends {"tag": string}.
func (w *jsonWriter) tagged(tag, s string) {
	w.buf = append(w.buf, `{"`...)
	w.buf = append(w.buf, tag...)
	w.buf = append(w.buf, `":`...)
	w.jstr(s)
	w.buf = append(w.buf, '}')
}

func (w *jsonWriter) value(v pickle.Value, depth int) error {
	if depth > MaxJSONDepth {
		return fmt.Errorf("%w: nested deeper than %d", ErrJSON, MaxJSONDepth)
	}
	if w.limit >= 0 && len(w.buf) > w.limit {
		return fmt.Errorf("%w: the view passes its bound of %d bytes (JSONOptions.MaxBytes; DefaultMaxJSONBytes unless set): the value repeats what the pickle shares, many times over; raise the bound, or read the record with Decode", ErrJSON, w.limit-w.start)
	}
	switch v := v.(type) {
	case pickle.NoneType:
		w.buf = append(w.buf, "null"...)
	case bool:
		w.buf = strconv.AppendBool(w.buf, v)
	case int64:
		w.int(v)
	case int:
		w.int(int64(v))
	case *big.Int:
		if v == nil {
			return fmt.Errorf("%w: nil *big.Int", ErrJSON)
		}
		if v.IsInt64() {
			w.int(v.Int64())
		} else {
			w.tagged("int", v.String())
		}
	case float64:
		w.tagged("f", string(pickle.AppendFloatRepr(nil, v)))
	case string:
		w.tagged("u", v)
	case pickle.Unicode:
		w.tagged("u", string(v))
	case pickle.ByteString:
		if isASCII(v) {
			w.tagged("s", string(v))
		} else {
			w.tagged("b", hex.EncodeToString(v))
		}
	case pickle.Bytes:
		w.tagged("b", hex.EncodeToString(v))
	case pickle.ByteArray:
		w.tagged("bytearray", hex.EncodeToString(v))
	case pickle.Tuple:
		return w.items("tuple", v, depth)
	case *pickle.List:
		if v == nil {
			return fmt.Errorf("%w: nil *pickle.List", ErrJSON)
		}
		return w.container(v, "list", depth, func() error { return w.items("list", *v, depth) })
	case *pickle.Set:
		if v == nil {
			return fmt.Errorf("%w: nil *pickle.Set", ErrJSON)
		}
		return w.container(v, "set", depth, func() error { return w.items("set", v.Items(), depth) })
	case *pickle.Dict:
		if v == nil {
			return fmt.Errorf("%w: nil *pickle.Dict", ErrJSON)
		}
		return w.container(v, "dict", depth, func() error { return w.dict(v, depth) })
	case pickle.Global:
		w.tagged("global", v.String())
	case pickle.PersistentRef:
		return w.ref(v, depth)
	case *pickle.Object:
		if v == nil {
			return fmt.Errorf("%w: nil *pickle.Object", ErrJSON)
		}
		return w.container(v, "object", depth, func() error { return w.object(v, depth) })
	default:
		return fmt.Errorf("%w: type %T", ErrJSON, v)
	}
	return nil
}

// maxExactJSONInt is 2^53: the integers a JSON reader using doubles (as
// JavaScript's does) reads back exactly.
const maxExactJSONInt = 1 << 53

func (w *jsonWriter) int(v int64) {
	if v > maxExactJSONInt || v < -maxExactJSONInt {
		w.tagged("int", strconv.FormatInt(v, 10))
		return
	}
	w.buf = strconv.AppendInt(w.buf, v, 10)
}

// container writes a list, dict, set or object, or {"recursive": kind}
// when it is already being written (it holds itself).
func (w *jsonWriter) container(key any, kind string, depth int, write func() error) error {
	if w.open[key] {
		w.tagged("recursive", kind)
		return nil
	}
	if w.open == nil {
		w.open = make(map[any]bool)
	}
	w.open[key] = true
	err := write()
	delete(w.open, key)
	return err
}

func (w *jsonWriter) items(tag string, items []pickle.Value, depth int) error {
	w.buf = append(w.buf, `{"`...)
	w.buf = append(w.buf, tag...)
	w.buf = append(w.buf, `":[`...)
	for i, x := range items {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		if err := w.value(x, depth+1); err != nil {
			return err
		}
	}
	w.buf = append(w.buf, "]}"...)
	return nil
}

func (w *jsonWriter) dict(d *pickle.Dict, depth int) error {
	w.buf = append(w.buf, `{"dict":[`...)
	for i, it := range d.Items() {
		if i > 0 {
			w.buf = append(w.buf, ',')
		}
		w.buf = append(w.buf, '[')
		if err := w.value(it.Key, depth+1); err != nil {
			return err
		}
		w.buf = append(w.buf, ',')
		if err := w.value(it.Value, depth+1); err != nil {
			return err
		}
		w.buf = append(w.buf, ']')
	}
	w.buf = append(w.buf, "]}"...)
	return nil
}

func (w *jsonWriter) ref(p pickle.PersistentRef, depth int) error {
	r := ParseRef(p.ID)
	if !r.HasOID {
		w.buf = append(w.buf, `{"persistent_id":`...)
		if err := w.value(p.ID, depth+1); err != nil {
			return err
		}
		w.buf = append(w.buf, '}')
		return nil
	}
	if r.Weak {
		w.buf = append(w.buf, `{"weakref":"`...)
		w.buf = append(w.buf, r.OID.String()...)
		w.buf = append(w.buf, '"')
	} else {
		w.buf = append(w.buf, `{"ref":"`...)
		w.buf = append(w.buf, r.OID.String()...)
		w.buf = append(w.buf, '"')
		class := r.Class
		if class == "" && r.Database == "" && w.opts.RefClass != nil {
			class = w.opts.RefClass(r.OID)
		}
		if class != "" {
			w.buf = append(w.buf, `,"class":`...)
			w.jstr(class)
		}
	}
	if r.Database != "" {
		w.buf = append(w.buf, `,"database":`...)
		w.jstr(r.Database)
	}
	w.buf = append(w.buf, '}')
	return nil
}

func (w *jsonWriter) object(o *pickle.Object, depth int) error {
	w.buf = append(w.buf, `{"object":`...)
	if g, ok := o.Class(); ok {
		w.jstr(g.String())
	} else if err := w.value(o.Callable, depth+1); err != nil {
		return err
	}
	w.buf = append(w.buf, `,"args":`...)
	if err := w.items("tuple", o.Args, depth+1); err != nil {
		return err
	}
	if o.State != nil {
		w.buf = append(w.buf, `,"state":`...)
		if err := w.value(o.State, depth+1); err != nil {
			return err
		}
	}
	if len(o.ListItems) > 0 {
		w.buf = append(w.buf, `,"items":`...)
		if err := w.items("list", o.ListItems, depth+1); err != nil {
			return err
		}
	}
	if o.DictItems != nil {
		w.buf = append(w.buf, `,"dictitems":`...)
		if err := w.dict(o.DictItems, depth+1); err != nil {
			return err
		}
	}
	w.buf = append(w.buf, '}')
	return nil
}

func isASCII(p []byte) bool {
	for _, c := range p {
		if c >= 0x80 {
			return false
		}
	}
	return true
}
