package zeo

import (
	"context"
	"sync"
)

// loadKey names a load for coalescing: the oid, the tid it is relative to
// and the kind. For current loads the tid is the newest tid the client
// knows of when the call starts, so a load started after an invalidation
// never joins one started before it (which could return the old data).
type loadKey struct {
	oid  OID
	at   TID // current loads: LastTID at the start; LoadBefore: before
	kind loadKind
}

type loadKind uint8

const (
	loadCurrentKind loadKind = iota
	loadBeforeKind
)

// loadCall is one request shared by the callers of identical loads.
type loadCall struct {
	key loadKey
	rev Revision
	err error
	// done is closed once rev and err are set. The first caller makes it
	// only when it has to wait on another goroutine; a caller that joins
	// makes it if it is still nil. Guarded by loads.mu until the call
	// leaves the table, read-only after.
	done   chan struct{}
	joined int // callers waiting for this call besides the first; guarded by loads.mu
}

// loadTable holds the loads in flight, by key.
type loadTable struct {
	mu    sync.Mutex
	calls map[loadKey]*loadCall
}

// coalesce makes the load key with method once for concurrent callers.
// The shared request is not cancelled when the caller that started it
// leaves (it ends with its reply or the connection); each caller's ctx
// bounds only its own wait. When the starting caller's ctx can never end,
// it makes the request on its own goroutine instead of starting one.
func (c *Client) coalesce(ctx context.Context, key loadKey) (Revision, error) {
	if err := ctx.Err(); err != nil {
		return Revision{}, err
	}
	t := &c.loads
	t.mu.Lock()
	if cl, ok := t.calls[key]; ok {
		cl.joined++
		if cl.done == nil {
			cl.done = make(chan struct{})
		}
		done := cl.done
		t.mu.Unlock()
		return cl.result(ctx, done)
	}
	cl := &loadCall{key: key}
	if t.calls == nil {
		t.calls = make(map[loadKey]*loadCall)
	}
	t.calls[key] = cl
	if ctx.Done() == nil {
		t.mu.Unlock()
		c.runLoad(ctx, cl)
		return cl.rev, cl.err
	}
	cl.done = make(chan struct{})
	done := cl.done
	t.mu.Unlock()
	go c.runLoad(context.WithoutCancel(ctx), cl)
	return cl.result(ctx, done)
}

// runLoad makes the request, removes the call from the table and wakes
// the callers waiting for it.
func (c *Client) runLoad(ctx context.Context, cl *loadCall) {
	if cl.key.kind == loadBeforeKind {
		cl.rev, cl.err = c.fetchBefore(ctx, cl.key.oid, cl.key.at)
	} else {
		cl.rev, cl.err = c.fetchCurrent(ctx, cl.key.oid)
	}
	t := &c.loads
	t.mu.Lock()
	delete(t.calls, cl.key)
	if cl.done != nil {
		close(cl.done)
	}
	t.mu.Unlock()
}

// result waits for cl or for ctx to end. Callers share the revision's
// Data, which is read-only (Revision).
func (cl *loadCall) result(ctx context.Context, done <-chan struct{}) (Revision, error) {
	select {
	case <-done:
		return cl.rev, cl.err
	case <-ctx.Done():
		return Revision{}, ctx.Err()
	}
}
