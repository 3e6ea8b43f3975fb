package zeo

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
)

// Outcome is what became of a transaction whose tpc_finish reply never
// came.
type Outcome uint8

// The outcomes [CommitOutcomeUnknownError.Resolve] can establish.
const (
	// OutcomeUnknown: the storage does not tell (see CommitOutcome.Reason).
	OutcomeUnknown Outcome = iota
	// OutcomeCommitted: the transaction is in the storage, at
	// CommitOutcome.TID.
	OutcomeCommitted
	// OutcomeNotCommitted: the transaction is not in the storage and
	// never will be: redo it.
	OutcomeNotCommitted
)

// String names the outcome.
func (o Outcome) String() string {
	switch o {
	case OutcomeCommitted:
		return "committed"
	case OutcomeNotCommitted:
		return "not committed"
	}
	return "unknown"
}

// CommitOutcome is the settled outcome of an uncertain commit.
type CommitOutcome struct {
	Outcome Outcome
	// TID is the transaction's tid when it was committed.
	TID TID
	// Reason says what in the storage showed it, or why nothing could.
	Reason string
}

// settlement is what an uncertain commit keeps to settle itself later.
type settlement struct {
	c *Client
	// stores are the transaction's stores whose data the server kept as
	// sent (not resolved at vote), so that finding that data in the
	// storage identifies the transaction.
	stores []storedData
	// knownBefore is the client's LastTID before tpc_finish was sent: the
	// transaction's tid, if committed, is later.
	knownBefore TID
}

// settlement captures what Resolve needs, once the vote is done.
func (tx *Transaction) settlement(knownBefore TID) *settlement {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	st := &settlement{c: tx.c, knownBefore: knownBefore}
	for _, sd := range tx.stores {
		resolved := false
		for _, r := range tx.results {
			resolved = resolved || (r.OID == sd.oid && r.Resolved)
		}
		if !resolved {
			st.stores = append(st.stores, sd)
		}
	}
	return st
}

// maxHistoryWalk bounds how many revisions Resolve reads back through an
// object's history looking for the one after the transaction's base.
const maxHistoryWalk = 64

// Resolve finds out, once the client is connected again, whether the
// transaction was committed. It reads the current revision (from the
// server, never the cache) of an object the transaction stored, and if
// need be the revisions back to the one the store was based on: the
// transaction committed if and only if the revision right after that base
// holds exactly the data it stored, at a tid later than any the client
// knew of before tpc_finish. The commit lock the transaction held from its
// vote guarantees that no other transaction can have come between.
//
// It waits for a connection as any call does (ctx, Options.WaitTimeout);
// an error means the storage could not be read, not that the outcome is
// unknown. OutcomeUnknown comes with the reason: the transaction stored
// no data (only deletes, undos or read checks), the server resolved
// every store's conflict, or pack removed the history needed.
func (e *CommitOutcomeUnknownError) Resolve(ctx context.Context) (CommitOutcome, error) {
	st := e.settle
	if st == nil {
		return CommitOutcome{Reason: "this error carries no record of the transaction's stores"}, nil
	}
	if len(st.stores) == 0 {
		return CommitOutcome{Reason: "the transaction stored no data the server kept as sent (only deletes, undos, read checks or resolved conflicts): compare the storage with what it did by hand"}, nil
	}
	if err := st.c.commitBarrier(ctx); err != nil {
		return CommitOutcome{}, err
	}
	// Every object the transaction stored must tell the same story.
	var decided *CommitOutcome
	var reasons []string
	for _, sd := range st.stores {
		out, err := st.settleOne(ctx, sd)
		if err != nil {
			return CommitOutcome{}, err
		}
		switch {
		case out.Outcome == OutcomeUnknown:
			reasons = append(reasons, out.Reason)
		case decided == nil:
			decided = &out
		case decided.Outcome != out.Outcome || decided.TID != out.TID:
			return CommitOutcome{Reason: "the objects disagree: " + decided.Reason + "; but " + out.Reason}, nil
		}
	}
	if decided != nil {
		return *decided, nil
	}
	return CommitOutcome{Reason: strings.Join(reasons, "; ")}, nil
}

// commitBarrier waits until the server has finished or aborted the
// transaction that last held its commit lock: the vote of an empty
// transaction, aborted at once, takes the lock after it. Without it a
// tpc_finish still in the server's input when the client dropped the
// connection could land after Resolve looked. A read-only connection
// cannot vote; Resolve then goes on without.
func (c *Client) commitBarrier(ctx context.Context) error {
	tx, err := c.Begin(ctx, TxnMeta{Description: "gozeo: settling an uncertain commit (aborted)"})
	if errors.Is(err, ErrReadOnly) {
		return nil
	}
	if err != nil {
		return err
	}
	defer tx.Abort(context.WithoutCancel(ctx))
	_, err = tx.Vote(ctx)
	return err
}

// settleOne decides the outcome from one stored object.
func (st *settlement) settleOne(ctx context.Context, sd storedData) (CommitOutcome, error) {
	c := st.c
	cur, err := c.fetchCurrent(ctx, sd.oid)
	if errors.Is(err, ErrNotFound) {
		// Never committed, or deleted or packed away since: the storage
		// cannot tell which.
		return CommitOutcome{Reason: fmt.Sprintf("oid %s does not exist (never committed, or deleted or packed away since)", sd.oid.Repr())}, nil
	}
	if err != nil {
		return CommitOutcome{}, err
	}
	if cur.Serial == sd.serial {
		return CommitOutcome{Outcome: OutcomeNotCommitted, Reason: fmt.Sprintf("oid %s is still at serial %s, the revision the transaction stored over", sd.oid.Repr(), sd.serial.Repr())}, nil
	}
	// Walk back from the current revision to the one right after the base.
	next := cur
	for range maxHistoryWalk {
		prev, err := c.fetchBefore(ctx, sd.oid, next.Serial)
		var nf *NotFoundError
		switch {
		case errors.As(err, &nf) && sd.serial == (TID{}):
			return st.judge(sd, next), nil // next is the object's first revision
		case errors.As(err, &nf):
			return CommitOutcome{Reason: fmt.Sprintf("the history of oid %s no longer reaches back to serial %s (packed)", sd.oid.Repr(), sd.serial.Repr())}, nil
		case errors.Is(err, ErrUnsupported):
			if bytes.Equal(cur.Data, sd.data) && cur.Serial.Compare(st.knownBefore) > 0 {
				return CommitOutcome{Outcome: OutcomeCommitted, TID: cur.Serial, Reason: fmt.Sprintf("oid %s's current revision holds the data the transaction stored", sd.oid.Repr())}, nil
			}
			return CommitOutcome{Reason: "the server has no loadBefore to read past the current revision"}, nil
		case err != nil:
			return CommitOutcome{}, err
		}
		if prev.Serial == sd.serial {
			return st.judge(sd, next), nil
		}
		if prev.Serial.Compare(sd.serial) < 0 {
			return CommitOutcome{Reason: fmt.Sprintf("serial %s, the base of the store, is not in the history of oid %s", sd.serial.Repr(), sd.oid.Repr())}, nil
		}
		next = prev
	}
	return CommitOutcome{Reason: fmt.Sprintf("more than %d revisions of oid %s since the transaction", maxHistoryWalk, sd.oid.Repr())}, nil
}

// judge compares the revision that followed the store's base with what
// the transaction stored.
func (st *settlement) judge(sd storedData, after Revision) CommitOutcome {
	if bytes.Equal(after.Data, sd.data) && after.Serial.Compare(st.knownBefore) > 0 {
		return CommitOutcome{Outcome: OutcomeCommitted, TID: after.Serial,
			Reason: fmt.Sprintf("the revision of oid %s after serial %s holds the data the transaction stored", sd.oid.Repr(), sd.serial.Repr())}
	}
	return CommitOutcome{Outcome: OutcomeNotCommitted,
		Reason: fmt.Sprintf("the revision of oid %s after serial %s was written by transaction %s with other data", sd.oid.Repr(), sd.serial.Repr(), after.Serial.Repr())}
}
