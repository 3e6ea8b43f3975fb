package zeo

import (
	"context"
	"errors"
	"math/rand/v2"
	"time"

	"github.com/gozeo/gozeo/zrpc"
)

// The connection lifecycle: Dial makes the first connection
// (connectFirst); the supervisor goroutine then watches it, and when it is
// lost marks the client disconnected, tries the servers again with
// backoff, catches up on the new connection and installs it. One
// goroutine owns these steps at a time, so status reports come in order.

// connectFirst makes Dial's connection: one pass over the servers, or
// with WaitForServer passes with backoff until ctx ends.
func (c *Client) connectFirst(ctx context.Context) (*session, error) {
	for attempt := 0; ; attempt++ {
		s, err := c.connectPass(ctx, false)
		if err == nil {
			c.install(s)
			return s, nil
		}
		if !c.opts.WaitForServer || !retryable(err) || ctx.Err() != nil {
			return nil, err
		}
		c.setStatus(StatusEvent{Status: StatusConnecting, Server: c.server(), Err: err, Attempt: attempt + 1})
		if !c.sleep(ctx, c.backoff(attempt)) {
			if ctx.Err() != nil {
				return nil, errors.Join(ctx.Err(), err)
			}
			return nil, err
		}
	}
}

// retryable reports whether a failed connection attempt is worth trying
// again: not when the server answered that it will never accept this
// client (no common protocol, bad credentials, a bad address).
func retryable(err error) bool {
	var pm *ProtocolMismatchError
	var ae *AuthError
	var addr *AddressError
	return !errors.As(err, &pm) && !errors.As(err, &ae) && !errors.As(err, &addr)
}

// connectPass tries each server once, each attempt bounded by
// ConnectTimeout (and ctx), preferring one that accepts a read-write
// registration: with several servers and the read-only fallback, a
// read-only registration is made only once no server took a read-write
// one, on the first that refused it. A server that will never accept this
// client (no common protocol, bad credentials) does not stop the others
// being tried. It returns the last error when none answers.
func (c *Client) connectPass(ctx context.Context, resume bool) (*session, error) {
	multi := len(c.targets) > 1
	var refusedRW []target
	var lastErr error
	for _, tgt := range c.targets {
		s, err := c.connectWithin(ctx, tgt, c.opts.ReadOnlyFallback && !multi, resume)
		if err == nil {
			return s, nil
		}
		var ro *ReadOnlyError
		if multi && c.opts.ReadOnlyFallback && errors.As(err, &ro) {
			refusedRW = append(refusedRW, tgt)
		}
		c.log.Debug("zeo: connection attempt failed", "server", tgt.address, "err", err)
		lastErr = err
		if ctx.Err() != nil {
			return nil, err
		}
	}
	for _, tgt := range refusedRW {
		s, err := c.connectWithin(ctx, tgt, true, resume)
		if err == nil {
			return s, nil
		}
		lastErr = err
	}
	return nil, lastErr
}

// connectWithin is connect bounded by ConnectTimeout: one attempt at one
// server.
func (c *Client) connectWithin(ctx context.Context, tgt target, fallback, resume bool) (*session, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.ConnectTimeout)
	defer cancel()
	return c.connect(ctx, tgt, fallback, resume)
}

// install makes s the session calls use.
func (c *Client) install(s *session) {
	c.cur.Store(s)
	c.last.Store(s)
	c.live.Store(s)
	// ZEO 2.0 sends invalidations without tids: its cache could never
	// be trusted to be current.
	c.cache.setLive(s.caps.InvalidateTransaction, s.connectTID)
	c.mu.Lock()
	c.outage = outage{}
	// Calls waiting for the connection go on as soon as ready closes,
	// and may be done before OnStatus is told: Status must already say
	// connected by then.
	if c.status != StatusClosed {
		c.status = StatusConnected
	}
	select {
	case <-c.ready:
	default:
		close(c.ready)
	}
	c.mu.Unlock()
	d := s.describe(c.opts.Storage)
	c.setStatus(StatusEvent{Status: StatusConnected, Server: s.addr, Session: &d})
}

// lost marks the client disconnected after s failed with cause: calls
// wait from now on, the cache stops serving current revisions, and a
// transaction begun on s is lost.
func (c *Client) lost(s *session, cause error) {
	c.live.CompareAndSwap(s, nil)
	c.cache.setLive(false, TID{})
	c.mu.Lock()
	select {
	case <-c.ready:
		c.ready = make(chan struct{})
	default:
	}
	c.outage = outage{since: time.Now(), cause: cause}
	c.mu.Unlock()
	c.txnMu.Lock()
	tx := c.curTxn
	c.txnMu.Unlock()
	if tx != nil && tx.s == s {
		tx.lose(cause)
	}
}

// supervise watches the session and replaces it when it is lost, until
// Close. With reconnection disabled it ends the client instead.
func (c *Client) supervise(s *session) {
	defer c.superWG.Done()
	// Close may have closed an older session than the one installed last.
	defer func() {
		if s != nil {
			s.conn.Close()
		}
	}()
	for {
		// A read-only fallback among several servers keeps looking for
		// a writable one, at the slowest reconnection pace.
		var upgrade <-chan time.Time
		var timer *time.Timer
		if s.fellBack && len(c.targets) > 1 {
			timer = time.NewTimer(c.opts.Reconnect.MaxDelay)
			upgrade = timer.C
		}
		select {
		case <-s.conn.Done():
		case <-c.closing:
		case <-upgrade:
			if ns := c.upgrade(s); ns != nil {
				s.conn.Close() // read-only: no transaction to lose
				s = ns
			}
			continue
		}
		if timer != nil {
			timer.Stop()
		}
		select {
		case <-c.closing:
			return // Close closed it
		default:
		}
		// Closed for good: its read goroutine stops calling the handler.
		s.conn.Close()
		// The cause without zrpc's wrapping: what broke the connection.
		cause := s.conn.Err()
		var zde *zrpc.DisconnectedError
		if errors.As(cause, &zde) && zde.Cause != nil {
			cause = zde.Cause
		}
		c.log.Warn("zeo: connection lost", "server", s.addr, "err", cause)
		c.lost(s, cause)
		if c.opts.Reconnect.Disabled {
			c.finish(cause)
			return
		}
		c.setStatus(StatusEvent{Status: StatusReconnecting, Server: s.addr,
			Err: &DisconnectedError{Server: s.addr, Version: s.neg.Chosen, Cause: cause}})
		if s = c.reconnect(); s == nil {
			return // closing
		}
	}
}

// upgrade tries, while a read-only fallback session s is up, the other
// servers for a read-write registration, and installs the first that takes
// one. The cache stops serving current revisions meanwhile, since two
// connections' invalidations then interleave; a failed attempt gives the
// old session its invalidations back.
func (c *Client) upgrade(s *session) *session {
	ctx := c.life
	c.cache.setLive(false, TID{})
	for _, tgt := range c.targets {
		if tgt.address == s.addr {
			continue
		}
		ns, err := c.connectWithin(ctx, tgt, false, true)
		if err == nil {
			c.log.Info("zeo: a writable server answers; leaving the read-only fallback", "server", ns.addr, "was", s.addr)
			c.install(ns)
			return ns
		}
		c.log.Debug("zeo: no writable server yet", "server", tgt.address, "err", err)
	}
	c.inval.start(c.LastTID())
	c.cache.setLive(s.conn.Err() == nil, TID{})
	return nil
}

// reconnect tries the servers until one connects and catches up, or the
// client is closed (nil).
func (c *Client) reconnect() *session {
	ctx := c.life
	for attempt := 0; ; attempt++ {
		s, err := c.connectPass(ctx, true)
		if err == nil {
			c.install(s)
			return s
		}
		if ctx.Err() != nil {
			return nil
		}
		c.mu.Lock()
		c.outage.attempts = attempt + 1
		c.outage.last = err
		c.mu.Unlock()
		var stale *StaleServerError
		if errors.As(err, &stale) {
			c.log.Error("zeo: refusing a server that is behind this client", "err", err)
		}
		c.setStatus(StatusEvent{Status: StatusReconnecting, Server: c.server(), Err: err, Attempt: attempt + 1})
		if !c.sleep(ctx, c.backoff(attempt)) {
			return nil
		}
	}
}

// backoff is the delay after the failed attempt number attempt (from 0):
// none after the first, then MinDelay doubling up to MaxDelay, each drawn
// at random from its upper half so that clients of one server spread out.
func (c *Client) backoff(attempt int) time.Duration {
	if attempt == 0 {
		return 0
	}
	p := c.opts.Reconnect
	d := p.MinDelay
	for i := 1; i < attempt && d < p.MaxDelay; i++ {
		d *= 2
	}
	d = min(d, p.MaxDelay)
	return d/2 + rand.N(d/2+1)
}

// sleep waits d, reporting false if ctx ends or the client is closed
// first.
func (c *Client) sleep(ctx context.Context, d time.Duration) bool {
	if d <= 0 {
		return ctx.Err() == nil
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-c.closing:
		return false
	}
}
