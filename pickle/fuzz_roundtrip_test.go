package pickle

import (
	"errors"
	"math"
	"math/big"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// FuzzRoundTrip decodes arbitrary input; when that gives a value, it
// encodes it in every dialect and protocol, fast and memo modes, decodes
// the result and wants the first value back, as normalized for that
// encoding (normalizeFor). The encoder must never panic, and must refuse
// only with an *EncodeError.
func FuzzRoundTrip(f *testing.F) {
	for _, file := range vectorFiles {
		for _, v := range loadVectors(f, file) {
			if len(v.Hex) < 8192 {
				f.Add(v.data(f))
			}
		}
	}
	f.Add([]byte("(K\x01]q\x00h\x00ah\x00t."))                 // shared list
	f.Add([]byte("\x80\x02]q\x00(h\x00h\x00e\x85q\x01."))      // recursive list in a tuple
	f.Add([]byte("cm\nC\n)\x81}q\x00U\x01ah\x00sb."))          // object whose state holds itself
	f.Add([]byte("\x80\x02}(X\x01\x00\x00\x00aU\x01aK\x01u.")) // colliding keys
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := Unmarshal(data)
		if err != nil {
			return
		}
		for _, memo := range []bool{false, true} {
			if expandedSize(v, memo, 20000) > 20000 {
				continue // shared values would multiply in fast mode
			}
			for _, dialect := range []Dialect{Python2, Python3} {
				for proto := 0; proto <= 3; proto++ {
					o := EncoderOptions{Protocol: proto, Dialect: dialect, Memo: memo}
					checkRoundTrip(t, v, o)
				}
			}
		}
	})
}

func checkRoundTrip(t *testing.T, v Value, o EncoderOptions) {
	t.Helper()
	enc, err := Marshal(v, o)
	if err != nil {
		var ee *EncodeError
		if !errors.As(err, &ee) || !(errors.Is(err, ErrUnencodable) || errors.Is(err, ErrTooDeep)) {
			t.Fatalf("%+v: encoding %s: unexpected error %T %v", o, Repr(v), err, err)
		}
		return
	}
	got, err := Unmarshal(enc)
	if err != nil {
		t.Fatalf("%+v: our pickle %q of %s does not decode: %v", o, enc, Repr(v), err)
	}
	want := normalizeFor(o, v)
	if !cmp.Equal(want, got, valueCmpOptions) { // Equal first: Diff is slow
		t.Fatalf("%+v: %s encoded as %q decodes differently (-want +got):\n%s", o, Repr(v), enc,
			cmp.Diff(want, got, valueCmpOptions))
	}
}

// expandedSize counts the values v holds, following a shared container
// once per reference (as fast mode writes it) or once (memo), and stops
// counting past limit.
func expandedSize(v Value, memo bool, limit int) int {
	seen := map[any]bool{}
	n := 0
	var walk func(v Value)
	walk = func(v Value) {
		n++
		if n > limit {
			return
		}
		switch x := v.(type) {
		case *List, *Dict, *Set, *Object:
			if seen[x] {
				if memo {
					return
				}
				n = limit + 1 // a cycle or a shared value: skip fast mode
				return
			}
			seen[x] = true
		}
		switch x := v.(type) {
		case Tuple:
			for _, y := range x {
				walk(y)
			}
		case *List:
			for _, y := range *x {
				walk(y)
			}
		case *Dict:
			for _, it := range x.Items() {
				walk(it.Key)
				walk(it.Value)
			}
		case *Set:
			for _, y := range x.Items() {
				walk(y)
			}
		case *Object:
			walk(x.Callable)
			walk(x.Args)
			walk(x.State)
			for _, y := range x.ListItems {
				walk(y)
			}
			if x.DictItems != nil {
				walk(x.DictItems)
			}
			if x.Kwargs != nil {
				walk(x.Kwargs)
			}
		case PersistentRef:
			walk(x.ID)
		}
	}
	walk(v)
	return n
}

// normalizeFor returns the value the decoder gives back for v encoded
// with o. The encoder writes what the target Python would, so some
// distinctions of the model do not survive:
//   - Python 2 dialect: a Go string and Bytes become a py2 str
//     (ByteString); Unicode becomes text (string).
//   - Python 3 dialect: Unicode becomes text; every integer is a Python 3
//     int, which decodes as int64 within 32 bits and *big.Int beyond.
//   - Below protocol 3 in the Python 3 dialect, builtins and copyreg
//     globals take their Python 2 names.
//   - NEWOBJ below protocol 2 is copyreg.__newobj__(cls, *args) by
//     REDUCE; NEWOBJ_EX without keyword arguments is NEWOBJ; an OBJ
//     instance is INST at protocol 0 and INST is OBJ above.
//   - A protocol 0 persistent id is read back as a Go string.
//   - Dict keys and set members that become equal merge, as they would
//     in Python.
func normalizeFor(o EncoderOptions, v Value) Value {
	n := normalizer{o: o, done: map[any]Value{}}
	return n.value(v)
}

type normalizer struct {
	o    EncoderOptions
	done map[any]Value // pointer values already normalized (shared, cyclic)
}

func (n *normalizer) value(v Value) Value {
	py2 := n.o.Dialect == Python2
	switch x := v.(type) {
	case string:
		if py2 {
			return ByteString(x)
		}
		return x
	case Unicode:
		return string(x)
	case Bytes:
		if py2 {
			return ByteString(x)
		}
		return x
	case int:
		return n.value(int64(x))
	case int64:
		if !py2 && (x < math.MinInt32 || x > math.MaxInt32) {
			return big.NewInt(x)
		}
		return x
	case *big.Int:
		if !py2 && x.IsInt64() && x.Int64() >= math.MinInt32 && x.Int64() <= math.MaxInt32 {
			return x.Int64()
		}
		return x
	case Global:
		if !py2 && n.o.Protocol < 3 {
			return py2Global(x)
		}
		return x
	case Tuple:
		out := make(Tuple, len(x))
		for i, y := range x {
			out[i] = n.value(y)
		}
		return out
	case *List:
		if d, ok := n.done[x]; ok {
			return d
		}
		out := new(List)
		n.done[x] = out
		*out = make(List, len(*x))
		for i, y := range *x {
			(*out)[i] = n.value(y)
		}
		return out
	case *Dict:
		if d, ok := n.done[x]; ok {
			return d
		}
		out := NewDict(x.Len())
		n.done[x] = out
		for _, it := range x.Items() {
			_ = out.Set(n.value(it.Key), n.value(it.Value))
		}
		return out
	case *Set:
		if d, ok := n.done[x]; ok {
			return d
		}
		out := NewSet(x.Frozen, x.Len())
		n.done[x] = out
		for _, y := range x.Items() {
			_ = out.Add(n.value(y))
		}
		return out
	case PersistentRef:
		if n.o.Protocol == 0 {
			if s, ok := AsText(x.ID); ok {
				return PersistentRef{ID: s}
			}
			if b, ok := x.ID.(Bytes); ok {
				return PersistentRef{ID: string(b)}
			}
		}
		return PersistentRef{ID: n.value(x.ID)}
	case *Object:
		if d, ok := n.done[x]; ok {
			return d
		}
		out := new(Object)
		n.done[x] = out
		n.object(x, out)
		return out
	}
	return v
}

func (n *normalizer) object(x, out *Object) {
	out.Kind = x.Kind
	out.Callable = n.value(x.Callable)
	out.Args = n.value(x.Args).(Tuple)
	if x.Kind == KindNewObjEx {
		out.Kind = KindNewObj
	}
	if out.Kind == KindNewObj && n.o.Protocol < 2 {
		out.Kind = KindReduce
		out.Args = append(Tuple{out.Callable}, out.Args...)
		out.Callable = Global{"copy_reg", "__newobj__"}
	}
	if out.Kind == KindObj && n.o.Protocol == 0 {
		out.Kind = KindInst
	} else if out.Kind == KindInst && n.o.Protocol > 0 {
		out.Kind = KindObj
	}
	if x.State != nil {
		out.State = n.value(x.State)
	}
	for _, y := range x.ListItems {
		out.ListItems = append(out.ListItems, n.value(y))
	}
	if x.DictItems != nil {
		out.DictItems = n.value(x.DictItems).(*Dict)
	}
}
