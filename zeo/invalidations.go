package zeo

import (
	"errors"
	"fmt"
	"log/slog"
	"sync"
)

// Invalidation says that a transaction committed: its tid and the oids it
// changed. Events reach a subscription exactly once each, in strictly
// increasing TID order, across reconnects too.
//
// After a reconnect, what was missed comes as one event before any later
// one: a catch-up (Catchup set) when the server could say what changed,
// or a reset (Reset set) when it could not.
type Invalidation struct {
	TID  TID
	OIDs []OID // shared between subscriptions: do not modify
	// Local is true for a transaction committed through this Client (the
	// server does not send those; the client adds them when tpc_finish
	// returns, in wire order).
	Local bool
	// Catchup marks the union of the transactions committed while the
	// client was disconnected, up to TID: OIDs are every object they
	// changed (the server reports the union, not each transaction).
	Catchup bool
	// Reset says that the server could not tell what changed while the
	// client was disconnected (its invalidation queue no longer reaches
	// back that far, or it has no such call): anything the subscriber
	// holds from before TID may be stale and must be reloaded, as ZODB's
	// invalidateCache. OIDs then lists only what is known to have changed
	// (objects of the client cache that verification found stale), if
	// anything.
	Reset bool
}

// Subscription receives invalidations until it is closed, the Client
// ends, or its reader falls SubscriptionBuffer events behind. It survives
// reconnects.
type Subscription struct {
	hub   *invalHub
	ch    chan Invalidation
	since TID
	err   error // set before ch is closed
	done  bool
}

// Events returns the channel of invalidations. It is closed when the
// subscription ends; Err then says why.
func (s *Subscription) Events() <-chan Invalidation { return s.ch }

// Since is the tid the subscription starts after: every event has a
// larger TID, and the state of the storage as of Since is what the
// subscriber is assumed to have seen.
func (s *Subscription) Since() TID { return s.since }

// Err returns why the subscription ended: nil while it runs or after
// Close, ErrSubscriptionLagged (wrapped) if the reader fell behind, or the
// disconnection error.
func (s *Subscription) Err() error {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	return s.err
}

// Close ends the subscription and closes its channel.
func (s *Subscription) Close() {
	s.hub.mu.Lock()
	defer s.hub.mu.Unlock()
	s.hub.remove(s, nil)
}

// Subscribe starts a subscription to committed transactions after the
// latest one the client knows of (Since).
func (c *Client) Subscribe() *Subscription {
	return c.inval.subscribe()
}

// maxPendingAtConnect bounds the invalidations queued while the connect
// tid is unknown; a server flooding a connecting client is dropped.
const maxPendingAtConnect = 1 << 16

// invalHub orders, filters and fans out invalidations. publish runs on the
// read goroutine (the message handler and OnReply callbacks), so events
// are seen in wire order; it never blocks.
type invalHub struct {
	mu  sync.Mutex
	log *slog.Logger
	buf int
	// onDeliver runs, with mu held, for each event before it is fanned
	// out: the client advances its LastTID there, so that only delivered
	// tids count as seen when it reconnects.
	onDeliver func(TID)
	started   bool // the connect tid is known
	last      TID  // connect tid, then the last tid published
	pending   []Invalidation
	subs      map[*Subscription]struct{}
	ended     error // set once the connection is gone
	// overflow is set when too much arrived before the connect tid.
	overflow bool
}

func newInvalHub(buf int, log *slog.Logger, onDeliver func(TID)) *invalHub {
	return &invalHub{buf: buf, log: log, onDeliver: onDeliver, subs: make(map[*Subscription]struct{})}
}

// reset prepares for a new session: queue until start.
func (h *invalHub) reset() {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.started = false
	h.pending = nil
	h.overflow = false
}

// start records the connect tid and releases what was queued, dropping
// every event at or before it: those changes are part of the state the
// client connected to (ZEO issues #155, #166, #209 were races here).
func (h *invalHub) start(connectTID TID) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.started {
		return
	}
	h.started = true
	if connectTID.Compare(h.last) > 0 {
		h.last = connectTID
		h.onDeliver(connectTID)
	}
	h.releaseLocked()
}

// startWith is start after a reconnect: the catch-up or reset event first,
// then what arrived meanwhile, less what the event covers.
func (h *invalHub) startWith(ev Invalidation) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.started {
		return
	}
	h.started = true
	h.deliver(ev)
	h.releaseLocked()
}

// releaseLocked delivers the events queued while the session started.
func (h *invalHub) releaseLocked() {
	pending := h.pending
	h.pending = nil
	for _, ev := range pending {
		h.deliver(ev)
	}
}

// publish handles one event from the wire.
func (h *invalHub) publish(ev Invalidation) (ok bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !h.started {
		if len(h.pending) >= maxPendingAtConnect {
			h.overflow = true
			return false
		}
		h.pending = append(h.pending, ev)
		return true
	}
	h.deliver(ev)
	return true
}

// deliver applies the ordering filter and fans ev out. Called with mu held.
func (h *invalHub) deliver(ev Invalidation) {
	if ev.TID.Compare(h.last) <= 0 {
		h.log.Debug("zeo: invalidation at or before a known tid dropped", "tid", ev.TID, "known", h.last)
		return
	}
	h.last = ev.TID
	h.onDeliver(ev.TID)
	for s := range h.subs {
		select {
		case s.ch <- ev:
		default:
			h.remove(s, fmt.Errorf("%w: more than %d events unread when tid %s arrived; resynchronise (reload what you hold) and subscribe again", ErrSubscriptionLagged, h.buf, ev.TID))
			h.log.Warn("zeo: invalidation subscriber fell behind; subscription ended", "since", s.since, "at", ev.TID)
		}
	}
}

func (h *invalHub) subscribe() *Subscription {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := &Subscription{hub: h, ch: make(chan Invalidation, h.buf), since: h.last}
	if h.ended != nil {
		s.err, s.done = h.ended, true
		close(s.ch)
		return s
	}
	h.subs[s] = struct{}{}
	return s
}

// remove ends s with err. Called with mu held.
func (h *invalHub) remove(s *Subscription, err error) {
	if s.done {
		return
	}
	s.done = true
	s.err = err
	delete(h.subs, s)
	close(s.ch)
}

// end closes every subscription with err: the connection is gone.
func (h *invalHub) end(err error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.ended != nil {
		return
	}
	h.ended = err
	for s := range h.subs {
		h.remove(s, err)
	}
}

// errTooManyAtConnect ends a connection whose server sent an unbounded
// stream of invalidations before the connect tid was known.
var errTooManyAtConnect = errors.New("zeo: the server sent more than 65536 invalidations while the connection was being set up")
