package store

import (
	"errors"
	"fmt"

	"github.com/gozeo/gozeo/zodb"
)

// ConflictError reports a write based on a stale revision: the client stored
// (or deleted) oid with serial Read while Committed is the current one. It
// carries the state of ZODB's ConflictError: message ([ConflictError.Message]),
// oid, class_name and serials = (Committed, Read).
type ConflictError struct {
	OID       zodb.OID
	Committed zodb.TID // serial currently committed ("serials[0]")
	Read      zodb.TID // serial the transaction started with ("serials[1]")
	// ClassName is the class of the stored object, from Options.ClassName
	// applied to Data; "" when unknown (ZODB's class_name None).
	ClassName string
	// Data is the record the client tried to store (nil for deleteObject).
	Data []byte
}

// Message returns the message ZODB gives this error, "database conflict error".
func (e *ConflictError) Message() string { return "database conflict error" }

func (e *ConflictError) Error() string { return conflictText(e.Message(), e) }

// conflictText formats like ZODB's ConflictError.__str__.
func conflictText(msg string, e *ConflictError) string {
	s := msg + " (oid " + e.OID.Repr()
	if e.ClassName != "" {
		s += ", class " + e.ClassName
	}
	return s + ", serial this txn started with " + e.Read.ReadableRepr() +
		", serial currently committed " + e.Committed.ReadableRepr() + ")"
}

// ReadConflictError reports a failed checkCurrentSerialInTransaction: the
// transaction relied on revision Read of OID but Committed is current. Like
// ZODB's class it is a kind of ConflictError: errors.As finds the embedded
// *ConflictError too, so match ReadConflictError first.
type ReadConflictError struct {
	ConflictError
}

// Message returns "database read conflict error", ZODB's message.
func (e *ReadConflictError) Message() string { return "database read conflict error" }

func (e *ReadConflictError) Error() string { return conflictText(e.Message(), &e.ConflictError) }

// As lets errors.As(err, &conflictErr) match a read conflict, mirroring the
// Python subclass relation.
func (e *ReadConflictError) As(target any) bool {
	if p, ok := target.(**ConflictError); ok {
		*p = &e.ConflictError
		return true
	}
	return false
}

// POSKeyError reports an object, or a revision of it, that does not exist
// (ZODB's POSKeyError(oid)).
type POSKeyError struct {
	OID zodb.OID
}

func (e *POSKeyError) Error() string {
	return "store: object " + e.OID.Repr() + " has no such record (POSKeyError)"
}

// ReadOnlyError reports a write refused because the store or the session is
// read-only (ZODB's ReadOnlyError, which has no arguments).
type ReadOnlyError struct {
	Op string // the refused operation, e.g. "tpc_begin", "new_oids", "pack"
}

func (e *ReadOnlyError) Error() string {
	return "store: " + e.Op + " refused: the storage is read-only (ReadOnlyError)"
}

// StorageTransactionError reports a transaction call that does not fit the
// session's state: a call naming another transaction than the current one
// (Current and Given are then set, as ZEO's StorageTransactionError(current,
// given) arguments; Current is nil when there is none), or a call out of
// order (Msg says which).
type StorageTransactionError struct {
	Current any
	Given   any
	Msg     string
}

func (e *StorageTransactionError) Error() string {
	if e.Msg != "" {
		return "store: " + e.Msg + " (StorageTransactionError)"
	}
	return fmt.Sprintf("store: call for transaction %v but the current transaction is %v (StorageTransactionError)", e.Given, e.Current)
}

// UndoError reports why a transaction, or one object of it, cannot be undone
// (ZODB's UndoError(reason, oid)).
type UndoError struct {
	Reason string
	OID    zodb.OID
	HasOID bool // false for failures of the whole transaction (e.g. unknown id)
}

func (e *UndoError) Error() string {
	if e.HasOID {
		return "store: undo failed for object " + e.OID.Repr() + ": " + e.Reason + " (UndoError)"
	}
	return "store: undo failed: " + e.Reason + " (UndoError)"
}

// MultipleUndoErrors lists the objects that blocked an undo. FileStorage
// raises it whenever any object fails, even a single one; errors.As finds
// the first *UndoError.
type MultipleUndoErrors struct {
	Errors []*UndoError
}

func (e *MultipleUndoErrors) Error() string {
	s := fmt.Sprintf("store: undo failed for %d object(s) (MultipleUndoErrors)", len(e.Errors))
	for _, u := range e.Errors {
		s += "; " + u.OID.Repr() + ": " + u.Reason
	}
	return s
}

// Unwrap returns the per-object errors.
func (e *MultipleUndoErrors) Unwrap() []error {
	errs := make([]error, len(e.Errors))
	for i, u := range e.Errors {
		errs[i] = u
	}
	return errs
}

// VoteError is how Vote (and UndoNow) report a transaction one of whose
// changes failed. Err is that change's failure (a *ConflictError,
// *ReadConflictError, *POSKeyError, *UndoError or *MultipleUndoErrors);
// errors.As and errors.Is see through to it. The other fields say how far
// the replay got, which a ZEO ≤ 4 server reports: its serialnos lists the
// changes applied before the failure, with the tid being committed, and
// then the failure itself (docs/protocol.md, Commit).
type VoteError struct {
	// TID is the tid the transaction was being committed under.
	TID zodb.TID
	// OID is the object the failing change named; ZeroOID for an undo,
	// which ZEO reports against z64.
	OID zodb.OID
	// Applied lists the changes applied before the failing one, as
	// VoteResult.Objects would have listed them. Later changes were not
	// tried.
	Applied []ObjectResult
	// Err is the failure of the change.
	Err error
}

// Error returns the failure's own message: the vote failed with it.
func (e *VoteError) Error() string { return e.Err.Error() }

// Unwrap returns the failure of the change.
func (e *VoteError) Unwrap() error { return e.Err }

// ErrSessionClosed is returned by calls on a closed Session.
var ErrSessionClosed = errors.New("store: session is closed")

// ErrNoMoreRecords is returned by RecordIterNext when no object id is at or
// after the one asked for (FileStorage raises ValueError there).
var ErrNoMoreRecords = errors.New("store: no object at or after the requested oid")

// ErrInvalidPackTime is returned by Pack for a time whose TimeStamp is
// ZeroTID (before 1900), which FileStorage refuses as "Invalid pack time".
var ErrInvalidPackTime = errors.New("store: invalid pack time (before 1900)")

// errAborted ends a vote that was waiting for the commit lock when its
// transaction was aborted.
var errAborted = errors.New("store: transaction aborted while waiting for the commit lock")
