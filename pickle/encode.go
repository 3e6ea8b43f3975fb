package pickle

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Dialect says which Python the encoder writes for: it decides how Go
// strings, Bytes, bools and ints are spelled, and the module names of
// globals below protocol 3.
type Dialect uint8

const (
	// Python3 writes like CPython 3.11's pickle module: a Go string (and
	// Unicode) is text (UNICODE/BINUNICODE), Bytes is bytes
	// (SHORT_BINBYTES/BINBYTES at protocol 3, _codecs.encode(text,
	// 'latin1') below), ByteString is a py2 str (SHORT_BINSTRING/BINSTRING,
	// as zodbpickle writes it). Below protocol 3, builtins and copyreg
	// globals get their Python 2 names (see py2Global).
	Python3 Dialect = iota
	// Python2 writes like cPickle 2.7: a Go string, ByteString and Bytes
	// are all a py2 str (STRING/SHORT_BINSTRING/BINSTRING; a Go string as
	// its UTF-8 bytes), Unicode is unicode (UNICODE/BINUNICODE).
	Python2
)

// String returns "Python3" or "Python2".
func (d Dialect) String() string {
	switch d {
	case Python3:
		return "Python3"
	case Python2:
		return "Python2"
	}
	return fmt.Sprintf("Dialect(%d)", uint8(d))
}

// Variant says how an [*Exception] is written.
type Variant uint8

const (
	// NewStyle writes exceptions as Python 2.5 and later do: Class(*args)
	// by REDUCE with the instance dict applied by BUILD when non-empty, or
	// ZODB.POSException._recon(Class, state) by REDUCE when
	// Exception.Recon is set (ZODB POSError subclasses).
	NewStyle Variant = iota
	// OldStyle writes exceptions as Python 2.4 did, exceptions being
	// classic classes there: MARK GLOBAL OBJ (INST at protocol 0), then the
	// instance dict, with 'args' in it, applied by BUILD. A Python 2.4
	// peer cannot read the new-style forms (docs/protocol.md, Errors).
	OldStyle
)

// String returns "NewStyle" or "OldStyle".
func (v Variant) String() string {
	switch v {
	case NewStyle:
		return "NewStyle"
	case OldStyle:
		return "OldStyle"
	}
	return fmt.Sprintf("Variant(%d)", uint8(v))
}

// EncoderOptions configures an [Encoder]. The zero value writes protocol 0
// in the Python 3 dialect, new-style, in fast mode.
type EncoderOptions struct {
	// Protocol is the pickle protocol, 0 to 3. Protocol 2 and 3 pickles
	// start with the PROTO opcode; 0 and 1 have no header.
	Protocol int
	// Dialect chooses the Python whose pickler is mirrored.
	Dialect Dialect
	// Variant chooses the exception style.
	Variant Variant
	// Memo writes a memo (PUT after each value CPython would memoize, GET
	// for a *List, *Dict, *Set, *Object, *Exception or Global met again),
	// so shared and recursive values can be written. The memo lives as
	// long as the Encoder: pickles appended one after another share it,
	// as ZODB's record writer does, until ClearMemo. False is the "fast"
	// mode ZEO uses for messages: no memo opcodes at all, shared values
	// written twice, recursive values refused with ErrTooDeep.
	Memo bool
}

func (o EncoderOptions) validate() error {
	if o.Protocol < 0 || o.Protocol > 3 {
		return fmt.Errorf("%w: protocol %d (supported: 0 to 3)", ErrInvalidOptions, o.Protocol)
	}
	if o.Dialect > Python2 {
		return fmt.Errorf("%w: unknown %v", ErrInvalidOptions, o.Dialect)
	}
	if o.Variant > OldStyle {
		return fmt.Errorf("%w: unknown %v", ErrInvalidOptions, o.Variant)
	}
	return nil
}

// Sentinel errors of the encoder; an encoding failure is an *EncodeError
// wrapping one of these (or ErrTooDeep).
var (
	// ErrUnencodable: the value, or a value inside it, has no pickle
	// form: a nil Value or nil pointer, a Go type outside the value model,
	// text that is not UTF-8, a global or persistent id that a text
	// opcode cannot hold, NEWOBJ_EX with keyword arguments, a string over
	// 4 GiB. Fix the value.
	ErrUnencodable = errors.New("value cannot be pickled")
	// ErrInvalidOptions: EncoderOptions out of range (a protocol other
	// than 0 to 3, an unknown Dialect or Variant).
	ErrInvalidOptions = errors.New("invalid encoder options")
)

// maxEncodeDepth bounds the nesting of containers the encoder follows. In
// fast mode a recursive value would otherwise recurse for ever; CPython
// gives up at a similar depth (its recursion limit).
const maxEncodeDepth = 1000

// EncodeError reports a value the encoder could not write.
type EncodeError struct {
	// Path locates the offending value inside the value given to the
	// encoder, e.g. "[3][1].State['oid']"; empty for the value itself.
	Path string
	// Type is the Go type of the offending value.
	Type string
	// Err wraps ErrUnencodable, ErrTooDeep (the decoder's sentinel, here
	// meaning more than 1000 nested containers: in fast mode, most likely
	// a value that contains itself) or ErrInvalidOptions, with details.
	Err error
}

// Error formats the error as
// "pickle: cannot encode []int at [3][1]: value cannot be pickled: ...".
func (e *EncodeError) Error() string {
	var b strings.Builder
	b.WriteString("pickle: cannot encode ")
	b.WriteString(e.Type)
	if e.Path != "" {
		b.WriteString(" at ")
		b.WriteString(e.Path)
	}
	b.WriteString(": ")
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns Err, so errors.Is matches the sentinel it wraps.
func (e *EncodeError) Unwrap() error { return e.Err }

// Encoder writes values of the model as pickles, byte for byte as the
// chosen Python writes the same value (cPickle 2.7 or CPython 3.11, fast
// mode or not; dict and set items in the order of the *Dict and *Set).
// Besides the model's types it accepts a Go int as an int64. It keeps its
// memo (Memo mode) between calls, so use one per connection or per record
// writer; it is not safe for concurrent use.
//
// What the decoder gives back from an encoded value follows what the
// target Python would read: in the Python 2 dialect a Go string and Bytes
// come back as ByteString and Unicode as a string; in the Python 3 dialect
// Unicode comes back as a string and every integer as int64 within 32 bits
// and *big.Int beyond; below protocol 3 builtins and copyreg globals carry
// their Python 2 names; an *Exception comes back as the *Object that
// AsException reads.
type Encoder struct {
	opts  EncoderOptions
	buf   []byte // the destination being appended to, during Append
	depth int

	// memo maps a value's identity (a pointer, or a Global by value) to
	// its memo index; memoNext is the next index. Memo mode only.
	memo     map[any]uint32
	memoNext uint32
	// sharedTuples are the tuples met more than once in the value being
	// appended: the only ones the Python 2 dialect memoizes.
	sharedTuples map[tupleKey]bool

	// errPath collects path segments while an error unwinds, innermost
	// first.
	errPath []string
}

// NewEncoder returns an Encoder writing with opts.
func NewEncoder(opts EncoderOptions) *Encoder {
	return &Encoder{opts: opts}
}

// Options returns the options the encoder writes with.
func (e *Encoder) Options() EncoderOptions { return e.opts }

// saveBytesDialect writes Bytes as the dialect's bytes type.
func (e *Encoder) saveBytesDialect(v Bytes) error {
	if e.opts.Dialect == Python2 {
		return saveByteString(e, v, "pickle.Bytes")
	}
	return e.saveBytes(v)
}

// ClearMemo forgets every value written so far, as Python's
// Pickler.clear_memo does: the next pickle starts its memo at 0 and never
// refers to an earlier one.
func (e *Encoder) ClearMemo() {
	clear(e.memo)
	e.memoNext = 0
}

// Marshal returns v pickled with opts, in a new slice. It sizes the slice
// from a quick look at v first, so that a message carrying a large record
// costs one allocation rather than one per growth of the slice.
func Marshal(v Value, opts EncoderOptions) ([]byte, error) {
	e := Encoder{opts: opts}
	budget := sizeHintBudget
	return e.Append(make([]byte, 0, sizeHint(v, &budget)+4), v)
}

// sizeHintBudget bounds the values sizeHint looks at, so that sizing a huge
// or shared value costs little; what it does not see, append grows for.
const sizeHintBudget = 256

// sizeHint estimates the pickled size of v: the payload of strings and
// bytes plus a few bytes per value.
func sizeHint(v Value, budget *int) int {
	*budget--
	if *budget < 0 {
		return 0
	}
	switch v := v.(type) {
	case string:
		return len(v) + 5
	case Bytes:
		return len(v) + 5
	case ByteString:
		return len(v) + 5
	case Unicode:
		return len(v) + 5
	case ByteArray:
		return len(v) + 40
	case Tuple:
		n := 2
		for _, x := range v {
			n += sizeHint(x, budget)
		}
		return n
	case *List:
		if v == nil {
			return 0
		}
		n := 3
		for _, x := range *v {
			n += sizeHint(x, budget)
		}
		return n
	case *Dict:
		n := 3
		for _, it := range v.Items() {
			n += sizeHint(it.Key, budget) + sizeHint(it.Value, budget)
		}
		return n
	}
	return 9
}

// Append appends one pickle of v (PROTO if the protocol has it, the value,
// STOP) to dst and returns the extended slice. It writes straight into dst:
// with enough spare capacity it allocates nothing in fast mode. On error it
// returns dst unchanged in length (bytes past it in its array may have been
// overwritten) and an *EncodeError; in Memo mode the memo is as before the
// call.
func (e *Encoder) Append(dst []byte, v Value) ([]byte, error) {
	if err := e.opts.validate(); err != nil {
		return dst, &EncodeError{Type: fmt.Sprintf("%T", v), Err: err}
	}
	memoStart := e.memoNext
	if e.opts.Memo && e.opts.Dialect == Python2 {
		e.findSharedTuples(v)
	}
	e.buf = dst
	e.depth = 0
	if e.opts.Protocol >= 2 {
		e.buf = append(e.buf, opProto, byte(e.opts.Protocol))
	}
	err := e.save(v)
	out := e.buf
	e.buf = nil
	if err != nil {
		e.rollbackMemo(memoStart)
		return dst, e.finishError(err)
	}
	return append(out, opStop), nil
}

// rollbackMemo forgets the memo entries of a failed Append, whose PUTs
// were discarded with its output.
func (e *Encoder) rollbackMemo(start uint32) {
	for k, i := range e.memo {
		if i >= start {
			delete(e.memo, k)
		}
	}
	e.memoNext = start
}

// fail builds the error for value v; the path is filled in as it unwinds.
func (e *Encoder) fail(v Value, format string, args ...any) error {
	return e.failType(fmt.Sprintf("%T", v), format, args...)
}

// failType is fail for a value of the Go type named typ.
func (e *Encoder) failType(typ string, format string, args ...any) error {
	e.errPath = e.errPath[:0]
	return &EncodeError{Type: typ, Err: fmt.Errorf("%w: "+format, append([]any{ErrUnencodable}, args...)...)}
}

// at records that err happened inside the value at path segment seg.
// Callers only reach it on the error path, so building seg costs nothing
// on success.
func (e *Encoder) at(err error, seg string) error {
	e.errPath = append(e.errPath, seg)
	return err
}

// atIndex is at with a "[i]" segment.
func (e *Encoder) atIndex(err error, i int) error {
	return e.at(err, fmt.Sprintf("[%d]", i))
}

// maxPathSegments bounds the path shown in an error: a recursive value
// fails a thousand levels down.
const maxPathSegments = 24

func (e *Encoder) finishError(err error) error {
	var ee *EncodeError
	if errors.As(err, &ee) && ee.Path == "" && len(e.errPath) > 0 {
		segs := e.errPath
		var b strings.Builder
		n := len(segs)
		for i := n - 1; i >= 0; i-- {
			if n > maxPathSegments && i == n-maxPathSegments/2-1 {
				fmt.Fprintf(&b, "...(%d levels)...", n-maxPathSegments)
				i = maxPathSegments/2 - 1
			}
			b.WriteString(segs[i])
		}
		ee.Path = b.String()
	}
	e.errPath = e.errPath[:0]
	return err
}

// enter counts one level of nesting into a container of Go type typ and
// refuses to go deeper than maxEncodeDepth. (It takes the type name, not
// the value: boxing a Tuple into a Value would allocate.)
func (e *Encoder) enter(typ string) error {
	e.depth++
	if e.depth > maxEncodeDepth {
		e.errPath = e.errPath[:0]
		hint := ""
		if !e.opts.Memo {
			hint = " (a recursive value? fast mode cannot pickle cycles; Memo mode can)"
		}
		return &EncodeError{Type: typ,
			Err: fmt.Errorf("%w: more than %d levels%s", ErrTooDeep, maxEncodeDepth, hint)}
	}
	return nil
}

func (e *Encoder) leave() { e.depth-- }

// save writes one value.
func (e *Encoder) save(v Value) error {
	switch v := v.(type) {
	case NoneType:
		e.buf = append(e.buf, opNone)
	case bool:
		e.saveBool(v)
	case int64:
		e.saveInt(v)
	case int:
		e.saveInt(int64(v))
	case *big.Int:
		if v == nil {
			return e.fail(v, "nil *big.Int")
		}
		e.saveBig(v)
	case float64:
		e.saveFloat(v)
	case string:
		if e.opts.Dialect == Python2 {
			return saveByteString(e, v, "string")
		}
		if key, ok := e.sharedKeyOf(v); ok {
			return e.saveShared(key, v, func() error { return e.saveText(v, "string") })
		}
		return e.saveText(v, "string")
	case Unicode:
		return e.saveText(string(v), "pickle.Unicode")
	case ByteString:
		if key, ok := e.sharedKeyOf(v); ok {
			return e.saveShared(key, v, func() error { return saveByteString(e, v, "pickle.ByteString") })
		}
		return saveByteString(e, v, "pickle.ByteString")
	case Bytes:
		if key, ok := e.sharedKeyOf(v); ok {
			return e.saveShared(key, v, func() error { return e.saveBytesDialect(v) })
		}
		return e.saveBytesDialect(v)
	case ByteArray:
		return e.saveByteArray(v)
	case Tuple:
		if key, ok := e.sharedKeyOf(v); ok {
			return e.saveShared(key, v, func() error { return e.saveTuple(v) })
		}
		return e.saveTuple(v)
	case *List:
		return e.saveList(v)
	case *Dict:
		return e.saveDict(v)
	case *Set:
		return e.saveSet(v)
	case Global:
		return e.saveGlobal(v)
	case PersistentRef:
		return e.savePersistentRef(v)
	case *Object:
		return e.saveObject(v)
	case *Exception:
		return e.saveException(v)
	case nil:
		return e.fail(v, "a nil Value (use pickle.None for Python None)")
	default:
		return e.fail(v, "type %T is not part of the value model", v)
	}
	return nil
}
