package testserver

import (
	"fmt"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
)

// Arguments arrive as decoded pickle (or msgpack) values; these helpers
// read them the way the Python server would use them, and fail with the
// TypeError or ValueError the Python code would raise.

// argOID reads an 8-byte oid.
func (p Profile) argOID(v pickle.Value) (zodb.OID, error) {
	b, ok := pickle.AsBytes(v)
	if !ok || len(b) != 8 {
		return zodb.OID{}, p.builtinErr("TypeError", text("an oid must be 8 bytes, got "+describe(v)))
	}
	return zodb.OID(b), nil
}

// argTID reads an 8-byte tid or serial.
func (p Profile) argTID(v pickle.Value) (zodb.TID, error) {
	b, ok := pickle.AsBytes(v)
	if !ok || len(b) != 8 {
		return zodb.TID{}, p.builtinErr("TypeError", text("a tid must be 8 bytes, got "+describe(v)))
	}
	return zodb.TID(b), nil
}

// argOIDTID reads the (oid, tid) pair that leads the arguments of the
// reads at a tid (loadBefore, loadSerial) and of the writes against a
// serial (storea, deleteObject, checkCurrentSerialInTransaction).
func (p Profile) argOIDTID(args pickle.Tuple) (zodb.OID, zodb.TID, error) {
	oid, err := p.argOID(args[0])
	if err != nil {
		return zodb.OID{}, zodb.TID{}, err
	}
	tid, err := p.argTID(args[1])
	return oid, tid, err
}

// argOptTID reads a tid that may be None.
func (p Profile) argOptTID(v pickle.Value) (zodb.TID, bool, error) {
	if v == nil || pickle.IsNone(v) {
		return zodb.TID{}, false, nil
	}
	t, err := p.argTID(v)
	return t, err == nil, err
}

// argBytes reads a byte string (data records, blob chunks).
func (p Profile) argBytes(v pickle.Value) ([]byte, error) {
	if b, ok := pickle.AsBytes(v); ok {
		return b, nil
	}
	if s, ok := v.(string); ok { // text sent where bytes were expected
		return []byte(s), nil
	}
	return nil, p.builtinErr("TypeError", text("expected a byte string, got "+describe(v)))
}

// argText reads a native string (storage name, label, status).
func (p Profile) argText(v pickle.Value) (string, error) {
	if s, ok := pickle.AsText(v); ok {
		return s, nil
	}
	if p.Python == 2 {
		if b, ok := pickle.AsBytes(v); ok {
			return string(b), nil
		}
	}
	return "", p.builtinErr("TypeError", text("expected a string, got "+describe(v)))
}

// argRaw reads user names and descriptions, which clients send as bytes
// or text: the raw bytes (UTF-8 for text).
func argRaw(v pickle.Value) string {
	if b, ok := pickle.AsBytes(v); ok {
		return string(b)
	}
	if s, ok := pickle.AsText(v); ok {
		return s
	}
	return ""
}

// argInt reads an int.
func (p Profile) argInt(v pickle.Value) (int64, error) {
	if i, ok := pickle.AsInt(v); ok {
		return i, nil
	}
	return 0, p.builtinErr("TypeError", text("an integer is required, got "+describe(v)))
}

// argFloat reads a number as a float (pack times).
func (p Profile) argFloat(v pickle.Value) (float64, error) {
	if f, ok := pickle.AsFloat(v); ok {
		return f, nil
	}
	return 0, p.builtinErr("TypeError", text("a float is required, got "+describe(v)))
}

// truth is Python's truth value of a flag argument.
func truth(v pickle.Value) bool {
	if b, ok := pickle.AsBool(v); ok {
		return b
	}
	if b, ok := pickle.AsBytes(v); ok {
		return len(b) > 0
	}
	if s, ok := pickle.AsText(v); ok {
		return s != ""
	}
	return v != nil
}

// describe shows a value briefly for error messages.
func describe(v pickle.Value) string {
	r := pickle.Repr(v)
	if len(r) > 60 {
		r = r[:60] + "..."
	}
	return r
}

// arity checks the argument count against a Python signature with
// required and optional positional parameters, raising TypeError as
// Python 2 words it.
func (p Profile) arity(method string, args pickle.Tuple, required, optional int) error {
	n := len(args)
	if n >= required && n <= required+optional {
		return nil
	}
	qual := "exactly"
	want := required
	switch {
	case optional > 0 && n < required:
		qual = "at least"
	case optional > 0:
		qual, want = "at most", required+optional
	}
	plural := "s"
	if want+1 == 1 {
		plural = ""
	}
	// Python counts self.
	return p.builtinErr("TypeError", text(fmt.Sprintf("%s() takes %s %d argument%s (%d given)", method, qual, want+1, plural, n+1)))
}
