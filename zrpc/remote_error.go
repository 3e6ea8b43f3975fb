package zrpc

import (
	"strings"

	"github.com/gozeo/gozeo/pickle"
)

// RemoteError is an exception the peer raised, in whichever of the shapes of
// docs/protocol.md, Errors, it arrived. Upper layers map Class to their own
// typed errors; zrpc keeps the names as the server spelled them
// ("exceptions.KeyError" from Python 2, "builtins.KeyError" from Python 3).
type RemoteError struct {
	// Class is the qualified class name, e.g.
	// "ZODB.POSException.ConflictError". It is empty only for a ZEO 5
	// error reply too malformed to name a class.
	Class string
	// Args is the exception's args tuple, when it had or sent one.
	Args pickle.Tuple
	// State holds the exception's attributes (its __dict__ without
	// 'args'): the oid and serials of a ConflictError, for instance.
	State *pickle.Dict
	// Raw is the value as received: the whole reply value for an error
	// reply, the instance for [ExceptionValue].
	Raw pickle.Value
	// Method is the remote method that raised, when known.
	Method string
}

// maxErrorRepr bounds the arguments shown by Error, which may hold data
// records of any size.
const maxErrorRepr = 300

// Error says which remote method failed and with what exception.
func (e *RemoteError) Error() string {
	var b strings.Builder
	b.WriteString("zrpc: ")
	if e.Method != "" {
		b.WriteString("remote method ")
		b.WriteString(e.Method)
		b.WriteString(" raised ")
	} else {
		b.WriteString("remote exception ")
	}
	if e.Class == "" {
		b.WriteString("<malformed error reply> ")
		b.WriteString(clip(pickle.Repr(e.Raw)))
		return b.String()
	}
	b.WriteString(e.Class)
	var detail strings.Builder
	if e.Args != nil {
		detail.WriteString(pickle.Repr(e.Args))
	}
	if e.State.Len() > 0 {
		// Attributes read apart from the class name or args: Class(args) {attrs}.
		detail.WriteByte(' ')
		detail.WriteString(pickle.Repr(e.State))
	}
	b.WriteString(clip(detail.String()))
	return b.String()
}

func clip(s string) string {
	if len(s) > maxErrorRepr {
		return s[:maxErrorRepr] + "..."
	}
	return s
}

// Name returns the unqualified class name ("ConflictError").
func (e *RemoteError) Name() string {
	return e.Class[strings.LastIndexByte(e.Class, '.')+1:]
}

// Attr returns the exception attribute name from State.
func (e *RemoteError) Attr(name string) (pickle.Value, bool) {
	if e.State == nil {
		return nil, false
	}
	return e.State.GetString(name)
}

// ErrorFromReply recognizes an error reply (docs/protocol.md, Errors):
//
//   - ZEO 5/6, flags FlagError: the value is (qualified class name, state),
//     state being the exception's __dict__ (a dict) or, when that is empty,
//     its args (a tuple);
//   - ZEO 2.x-4.x, flags 0: the value is a tuple of two or more items whose
//     first is a pickled global, the exception class, and whose second is
//     the pickled instance; the (Class, (Class, instance)) of ZODB 3.2-3.7
//     servers on Python 2.5+ is accepted too.
//
// A plain reply never has a global as the first item of a tuple (ZEO
// methods return data, ids, lists and dicts), so a legitimate (data, tid)
// pair is never mistaken for an error. It reports false for anything that
// is not a reply.
func ErrorFromReply(m *Message) (*RemoteError, bool) {
	if !m.IsReply() {
		return nil, false
	}
	if m.Flags&FlagError != 0 {
		return zeo5Error(m.Args), true
	}
	t, ok := m.Args.(pickle.Tuple)
	if !ok || len(t) < 2 {
		return nil, false
	}
	cls, ok := t[0].(pickle.Global)
	if !ok {
		return nil, false
	}
	e := &RemoteError{Class: cls.String(), Raw: m.Args}
	inst := t[1]
	if q, ok := inst.(pickle.Tuple); ok && len(q) == 2 {
		if _, ok := q[0].(pickle.Global); ok {
			inst = q[1]
		}
	}
	if x, ok := pickle.AsException(inst); ok {
		e.Args, e.State = x.Args, x.State
	}
	return e, true
}

// zeo5Error reads the (name, state) value of a FlagError reply. A value of
// another shape is still an error (the peer said so), with an empty Class.
func zeo5Error(v pickle.Value) *RemoteError {
	e := &RemoteError{Raw: v}
	t, ok := pickle.AsTuple(v)
	if !ok || len(t) != 2 {
		return e
	}
	name, ok := pickle.AsText(t[0])
	if !ok {
		return e
	}
	e.Class = name
	if d, ok := pickle.AsDict(t[1]); ok {
		e.State = d
	} else if a, ok := pickle.AsTuple(t[1]); ok {
		e.Args = pickle.Tuple(a)
	}
	return e
}

// ExceptionValue recognizes a pickled exception instance that arrives as a
// plain value: the (oid, instance) items of a ZEO ≤ 4.x serialnos call
// (docs/protocol.md, Commit). It accepts Python 2.4 old-style instances,
// new-style Class(*args) reductions and ZODB's _recon form (see
// [pickle.AsException]). The caller sets Method if it knows which call the
// error belongs to.
func ExceptionValue(v pickle.Value) (*RemoteError, bool) {
	x, ok := pickle.AsException(v)
	if !ok {
		return nil, false
	}
	return &RemoteError{Class: x.Class.String(), Args: x.Args, State: x.State, Raw: v}, true
}
