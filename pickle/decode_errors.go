package pickle

import (
	"errors"
	"fmt"
	"math/big"
	"strings"
)

// Sentinel errors of the decoder. A decoding failure is always a
// *DecodeError whose Err wraps one of these, so callers match them with
// errors.Is and find the position with errors.As.
var (
	// ErrTruncated: the input ends inside an opcode's argument or before
	// the STOP opcode; a length field asks for more bytes than remain.
	// The pickle was cut short (or a length field is corrupt).
	ErrTruncated = errors.New("truncated")
	// ErrUnknownOpcode: a byte that no pickle protocol defines where an
	// opcode was expected; the input is not a pickle or is corrupt.
	ErrUnknownOpcode = errors.New("unknown opcode")
	// ErrTooDeep: nesting of containers and marks exceeds
	// DecoderOptions.MaxDepth; raise the limit if the input is trusted.
	ErrTooDeep = errors.New("nesting too deep")
	// ErrStackUnderflow: an opcode needs more values than the stack holds
	// above the last mark.
	ErrStackUnderflow = errors.New("stack underflow")
	// ErrNoMark: an opcode that works on the items above a MARK found no
	// MARK.
	ErrNoMark = errors.New("no mark on the stack")
	// ErrMemo: GET of a memo key that was never PUT, or a memo key out of
	// range.
	ErrMemo = errors.New("memo")
	// ErrBadValue: an opcode argument or a stack value has the wrong form
	// or type (an unquoted STRING, a bad escape, APPEND to a non-list, an
	// unhashable dict key, an unsupported protocol, ...).
	ErrBadValue = errors.New("bad value")
	// ErrGlobalRefused: the FindGlobal hook refused a global; the hook's
	// error is wrapped too.
	ErrGlobalRefused = errors.New("global refused")
	// ErrOutOfBandBuffer: NEXT_BUFFER or READONLY_BUFFER (protocol 5
	// out-of-band data), which ZEO never uses and this decoder does not
	// support.
	ErrOutOfBandBuffer = errors.New("out-of-band buffers not supported")
	// ErrPersistentLoad: the PersistentLoad hook failed; its error is
	// wrapped too.
	ErrPersistentLoad = errors.New("persistent load failed")
	// ErrTooComplex: dict keys or set members would take more work to
	// hash than the input's size justifies. Through the memo a pickle
	// of a few hundred bytes can build a tuple of 2^60 items; Python
	// would hash it forever.
	ErrTooComplex = errors.New("too complex")
)

// DecodeError reports where and why decoding failed.
type DecodeError struct {
	// Offset is the position in the decoder's input of the opcode that
	// failed (or of the end of input when an opcode was expected).
	Offset int
	// Opcode is the opcode that failed; 0 when the input ended where an
	// opcode was expected (see Err).
	Opcode byte
	// Err wraps a sentinel such as ErrTruncated, with details.
	Err error
}

// Error formats the error as
// "pickle: opcode 'X' (BINUNICODE) at offset 17: truncated: need 9 bytes, 2 remain".
func (e *DecodeError) Error() string {
	var b strings.Builder
	b.WriteString("pickle: ")
	switch {
	case opcodeNames[e.Opcode] != "":
		b.WriteString("opcode ")
		writeOpcode(&b, e.Opcode)
		b.WriteString(" (")
		b.WriteString(opcodeNames[e.Opcode])
		b.WriteString(") ")
	case errors.Is(e.Err, ErrUnknownOpcode):
		b.WriteString("opcode ")
		writeOpcode(&b, e.Opcode)
		b.WriteByte(' ')
	}
	fmt.Fprintf(&b, "at offset %d: %v", e.Offset, e.Err)
	return b.String()
}

// Unwrap returns Err, so errors.Is matches the sentinel it wraps.
func (e *DecodeError) Unwrap() error { return e.Err }

func writeOpcode(b *strings.Builder, op byte) {
	if op > ' ' && op < 0x7f && op != '\'' {
		b.WriteByte('\'')
		b.WriteByte(op)
		b.WriteByte('\'')
		return
	}
	fmt.Fprintf(b, "0x%02x", op)
}

// multiError is an error with its own message that wraps several errors,
// so that e.g. an unhashable key matches both ErrBadValue and ErrUnhashable
// without repeating the "pickle:" prefix of ErrUnhashable in the message.
type multiError struct {
	msg  string
	errs []error
}

func (e *multiError) Error() string   { return e.msg }
func (e *multiError) Unwrap() []error { return e.errs }

// truncated reports that n bytes are needed where rem remain.
func truncated(n uint64, rem int) error {
	return fmt.Errorf("%w: need %d bytes, %d remain", ErrTruncated, n, rem)
}

// badValue wraps ErrBadValue with a formatted explanation.
func badValue(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrBadValue}, args...)...)
}

// unhashable reports an unhashable dict key or set member; it matches
// both ErrBadValue and ErrUnhashable.
func unhashable(what string, v Value) error {
	return &multiError{
		msg:  fmt.Sprintf("%v: unhashable %s of type %s", ErrBadValue, what, TypeName(v)),
		errs: []error{ErrBadValue, ErrUnhashable},
	}
}

// TypeName names the Python type of a decoded value ("tuple", "str (py2)",
// "object module.Name", ...), for error messages.
func TypeName(v Value) string {
	switch v := v.(type) {
	case nil:
		return "nothing"
	case NoneType:
		return "None"
	case bool:
		return "bool"
	case int64:
		return "int"
	case *big.Int:
		return "int (long)"
	case float64:
		return "float"
	case ByteString:
		return "str (py2)"
	case Bytes:
		return "bytes"
	case string:
		return "str"
	case ByteArray:
		return "bytearray"
	case Tuple:
		return "tuple"
	case *List:
		return "list"
	case *Dict:
		return "dict"
	case *Set:
		if v.Frozen {
			return "frozenset"
		}
		return "set"
	case Global:
		return "global " + v.String()
	case *Object:
		if c, ok := v.Class(); ok {
			return "object " + c.String()
		}
		return "object"
	case PersistentRef:
		return "persistent reference"
	}
	return fmt.Sprintf("%T", v)
}
