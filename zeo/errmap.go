package zeo

import (
	"errors"
	"strings"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zrpc"
)

// op describes a call for error mapping: which method, about which object.
type op struct {
	method   string
	oid      OID
	oidKnown bool
	serial   TID // loadSerial
	// operation, when set, makes the call pick its method on the session
	// it is sent on (callArgs), which may speak another version than the
	// one before a reconnect.
	operation Operation
	// idempotent calls (reads) are sent again on the next connection when
	// the connection is lost before their reply.
	idempotent bool
}

// mapError turns what a zrpc call returned into the client's typed
// errors. It is the one place where Python exception classes become Go
// types.
func (c *Client) mapError(err error, o op) error {
	if err == nil {
		return nil
	}
	var re *zrpc.RemoteError
	if errors.As(err, &re) {
		if re.Method == "" {
			re.Method = o.method
		}
		return c.fromRemote(re, o)
	}
	var de *zrpc.DisconnectedError
	if errors.As(err, &de) {
		return c.fromDisconnect(de, o.method)
	}
	// Anything else (a cancelled or expired context, above all) already
	// says "zrpc: call X: ..." and stays matchable as it is.
	return err
}

// fromDisconnect maps a lost connection, recognising the undecodable
// message case so that its diagnosis is not buried.
func (c *Client) fromDisconnect(de *zrpc.DisconnectedError, method string) error {
	if method == "" {
		method = de.Method
	}
	if isDecodeFailure(de.Cause) {
		return &UndecodableMessageError{Method: method, Dialect: c.dialectName(), Server: c.server(), Version: c.version(), Err: de.Cause}
	}
	return &DisconnectedError{Method: method, Server: c.server(), Version: c.version(), Cause: de.Cause}
}

// exception class names, without module, grouped by what they become.
func className(class string) (module, name string) {
	i := strings.LastIndexByte(class, '.')
	if i < 0 {
		return "", class
	}
	return class[:i], class[i+1:]
}

func isBuiltin(module string) bool {
	return module == "exceptions" || module == "builtins" || module == "__builtin__" || module == ""
}

// fromRemote maps a server exception to a typed error.
func (c *Client) fromRemote(re *zrpc.RemoteError, o op) error {
	module, name := className(re.Class)
	server, v := c.server(), c.version()
	if module == "ZODB.POSException" || module == "ZODB.POSException.ConflictError" {
		switch name {
		case "ConflictError", "BTreesConflictError", "ReadConflictError":
			ce := conflictFromRemote(re, o)
			ce.Server, ce.Version = server, v
			if name == "ReadConflictError" {
				return &ReadConflictError{ConflictError: *ce}
			}
			return ce
		case "POSKeyError":
			return c.notFound(re, o)
		case "ReadOnlyError":
			return &ReadOnlyError{Op: o.method, Server: server, Version: v, Remote: re}
		case "StorageTransactionError":
			return &StorageTransactionError{Method: o.method, Message: remoteMessage(re), Server: server, Version: v, Remote: re}
		case "UndoError", "MultipleUndoErrors":
			ue := undoFromRemote(re)
			ue.Server, ue.Version, ue.Remote = server, v, re
			return ue
		}
	}
	if module == "ZEO.Exceptions" && name == "AuthError" {
		return &AuthError{Reason: "the server says: " + remoteMessage(re), Server: server, Version: v, Remote: re}
	}
	if isBuiltin(module) && name == "KeyError" && o.oidKnown {
		return c.notFound(re, o)
	}
	return &ServerError{Class: re.Class, Message: remoteMessage(re), Method: o.method, Server: server, Version: v, Remote: re}
}

func (c *Client) notFound(re *zrpc.RemoteError, o op) error {
	e := &NotFoundError{OID: o.oid, Serial: o.serial, Method: o.method, Server: c.server(), Version: c.version(), Remote: re}
	if !o.oidKnown && len(re.Args) > 0 {
		if oid, ok := asOID(re.Args[0]); ok {
			e.OID = oid
		}
	}
	return e
}

// remoteMessage is the exception's message as Python would print it: the
// 'message' attribute or a text first argument.
func remoteMessage(re *zrpc.RemoteError) string {
	if v, ok := re.Attr("message"); ok {
		if s, ok := pickle.AsText(v); ok {
			return s
		}
	}
	if len(re.Args) == 1 {
		if s, ok := pickle.AsText(re.Args[0]); ok {
			return s
		}
	}
	if len(re.Args) > 1 {
		return pickle.Repr(re.Args)
	}
	return ""
}

// conflictFromRemote reads a ConflictError's oid, serials and class from
// the state dict (ZEO 5 flag-2 replies, _recon and old-style pickles), or
// from the args of servers that only kept those.
func conflictFromRemote(re *zrpc.RemoteError, o op) *ConflictError {
	_, name := className(re.Class)
	ce := &ConflictError{Kind: name, Remote: re, OID: o.oid, OIDKnown: o.oidKnown}
	if v, ok := re.Attr("oid"); ok {
		if oid, ok := asOID(v); ok {
			ce.OID, ce.OIDKnown = oid, true
		}
	}
	if v, ok := re.Attr("serials"); ok {
		ce.Committed, ce.Read = serialPair(v)
	}
	if v, ok := re.Attr("class_name"); ok {
		ce.Class = asString(v)
	}
	if v, ok := re.Attr("message"); ok {
		ce.Message = asString(v)
	}
	// Servers whose exceptions kept only args: ConflictError(message,
	// object, oid, serials), in whatever positions they were given.
	for _, a := range re.Args {
		if s, ok := pickle.AsText(a); ok && ce.Message == "" {
			ce.Message = s
			continue
		}
		if oid, ok := asOID(a); ok && !ce.OIDKnown {
			ce.OID, ce.OIDKnown = oid, true
			continue
		}
		if t, ok := pickle.AsTuple(a); ok && len(t) == 2 && ce.Committed == (TID{}) {
			ce.Committed, ce.Read = serialPair(a)
		}
	}
	return ce
}

func serialPair(v pickle.Value) (committed, read TID) {
	t, ok := pickle.AsTuple(v)
	if !ok || len(t) != 2 {
		return
	}
	committed, _ = asTID(t[0])
	read, _ = asTID(t[1])
	return
}

func undoFromRemote(re *zrpc.RemoteError) *UndoError {
	ue := &UndoError{}
	if v, ok := re.Attr("_reason"); ok {
		ue.Reason = asString(v)
	} else if len(re.Args) > 0 {
		ue.Reason = asString(re.Args[0])
	}
	if v, ok := re.Attr("_oid"); ok {
		ue.OID, ue.OIDKnown = asOID(v)
	} else if len(re.Args) > 1 {
		ue.OID, ue.OIDKnown = asOID(re.Args[1])
	}
	errsVal, ok := re.Attr("_errs")
	if !ok && len(re.Args) == 1 {
		errsVal = re.Args[0]
	}
	if items, ok := pickle.AsTuple(errsVal); ok {
		for _, it := range items {
			if sub, ok := zrpc.ExceptionValue(it); ok {
				ue.Errs = append(ue.Errs, undoFromRemote(sub))
			}
		}
		if len(ue.Errs) > 0 && ue.Reason == pickle.Repr(errsVal) {
			ue.Reason = ""
		}
	}
	return ue
}
