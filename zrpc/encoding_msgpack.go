package zrpc

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/big"
	"sync"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"github.com/gozeo/gozeo/pickle"
)

// MsgpackEncoding is the msgpack encoding of ZEO 5.1+ (version M5,
// docs/protocol.md, msgpack), mapped onto the pickle value model the way the
// Python side maps it: text is str, Bytes and ByteString are bin, tuples and
// lists are arrays, dicts are maps, None is nil, and no ext type is used.
// Arrays decode as pickle.Tuple (ZEO decodes with use_list=False), bin as
// pickle.Bytes aliasing the payload, ints as int64 (a uint64 beyond int64 as
// *big.Int), floats as float64. Calls spell their flags as bools, as every ZEO
// 5 peer does. It is safe for concurrent use.
//
// It drives the low-level Encoder and Decoder of
// github.com/vmihailenco/msgpack/v5 (EncodeArrayLen, PeekCode, ...) rather
// than its reflection-based Marshal and Unmarshal, which would decode into
// []any and map[string]any and lose the difference between a tuple key and
// a string key, and cost more (see BenchmarkEncoding).
type MsgpackEncoding struct {
	writers *sync.Pool // *msgpackWriter
	readers *sync.Pool // *msgpackReader
}

// zeo5Flags is how every ZEO 5 peer spells the flags of its calls.
var zeo5Flags = FlagStyle{SyncBool: true, OneWayBool: true}

// maxMsgpackDepth bounds the nesting of arrays and maps, as
// DecoderOptions.MaxDepth does for pickles.
const maxMsgpackDepth = pickle.DefaultMaxDepth

// NewMsgpackEncoding returns the msgpack encoding.
func NewMsgpackEncoding() *MsgpackEncoding {
	return &MsgpackEncoding{
		writers: &sync.Pool{New: func() any {
			w := new(msgpackWriter)
			w.enc = msgpack.NewEncoder(&w.buf)
			return w
		}},
		readers: &sync.Pool{New: func() any {
			r := new(msgpackReader)
			r.dec = msgpack.NewDecoder(&r.r)
			return r
		}},
	}
}

// Name returns "msgpack".
func (*MsgpackEncoding) Name() string { return "msgpack" }

// Adapt returns the receiver: msgpack has a single dialect.
func (e *MsgpackEncoding) Adapt([]byte) Encoding { return e }

// AppendMessage appends m as the 4-element array (msgid, flags, method,
// args).
func (e *MsgpackEncoding) AppendMessage(dst []byte, m *Message) ([]byte, error) {
	if m.ID == nil || m.Args == nil {
		return dst, fmt.Errorf("zrpc: message %q has no %s (use pickle.None for None)", m.Method, missingField(m))
	}
	w := e.writers.Get().(*msgpackWriter)
	w.buf = appendBuffer(dst)
	err := w.message(m)
	out := []byte(w.buf)
	w.buf = nil
	e.writers.Put(w)
	if err != nil {
		return dst, err
	}
	return out, nil
}

// DecodeMessage decodes a msgpack message. The message aliases payload.
// Errors are *MessageDecodeError, matching ErrUndecodable.
func (e *MsgpackEncoding) DecodeMessage(payload []byte) (*Message, error) {
	r := e.readers.Get().(*msgpackReader)
	r.reset(payload)
	m, _, err := r.message()
	r.reset(nil)
	e.readers.Put(r)
	if err != nil {
		return nil, newDecodeError(e.Name(), 0, false, payload, err, msgpackPrefixFields(payload))
	}
	return m, nil
}

// appendBuffer is an io.Writer and io.ByteWriter appending to a slice, so
// that the msgpack Encoder writes straight into the caller's buffer.
type appendBuffer []byte

func (b *appendBuffer) Write(p []byte) (int, error) {
	*b = append(*b, p...)
	return len(p), nil
}

func (b *appendBuffer) WriteByte(c byte) error {
	*b = append(*b, c)
	return nil
}

// msgpackWriter encodes one message at a time.
type msgpackWriter struct {
	buf appendBuffer
	enc *msgpack.Encoder
}

// ErrMsgpackUnencodable is wrapped by the errors of AppendMessage for a
// value msgpack cannot carry: a set, a global or object, an int beyond
// 64 bits, an absent (nil) value.
var ErrMsgpackUnencodable = errors.New("value has no msgpack form")

func (w *msgpackWriter) message(m *Message) error {
	w.enc.EncodeArrayLen(4) //nolint:errcheck // appendBuffer never fails; same below
	if err := w.value(m.ID, 0); err != nil {
		return fmt.Errorf("zrpc: msgpack msgid: %w", err)
	}
	if err := w.value(zeo5Flags.flagsValue(m), 0); err != nil {
		return err
	}
	if err := w.str(m.Method); err != nil {
		return fmt.Errorf("zrpc: msgpack method name: %w", err)
	}
	if err := w.value(m.Args, 0); err != nil {
		return fmt.Errorf("zrpc: msgpack %s args: %w", m.Method, err)
	}
	return nil
}

// value writes v as Python's msgpack.packb(use_bin_type=True) writes the
// Python value it stands for: ints in the smallest family, floats as
// float64, text as str, bytes as bin.
func (w *msgpackWriter) value(v pickle.Value, depth int) error {
	if depth > maxMsgpackDepth {
		return fmt.Errorf("%w: nesting deeper than %d levels (a recursive value?)", ErrMsgpackUnencodable, maxMsgpackDepth)
	}
	e := w.enc
	switch v := v.(type) {
	case pickle.NoneType:
		return e.EncodeNil()
	case bool:
		return e.EncodeBool(v)
	case int64:
		return e.EncodeInt(v)
	case int:
		return e.EncodeInt(int64(v))
	case *big.Int:
		switch {
		case v == nil:
		case v.IsInt64():
			return e.EncodeInt(v.Int64())
		case v.IsUint64():
			return e.EncodeUint(v.Uint64())
		default:
			return fmt.Errorf("%w: the int %s does not fit 64 bits", ErrMsgpackUnencodable, v)
		}
	case float64:
		return e.EncodeFloat64(v)
	case string:
		return w.str(v)
	case pickle.Unicode:
		return w.str(string(v))
	case pickle.Bytes:
		return w.bin(v)
	case pickle.ByteString:
		return w.bin(v)
	case pickle.ByteArray:
		return w.bin(v)
	case pickle.Tuple:
		return w.array(v, depth)
	case *pickle.List:
		if v != nil {
			return w.array(*v, depth)
		}
	case *pickle.Dict:
		if v != nil {
			e.EncodeMapLen(v.Len()) //nolint:errcheck
			for _, it := range v.Items() {
				if err := w.value(it.Key, depth+1); err != nil {
					return err
				}
				if err := w.value(it.Value, depth+1); err != nil {
					return err
				}
			}
			return nil
		}
	case *pickle.Exception:
		// What ZEO 5's msgpack default hook makes of an exception: the
		// (name, state) pair of an error reply (docs/protocol.md, msgpack).
		if v != nil {
			return w.array(NameState(v), depth)
		}
	}
	return fmt.Errorf("%w: %s", ErrMsgpackUnencodable, pythonType(v))
}

// str writes text as str. It must be UTF-8: ZEO's unpackb decodes str
// strictly, and drops the connection otherwise.
func (w *msgpackWriter) str(s string) error {
	if !utf8.ValidString(s) {
		return fmt.Errorf("%w: text that is not UTF-8: %q", ErrMsgpackUnencodable, clip(s))
	}
	return w.enc.EncodeString(s)
}

// bin writes bytes as bin, an empty value included (the library's
// EncodeBytes writes nil for a nil slice).
func (w *msgpackWriter) bin(b []byte) error {
	w.enc.EncodeBytesLen(len(b)) //nolint:errcheck
	w.buf = append(w.buf, b...)
	return nil
}

func (w *msgpackWriter) array(items []pickle.Value, depth int) error {
	w.enc.EncodeArrayLen(len(items)) //nolint:errcheck
	for _, x := range items {
		if err := w.value(x, depth+1); err != nil {
			return err
		}
	}
	return nil
}

// errStrNotUTF8 is the error of a msgpack str that is not UTF-8.
var errStrNotUTF8 = errors.New("a str that is not UTF-8")

// msgpackReader decodes one message at a time from a payload.
type msgpackReader struct {
	p   []byte
	r   bytes.Reader
	dec *msgpack.Decoder
	// texts caches short strings (method names, dict keys), which repeat
	// from message to message, so that they cost no allocation.
	// The values are boxed once: boxing a string allocates too.
	texts map[string]pickle.Value
	// copyBytes makes bin values copies rather than slices of p, for
	// values that outlive the payload (in errors).
	copyBytes bool
}

// Bounds of msgpackReader.texts, so that it stays small whatever the
// peer sends.
const (
	maxCachedTextLen   = 64
	maxCachedTextCount = 512
)

// text returns b as a text value, from the cache when short.
func (r *msgpackReader) text(b []byte) pickle.Value {
	if len(b) > maxCachedTextLen {
		return string(b)
	}
	if v, ok := r.texts[string(b)]; ok {
		return v
	}
	s := string(b)
	var v pickle.Value = s
	if r.texts == nil {
		r.texts = make(map[string]pickle.Value)
	}
	if len(r.texts) < maxCachedTextCount {
		r.texts[s] = v
	}
	return v
}

// MsgpackSyntaxError reports msgpack data that is malformed or uses what
// ZEO never sends (ext types).
type MsgpackSyntaxError struct {
	// Offset is where the offending value starts in the payload.
	Offset int
	// Code is the msgpack type code found there (0 at the end of input).
	Code byte
	// Err says what is wrong; it wraps io.ErrUnexpectedEOF for input that
	// ends early.
	Err error
}

// Error formats the error as "msgpack: code 0xc7 at offset 12: ...".
func (e *MsgpackSyntaxError) Error() string {
	return fmt.Sprintf("msgpack: code 0x%02x at offset %d: %v", e.Code, e.Offset, e.Err)
}

// Unwrap returns Err.
func (e *MsgpackSyntaxError) Unwrap() error { return e.Err }

func (r *msgpackReader) reset(p []byte) {
	r.p = p
	r.r.Reset(p)
	r.dec.Reset(&r.r)
}

// offset returns the position of the next byte to read.
func (r *msgpackReader) offset() int { return len(r.p) - r.r.Len() }

func (r *msgpackReader) fail(off int, code byte, format string, args ...any) error {
	return &MsgpackSyntaxError{Offset: off, Code: code, Err: fmt.Errorf(format, args...)}
}

// libErr wraps an error of the msgpack library met at off.
func (r *msgpackReader) libErr(off int, code byte, err error) error {
	if errors.Is(err, io.EOF) {
		err = io.ErrUnexpectedEOF
	}
	return &MsgpackSyntaxError{Offset: off, Code: code, Err: err}
}

// message reads the 4-element array of a message, reporting the leading
// fields it could read when it fails.
func (r *msgpackReader) message() (*Message, messageFields, error) {
	var f messageFields
	c, err := r.dec.PeekCode()
	if err != nil {
		return nil, f, r.fail(0, 0, "%w: empty payload", io.ErrUnexpectedEOF)
	}
	if !msgpcode.IsFixedArray(c) && c != msgpcode.Array16 && c != msgpcode.Array32 {
		v, err := r.value(0)
		if err != nil {
			return nil, f, err
		}
		return nil, f, fmt.Errorf("%w: the payload holds %s", ErrMessageShape, describeValue(v))
	}
	n, err := r.dec.DecodeArrayLen()
	if err != nil {
		return nil, f, r.libErr(0, c, err)
	}
	if n != 4 {
		return nil, f, fmt.Errorf("%w: the payload holds an array of %d items", ErrMessageShape, n)
	}
	if f.id, err = r.value(1); err != nil {
		return nil, f, err
	}
	f.n = 1
	if f.flags, err = r.value(1); err != nil {
		return nil, f, err
	}
	f.n = 2
	if f.method, err = r.value(1); err != nil {
		return nil, f, err
	}
	f.n = 3
	args, err := r.value(1)
	if err != nil {
		return nil, f, err
	}
	if off := r.offset(); off != len(r.p) {
		// Python's unpackb refuses trailing data too (ExtraData).
		return nil, f, r.fail(off, r.p[off], "%d bytes after the message", len(r.p)-off)
	}
	m, err := messageFromParts(f.id, f.flags, f.method, args)
	return m, f, err
}

// value reads one value at nesting depth.
func (r *msgpackReader) value(depth int) (pickle.Value, error) {
	off := r.offset()
	c, err := r.dec.PeekCode()
	if err != nil {
		return nil, r.fail(off, 0, "%w: a value was expected", io.ErrUnexpectedEOF)
	}
	switch {
	case msgpcode.IsFixedNum(c), c == msgpcode.Uint8, c == msgpcode.Uint16, c == msgpcode.Uint32,
		c == msgpcode.Int8, c == msgpcode.Int16, c == msgpcode.Int32, c == msgpcode.Int64:
		n, err := r.dec.DecodeInt64()
		if err != nil {
			return nil, r.libErr(off, c, err)
		}
		return n, nil
	case c == msgpcode.Uint64:
		n, err := r.dec.DecodeUint64()
		if err != nil {
			return nil, r.libErr(off, c, err)
		}
		if n > math.MaxInt64 {
			return new(big.Int).SetUint64(n), nil
		}
		return int64(n), nil
	case c == msgpcode.Nil:
		r.dec.DecodeNil() //nolint:errcheck // the code was peeked
		return pickle.None, nil
	case c == msgpcode.False || c == msgpcode.True:
		b, err := r.dec.DecodeBool()
		if err != nil {
			return nil, r.libErr(off, c, err)
		}
		return b, nil
	case c == msgpcode.Float || c == msgpcode.Double:
		x, err := r.dec.DecodeFloat64()
		if err != nil {
			return nil, r.libErr(off, c, err)
		}
		return x, nil
	case msgpcode.IsString(c):
		b, err := r.raw(off, c)
		if err != nil {
			return nil, err
		}
		if !utf8.Valid(b) {
			// As Python's unpackb(raw=False) refuses it.
			return nil, r.fail(off, c, "%w", errStrNotUTF8)
		}
		return r.text(b), nil
	case msgpcode.IsBin(c):
		b, err := r.raw(off, c)
		if err != nil {
			return nil, err
		}
		return pickle.Bytes(b), nil
	case msgpcode.IsFixedArray(c) || c == msgpcode.Array16 || c == msgpcode.Array32:
		return r.array(off, c, depth)
	case msgpcode.IsFixedMap(c) || c == msgpcode.Map16 || c == msgpcode.Map32:
		return r.dict(off, c, depth)
	case msgpcode.IsExt(c):
		return nil, r.fail(off, c, "an ext type, which ZEO never sends")
	}
	return nil, r.fail(off, c, "not a msgpack type code")
}

// raw reads the payload of a str or bin value, aliasing the input.
func (r *msgpackReader) raw(off int, c byte) ([]byte, error) {
	n, err := r.dec.DecodeBytesLen()
	if err != nil {
		return nil, r.libErr(off, c, err)
	}
	start := r.offset()
	if n > len(r.p)-start {
		return nil, r.fail(off, c, "%w: %d bytes announced, %d remain", io.ErrUnexpectedEOF, n, len(r.p)-start)
	}
	r.r.Seek(int64(n), io.SeekCurrent) //nolint:errcheck // within bounds
	if r.copyBytes {
		return bytes.Clone(r.p[start : start+n]), nil
	}
	return r.p[start : start+n : start+n], nil
}

// enter checks the nesting depth and that n items of at least one byte
// each (perItem for maps) can still follow, before anything is allocated
// for them.
func (r *msgpackReader) enter(off int, c byte, n, perItem, depth int) error {
	if depth >= maxMsgpackDepth {
		return r.fail(off, c, "nesting deeper than %d levels", maxMsgpackDepth)
	}
	if rem := len(r.p) - r.offset(); n > rem/perItem {
		return r.fail(off, c, "%w: %d items announced, %d bytes remain", io.ErrUnexpectedEOF, n, rem)
	}
	return nil
}

func (r *msgpackReader) array(off int, c byte, depth int) (pickle.Value, error) {
	n, err := r.dec.DecodeArrayLen()
	if err != nil {
		return nil, r.libErr(off, c, err)
	}
	if err := r.enter(off, c, n, 1, depth); err != nil {
		return nil, err
	}
	t := make(pickle.Tuple, n)
	for i := range t {
		if t[i], err = r.value(depth + 1); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func (r *msgpackReader) dict(off int, c byte, depth int) (pickle.Value, error) {
	n, err := r.dec.DecodeMapLen()
	if err != nil {
		return nil, r.libErr(off, c, err)
	}
	if err := r.enter(off, c, n, 2, depth); err != nil {
		return nil, err
	}
	d := pickle.NewDict(n)
	for range n {
		koff := r.offset()
		k, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		v, err := r.value(depth + 1)
		if err != nil {
			return nil, err
		}
		if err := d.Set(k, v); err != nil {
			return nil, r.fail(koff, r.p[koff], "map key: %w", err)
		}
	}
	return d, nil
}
