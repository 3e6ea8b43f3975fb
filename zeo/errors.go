package zeo

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/gozeo/gozeo/zrpc"
)

// Sentinels for the error families; match them with errors.Is.
var (
	// ErrDisconnected: the connection is gone (the same sentinel as
	// zrpc's). Matched by *DisconnectedError, *UndecodableMessageError and,
	// when the cause was a lost connection, *CommitOutcomeUnknownError.
	ErrDisconnected = zrpc.ErrDisconnected
	// ErrConflict: a write conflict (matched by read conflicts too, as in
	// ZODB where ReadConflictError is a ConflictError).
	ErrConflict = errors.New("zeo: conflict")
	// ErrReadConflict: an object read by the transaction changed
	// (CheckCurrentSerial failed).
	ErrReadConflict = errors.New("zeo: read conflict")
	// ErrNotFound: no such object, revision, or revision before a tid.
	ErrNotFound = errors.New("zeo: not found")
	// ErrReadOnly: a write on a read-only connection or storage.
	ErrReadOnly = errors.New("zeo: read-only")
	// ErrUnsupported: the negotiated protocol version lacks the operation.
	ErrUnsupported = errors.New("zeo: not supported by the negotiated protocol version")
	// ErrProtocolMismatch: no protocol version both sides speak (the same
	// sentinel as zrpc's).
	ErrProtocolMismatch = zrpc.ErrProtocolMismatch
	// ErrAuth: digest authentication failed or is missing.
	ErrAuth = errors.New("zeo: authentication failed")
	// ErrCommitOutcomeUnknown: tpc_finish was sent but its reply never
	// came, so the transaction may or may not be committed.
	ErrCommitOutcomeUnknown = errors.New("zeo: commit outcome unknown")
	// ErrTransaction: the server's transaction state does not match the
	// client's (ZODB's StorageTransactionError), or the Transaction was
	// used after it ended.
	ErrTransaction = errors.New("zeo: storage transaction error")
	// ErrUndo: an undo could not be done.
	ErrUndo = errors.New("zeo: undo error")
	// ErrUndecodable: the server sent a message the client cannot decode;
	// the connection was dropped.
	ErrUndecodable = errors.New("zeo: undecodable message")
	// ErrSubscriptionLagged: a subscription's reader fell too far behind
	// and the subscription was ended; events after Since were lost.
	ErrSubscriptionLagged = errors.New("zeo: invalidation subscription lagged behind")
	// ErrClosed: the Client was closed by its user.
	ErrClosed = zrpc.ErrClosed
)

// where is the server and protocol an error happened with, as printed at
// the end of every error message.
func where(server string, v Version) string {
	switch {
	case server != "" && v != "":
		return " [server " + server + ", " + string(v) + "]"
	case server != "":
		return " [server " + server + "]"
	case v != "":
		return " [" + string(v) + "]"
	}
	return ""
}

// ConflictError is ZODB's ConflictError (and BTreesConflictError): another
// transaction committed a newer revision of the object since this
// transaction read it.
type ConflictError struct {
	// OID is the object in conflict, when the server said (OIDKnown).
	OID      OID
	OIDKnown bool
	// Committed is the serial currently committed, Read the serial this
	// transaction started from (ZODB's serials pair); zero when unknown.
	Committed TID
	Read      TID
	// Class is the Python class of the object, when known.
	Class string
	// Message is the server's message ("database conflict error").
	Message string
	// Kind is the exception class name ("ConflictError",
	// "BTreesConflictError").
	Kind string
	// Server and Version say where it happened.
	Server  string
	Version Version
	// Remote is the exception as received.
	Remote *zrpc.RemoteError
}

// Error says which object conflicted, with which serials, and what to do.
func (e *ConflictError) Error() string {
	return e.describe("conflict") + "; abort the transaction, reload the object and retry" + where(e.Server, e.Version)
}

func (e *ConflictError) describe(what string) string {
	var b strings.Builder
	b.WriteString("zeo: ")
	b.WriteString(what)
	if e.OIDKnown {
		b.WriteString(" on oid ")
		b.WriteString(e.OID.Repr())
	}
	if e.Class != "" {
		b.WriteString(" (" + e.Class + ")")
	}
	if e.Kind != "" && e.Kind != "ConflictError" && e.Kind != "ReadConflictError" {
		b.WriteString(" [" + e.Kind + "]")
	}
	if e.Message != "" && e.Message != "database conflict error" && e.Message != "database read conflict error" {
		b.WriteString(": " + e.Message)
	}
	if e.Read != (TID{}) {
		b.WriteString(": this transaction read serial " + e.Read.ReadableRepr())
	}
	if e.Committed != (TID{}) {
		b.WriteString(", the server has " + e.Committed.ReadableRepr() + " committed")
	}
	return b.String()
}

// Is matches ErrConflict.
func (e *ConflictError) Is(target error) bool { return target == ErrConflict }

// ReadConflictError is ZODB's ReadConflictError: an object the transaction
// read and vouched for with CheckCurrentSerial was changed by another
// transaction. It matches both ErrReadConflict and ErrConflict, and
// errors.As finds it as a *ConflictError too.
type ReadConflictError struct {
	ConflictError
}

// Error says which object changed and what to do.
func (e *ReadConflictError) Error() string {
	return e.describe("read conflict") + "; abort the transaction, reload the object and retry" + where(e.Server, e.Version)
}

// Is matches ErrReadConflict and ErrConflict.
func (e *ReadConflictError) Is(target error) bool {
	return target == ErrReadConflict || target == ErrConflict
}

// As lets errors.As find the embedded *ConflictError.
func (e *ReadConflictError) As(target any) bool {
	if p, ok := target.(**ConflictError); ok {
		*p = &e.ConflictError
		return true
	}
	return false
}

// NotFoundError is ZODB's POSKeyError (or a KeyError for an oid): the
// object, the revision, or a revision before the given tid does not exist.
type NotFoundError struct {
	OID OID
	// Serial is set for LoadSerial: the revision asked for.
	Serial TID
	// Before is set for LoadBefore: there is no revision older than it
	// (the server answered None, not an exception).
	Before TID
	// Blob is set for LoadBlob: the revision's blob file is missing
	// (Serial names the revision).
	Blob bool
	// Method is the server method that reported it.
	Method  string
	Server  string
	Version Version
	Remote  *zrpc.RemoteError
}

// Error names the object and what exactly is missing.
func (e *NotFoundError) Error() string {
	var what string
	switch {
	case e.Blob:
		what = fmt.Sprintf("no blob for revision %s of oid %s (not a blob, no such revision, or packed away)", e.Serial.Repr(), e.OID.Repr())
	case e.Before != (TID{}):
		what = fmt.Sprintf("oid %s has no revision before %s (it was created at or after that transaction)", e.OID.Repr(), e.Before.ReadableRepr())
	case e.Serial != (TID{}):
		what = fmt.Sprintf("revision %s of oid %s not found (no such revision, or packed away)", e.Serial.Repr(), e.OID.Repr())
	default:
		what = fmt.Sprintf("oid %s not found: no such object in this storage (never committed, or removed by pack)", e.OID.Repr())
	}
	return "zeo: " + what + where(e.Server, e.Version)
}

// Is matches ErrNotFound.
func (e *NotFoundError) Is(target error) bool { return target == ErrNotFound }

// ReadOnlyError reports a write refused because the connection or the
// storage is read-only.
type ReadOnlyError struct {
	// Op is what was refused ("register read-write", "Begin", ...).
	Op string
	// Local is true when the client refused before sending (the
	// connection was registered read-only).
	Local   bool
	Server  string
	Version Version
	Remote  *zrpc.RemoteError
}

// Error says what was refused, by whom, and what to do.
func (e *ReadOnlyError) Error() string {
	if e.Local {
		return "zeo: " + e.Op + " refused: this connection is registered read-only (Options.ReadOnly, or the read-only fallback was used); connect read-write to a writable server to write" + where(e.Server, e.Version)
	}
	return "zeo: " + e.Op + " refused by the server: the storage is read-only; use a writable server or set Options.ReadOnlyFallback to connect read-only" + where(e.Server, e.Version)
}

// Is matches ErrReadOnly.
func (e *ReadOnlyError) Is(target error) bool { return target == ErrReadOnly }

// StorageTransactionError is ZODB's StorageTransactionError: the server's
// idea of the current transaction differs from the client's (a write
// outside a transaction, a stale transaction id).
type StorageTransactionError struct {
	Method  string
	Message string
	Server  string
	Version Version
	Remote  *zrpc.RemoteError
}

// Error says which call failed and what to do.
func (e *StorageTransactionError) Error() string {
	msg := "zeo: " + e.Method + ": storage transaction error"
	if e.Message != "" {
		msg += " (" + e.Message + ")"
	}
	return msg + ": the server's transaction state does not match this client's; abort and start a new transaction" + where(e.Server, e.Version)
}

// Is matches ErrTransaction.
func (e *StorageTransactionError) Is(target error) bool { return target == ErrTransaction }

// UndoError is ZODB's UndoError or MultipleUndoErrors.
type UndoError struct {
	Reason   string
	OID      OID
	OIDKnown bool
	// Errs holds the individual errors of a MultipleUndoErrors.
	Errs    []*UndoError
	Server  string
	Version Version
	Remote  *zrpc.RemoteError
}

// Error gives the reason(s) the undo failed.
func (e *UndoError) Error() string {
	var b strings.Builder
	b.WriteString("zeo: undo failed")
	e.writeReason(&b)
	for _, x := range e.Errs {
		x.writeReason(&b)
	}
	b.WriteString("; the transaction cannot be undone (later transactions changed the same objects): abort" + where(e.Server, e.Version))
	return b.String()
}

func (e *UndoError) writeReason(b *strings.Builder) {
	if e.OIDKnown {
		b.WriteString(" (oid " + e.OID.Repr() + ")")
	}
	if e.Reason != "" {
		b.WriteString(": " + e.Reason)
	}
}

// Is matches ErrUndo.
func (e *UndoError) Is(target error) bool { return target == ErrUndo }

// AuthError reports a failed or missing digest authentication (ZEO 3.x/4.x),
// or ZEO.Exceptions.AuthError raised by the server.
type AuthError struct {
	User    string
	Realm   string
	Reason  string
	Server  string
	Version Version
	Remote  *zrpc.RemoteError
}

// Error says why authentication failed and what to do.
func (e *AuthError) Error() string {
	msg := "zeo: authentication"
	if e.User != "" {
		msg += " as " + fmt.Sprintf("%q", e.User)
	}
	if e.Realm != "" {
		msg += " in realm " + fmt.Sprintf("%q", e.Realm)
	}
	return msg + " failed: " + e.Reason + where(e.Server, e.Version)
}

// Is matches ErrAuth.
func (e *AuthError) Is(target error) bool { return target == ErrAuth }

// UnsupportedError reports an operation the negotiated protocol version
// does not have. Nothing was sent: every ZEO server drops a connection
// that calls a method it lacks.
type UnsupportedError struct {
	// Op is the client operation ("Delete"), Method the server method it
	// needs ("deleteObject").
	Op      string
	Method  string
	Server  string
	Version Version
	// Since lists the versions that have the method.
	Since []Version
	// Reason, when set, says why the operation is unavailable although
	// the version has the method (a storage without a blob directory).
	Reason string
}

// Error says what is missing and which versions have it.
func (e *UnsupportedError) Error() string {
	if e.Reason != "" {
		return fmt.Sprintf("zeo: %s is not supported: %s; nothing was sent", e.Op, e.Reason) + where(e.Server, e.Version)
	}
	msg := fmt.Sprintf("zeo: %s is not supported by %s", e.Op, e.Version)
	if e.Method != "" {
		msg += fmt.Sprintf(" (no %s method)", e.Method)
	}
	msg += "; nothing was sent, since calling it would make the server drop the connection"
	if len(e.Since) > 0 {
		vs := make([]string, len(e.Since))
		for i, v := range e.Since {
			vs[i] = string(v)
		}
		msg += "; it needs a server speaking one of " + strings.Join(vs, " ")
	}
	return msg + where(e.Server, e.Version)
}

// Is matches ErrUnsupported.
func (e *UnsupportedError) Is(target error) bool { return target == ErrUnsupported }

// DisconnectedError reports a call that failed for want of a connection:
// lost while the call was in flight, lost before it was sent and not back
// in time, or the Client closed.
type DisconnectedError struct {
	// Method is the server method in flight or attempted, if any.
	Method  string
	Server  string
	Version Version
	// Cause is why the connection ended (io.EOF for a close by the server,
	// a network error, ErrClosed when the Client was closed).
	Cause error

	// NotSent is true when the call never left the client: it waited for
	// a connection that did not come (or the client had ended). Otherwise
	// it was sent and may or may not have reached the server.
	NotSent bool
	// Waited, for a call that waited, is why it stopped: ctx's error, or
	// an error saying Options.WaitTimeout passed. Down is how long the
	// connection had been down then; Attempts how many reconnection
	// attempts had failed, LastAttempt why the last one did.
	Waited      error
	Down        time.Duration
	Attempts    int
	LastAttempt error
	// NoReconnect is true when reconnection is disabled
	// (Options.Reconnect): the Client is done.
	NoReconnect bool
	// TxnAborted is true for an operation of a Transaction whose
	// connection was lost before tpc_finish: the server aborted the
	// transaction and nothing of it was committed.
	TxnAborted bool
}

// Error says what happened to the call, why, and what to do.
func (e *DisconnectedError) Error() string {
	var b strings.Builder
	b.WriteString("zeo: disconnected")
	if e.Method != "" {
		b.WriteString(" (" + e.Method + ")")
	}
	if e.Cause != nil {
		b.WriteString(": " + e.Cause.Error())
	}
	switch {
	case errors.Is(e.Cause, ErrClosed):
		b.WriteString(" (the Client was closed)")
	case e.TxnAborted:
		b.WriteString("; the connection this transaction began on was lost before tpc_finish, so the server aborted it and nothing of it was committed: Begin a new transaction and redo its changes")
	case e.NotSent:
		b.WriteString("; the call was not sent")
		if e.Waited != nil {
			fmt.Fprintf(&b, ": %v", e.Waited)
		}
		if e.Down > 0 {
			fmt.Fprintf(&b, "; the connection has been down for %s", e.Down.Round(time.Millisecond))
		}
		if e.Attempts > 0 {
			fmt.Fprintf(&b, ", %d reconnection attempt(s) failed", e.Attempts)
			if e.LastAttempt != nil {
				b.WriteString(", the last with: " + e.LastAttempt.Error())
			}
		}
		if e.NoReconnect {
			b.WriteString("; reconnection is disabled (Options.Reconnect): Dial again")
		}
	case e.Method == "": // the connection itself, no call
		if e.NoReconnect {
			b.WriteString("; reconnection is disabled (Options.Reconnect): Dial again")
		}
	default:
		b.WriteString("; the call may or may not have reached the server")
		if e.NoReconnect {
			b.WriteString("; reconnection is disabled (Options.Reconnect): Dial again")
		} else {
			b.WriteString("; the client reconnects by itself")
		}
	}
	return b.String() + where(e.Server, e.Version)
}

// Unwrap returns the cause.
func (e *DisconnectedError) Unwrap() error { return e.Cause }

// Is matches ErrDisconnected.
func (e *DisconnectedError) Is(target error) bool { return target == ErrDisconnected }

// UndecodableMessageError reports that the server sent a message the
// client could not decode, after which the connection was dropped (as ZEO
// itself drops a peer it cannot understand).
type UndecodableMessageError struct {
	// Method is the call in flight, if any.
	Method string
	// Dialect is the encoding the client was decoding with.
	Dialect string
	Server  string
	Version Version
	// Err is the decoding failure, with zrpc's diagnosis.
	Err error
}

// Error gives the diagnosis.
func (e *UndecodableMessageError) Error() string {
	msg := "zeo: the server sent a message this client cannot decode"
	if e.Dialect != "" {
		msg += " (" + e.Dialect + ")"
	}
	if e.Method != "" {
		msg += " while waiting for " + e.Method
	}
	return msg + "; connection dropped: " + e.Err.Error() + where(e.Server, e.Version)
}

// Unwrap returns the decoding failure.
func (e *UndecodableMessageError) Unwrap() error { return e.Err }

// Is matches ErrUndecodable and ErrDisconnected.
func (e *UndecodableMessageError) Is(target error) bool {
	return target == ErrUndecodable || target == ErrDisconnected
}

// CommitOutcomeUnknownError reports that tpc_finish was sent but its reply
// never arrived (the connection was lost, or the context ended), so the
// transaction may or may not have been committed.
type CommitOutcomeUnknownError struct {
	Server  string
	Version Version
	// Err is what interrupted the wait: a *DisconnectedError or a context
	// error.
	Err error

	settle *settlement
}

// Error explains the uncertainty and how to resolve it.
func (e *CommitOutcomeUnknownError) Error() string {
	return "zeo: commit outcome unknown: tpc_finish was sent but no reply arrived (" + e.Err.Error() +
		"); the transaction may or may not be committed: call Resolve on this error to find out from the storage before retrying" + where(e.Server, e.Version)
}

// Unwrap returns what interrupted the wait.
func (e *CommitOutcomeUnknownError) Unwrap() error { return e.Err }

// Is matches ErrCommitOutcomeUnknown.
func (e *CommitOutcomeUnknownError) Is(target error) bool { return target == ErrCommitOutcomeUnknown }

// ProtocolMismatchError reports that client and server have no protocol
// version in common.
type ProtocolMismatchError struct {
	Server string
	// Announced is what the server announced.
	Announced Version
	// Allowed is the set the client was allowed to choose from.
	Allowed []Version
	// Err is zrpc's *NegotiationError with the details.
	Err error
}

// Error gives both sides' versions and the reason.
func (e *ProtocolMismatchError) Error() string {
	return "zeo: cannot talk to " + e.Server + ": " + e.Err.Error()
}

// Unwrap returns the negotiation error (which matches ErrProtocolMismatch).
func (e *ProtocolMismatchError) Unwrap() error { return e.Err }

// ServerError is any other exception the server raised, with its Python
// class name.
type ServerError struct {
	// Class is the qualified Python class ("exceptions.ValueError").
	Class string
	// Message is the first argument when it is text, as Python prints it.
	Message string
	// Method is the server method that raised.
	Method  string
	Server  string
	Version Version
	// Remote holds the exception's args and state as received.
	Remote *zrpc.RemoteError
}

// Error names the exception and where it came from.
func (e *ServerError) Error() string {
	msg := "zeo: " + e.Method + ": server raised " + e.Class
	if e.Message != "" {
		msg += ": " + e.Message
	} else if e.Remote != nil {
		msg += " " + strings.TrimPrefix(e.Remote.Error(), "zrpc: remote method "+e.Method+" raised "+e.Class)
	}
	return msg + where(e.Server, e.Version)
}

// Unwrap returns the remote error.
func (e *ServerError) Unwrap() error {
	if e.Remote == nil {
		return nil
	}
	return e.Remote
}

// StaleServerError reports a server whose last transaction is older than
// one this client has already seen: a storage restored from a backup, or
// the wrong server behind the address. The client refuses it (ZEO logs it
// as critical, ZEO#142): reading from it would go back in time. While
// reconnecting, the client keeps trying, in case the right server comes
// back.
type StaleServerError struct {
	Server  string
	Version Version
	// ServerTID is the server's last transaction; SeenTID the newest this
	// client had seen.
	ServerTID, SeenTID TID
}

// Error names both tids.
func (e *StaleServerError) Error() string {
	return "zeo: refusing server " + e.Server + ": its last transaction " + e.ServerTID.ReadableRepr() +
		" is older than " + e.SeenTID.ReadableRepr() + ", which this client has already seen (a storage restored from an older backup, or another server at this address); point the client at the current server" + where(e.Server, e.Version)
}
