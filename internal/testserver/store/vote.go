package store

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"github.com/gozeo/gozeo/zodb"
)

// ResultKind says what a vote did to one object.
type ResultKind int

const (
	// Stored: a store was applied as sent (ZEO ≤ 4 reports (oid, tid)).
	Stored ResultKind = iota
	// Resolved: a store conflicted and Options.Resolve merged it (ZEO ≤ 4
	// reports (oid, 'rs'); ZEO 5 lists the oid in vote's result).
	Resolved
	// Deleted: a deleteObject was applied.
	Deleted
	// Undone: an undo restored the object's previous revision (reported like
	// Resolved: clients must drop what they cached for it).
	Undone
)

func (k ResultKind) String() string {
	switch k {
	case Stored:
		return "stored"
	case Resolved:
		return "resolved"
	case Deleted:
		return "deleted"
	case Undone:
		return "undone"
	}
	return fmt.Sprintf("ResultKind(%d)", int(k))
}

// ObjectResult is the outcome of one change in a vote.
type ObjectResult struct {
	OID  zodb.OID
	Kind ResultKind
}

// VoteResult is what a successful vote reports.
type VoteResult struct {
	// TID is the tid the transaction will commit under (ZEO ≤ 4 sends it
	// in serialnos before tpc_finish returns it).
	TID zodb.TID
	// Objects has one entry per store and deleteObject call, in call order,
	// and one per object an undo restored, in the undone transaction's
	// order.
	Objects []ObjectResult
}

// ResolvedOIDs returns, without duplicates, the oids of Resolved and Undone
// results: the list ZEO 5's vote returns.
func (r *VoteResult) ResolvedOIDs() []zodb.OID {
	var out []zodb.OID
	for _, o := range r.Objects {
		if (o.Kind == Resolved || o.Kind == Undone) && !slices.Contains(out, o.OID) {
			out = append(out, o.OID)
		}
	}
	return out
}

// Vote takes the commit lock for transaction id, waiting in line behind
// other voters until they finish or abort (or until ctx is done, which
// leaves the transaction open and returns ctx's error), chooses its tid and
// applies its buffered changes. The first change that fails ends the vote
// with a *VoteError carrying that change's *ConflictError,
// *ReadConflictError, *POSKeyError, *UndoError or *MultipleUndoErrors, and
// what was applied before it. A tid the transaction asked for that is not
// later than the last committed one fails it with a
// *StorageTransactionError, as do calls out of order. A failed transaction
// keeps the lock until Abort; voting it again returns the same error.
func (s *Session) Vote(ctx context.Context, id any) (*VoteResult, error) {
	t, err := s.lockTxn(ctx, id, "vote")
	if err != nil {
		return nil, err
	}
	defer s.st.mu.Unlock()
	if t.err != nil {
		return nil, t.err
	}
	t.state = stateVoted
	return &VoteResult{TID: t.tid, Objects: slices.Clone(t.results)}, nil
}

// UndoNow is the synchronous undo of ZEO 3.3–3.9 servers: it takes the
// commit lock now (waiting like Vote), applies the changes buffered so far,
// then undoes undoID and returns the transaction's tid and the oids the undo
// restored. Changes made after it apply at once; Vote then only reports.
// Errors are Vote's; a failure also fails the transaction.
func (s *Session) UndoNow(ctx context.Context, id any, undoID []byte) (zodb.TID, []zodb.OID, error) {
	t, err := s.lockTxn(ctx, id, "undo")
	if err != nil {
		return zodb.ZeroTID, nil, err
	}
	defer s.st.mu.Unlock()
	if t.err != nil {
		return zodb.ZeroTID, nil, t.err
	}
	before := len(t.results)
	t.ops = append(t.ops, op{kind: opUndo, undoID: append([]byte(nil), undoID...)})
	s.st.applyOpsLocked(t)
	if t.err != nil {
		return zodb.ZeroTID, nil, t.err
	}
	var oids []zodb.OID
	for _, r := range t.results[before:] {
		oids = append(oids, r.OID)
	}
	return t.tid, oids, nil
}

// lockTxn makes sure transaction id holds the commit lock and has applied its
// buffered changes. On success it returns with st.mu held.
func (s *Session) lockTxn(ctx context.Context, id any, what string) (*txn, error) {
	st := s.st
	st.mu.Lock()
	t, err := s.currentTxnLocked(id)
	if err != nil {
		st.mu.Unlock()
		return nil, err
	}
	switch t.state {
	case stateLocked, stateFailed:
		return t, nil
	case stateOpen:
	case stateVoted:
		st.mu.Unlock()
		return nil, &StorageTransactionError{Current: t.id, Given: id, Msg: "transaction has already voted"}
	default:
		st.mu.Unlock()
		return nil, &StorageTransactionError{Current: t.id, Given: id, Msg: "transaction is already voting"}
	}
	t.state = stateWaiting
	st.mu.Unlock()

	err = st.acquire(ctx, t, t.aborted)

	st.mu.Lock()
	if err == nil && (s.txn != t || t.state != stateWaiting) {
		// Aborted between the grant and our wake-up.
		st.releaseLocked(t)
		err = errAborted
	}
	if err != nil {
		if s.txn == t && t.state == stateWaiting {
			t.state = stateOpen
		}
		st.mu.Unlock()
		if errors.Is(err, errAborted) {
			return nil, &StorageTransactionError{Given: id, Msg: "transaction was aborted while its " + what + " waited for the commit lock"}
		}
		return nil, fmt.Errorf("store: %s of transaction %v gave up waiting for the commit lock: %w", what, id, err)
	}
	t.state = stateLocked
	st.beginLocked(t)
	st.applyOpsLocked(t)
	return t, nil
}

// beginLocked picks the tid of a transaction that just got the commit lock.
func (st *Store) beginLocked(t *txn) {
	if t.meta.TID != zodb.ZeroTID {
		t.tid = t.meta.TID
		if t.tid.Compare(st.lastTID) <= 0 {
			st.failLocked(t, &StorageTransactionError{Current: t.id, Given: t.id,
				Msg: fmt.Sprintf("requested tid %s is not later than the last committed tid %s", t.tid, st.lastTID)})
		}
		return
	}
	t.tid = zodb.NextTID(st.lastTID, st.opts.Clock())
}

func (st *Store) failLocked(t *txn, err error) {
	t.err = err
	t.state = stateFailed
	st.opts.Logger.Debug("store: transaction failed", "txn", t.id, "err", err)
}

// applyOpsLocked replays the operations not yet applied, stopping at the
// first failure as a ZEO server does.
func (st *Store) applyOpsLocked(t *txn) {
	for t.err == nil && t.applied < len(t.ops) {
		o := t.ops[t.applied]
		t.applied++
		var err error
		switch o.kind {
		case opStore:
			err = st.applyStoreLocked(t, o)
		case opCheck:
			err = st.applyCheckLocked(o)
		case opDelete:
			err = st.applyDeleteLocked(t, o)
		case opUndo:
			err = st.applyUndoLocked(t, o.undoID)
		}
		if err != nil {
			failed := o.oid
			if o.kind == opUndo {
				failed = zodb.ZeroOID
			}
			st.failLocked(t, &VoteError{TID: t.tid, OID: failed, Applied: slices.Clone(t.results), Err: err})
		}
	}
}

// applyStoreLocked follows FileStorage.store: the serial is checked against
// the committed revision only (a second store of the same oid in one
// transaction checks the same serial), and an oid the store has no record of
// is accepted with any serial.
func (st *Store) applyStoreLocked(t *txn, o op) error {
	data := o.data
	kind := Stored
	if cur := st.currentLocked(o.oid); cur != nil && cur.tid != o.serial {
		resolved := false
		if st.opts.Resolve != nil {
			c := Conflict{OID: o.oid, Committed: cur.tid, Read: o.serial, CommittedData: cur.bytes(), New: data}
			if old := st.objects[o.oid].revisionAt(o.serial); old != nil {
				c.Old = old.bytes()
			}
			if merged, ok := st.opts.Resolve(c); ok {
				data = append(make([]byte, 0, len(merged)), merged...)
				resolved = true
			}
		}
		if !resolved {
			return st.conflictLocked(o.oid, cur.tid, o.serial, o.data)
		}
		kind = Resolved
	}
	t.changes.set(o.oid, &blob{data: data}, o.serial == zodb.ZeroTID)
	t.results = append(t.results, ObjectResult{OID: o.oid, Kind: kind})
	return nil
}

func (st *Store) conflictLocked(oid zodb.OID, committed, read zodb.TID, data []byte) *ConflictError {
	e := &ConflictError{OID: oid, Committed: committed, Read: read, Data: data}
	if st.opts.ClassName != nil && data != nil {
		e.ClassName = st.opts.ClassName(data)
	}
	st.opts.Logger.Debug("store: conflict", "oid", oid, "committed", committed, "read", read)
	return e
}

func (st *Store) applyCheckLocked(o op) error {
	cur := st.currentLocked(o.oid)
	if cur == nil || cur.data == nil {
		return &POSKeyError{OID: o.oid}
	}
	if cur.tid != o.serial {
		return &ReadConflictError{ConflictError{OID: o.oid, Committed: cur.tid, Read: o.serial}}
	}
	return nil
}

func (st *Store) applyDeleteLocked(t *txn, o op) error {
	cur := st.currentLocked(o.oid)
	if cur == nil {
		return &POSKeyError{OID: o.oid}
	}
	if cur.tid != o.serial {
		return st.conflictLocked(o.oid, cur.tid, o.serial, nil)
	}
	t.changes.set(o.oid, nil, false)
	t.results = append(t.results, ObjectResult{OID: o.oid, Kind: Deleted})
	return nil
}

func (o *object) revisionAt(tid zodb.TID) *revision {
	if o == nil {
		return nil
	}
	for _, r := range o.revs {
		if r.tid == tid {
			return r
		}
	}
	return nil
}

// Finish commits voted transaction id and returns its tid. Subscribers are
// told before readers can see the new state, and object reads made
// meanwhile wait until they can (as with FileStorage, whose tpc_finish
// calls the invalidation callback holding the lock loads take); the commit
// lock passes to the next voter afterwards. Finishing a transaction that has not voted
// successfully is a *StorageTransactionError (ZEO ignores such a call: the
// protocol layer decides what to answer).
func (s *Session) Finish(id any) (zodb.TID, error) {
	st := s.st
	st.mu.Lock()
	defer st.mu.Unlock()
	t, err := s.currentTxnLocked(id)
	if err != nil {
		return zodb.ZeroTID, err
	}
	if t.state != stateVoted {
		return zodb.ZeroTID, &StorageTransactionError{Current: t.id, Given: id, Msg: "tpc_finish without a successful vote"}
	}
	st.commitLocked(t)
	return t.tid, nil
}

// commitLocked publishes t, which holds the commit lock. It is called with
// st.mu held and returns with it held, but drops it while subscribers run.
func (st *Store) commitLocked(t *txn) {
	t.state = stateFinishing
	ev := Commit{TID: t.tid, OIDs: slices.Clone(t.changes.order)}
	if t.sess != nil {
		ev.Origin = t.sess
	}
	for _, oid := range t.changes.order {
		if t.changes.created[oid] {
			ev.Created = append(ev.Created, oid)
		}
	}
	subs := st.subscribersLocked()
	st.finishing = true
	st.mu.Unlock()
	for _, fn := range subs {
		fn(ev)
	}
	st.mu.Lock()
	st.publishLocked(t)
	st.finishing = false
	st.published.Broadcast()
	if t.sess != nil && t.sess.txn == t {
		t.sess.txn = nil
	}
	st.releaseLocked(t)
	st.opts.Logger.Debug("store: committed", "tid", t.tid, "objects", len(t.changes.order))
}

// publishLocked makes t's changes the committed state. Like FileStorage, a
// transaction that changed nothing advances lastTransaction but leaves no
// record.
func (st *Store) publishLocked(t *txn) {
	st.lastTID = t.tid
	if len(t.changes.order) == 0 {
		return
	}
	meta := &txnMeta{tid: t.tid, status: t.meta.Status, user: t.meta.User,
		description: t.meta.Description, extension: t.meta.Extension}
	for _, oid := range t.changes.order {
		b := t.changes.next[oid]
		rev := &revision{oid: oid, tid: t.tid, data: b, txn: meta}
		if b != nil && b.origin == nil {
			b.origin = rev
		}
		obj := st.objects[oid]
		if obj == nil {
			obj = &object{}
			st.objects[oid] = obj
		}
		obj.revs = append(obj.revs, rev)
		meta.records = append(meta.records, rev)
		st.lastOID = max(st.lastOID, oid.Uint64())
	}
	st.txns = append(st.txns, meta)
}
