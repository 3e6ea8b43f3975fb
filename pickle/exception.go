package pickle

import (
	"fmt"
	"strings"
)

// ExceptionStyle says how an exception instance was (or is to be) pickled.
type ExceptionStyle uint8

// The exception pickling styles seen on the ZEO wire (docs/protocol.md,
// Errors).
const (
	// StyleOldStyle: a Python 2.4 classic instance, MARK GLOBAL OBJ (or
	// INST) and the instance __dict__ applied by BUILD.
	StyleOldStyle ExceptionStyle = iota + 1
	// StyleReduce: a new-style exception (Python 2.5+ and 3),
	// Class(*args) by REDUCE, then __dict__ by BUILD when non-empty.
	StyleReduce
	// StyleRecon: ZODB's POSError.__reduce__ (ZODB 3.8+ on Python 2.5+,
	// and every ZODB 4/5): ZODB.POSException._recon(Class, state) by
	// REDUCE, where state is __dict__ plus 'args'.
	StyleRecon
)

func (s ExceptionStyle) String() string {
	switch s {
	case StyleOldStyle:
		return "old-style"
	case StyleReduce:
		return "reduce"
	case StyleRecon:
		return "_recon"
	}
	return fmt.Sprintf("ExceptionStyle(%d)", uint8(s))
}

// Exception is a normalized view of a pickled exception instance, whatever
// style wrote it. As a value given to the encoder it is written in the
// encoder's Variant: old-style for Python 2.4, otherwise _recon when Recon is
// set (ZODB POSError subclasses) and Class(*args) REDUCE when not.
type Exception struct {
	Class Global
	Args  Tuple
	// State holds the instance attributes (its __dict__), without 'args'.
	// It may be nil.
	State *Dict
	// Style is how the decoded exception was pickled; the encoder ignores it.
	Style ExceptionStyle
	// Recon marks a ZODB POSError subclass, which Python 2.5+ pickles
	// through ZODB.POSException._recon. Decoding sets it for StyleRecon.
	Recon bool
}

// Error formats the exception the way Python's repr would, roughly:
// module.Class(args) {state}.
func (e *Exception) Error() string {
	var b strings.Builder
	b.WriteString(e.Class.String())
	b.WriteString(Repr(e.Args))
	if e.State.Len() > 0 {
		b.WriteByte(' ')
		b.WriteString(Repr(e.State))
	}
	return b.String()
}

// Attr returns the instance attribute name from State.
func (e *Exception) Attr(name string) (Value, bool) { return e.State.GetString(name) }

// reconGlobal is ZODB's helper that rebuilds POSError instances.
var reconGlobal = Global{"ZODB.POSException", "_recon"}

// AsException recognizes the pickled forms of an exception instance
// (docs/protocol.md, Errors) in a decoded value: an OBJ/INST classic instance
// with its BUILD dict, a REDUCE of a class on an args tuple with an optional
// BUILD dict, and ZODB's _recon(Class, state). It does not know which globals
// are exception classes, so it accepts any Global as the class: callers decide
// from context (an error reply, a serialnos entry) that a value is one.
func AsException(v Value) (*Exception, bool) {
	o, ok := v.(*Object)
	if !ok {
		return nil, false
	}
	cls, ok := o.Callable.(Global)
	if !ok {
		return nil, false
	}
	e := &Exception{Class: cls}
	switch o.Kind {
	case KindObj, KindInst:
		e.Style = StyleOldStyle
		e.Args = o.Args
		if !e.takeState(o.State) {
			return nil, false
		}
	case KindReduce, KindNewObj:
		if cls == reconGlobal && len(o.Args) == 2 {
			c, ok1 := o.Args[0].(Global)
			st, ok2 := o.Args[1].(*Dict)
			if !ok1 || !ok2 {
				return nil, false
			}
			e.Class, e.Style, e.Recon = c, StyleRecon, true
			if !e.takeState(st) || !e.takeState(o.State) {
				return nil, false
			}
			break
		}
		e.Style = StyleReduce
		e.Args = o.Args
		if !e.takeState(o.State) {
			return nil, false
		}
	default:
		return nil, false
	}
	if e.Args == nil {
		e.Args = Tuple{}
	}
	return e, true
}

// takeState merges a BUILD/_recon state dict into e, moving 'args' into
// e.Args. A nil state is fine; any other non-dict is not an exception state.
func (e *Exception) takeState(st Value) bool {
	if st == nil || IsNone(st) {
		return true
	}
	d, ok := st.(*Dict)
	if !ok {
		return false
	}
	for _, it := range d.Items() {
		if k, ok := AsText(it.Key); ok && k == "args" {
			if a, ok := AsTuple(it.Value); ok {
				e.Args = Tuple(a)
				continue
			}
		}
		if e.State == nil {
			e.State = NewDict(d.Len())
		}
		if err := e.State.Set(it.Key, it.Value); err != nil {
			return false
		}
	}
	return true
}
