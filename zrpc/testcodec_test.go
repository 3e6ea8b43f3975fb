package zrpc

import (
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/gozeo/gozeo/pickle"
)

// testCodec is a test-only Encoding, so that these tests do not depend on
// the pickle and msgpack encodings. Its payload is a dialect byte ('A' or
// 'B', for testing Adapt) followed by the message's four fields in a small
// tagged binary format covering the values the tests use.
type testCodec struct{ dialect byte }

var (
	codecA Encoding = testCodec{'A'}
	codecB Encoding = testCodec{'B'}
)

func (tc testCodec) Name() string { return "test-" + string(tc.dialect) }

func (tc testCodec) Adapt(first []byte) Encoding {
	if len(first) > 0 && (first[0] == 'A' || first[0] == 'B') {
		return testCodec{first[0]}
	}
	return tc
}

func (tc testCodec) AppendMessage(dst []byte, m *Message) ([]byte, error) {
	dst = append(dst, tc.dialect)
	var err error
	if dst, err = appendTestValue(dst, m.ID); err != nil {
		return nil, err
	}
	dst = append(dst, byte(m.Flags))
	dst = appendTestString(dst, 's', m.Method)
	return appendTestValue(dst, m.Args)
}

func (tc testCodec) DecodeMessage(p []byte) (*Message, error) {
	d := &testDecoder{p: p}
	if len(p) == 0 || (p[0] != 'A' && p[0] != 'B') {
		return nil, &testDecodeError{Offset: 0, Why: "no dialect byte"}
	}
	d.off = 1
	m := &Message{}
	var err error
	if m.ID, err = d.value(0); err != nil {
		return nil, err
	}
	f, err := d.byte()
	if err != nil {
		return nil, err
	}
	m.Flags = Flags(f)
	method, err := d.value(0)
	if err != nil {
		return nil, err
	}
	var ok bool
	if m.Method, ok = method.(string); !ok {
		return nil, &testDecodeError{Offset: d.off, Why: "method is not text"}
	}
	if m.Args, err = d.value(0); err != nil {
		return nil, err
	}
	if d.off != len(p) {
		return nil, &testDecodeError{Offset: d.off, Why: "trailing bytes"}
	}
	return m, nil
}

// testDecodeError is the typed decode error of testCodec.
type testDecodeError struct {
	Offset int
	Why    string
}

func (e *testDecodeError) Error() string {
	return fmt.Sprintf("testcodec: at offset %d: %s", e.Offset, e.Why)
}

var errTestUnsupported = errors.New("testcodec: unsupported value")

func appendTestString(dst []byte, tag byte, s string) []byte {
	dst = append(dst, tag)
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

func appendTestValue(dst []byte, v pickle.Value) ([]byte, error) {
	var err error
	switch v := v.(type) {
	case pickle.NoneType:
		return append(dst, 'N'), nil
	case bool:
		if v {
			return append(dst, 'T'), nil
		}
		return append(dst, 'F'), nil
	case int64:
		return binary.BigEndian.AppendUint64(append(dst, 'i'), uint64(v)), nil
	case string:
		return appendTestString(dst, 's', v), nil
	case pickle.Bytes:
		return appendTestString(dst, 'b', string(v)), nil
	case pickle.ByteString:
		return appendTestString(dst, 'y', string(v)), nil
	case pickle.Global:
		return appendTestString(appendTestString(append(dst, 'g'), 's', v.Module), 's', v.Name), nil
	case pickle.Tuple:
		return appendTestItems(append(dst, 't'), v)
	case *pickle.List:
		return appendTestItems(append(dst, 'l'), *v)
	case *pickle.Dict:
		dst = binary.AppendUvarint(append(dst, 'd'), uint64(v.Len()))
		for _, it := range v.Items() {
			if dst, err = appendTestValue(dst, it.Key); err != nil {
				return nil, err
			}
			if dst, err = appendTestValue(dst, it.Value); err != nil {
				return nil, err
			}
		}
		return dst, nil
	case *pickle.Object:
		dst = append(dst, 'o', byte(v.Kind))
		if dst, err = appendTestValue(dst, v.Callable); err != nil {
			return nil, err
		}
		if dst, err = appendTestItems(dst, v.Args); err != nil {
			return nil, err
		}
		if v.State == nil {
			return append(dst, 'X'), nil
		}
		return appendTestValue(dst, v.State)
	}
	return nil, fmt.Errorf("%w: %T", errTestUnsupported, v)
}

func appendTestItems(dst []byte, items []pickle.Value) ([]byte, error) {
	dst = binary.AppendUvarint(dst, uint64(len(items)))
	var err error
	for _, x := range items {
		if dst, err = appendTestValue(dst, x); err != nil {
			return nil, err
		}
	}
	return dst, nil
}

type testDecoder struct {
	p   []byte
	off int
}

const testMaxDepth = 64

func (d *testDecoder) fail(why string) error { return &testDecodeError{Offset: d.off, Why: why} }

func (d *testDecoder) byte() (byte, error) {
	if d.off >= len(d.p) {
		return 0, d.fail("truncated")
	}
	b := d.p[d.off]
	d.off++
	return b, nil
}

func (d *testDecoder) count() (int, error) {
	n, k := binary.Uvarint(d.p[d.off:])
	if k <= 0 || n > uint64(len(d.p)-d.off-k) {
		return 0, d.fail("bad length")
	}
	d.off += k
	return int(n), nil
}

func (d *testDecoder) bytes() ([]byte, error) {
	n, err := d.count()
	if err != nil {
		return nil, err
	}
	b := append([]byte(nil), d.p[d.off:d.off+n]...)
	d.off += n
	return b, nil
}

func (d *testDecoder) items(depth int) ([]pickle.Value, error) {
	n, err := d.count()
	if err != nil {
		return nil, err
	}
	items := make([]pickle.Value, 0, n)
	for range n {
		x, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		items = append(items, x)
	}
	return items, nil
}

func (d *testDecoder) value(depth int) (pickle.Value, error) {
	if depth > testMaxDepth {
		return nil, d.fail("too deep")
	}
	tag, err := d.byte()
	if err != nil {
		return nil, err
	}
	switch tag {
	case 'N':
		return pickle.None, nil
	case 'T', 'F':
		return tag == 'T', nil
	case 'i':
		if len(d.p)-d.off < 8 {
			return nil, d.fail("truncated int")
		}
		v := int64(binary.BigEndian.Uint64(d.p[d.off:]))
		d.off += 8
		return v, nil
	case 's', 'b', 'y':
		b, err := d.bytes()
		if err != nil {
			return nil, err
		}
		switch tag {
		case 'b':
			return pickle.Bytes(b), nil
		case 'y':
			return pickle.ByteString(b), nil
		}
		return string(b), nil
	case 'g':
		mod, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		name, err := d.value(depth + 1)
		if err != nil {
			return nil, err
		}
		ms, ok1 := mod.(string)
		ns, ok2 := name.(string)
		if !ok1 || !ok2 {
			return nil, d.fail("bad global")
		}
		return pickle.Global{Module: ms, Name: ns}, nil
	case 't':
		items, err := d.items(depth)
		return pickle.Tuple(items), err
	case 'l':
		items, err := d.items(depth)
		l := pickle.List(items)
		return &l, err
	case 'd':
		n, err := d.count()
		if err != nil {
			return nil, err
		}
		dict := pickle.NewDict(min(n, 64))
		for range n {
			k, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			v, err := d.value(depth + 1)
			if err != nil {
				return nil, err
			}
			if err := dict.Set(k, v); err != nil {
				return nil, d.fail(err.Error())
			}
		}
		return dict, nil
	case 'o':
		kind, err := d.byte()
		if err != nil {
			return nil, err
		}
		o := &pickle.Object{Kind: pickle.ObjectKind(kind)}
		if o.Callable, err = d.value(depth + 1); err != nil {
			return nil, err
		}
		if o.Args, err = d.items(depth); err != nil {
			return nil, err
		}
		if d.off < len(d.p) && d.p[d.off] == 'X' {
			d.off++
			return o, nil
		}
		o.State, err = d.value(depth + 1)
		return o, err
	}
	return nil, d.fail(fmt.Sprintf("unknown tag %q", tag))
}

// mustEncode encodes m with tc for a scripted peer.
func mustEncode(tc Encoding, m *Message) []byte {
	p, err := tc.AppendMessage(nil, m)
	if err != nil {
		panic(err)
	}
	return p
}
