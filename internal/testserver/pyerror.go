package testserver

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gozeo/gozeo/internal/testserver/store"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
)

// pyError is a Python exception the imitated server raises: the class, the
// args tuple and the instance attributes, from which each generation's
// error reply and serialnos entries are built (docs/protocol.md, Errors,
// Commit).
type pyError struct {
	Module, Name string
	Args         pickle.Tuple
	// State is the instance __dict__ without 'args', in the order the
	// Python constructor fills it.
	State []attr
	// POSError marks ZODB.POSException classes, which Python ≥ 2.5
	// pickles through ZODB.POSException._recon.
	POSError bool
}

// attr is one instance attribute of a pyError.
type attr struct {
	Key   string
	Value pickle.Value
}

// Error formats the exception as Python's repr would, roughly.
func (e *pyError) Error() string {
	var b strings.Builder
	b.WriteString(e.Module + "." + e.Name + pickle.Repr(e.Args))
	for _, a := range e.State {
		fmt.Fprintf(&b, " %s=%s", a.Key, pickle.Repr(a.Value))
	}
	return b.String()
}

// class returns the exception class as a pickled global.
func (e *pyError) class() pickle.Global { return pickle.Global{Module: e.Module, Name: e.Name} }

// qualName is the class name a ZEO 5 error reply carries.
func (e *pyError) qualName() string { return e.Module + "." + e.Name }

// get returns attribute key.
func (e *pyError) get(key string) (pickle.Value, bool) {
	for _, a := range e.State {
		if a.Key == key {
			return a.Value, true
		}
	}
	return nil, false
}

const posException = "ZODB.POSException"

func posErr(name string, args ...pickle.Value) *pyError {
	return &pyError{Module: posException, Name: name, Args: pickle.Tuple(args), POSError: true}
}

// builtinErr is a builtin exception (ValueError, KeyError …) of the
// profile's Python.
func (p Profile) builtinErr(name string, args ...pickle.Value) *pyError {
	return &pyError{Module: p.builtins(), Name: name, Args: pickle.Tuple(args)}
}

// text is a native Python string: str on Python 2 and 3 alike (a Go
// string encodes as a py2 str in the Python 2 dialect, text in Python 3
// and msgpack).
func text(s string) pickle.Value { return s }

// bin is a byte string: a py2 str, a py3 bytes, a msgpack bin.
func bin(b []byte) pickle.Value { return pickle.Bytes(b) }

func oidValue(o zodb.OID) pickle.Value { return pickle.Bytes(o.Bytes()) }
func tidValue(t zodb.TID) pickle.Value { return pickle.Bytes(t.Bytes()) }

// oidList is a list of oids as bytes.
func oidList(oids []zodb.OID) *pickle.List {
	l := make(pickle.List, len(oids))
	for i, o := range oids {
		l[i] = oidValue(o)
	}
	return &l
}

// optValue is None for a nil Go value.
func optValue(v pickle.Value) pickle.Value {
	if v == nil {
		return pickle.None
	}
	return v
}

// conflictError is ZODB's ConflictError (or ReadConflictError) as a
// FileStorage raises it: message, oid, class_name, serials = (committed,
// read), and on ZODB 3.8 the record as data.
func (p Profile) conflictError(name string, c *store.ConflictError, message string) *pyError {
	e := posErr(name)
	var class pickle.Value = pickle.None
	if c.ClassName != "" {
		class = text(c.ClassName)
	}
	e.State = []attr{
		{"message", text(message)},
		{"oid", oidValue(c.OID)},
		{"class_name", class},
		{"serials", pickle.Tuple{tidValue(c.Committed), tidValue(c.Read)}},
	}
	if p.ConflictData {
		var data pickle.Value = pickle.None
		if c.Data != nil {
			data = bin(c.Data)
		}
		e.State = append(e.State, attr{"data", data})
	}
	return e
}

// storageTransactionError is StorageTransactionError(current, given), what
// _check_tid raises for a call naming another transaction.
func storageTransactionError(current, given pickle.Value) *pyError {
	return posErr("StorageTransactionError", optValue(current), optValue(given))
}

// pyErrorFrom turns an error of the store (or one already a *pyError) into
// the exception the real server would raise. Unknown errors become
// ZEO.StorageServer.StorageServerError, as unpicklable ones did.
func (p Profile) pyErrorFrom(err error) *pyError {
	var pe *pyError
	if errors.As(err, &pe) {
		return pe
	}
	var (
		rce  *store.ReadConflictError
		ce   *store.ConflictError
		pke  *store.POSKeyError
		roe  *store.ReadOnlyError
		ste  *store.StorageTransactionError
		mue  *store.MultipleUndoErrors
		ue   *store.UndoError
		base = err
	)
	switch {
	case errors.As(err, &rce):
		return p.conflictError("ReadConflictError", &rce.ConflictError, rce.Message())
	case errors.As(err, &ce):
		return p.conflictError("ConflictError", ce, ce.Message())
	case errors.As(err, &pke):
		return posErr("POSKeyError", oidValue(pke.OID))
	case errors.As(err, &roe):
		return posErr("ReadOnlyError")
	case errors.As(err, &ste):
		if ste.Msg != "" {
			return posErr("StorageTransactionError", text(ste.Msg))
		}
		return storageTransactionError(ste.Current, ste.Given)
	case errors.As(err, &mue):
		errs := make(pickle.List, len(mue.Errors))
		for i, u := range mue.Errors {
			errs[i] = p.undoError(u)
		}
		e := posErr("MultipleUndoErrors", &errs)
		e.State = []attr{{"_errs", &errs}}
		return e
	case errors.As(err, &ue):
		return p.undoError(ue)
	case errors.Is(err, store.ErrInvalidPackTime):
		return posErr("StorageError", text("Invalid pack time"))
	}
	return &pyError{Module: "ZEO.StorageServer", Name: "StorageServerError",
		Args: pickle.Tuple{text(base.Error())}}
}

// undoError is ZODB's UndoError(reason, oid): the constructor keeps both
// as _reason and _oid.
func (p Profile) undoError(u *store.UndoError) *pyError {
	var oid pickle.Value = pickle.None
	if u.HasOID {
		oid = oidValue(u.OID)
	}
	e := posErr("UndoError", text(u.Reason), oid)
	e.State = []attr{{"_reason", text(u.Reason)}, {"_oid", oid}}
	return e
}
