// Package pickle is a Python pickle codec that knows nothing of ZEO.
//
// It decodes pickles of protocols 0 to 5 into a Go value model that keeps
// apart what Python keeps apart, and encodes that model at protocols 0 to 3
// in the dialect of a Python 2 or a Python 3 program, with objects and
// exceptions written the way Python 2.4 (old-style classes) or Python 2.5 and
// later (new-style, __reduce__) wrote them.
//
// # Value model
//
// A decoded pickle is a [Value]; its dynamic type is one of:
//
//	None          Python None (distinct from a nil Value, which means "absent")
//	bool          bool
//	int64         int (and py2 int); INT, BININT*, protocol-0 I
//	*big.Int      long (LONG, LONG1, LONG4, protocol-0 L), whatever its size
//	float64       float
//	ByteString    Python 2 str: bytes on the wire (STRING, BINSTRING, SHORT_BINSTRING)
//	Bytes         Python 3 bytes (BINBYTES*, and the py2-compatible spellings
//	              _codecs.encode(text, 'latin1') and zodbpickle.binary)
//	string        text: py2 unicode, py3 str (UNICODE, BINUNICODE*)
//	ByteArray     bytearray
//	Tuple         tuple
//	*List         list
//	*Dict         dict, insertion order kept, any hashable key
//	*Set          set or frozenset (Frozen tells which)
//	Global        a reference to module.name, never resolved
//	*Object       an object built by REDUCE, NEWOBJ, NEWOBJ_EX, OBJ or INST, with its BUILD state
//	PersistentRef a persistent reference (PERSID/BINPERSID) left unresolved
//	Unicode       text that the encoder always writes as unicode (never produced by the decoder)
//	*Exception    an exception to encode in the configured style (never produced by the
//	              decoder; use [AsException] to view a decoded exception)
//
// Accessors such as [AsBytes], [AsText], [AsInt] and [AsTuple] answer the
// questions users actually ask ("these bytes, whether a py2 str or py3 bytes").
//
// # Decoding
//
// [Unmarshal] decodes one pickle. A [Decoder] decodes consecutive pickles
// sharing one memo, as the class and state pickles of a ZODB record do.
// Nothing is ever imported or executed: a constructed object is recorded
// as an [*Object] naming what would have been called (a few constructors
// of plain data, such as set and bytes, are read as that data). The hooks
// of [DecoderOptions] let the caller vet or replace globals (FindGlobal)
// and resolve persistent references (PersistentLoad); without them globals
// stay [Global] values and references stay [PersistentRef] values. Nesting is
// bounded (DecoderOptions.MaxDepth), so hostile input cannot exhaust the
// stack. A failure is a [*DecodeError] giving the offset and opcode, and
// wrapping a sentinel such as [ErrTruncated] for errors.Is.
//
// # Encoding
//
// [Marshal] and [Encoder] write protocols 0 to 3 byte for byte as Python 2.7's
// cPickle or Python 3's pickle module would ([Dialect]), in ZEO's fast mode
// or with a memo ([EncoderOptions]). A Go string is the native str of the
// chosen Python; [Unicode], [ByteString] and [Bytes] pin down text and bytes
// for either. An [*Exception] is written old-style for a Python 2.4 peer or
// new-style for later ones ([Variant]), and [AsException] reads every
// pickled exception form back into one view.
package pickle

import (
	"fmt"
	"math/big"
)

// Value is any value of the model described in the package documentation.
type Value = any

// NoneType is the type of [None].
type NoneType struct{}

// String returns "None".
func (NoneType) String() string { return "None" }

// None is Python's None. A nil Value means "no value" and never encodes.
var None = NoneType{}

// ByteString is a Python 2 str: a string of bytes, pickled with STRING,
// BINSTRING or SHORT_BINSTRING. Python 3 reads these as text (ASCII by
// default), which is why a Python 3 server rejects a non-ASCII ByteString.
type ByteString []byte

// Bytes is a Python 3 bytes object. In the Python 2 dialect it is written as
// a py2 str, since Python 2 has no other byte type.
type Bytes []byte

// ByteArray is a Python bytearray.
type ByteArray []byte

// Unicode is text that the encoder writes as unicode (UNICODE/BINUNICODE)
// even in the Python 2 dialect, where a Go string is written as a py2 str.
// The decoder returns text as a Go string, never as Unicode.
type Unicode string

// Tuple is a Python tuple.
type Tuple []Value

// List is a Python list. It is used by pointer because a list is mutable and
// may be shared or contain itself.
type List []Value

// Global is a reference to module.name (GLOBAL, STACK_GLOBAL, INST, the
// callable of a REDUCE). The decoder never imports or resolves it.
type Global struct {
	Module string
	Name   string
}

// String returns module.name.
func (g Global) String() string { return g.Module + "." + g.Name }

// PersistentRef is a persistent reference: the persistent id of PERSID or
// BINPERSID, left unresolved when the decoder has no PersistentLoad hook.
// ZODB records use them for references to other objects: the id is usually
// a ByteString/Bytes oid or a Tuple (oid, class).
type PersistentRef struct {
	ID Value
}

// ObjectKind says which opcode path built an [Object].
type ObjectKind uint8

// The ways a pickle builds an object.
const (
	KindReduce   ObjectKind = iota + 1 // callable(*args): REDUCE
	KindNewObj                         // cls.__new__(cls, *args): NEWOBJ
	KindNewObjEx                       // cls.__new__(cls, *args, **kwargs): NEWOBJ_EX
	KindObj                            // classic instance: MARK cls args OBJ (Python 2 old-style)
	KindInst                           // classic instance: MARK args INST module name (protocol 0)
)

var kindNames = [...]string{"", "REDUCE", "NEWOBJ", "NEWOBJ_EX", "OBJ", "INST"}

// String returns the opcode name of k.
func (k ObjectKind) String() string {
	if int(k) < len(kindNames) && k != 0 {
		return kindNames[k]
	}
	return fmt.Sprintf("ObjectKind(%d)", uint8(k))
}

// Object is an object the pickle constructs by calling something. The
// decoder records what would have been called and with what; it calls
// nothing.
type Object struct {
	Kind     ObjectKind
	Callable Value // usually a Global: the class or function called
	Args     Tuple
	Kwargs   *Dict // NEWOBJ_EX only
	// State is the argument of BUILD (usually a *Dict, or a Tuple of
	// (dict, slots dict)), or nil when the pickle had no BUILD.
	State Value
	// ListItems and DictItems hold APPEND(S) and SETITEM(S) applied to the
	// object itself (as pickled list and dict subclasses do).
	ListItems []Value
	DictItems *Dict
}

// Class returns the Global the object was built from: the callable for
// NEWOBJ, OBJ and INST, and for REDUCE the callable itself, or the class
// of copy_reg._reconstructor(cls, base, state).
func (o *Object) Class() (Global, bool) {
	if o.Kind == KindReduce {
		if g, ok := o.Callable.(Global); ok && isReconstructor(g) && len(o.Args) >= 1 {
			c, ok := o.Args[0].(Global)
			return c, ok
		}
	}
	g, ok := o.Callable.(Global)
	return g, ok
}

func isReconstructor(g Global) bool {
	return g.Name == "_reconstructor" && (g.Module == "copy_reg" || g.Module == "copyreg")
}

// Long returns v as a *big.Int: a convenience for building long values.
func Long(v int64) *big.Int { return big.NewInt(v) }
