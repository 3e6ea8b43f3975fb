package zeo

import "github.com/gozeo/gozeo/zrpc"

// Operation is a client operation whose availability, and the server
// method behind it, depend on the negotiated protocol version.
type Operation string

// The operations of the client that depend on the version.
const (
	OpLoad               Operation = "Load"
	OpLoadBefore         Operation = "LoadBefore"
	OpLoadSerial         Operation = "LoadSerial"
	OpHistory            Operation = "History"
	OpLastTransaction    Operation = "LastTransaction"
	OpNewOIDs            Operation = "NewOIDs"
	OpIterator           Operation = "Iterator"
	OpStore              Operation = "Store"
	OpCheckCurrentSerial Operation = "CheckCurrentSerial"
	OpDelete             Operation = "Delete"
	OpUndo               Operation = "Undo"
	OpUndoLog            Operation = "UndoLog"
	OpUndoInfo           Operation = "UndoInfo"
	OpPack               Operation = "Pack"
)

// Operations lists every version-dependent operation, in a stable order.
func Operations() []Operation {
	return []Operation{OpLoad, OpLoadBefore, OpLoadSerial, OpHistory, OpLastTransaction, OpNewOIDs,
		OpIterator, OpStore, OpCheckCurrentSerial, OpDelete, OpUndo, OpUndoLog, OpUndoInfo, OpPack}
}

// methodFor returns the server method the client calls for op under the
// capabilities caps of version v, or "" if v has none. caps is normally
// v.Capabilities(); a session adjusts it for ZODB 3.3.0, which announces
// Z201 but has loadEx and loadBefore.
func methodFor(op Operation, v Version, caps zrpc.Capabilities) string {
	var m string
	switch op {
	case OpLoad:
		switch {
		case caps.LoadEx:
			m = "loadEx"
		case caps.LoadCurrentBefore: // loadBefore(oid, maxtid)
			m = "loadBefore"
		default:
			m = "load"
		}
	case OpLoadBefore:
		if !caps.LoadBefore {
			return ""
		}
		m = "loadBefore"
	case OpLoadSerial:
		m = "loadSerial"
	case OpHistory:
		m = "history"
	case OpLastTransaction:
		m = "lastTransaction"
	case OpNewOIDs:
		m = "new_oids"
	case OpIterator:
		m = "iterator_start"
	case OpStore:
		m = "storea"
	case OpCheckCurrentSerial:
		m = "checkCurrentSerialInTransaction"
	case OpDelete:
		m = "deleteObject"
	case OpUndo:
		switch {
		case caps.UndoAsync:
			m = "undoa"
		case caps.TransactionalUndo:
			m = "transactionalUndo"
		default:
			m = "undo"
		}
	case OpUndoLog:
		m = "undoLog"
	case OpUndoInfo:
		m = "undoInfo"
	case OpPack:
		m = "pack"
	}
	if m == "" || !v.HasMethod(m) {
		return ""
	}
	return m
}

// Supports reports whether op can be used on the current connection: its
// negotiated version (and, for ZODB 3.3.0, the server's get_info) has it.
// Session().Methods names the server method each operation uses.
func (c *Client) Supports(op Operation) bool {
	_, ok := c.installed().method(op)
	return ok
}

// method returns the server method for op on this session.
func (s *session) method(op Operation) (string, bool) {
	m := methodFor(op, s.neg.Chosen, s.caps)
	return m, m != ""
}

// unsupportedOp is the *UnsupportedError for op on session s, sent
// nowhere.
func (c *Client) unsupportedOp(s *session, op Operation) error {
	m := methodFor(op, Z5, Z5.Capabilities())
	return c.unsupported(string(op), m)
}

// require returns the method for op on the current session or the
// *UnsupportedError to return without sending anything. Calls that can
// wait for a connection pick the method with op.operation instead, on the
// session they are sent on.
func (c *Client) require(op Operation) (string, error) {
	s := c.installed()
	if m, ok := s.method(op); ok {
		return m, nil
	}
	return "", c.unsupportedOp(s, op)
}
