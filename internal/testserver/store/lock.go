package store

import (
	"context"
	"slices"
)

// commitLock is the storage-wide commit lock: one transaction at a time goes
// from vote to finish. Waiters are served in arrival order, as a ZEO server
// serves delayed votes, and the lock is handed straight to the next waiter on
// release so nobody can barge in. All fields are guarded by Store.mu.
type commitLock struct {
	holder any // the owning *txn, or a token of Pack/Seed; nil when free
	queue  []*lockWaiter
}

type lockWaiter struct {
	owner   any
	granted chan struct{} // closed when owner becomes the holder
}

// acquire waits until owner holds the commit lock, ctx is done or cancel is
// closed (cancel may be nil). It must be called without st.mu held.
func (st *Store) acquire(ctx context.Context, owner any, cancel <-chan struct{}) error {
	st.mu.Lock()
	if st.lock.holder == nil {
		st.lock.holder = owner
		st.mu.Unlock()
		return nil
	}
	w := &lockWaiter{owner: owner, granted: make(chan struct{})}
	st.lock.queue = append(st.lock.queue, w)
	st.mu.Unlock()

	var err error
	select {
	case <-w.granted:
		return nil
	case <-ctx.Done():
		err = ctx.Err()
	case <-cancel:
		err = errAborted
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.lock.holder == owner {
		// Granted while we were giving up: pass it on.
		st.releaseLocked(owner)
	} else {
		st.lock.queue = slices.DeleteFunc(st.lock.queue, func(x *lockWaiter) bool { return x == w })
	}
	return err
}

// releaseLocked gives the lock to the next waiter if owner holds it; it does
// nothing otherwise, so a racing abort and wake-up cannot release twice.
func (st *Store) releaseLocked(owner any) {
	if st.lock.holder != owner {
		return
	}
	if len(st.lock.queue) == 0 {
		st.lock.holder = nil
		return
	}
	w := st.lock.queue[0]
	st.lock.queue = st.lock.queue[1:]
	st.lock.holder = w.owner
	close(w.granted)
}
