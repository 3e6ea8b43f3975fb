package zeo

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zrpc"
)

// TxnMeta is the metadata of a transaction, as ZODB records it.
type TxnMeta struct {
	User        string
	Description string
	// Extension is the transaction's extension dict (ZODB's
	// transaction.extension): values of type string, []byte, bool, int,
	// float64, []any or map[string]any.
	Extension map[string]any
}

// StoreResult is what the server reported about one object at vote time.
type StoreResult struct {
	OID OID
	// Serial is the new serial (the transaction's tid), when the server
	// reported it; ZEO ≤ 4.x reports it for every store, ZEO 5 for none
	// (every stored object gets the tid Finish returns).
	Serial TID
	// Resolved is true when the server changed the data: a conflict it
	// resolved, or an object undone. Data the client holds for this oid
	// is stale.
	Resolved bool
	// Err is the store's failure (a *ConflictError, say).
	Err error
}

type txnState uint8

const (
	txnActive txnState = iota
	txnVoted
	txnFinishing // tpc_finish sent
	txnDone
)

// Transaction is a two-phase commit in progress on a Client: stores (and
// deletes, read checks, undos) are sent as they are made, without waiting;
// Vote collects their results; Finish commits and returns the tid. Abort
// may be called at any time, and after Finish it does nothing, so
// "defer tx.Abort(ctx)" is the idiom. A Transaction is safe for concurrent
// use, though its operations are naturally sequential.
//
// A transaction belongs to the connection it began on: every operation
// goes there. If that connection is lost before tpc_finish, the server
// aborts the transaction, and every later operation fails with a
// *DisconnectedError with TxnAborted set; nothing of it reaches the next
// connection.
type Transaction struct {
	c  *Client
	s  *session
	id int64

	mu      sync.Mutex
	state   txnState
	written []OID // stored or deleted, reported as a local invalidation
	stores  []storedData
	undone  []OID
	results []StoreResult // from serialnos (≤ 4.x), appended by the handler
	voteErr error
	lostErr error // set when the connection was lost before tpc_finish

	// blobMu is held by the one goroutine sending a blob's chunk
	// sequence, so that two StoreBlobs never interleave (ZEO#150).
	blobMu sync.Mutex
	// broken is set when a blob's chunk sequence was cut off: the server
	// holds a partial blob, so the transaction can only be aborted.
	broken error
	// blobFiles are the blobs stored, written to the blob cache as they
	// were sent; Finish moves them into place under the new tid.
	blobFiles []pendingBlob
}

// storedData is one Store, kept so that an uncertain commit can be
// settled afterwards (CommitOutcomeUnknownError.Resolve).
type storedData struct {
	oid    OID
	serial TID
	data   []byte
}

// Begin starts a transaction (tpc_begin). A ZEO connection carries one
// transaction at a time: Begin waits until the previous transaction of this
// Client has finished or aborted, or ctx ends. A read-only connection
// refuses with a *ReadOnlyError without asking the server.
func (c *Client) Begin(ctx context.Context, meta TxnMeta) (*Transaction, error) {
	s, err := c.liveSession(ctx, "tpc_begin")
	if err != nil {
		return nil, err
	}
	if s.readOnly {
		return nil, &ReadOnlyError{Op: "Begin", Local: true, Server: c.server(), Version: c.version()}
	}
	ext, err := dictFromMap(meta.Extension)
	if err != nil {
		return nil, err
	}
	select {
	case c.txnSlot <- struct{}{}:
	case <-ctx.Done():
		return nil, fmt.Errorf("zeo: Begin: waiting for the previous transaction: %w", ctx.Err())
	case <-c.ended:
		return nil, c.notSent("tpc_begin", c.Err(), nil)
	}
	// The previous transaction may have held the slot across a reconnect.
	if s, err = c.liveSession(ctx, "tpc_begin"); err != nil {
		<-c.txnSlot
		return nil, err
	}
	if s.readOnly {
		<-c.txnSlot
		return nil, &ReadOnlyError{Op: "Begin", Local: true, Server: s.addr, Version: s.neg.Chosen}
	}
	tx := &Transaction{c: c, s: s, id: c.nextTxnID()}
	c.txnMu.Lock()
	c.curTxn = tx
	c.txnMu.Unlock()

	args := []any{tx.id, pickle.Bytes(meta.User), pickle.Bytes(meta.Description), ext, pickle.None, " "}
	if s.caps.TPCBeginOneWay {
		// Its errors surface at vote.
		err = c.notifyIn(ctx, s, "tpc_begin", args...)
	} else {
		_, err = c.callIn(ctx, s, op{method: "tpc_begin"}, args...)
	}
	if err != nil {
		tx.release()
		return nil, tx.lostOr(err)
	}
	return tx, nil
}

// lose ends the transaction because its connection was lost before
// tpc_finish (the supervisor calls it): the server has aborted it. A
// Finish in progress reports the loss itself.
func (tx *Transaction) lose(cause error) {
	tx.mu.Lock()
	if tx.state == txnDone || tx.state == txnFinishing {
		tx.mu.Unlock()
		return
	}
	tx.lostErr = &DisconnectedError{Server: tx.s.addr, Version: tx.s.neg.Chosen, Cause: cause, TxnAborted: true}
	tx.mu.Unlock()
	tx.release()
}

// lostOr returns the transaction's loss error for an operation that
// failed because the connection went away, err otherwise.
func (tx *Transaction) lostOr(err error) error {
	if !errors.Is(err, ErrDisconnected) || errors.Is(err, ErrClosed) {
		return err
	}
	var de *DisconnectedError
	if errors.As(err, &de) {
		e := *de
		e.TxnAborted = true
		return &e
	}
	var ue *UndecodableMessageError
	if errors.As(err, &ue) {
		// The connection was dropped for it: the transaction went with it.
		return &DisconnectedError{Method: ue.Method, Server: ue.Server, Version: ue.Version, Cause: ue, TxnAborted: true}
	}
	return err
}

// call and notify send a transaction's messages on its own session.
func (tx *Transaction) call(ctx context.Context, o op, args ...any) (any, error) {
	v, err := tx.c.callIn(ctx, tx.s, o, args...)
	return v, tx.lostOr(err)
}

func (tx *Transaction) notify(ctx context.Context, method string, args ...any) error {
	return tx.lostOr(tx.c.notifyIn(ctx, tx.s, method, args...))
}

// method is the server method for op on the transaction's session.
func (tx *Transaction) method(op Operation) (string, error) {
	if m, ok := tx.s.method(op); ok {
		return m, nil
	}
	return "", tx.c.unsupportedOp(tx.s, op)
}

// ID returns the transaction id sent to the server.
func (tx *Transaction) ID() int64 { return tx.id }

// active checks that the transaction still accepts operations.
func (tx *Transaction) active(opName string) error {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if tx.lostErr != nil {
		e := *tx.lostErr.(*DisconnectedError)
		e.Method = opName
		return &e
	}
	switch tx.state {
	case txnActive:
		return nil
	case txnVoted:
		return fmt.Errorf("zeo: %s after Vote: the transaction takes no more changes; Finish or Abort it: %w", opName, ErrTransaction)
	}
	return fmt.Errorf("zeo: %s on a finished or aborted transaction: Begin a new one: %w", opName, ErrTransaction)
}

// Store writes data as the new revision of oid. serial is the revision
// the data was based on (zero for a new object). The store is sent at once
// without waiting; a conflict is reported by Vote.
func (tx *Transaction) Store(ctx context.Context, oid OID, serial TID, data []byte) error {
	if err := tx.active("Store"); err != nil {
		return err
	}
	if _, err := tx.method(OpStore); err != nil {
		return err
	}
	args := []any{pickle.Bytes(oid[:]), pickle.Bytes(serial[:]), pickle.Bytes(data), tx.id}
	if tx.s.caps.VersionsAPI {
		args = []any{pickle.Bytes(oid[:]), pickle.Bytes(serial[:]), pickle.Bytes(data), "", tx.id}
	}
	if err := tx.notify(ctx, "storea", args...); err != nil {
		return err
	}
	tx.mu.Lock()
	tx.written = append(tx.written, oid)
	tx.stores = slices.DeleteFunc(tx.stores, func(sd storedData) bool { return sd.oid == oid }) // the last store of an oid counts
	tx.stores = append(tx.stores, storedData{oid: oid, serial: serial, data: data})
	tx.mu.Unlock()
	return nil
}

// CheckCurrentSerial asks the server to verify at vote time that serial
// is still the current revision of oid, which the transaction read but
// does not write (checkCurrentSerialInTransaction, Z3101+). If another
// transaction changed it, Vote fails with a *ReadConflictError.
func (tx *Transaction) CheckCurrentSerial(ctx context.Context, oid OID, serial TID) error {
	if err := tx.active("CheckCurrentSerial"); err != nil {
		return err
	}
	method, err := tx.method(OpCheckCurrentSerial)
	if err != nil {
		return err
	}
	return tx.notify(ctx, method, pickle.Bytes(oid[:]), pickle.Bytes(serial[:]), tx.id)
}

// Delete removes oid, whose current revision is serial (deleteObject,
// Z309+; used by external garbage collection).
func (tx *Transaction) Delete(ctx context.Context, oid OID, serial TID) error {
	if err := tx.active("Delete"); err != nil {
		return err
	}
	method, err := tx.method(OpDelete)
	if err != nil {
		return err
	}
	if err := tx.notify(ctx, method, pickle.Bytes(oid[:]), pickle.Bytes(serial[:]), tx.id); err != nil {
		return err
	}
	tx.mu.Lock()
	tx.written = append(tx.written, oid)
	tx.mu.Unlock()
	return nil
}

// addResults records store results (called by the message handler).
func (tx *Transaction) addResults(rs []StoreResult) {
	tx.mu.Lock()
	tx.results = append(tx.results, rs...)
	tx.mu.Unlock()
}

// Vote asks the server to prepare the commit (vote): it takes the commit
// lock (waiting for other clients' commits), applies the stores and
// reports their results, which Vote returns however the server reports
// them (serialnos before the vote reply up to ZEO 4, the vote's return
// value on ZEO 5). A store that failed makes Vote return its error (a
// *ConflictError, or a *ReadConflictError for a failed
// CheckCurrentSerial); the transaction must then be aborted.
func (tx *Transaction) Vote(ctx context.Context) ([]StoreResult, error) {
	tx.mu.Lock()
	if tx.lostErr != nil {
		err := tx.lostErr
		tx.mu.Unlock()
		return nil, err
	}
	if tx.broken != nil {
		err := tx.broken
		tx.mu.Unlock()
		return nil, err
	}
	switch tx.state {
	case txnVoted, txnFinishing:
		rs, err := tx.results, tx.voteErr
		tx.mu.Unlock()
		return rs, err
	case txnDone:
		tx.mu.Unlock()
		return nil, fmt.Errorf("zeo: Vote on a finished or aborted transaction: %w", ErrTransaction)
	}
	tx.state = txnVoted
	tx.mu.Unlock()

	v, err := tx.call(ctx, op{method: "vote"}, tx.id)
	tx.mu.Lock()
	defer tx.mu.Unlock()
	if err == nil && tx.s.caps.StoreResultsInVote {
		rs, perr := tx.c.parseVoteList(v)
		tx.results = append(tx.results, rs...)
		err = perr
	}
	if err == nil {
		for _, r := range tx.results {
			if r.Err != nil {
				err = r.Err
				break
			}
		}
	}
	for _, r := range tx.results {
		if r.Resolved && r.Err == nil && !containsOID(tx.written, r.OID) {
			tx.undone = append(tx.undone, r.OID)
		}
	}
	tx.voteErr = err
	return tx.results, err
}

// parseVoteList reads a ZEO 5 vote result (docs/protocol.md, Commit): oids
// whose data the server changed (resolved conflicts, undone objects), and, from
// servers running client-side conflict resolution, dicts describing conflicts
// the client would have to resolve, which this client reports as
// ConflictErrors.
func (c *Client) parseVoteList(v any) ([]StoreResult, error) {
	if pickle.IsNone(v) {
		return nil, nil
	}
	items, ok := pickle.AsTuple(v)
	if !ok {
		return nil, c.shape("vote", "a list", v)
	}
	out := make([]StoreResult, 0, len(items))
	for _, it := range items {
		if oid, ok := asOID(it); ok {
			out = append(out, StoreResult{OID: oid, Resolved: true})
			continue
		}
		if d, ok := pickle.AsDict(it); ok {
			ce := &ConflictError{Kind: "ConflictError", Message: "conflict left to the client (the server runs client-side conflict resolution, which this client does not do)", Server: c.server(), Version: c.version()}
			if o, ok := d.GetString("oid"); ok {
				ce.OID, ce.OIDKnown = asOID(o)
			}
			if s, ok := d.GetString("serials"); ok {
				ce.Committed, ce.Read = serialPair(s)
			}
			out = append(out, StoreResult{OID: ce.OID, Err: ce})
			continue
		}
		return nil, c.shape("vote", "a list of oids", v)
	}
	return out, nil
}

func containsOID(oids []OID, oid OID) bool {
	for _, o := range oids {
		if o == oid {
			return true
		}
	}
	return false
}

// Finish commits the transaction (tpc_finish) and returns its tid; it
// votes first if Vote was not called. If the connection is lost, or ctx
// ends, after tpc_finish was sent, the error is a
// *CommitOutcomeUnknownError: the transaction may or may not be committed.
func (tx *Transaction) Finish(ctx context.Context) (TID, error) {
	tx.mu.Lock()
	state, lost := tx.state, tx.lostErr
	tx.mu.Unlock()
	switch {
	case lost != nil:
		return TID{}, lost
	case state == txnDone || state == txnFinishing:
		return TID{}, fmt.Errorf("zeo: Finish on a finished or aborted transaction: %w", ErrTransaction)
	case state == txnActive:
		if _, err := tx.Vote(ctx); err != nil {
			return TID{}, err
		}
	}
	tx.mu.Lock()
	if tx.lostErr != nil || tx.voteErr != nil {
		err := tx.lostErr
		if err == nil {
			err = fmt.Errorf("zeo: Finish after a failed Vote: Abort instead: %w", tx.voteErr)
		}
		tx.mu.Unlock()
		return TID{}, err
	}
	if err := ctx.Err(); err != nil {
		// Nothing sent yet: the outcome is known (not committed).
		tx.mu.Unlock()
		return TID{}, fmt.Errorf("zeo: Finish: %w", err)
	}
	if err := tx.s.conn.Err(); err != nil {
		// The connection is gone and tpc_finish was never sent: the
		// server has aborted the transaction.
		tx.mu.Unlock()
		tx.release()
		return TID{}, tx.lostOr(tx.c.mapError(err, op{method: "tpc_finish"}))
	}
	tx.state = txnFinishing
	changed := append(append([]OID(nil), tx.written...), tx.undone...)
	tx.mu.Unlock()

	// tpc_finish is sent and waited for on its own goroutine, without the
	// caller's ctx: once sent, its reply must still be taken in wire order
	// (the cache and the subscriptions depend on it) and the transaction
	// released when it comes, even if the caller stops waiting first. A
	// caller whose ctx ends meanwhile gets a CommitOutcomeUnknownError.
	c, s := tx.c, tx.s
	knownBefore := c.LastTID()
	done := make(chan finishResult, 1)
	go func() {
		v, err := s.conn.CallWith(context.Background(), zrpc.CallOptions{OnReply: func(m *zrpc.Message) {
			// On the read goroutine, in wire order with the server's own
			// invalidations: this commit takes its place among them. The
			// cache drops what it held of the changed objects; the hub
			// advances LastTID as it delivers.
			if t, ok := asTID(m.Args); ok && !isErrorReply(m) {
				c.cache.invalidate(t, changed)
				c.inval.publish(Invalidation{TID: t, OIDs: changed, Local: true})
			}
		}}, "tpc_finish", tx.id)
		if t, ok := asTID(v); ok && err == nil {
			tx.adoptBlobs(t)
		}
		tx.release()
		done <- finishResult{v, err}
	}()
	var r finishResult
	select {
	case r = <-done:
	case <-ctx.Done():
		return TID{}, &CommitOutcomeUnknownError{Server: s.addr, Version: s.neg.Chosen,
			Err: fmt.Errorf("zeo: waiting for tpc_finish: %w", ctx.Err()), settle: tx.settlement(knownBefore)}
	}
	if r.err != nil {
		var re *zrpc.RemoteError
		if errors.As(r.err, &re) {
			// The server answered: the commit failed, definitely.
			return TID{}, c.mapError(r.err, op{method: "tpc_finish"})
		}
		return TID{}, &CommitOutcomeUnknownError{Server: s.addr, Version: s.neg.Chosen, Err: c.mapError(r.err, op{method: "tpc_finish"}),
			settle: tx.settlement(knownBefore)}
	}
	t, ok := asTID(r.v)
	if !ok {
		if !s.caps.TPCFinishReturnsTID {
			// ZEO 2.0 returns None: the new tid is not known.
			return TID{}, nil
		}
		return TID{}, c.shape("tpc_finish", "the committed tid", r.v)
	}
	return t, nil
}

type finishResult struct {
	v   any
	err error
}

// Abort abandons the transaction (tpc_abort). After Finish, or a second
// time, it does nothing and returns nil.
func (tx *Transaction) Abort(ctx context.Context) error {
	tx.mu.Lock()
	if tx.state == txnDone {
		tx.mu.Unlock()
		return nil
	}
	tx.mu.Unlock()
	defer tx.release()
	if tx.s.conn.Err() != nil {
		return nil // the server aborts transactions of lost connections
	}
	if tx.s.caps.TPCAbortSync {
		_, err := tx.c.callIn(ctx, tx.s, op{method: "tpc_abort"}, tx.id)
		return ignoreLost(err)
	}
	return ignoreLost(tx.c.notifyIn(ctx, tx.s, "tpc_abort", tx.id))
}

// ignoreLost drops the error of an abort whose connection was lost: the
// server aborts the transactions of lost connections itself.
func ignoreLost(err error) error {
	if errors.Is(err, ErrDisconnected) {
		return nil
	}
	return err
}

// release ends the transaction on the client and frees the connection for
// the next one.
func (tx *Transaction) release() {
	tx.mu.Lock()
	if tx.state == txnDone {
		tx.mu.Unlock()
		return
	}
	tx.state = txnDone
	tx.mu.Unlock()
	tx.dropBlobFiles()
	c := tx.c
	c.txnMu.Lock()
	if c.curTxn == tx {
		c.curTxn = nil
	}
	c.txnMu.Unlock()
	<-c.txnSlot
}

// Write is one object write of a Commit.
type Write struct {
	OID OID
	// Serial is the revision the data is based on; zero for a new object.
	Serial TID
	Data   []byte
}

// Commit runs a whole transaction writing ws: Begin, Store each, Vote,
// Finish. On any failure before tpc_finish it aborts and returns the
// error (a *ConflictError on a conflict).
func (c *Client) Commit(ctx context.Context, meta TxnMeta, ws ...Write) (TID, error) {
	tx, err := c.Begin(ctx, meta)
	if err != nil {
		return TID{}, err
	}
	defer tx.Abort(context.WithoutCancel(ctx))
	for _, w := range ws {
		if err := tx.Store(ctx, w.OID, w.Serial, w.Data); err != nil {
			return TID{}, err
		}
	}
	if _, err := tx.Vote(ctx); err != nil {
		return TID{}, err
	}
	return tx.Finish(ctx)
}
