package store

import (
	"reflect"

	"github.com/gozeo/gozeo/zodb"
)

// Session is one client's view of the store: it holds at most one
// transaction at a time and is the origin named in the Commit events of the
// transactions it commits. Create one per connection with NewSession and
// Close it when the connection goes away.
type Session struct {
	st       *Store
	readOnly bool
	// guarded by st.mu
	closed bool
	txn    *txn
}

// SessionOptions configure a Session.
type SessionOptions struct {
	// ReadOnly refuses TpcBegin and NewOIDs with *ReadOnlyError, as a ZEO
	// server does for a connection registered read-only.
	ReadOnly bool
}

// NewSession returns a session on st.
func (st *Store) NewSession(opts SessionOptions) *Session {
	return &Session{st: st, readOnly: opts.ReadOnly || st.opts.ReadOnly}
}

// TxnMeta is the transaction metadata given to TpcBegin.
type TxnMeta struct {
	User        string // raw bytes of the user name
	Description string // raw bytes of the description
	// Extension is the transaction's extension dict as the protocol layer
	// decoded it. The store keeps it opaque and hands it back in History,
	// UndoLog and Iterator results.
	Extension any
	// TID, when not ZeroTID, is the tid to commit under (tpc_begin's tid
	// argument, used to copy transactions); it must be later than the last
	// committed tid. ZeroTID lets the store pick one at vote time.
	TID zodb.TID
	// Status is the transaction status byte: ' ' for a normal transaction
	// (also what 0 means), 'p' for one made by pack. Only ' ' transactions
	// can be undone.
	Status byte
}

type txnState int

const (
	stateOpen      txnState = iota // buffering operations
	stateWaiting                   // Vote or UndoNow waits for the commit lock
	stateLocked                    // holds the lock; operations apply as they arrive
	stateVoted                     // vote succeeded; only Finish or Abort remain
	stateFailed                    // holds the lock; an operation failed
	stateFinishing                 // Finish is publishing it
)

type opKind int

const (
	opStore opKind = iota
	opCheck
	opDelete
	opUndo
)

type op struct {
	kind   opKind
	oid    zodb.OID
	serial zodb.TID
	data   []byte
	undoID []byte
}

// txn is a transaction in progress. Guarded by Store.mu.
type txn struct {
	id      any
	sess    *Session // nil for Seed
	meta    TxnMeta
	state   txnState
	ops     []op
	applied int   // ops[:applied] have been replayed
	err     error // first failure, once locked
	aborted chan struct{}

	// Filled once the commit lock is held.
	tid     zodb.TID
	changes changeSet
	results []ObjectResult
}

// changeSet is what a transaction will write: per oid the last state it
// gave the object.
type changeSet struct {
	order   []zodb.OID
	next    map[zodb.OID]*blob // nil value: the object ceases to exist
	created map[zodb.OID]bool  // true while every change was a store with serial z64
}

func (c *changeSet) has(oid zodb.OID) bool { _, ok := c.next[oid]; return ok }

func (c *changeSet) set(oid zodb.OID, b *blob, zeroSerialStore bool) {
	if c.next == nil {
		c.next = make(map[zodb.OID]*blob)
		c.created = make(map[zodb.OID]bool)
	}
	if _, ok := c.next[oid]; !ok {
		c.order = append(c.order, oid)
		c.created[oid] = zeroSerialStore
	} else if !zeroSerialStore {
		c.created[oid] = false
	}
	c.next[oid] = b
}

// sameTxnID compares transaction ids the way a ZEO server compares them
// (==), without panicking on uncomparable decoded values such as tuples.
func sameTxnID(a, b any) bool { return reflect.DeepEqual(a, b) }

// currentTxnLocked returns the session's transaction if id names it.
func (s *Session) currentTxnLocked(id any) (*txn, error) {
	if s.closed {
		return nil, ErrSessionClosed
	}
	if s.txn == nil {
		return nil, &StorageTransactionError{Current: nil, Given: id}
	}
	if !sameTxnID(s.txn.id, id) {
		return nil, &StorageTransactionError{Current: s.txn.id, Given: id}
	}
	return s.txn, nil
}

// TpcBegin starts transaction id. A second TpcBegin with the same id while it
// is in progress is ignored (ZEO logs "duplicate tpc_begin"); with another id
// it is a *StorageTransactionError. Read-only stores and sessions refuse
// with *ReadOnlyError.
func (s *Session) TpcBegin(id any, meta TxnMeta) error {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if s.closed {
		return ErrSessionClosed
	}
	if s.readOnly {
		return &ReadOnlyError{Op: "tpc_begin"}
	}
	if s.txn != nil {
		if sameTxnID(s.txn.id, id) {
			return nil
		}
		return &StorageTransactionError{Current: s.txn.id, Given: id,
			Msg: "Multiple simultaneous tpc_begin requests from one client."}
	}
	if meta.Status == 0 {
		meta.Status = ' '
	}
	s.txn = &txn{id: id, sess: s, meta: meta, aborted: make(chan struct{})}
	return nil
}

// Store buffers a write of data as oid's new record; serial is the revision
// the client based it on (ZeroTID for a new object). Conflicts show at Vote.
// The only errors here are calls that do not fit the session's transaction.
func (s *Session) Store(id any, oid zodb.OID, serial zodb.TID, data []byte) error {
	// Copy: the caller's buffer may be a reused network frame. Keep it
	// non-nil so an empty record stays distinct from "no record".
	d := append(make([]byte, 0, len(data)), data...)
	return s.addOp(id, op{kind: opStore, oid: oid, serial: serial, data: d})
}

// CheckCurrentSerial buffers checkCurrentSerialInTransaction: at Vote the
// transaction fails with *ReadConflictError unless serial is still oid's
// current revision (*POSKeyError if oid does not exist).
func (s *Session) CheckCurrentSerial(id any, oid zodb.OID, serial zodb.TID) error {
	return s.addOp(id, op{kind: opCheck, oid: oid, serial: serial})
}

// DeleteObject buffers deleteObject: at Vote oid gets a revision without
// data, unless serial is not its current revision (*ConflictError) or it
// does not exist (*POSKeyError).
func (s *Session) DeleteObject(id any, oid zodb.OID, serial zodb.TID) error {
	return s.addOp(id, op{kind: opDelete, oid: oid, serial: serial})
}

// Undo buffers undoa: at Vote every object the transaction undoID (an ID
// from UndoLog) wrote gets back its previous revision. The vote fails with
// *UndoError for an unknown or non-undoable transaction and with
// *MultipleUndoErrors when objects changed since (FileStorage's rule: an
// object can be undone only while its current revision is the one the
// undone transaction wrote, or shares its data).
func (s *Session) Undo(id any, undoID []byte) error {
	return s.addOp(id, op{kind: opUndo, undoID: append([]byte(nil), undoID...)})
}

func (s *Session) addOp(id any, o op) error {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	t, err := s.currentTxnLocked(id)
	if err != nil {
		return err
	}
	switch t.state {
	case stateOpen:
		t.ops = append(t.ops, o)
	case stateLocked:
		t.ops = append(t.ops, o)
		st.applyOpsLocked(t)
	default:
		return &StorageTransactionError{Current: t.id, Given: id, Msg: "transaction is already voting; no more changes accepted"}
	}
	return nil
}

// Abort abandons transaction id: buffered changes are dropped, the commit
// lock is released if held, and a Vote waiting for it returns. An id that is
// not the session's current transaction is ignored, as ZEO ignores it (the
// result says whether something was aborted); so is a transaction whose
// Finish is under way.
func (s *Session) Abort(id any) bool {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if s.txn == nil || !sameTxnID(s.txn.id, id) || s.txn.state == stateFinishing {
		return false
	}
	st.abortLocked(s.txn)
	return true
}

func (st *Store) abortLocked(t *txn) {
	close(t.aborted)
	if t.sess != nil && t.sess.txn == t {
		t.sess.txn = nil
	}
	st.releaseLocked(t)
	st.opts.Logger.Debug("store: transaction aborted", "txn", t.id, "tid", t.tid)
}

// Close aborts the session's transaction, if any, and makes every later call
// fail with ErrSessionClosed. It is idempotent.
func (s *Session) Close() {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	if s.txn != nil && s.txn.state != stateFinishing {
		st.abortLocked(s.txn)
	}
	s.closed = true
}

// NewOIDs is Store.NewOIDs refused with *ReadOnlyError on a read-only
// session.
func (s *Session) NewOIDs(n int) ([]zodb.OID, error) {
	if s.readOnly {
		return nil, &ReadOnlyError{Op: "new_oids"}
	}
	return s.st.NewOIDs(n)
}
