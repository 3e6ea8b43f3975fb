package store

import (
	"slices"

	"github.com/gozeo/gozeo/zodb"
)

// Commit describes a committed transaction to subscribers.
type Commit struct {
	TID zodb.TID
	// OIDs lists every object the transaction changed (stored, deleted or
	// undone), in first-change order. It is empty for a transaction that
	// changed nothing; real servers send no invalidation then.
	OIDs []zodb.OID
	// Created lists the oids of OIDs whose only changes were stores with
	// serial ZeroTID: the objects the client created, which servers up to
	// ZEO 5.2.1 leave out of invalidations.
	Created []zodb.OID
	// Origin is the committing session (nil for Seed): the protocol layer
	// sends no invalidation to it.
	Origin *Session
}

// Subscribe registers fn to be called once per commit, in commit order,
// with the commit lock held and before the new state is visible to readers.
// Object reads and LastTransaction made meanwhile, from other goroutines,
// wait until it is (a FileStorage holds the lock loads take while it calls
// the server's invalidation callback), so that nobody told of a commit can
// then read the state before it. fn must not block for long, must not read
// objects or LastTransaction itself, and must not call Vote, UndoNow,
// Finish, Pack or Seed (they need the commit lock). The returned function
// unsubscribes.
func (st *Store) Subscribe(fn func(Commit)) (unsubscribe func()) {
	st.mu.Lock()
	defer st.mu.Unlock()
	id := st.nextSub
	st.nextSub++
	st.subs[id] = fn
	return func() {
		st.mu.Lock()
		defer st.mu.Unlock()
		delete(st.subs, id)
	}
}

func (st *Store) subscribersLocked() []func(Commit) {
	ids := make([]int, 0, len(st.subs))
	for id := range st.subs {
		ids = append(ids, id)
	}
	slices.Sort(ids) // registration order, so callbacks run in a stable order
	fns := make([]func(Commit), len(ids))
	for i, id := range ids {
		fns[i] = st.subs[id]
	}
	return fns
}
