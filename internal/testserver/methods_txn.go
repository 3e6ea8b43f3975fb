package testserver

import (
	"errors"
	"reflect"

	"github.com/gozeo/gozeo/internal/testserver/store"
	"github.com/gozeo/gozeo/internal/zrpcserver"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
)

// resolvedSerial is ZODB ≤ 4's ResolvedSerial: the serialnos entry of an
// object whose conflict the server resolved, or that undo restored.
var resolvedSerial = []byte("rs")

// checkTxn is ZEOStorage._check_tid: read-only connections fail with
// ReadOnlyError; a call naming another transaction than the current one
// fails with StorageTransactionError(current, given) when strict, and is
// reported (ok false) otherwise.
func (s *session) checkTxn(id pickle.Value, strict bool) (t *txnInfo, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.readOnly {
		return nil, false, posErr("ReadOnlyError")
	}
	if s.txn == nil || !reflect.DeepEqual(s.txn.id, id) {
		if !strict {
			return nil, false, nil
		}
		var current pickle.Value
		if s.txn != nil {
			current = s.txn.id
		}
		return nil, false, storageTransactionError(current, id)
	}
	return s.txn, true, nil
}

// tpc_begin(txn, user, description, ext, tid=None, status=' '): start a
// transaction. Sync for ≤3.9 clients, one-way for 3.10+ and 5.
func (s *session) tpcBegin(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("tpc_begin", args, 4, 2); err != nil {
		return nil, err
	}
	meta := store.TxnMeta{User: argRaw(args[1]), Description: argRaw(args[2]), Extension: args[3], Status: ' '}
	if len(args) > 4 {
		tid, ok, err := s.prof.argOptTID(args[4])
		if err != nil {
			return nil, err
		}
		if ok {
			meta.TID = tid
		}
	}
	if len(args) > 5 {
		if st := argRaw(args[5]); st != "" {
			meta.Status = st[0]
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.readOnly {
		return nil, posErr("ReadOnlyError")
	}
	if err := s.st.TpcBegin(args[0], meta); err != nil {
		return nil, err
	}
	if s.txn == nil {
		s.txn = &txnInfo{id: args[0], serials: make(map[zodb.OID]bool)}
		s.srv.stats.activeTxns.Add(1)
	}
	return pickle.None, nil
}

// storea: (oid, serial, data, txn), or (oid, serial, data, version, txn)
// for version-API peers. Buffered until the vote.
func (s *session) storea(c *call, args pickle.Tuple) (pickle.Value, error) {
	n := 4
	if s.versionAPI {
		n = 5
	}
	if err := s.prof.arity("storea", args, n, 0); err != nil {
		return nil, err
	}
	id := args[n-1]
	t, _, err := s.checkTxn(id, true)
	if err != nil {
		return nil, err
	}
	if s.versionAPI {
		if err := noVersion(args[3]); err != nil {
			return nil, err
		}
	}
	oid, serial, err := s.prof.argOIDTID(args)
	if err != nil {
		return nil, err
	}
	data, err := s.prof.argBytes(args[2])
	if err != nil {
		return nil, err
	}
	if err := s.storeSession().Store(id, oid, serial, data); err != nil {
		return nil, err
	}
	s.mu.Lock()
	t.serials[oid] = t.serials[oid] || serial != zodb.ZeroTID
	s.mu.Unlock()
	s.srv.stats.stores.Add(1)
	return pickle.None, nil
}

// txnOp reads the (oid, serial, txn) arguments of deleteObject and
// checkCurrentSerialInTransaction.
func (s *session) txnOp(name string, args pickle.Tuple) (zodb.OID, zodb.TID, error) {
	if err := s.prof.arity(name, args, 3, 0); err != nil {
		return zodb.OID{}, zodb.TID{}, err
	}
	if _, _, err := s.checkTxn(args[2], true); err != nil {
		return zodb.OID{}, zodb.TID{}, err
	}
	return s.prof.argOIDTID(args)
}

// deleteObject(oid, serial, txn): buffered delete (Z309+).
func (s *session) deleteObject(c *call, args pickle.Tuple) (pickle.Value, error) {
	oid, serial, err := s.txnOp("deleteObject", args)
	if err != nil {
		return nil, err
	}
	s.srv.stats.stores.Add(1)
	return pickle.None, s.storeSession().DeleteObject(args[2], oid, serial)
}

// checkCurrentSerialInTransaction(oid, serial, txn): fail the vote with
// ReadConflictError unless serial is still current (Z3101+).
func (s *session) checkCurrentSerial(c *call, args pickle.Tuple) (pickle.Value, error) {
	oid, serial, err := s.txnOp("checkCurrentSerialInTransaction", args)
	if err != nil {
		return nil, err
	}
	return pickle.None, s.storeSession().CheckCurrentSerial(args[2], oid, serial)
}

// restorea(oid, serial, data, prev_txn, txn): not supported by this
// storage (it cannot write records under foreign tids).
func (s *session) restorea(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("restorea", args, 5, 0); err != nil {
		return nil, err
	}
	if _, _, err := s.checkTxn(args[4], true); err != nil {
		return nil, err
	}
	return nil, posErr("Unsupported", text("the Go test server cannot restore records (restorea)"))
}

// undoa(trans_id, txn): buffered undo, results at vote (Z310+).
func (s *session) undoa(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("undoa", args, 2, 0); err != nil {
		return nil, err
	}
	if _, _, err := s.checkTxn(args[1], true); err != nil {
		return nil, err
	}
	undoID, err := s.prof.argBytes(args[0])
	if err != nil {
		return nil, err
	}
	return pickle.None, s.storeSession().Undo(args[1], undoID)
}

// undo(trans_id, txn) → (tid, oids): the synchronous undo of ZODB ≤ 3.9,
// which takes the commit lock at once. 3.10+ keep the name and raise
// NotImplementedError.
func (s *session) undo(c *call, args pickle.Tuple) (pickle.Value, error) {
	if !s.prof.caps().UndoSync {
		return nil, s.prof.builtinErr("NotImplementedError")
	}
	return s.undoNow(c, "undo", args, func(tid zodb.TID, oids []zodb.OID) pickle.Value {
		return pickle.Tuple{tidValue(tid), oidList(oids)}
	})
}

// transactionalUndo(trans_id, txn) → oids: ZEO 2's undo within a
// transaction; the tid is the one tpc_finish returns.
func (s *session) transactionalUndo(c *call, args pickle.Tuple) (pickle.Value, error) {
	return s.undoNow(c, "transactionalUndo", args, func(_ zodb.TID, oids []zodb.OID) pickle.Value {
		return oidList(oids)
	})
}

// undoNow undoes args[0] within the transaction args[1] at once, taking
// the commit lock, and answers with reply(tid, oids).
func (s *session) undoNow(c *call, method string, args pickle.Tuple, reply func(zodb.TID, []zodb.OID) pickle.Value) (pickle.Value, error) {
	if err := s.prof.arity(method, args, 2, 0); err != nil {
		return nil, err
	}
	id := args[1]
	t, _, err := s.checkTxn(id, true)
	if err != nil {
		return nil, err
	}
	undoID, err := s.prof.argBytes(args[0])
	if err != nil {
		return nil, err
	}
	st := s.storeSession()
	return nil, s.later(c, func() (pickle.Value, error) {
		s.srv.stats.waiting.Add(1)
		tid, oids, err := st.UndoNow(s.ctx, id, undoID)
		s.srv.stats.waiting.Add(-1)
		if err != nil {
			if s.ctx.Err() != nil {
				return nil, errDeferred
			}
			return nil, err
		}
		s.mu.Lock()
		t.undone = append(t.undone, oids...)
		s.mu.Unlock()
		return reply(tid, oids), nil
	})
}

// vote(txn): take the commit lock (waiting behind other committers: the
// reply comes later, from another goroutine) and apply the stores. ZEO ≤ 4
// sends serialnos(results) and then the reply None; store failures travel
// in serialnos as (oid, exception). ZEO 5 returns the oids the client
// must not cache, and reports failures as the vote's error reply.
func (s *session) vote(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("vote", args, 1, 0); err != nil {
		return nil, err
	}
	id := args[0]
	t, _, err := s.checkTxn(id, true)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	answered := t.voted != nil || t.report != nil
	switch {
	case t.voting && (!answered || s.prof.caps().VoteOnce):
		// 3.10+ hold the commit lock after a vote, failed or not.
		state := "waiting"
		if answered {
			state = "locked"
		}
		s.mu.Unlock()
		return nil, posErr("StorageTransactionError", text("Already voting ("+state+")"))
	case answered:
		// ZODB ≤ 3.9 vote again: the same serialnos again (the failure
		// too), then None.
		report := t.report
		s.mu.Unlock()
		if err := s.notify(s.ctx, "serialnos", report); err != nil {
			return nil, errDeferred
		}
		return pickle.None, nil
	}
	t.voting = true
	s.mu.Unlock()
	st := s.storeSession()
	return nil, s.later(c, func() (pickle.Value, error) {
		s.srv.stats.waiting.Add(1)
		res, err := st.Vote(s.ctx, id)
		s.srv.stats.waiting.Add(-1)
		s.mu.Lock()
		aborted := t.aborted
		if err == nil {
			t.voted = res
		}
		s.mu.Unlock()
		if aborted || s.ctx.Err() != nil {
			return nil, errDeferred // aborted while waiting: no answer, as in ZEO
		}
		if err == nil {
			err = s.placeBlobs(t, res.TID)
		}
		if err != nil {
			return s.voteFailed(t, id, err)
		}
		if s.prof.caps().StoreResultsInVote {
			return oidList(res.ResolvedOIDs()), nil
		}
		return s.report(t, s.serialnos(res.TID, res.Objects))
	})
}

// serialnos lists the ZEO ≤ 4 store results of the changes a vote applied:
// (oid, tid) per store, (oid, 'rs') per resolved conflict and, from 3.10,
// per object undone by undoa. Deletes and read checks report nothing.
func (s *session) serialnos(tid zodb.TID, applied []store.ObjectResult) *pickle.List {
	l := pickle.List{}
	for _, o := range applied {
		switch o.Kind {
		case store.Stored:
			l = append(l, pickle.Tuple{oidValue(o.OID), tidValue(tid)})
		case store.Resolved:
			l = append(l, pickle.Tuple{oidValue(o.OID), bin(resolvedSerial)})
		case store.Undone:
			if s.prof.caps().UndoAsync {
				l = append(l, pickle.Tuple{oidValue(o.OID), bin(resolvedSerial)})
			}
		}
	}
	return &l
}

// report sends a ZEO ≤ 4 vote's serialnos, kept for a ZODB ≤ 3.9 client
// that votes again, and answers the vote with None.
func (s *session) report(t *txnInfo, items *pickle.List) (pickle.Value, error) {
	s.mu.Lock()
	t.report = items
	s.mu.Unlock()
	if err := s.notify(s.ctx, "serialnos", items); err != nil {
		return nil, errDeferred
	}
	return pickle.None, nil
}

// voteFailed reports a failed vote. ZEO ≤ 4, for a change that failed:
// serialnos lists what the server applied before it, as a success would, then
// (oid, exception) for the failure (docs/protocol.md, Commit; the stores after
// it are never tried), and the reply is None; the transaction keeps the commit
// lock until tpc_abort. ZEO 5: the server aborts the transaction and the vote's
// error reply carries the exception. Anything else (a tid the client asked for
// that is too old, which the storage's tpc_begin refuses) is the vote's error
// reply; 3.10+ servers abort the transaction then.
func (s *session) voteFailed(t *txnInfo, id pickle.Value, err error) (pickle.Value, error) {
	var ce *store.ConflictError
	if errors.As(err, &ce) {
		s.srv.stats.conflicts.Add(1)
	}
	var ve *store.VoteError
	if s.prof.caps().StoreResultsInVote || !errors.As(err, &ve) {
		if s.prof.caps().VoteFailureAborts {
			s.abortTxn(id)
		}
		return nil, err
	}
	items := s.serialnos(ve.TID, ve.Applied)
	*items = append(*items, zrpcserver.SerialnosItem(oidValue(ve.OID), s.prof.exception(s.prof.pyErrorFrom(ve.Err))))
	return s.report(t, items)
}

// tpc_finish(txn) → the committed tid. Other clients get
// invalidateTransaction before the state is visible; this one gets info()
// before the reply (ZEO 5 always; older servers when something was
// invalidated).
func (s *session) tpcFinish(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("tpc_finish", args, 1, 0); err != nil {
		return nil, err
	}
	id := args[0]
	t, ok, err := s.checkTxn(id, false)
	if err != nil {
		return nil, err
	}
	if !ok {
		return pickle.None, nil // ZEO ignores a finish of another transaction
	}
	s.mu.Lock()
	voted := t.voted != nil
	s.mu.Unlock()
	if !voted {
		return nil, s.prof.builtinErr("AssertionError", text("finished called wo lock"))
	}
	inv := s.invalidations(t)
	tid, err := s.storeSession().Finish(id)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.txn = nil
	s.mu.Unlock()
	s.srv.stats.commits.Add(1)
	s.srv.stats.activeTxns.Add(-1)
	if s.prof.InfoAlways || len(inv) > 0 {
		if err := s.notify(s.ctx, "info", s.srv.sizeInfo()); err != nil {
			return nil, errDeferred
		}
	}
	return tidValue(tid), nil
}

// tpc_abort(txn): abandon the transaction; a call for another (or no)
// transaction is ignored.
func (s *session) tpcAbort(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("tpc_abort", args, 1, 0); err != nil {
		return nil, err
	}
	if _, ok, err := s.checkTxn(args[0], false); err != nil || !ok {
		return pickle.None, err
	}
	s.abortTxn(args[0])
	return pickle.None, nil
}

// abortTxn aborts the session's transaction id.
func (s *session) abortTxn(id pickle.Value) {
	s.mu.Lock()
	t := s.txn
	if t != nil && reflect.DeepEqual(t.id, id) {
		t.aborted = true
		s.txn = nil
	} else {
		t = nil
	}
	st := s.st
	s.mu.Unlock()
	if t == nil {
		return
	}
	t.dropBlobs()
	st.Abort(id)
	s.srv.stats.aborts.Add(1)
	s.srv.stats.activeTxns.Add(-1)
}
