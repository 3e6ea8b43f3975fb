package zeo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zeo/blobcache"
	"github.com/gozeo/gozeo/zrpc"
)

// Client is a storage client of a ZEO server: ZODB's ClientStorage. It is
// safe for concurrent use. It outlives its connections: when one is lost
// it reconnects (Options.Reconnect), catches up with what changed and
// goes on; see the package documentation for the lifecycle.
type Client struct {
	targets []target // the servers, in the order they are tried
	opts    Options
	log     *slog.Logger

	// cur is the latest session: the one in use, the one being set up,
	// or the one last lost. Errors and Session() describe it. live is the
	// session calls may use: set once a connection is ready (caught up),
	// cleared when it is lost.
	cur  atomic.Pointer[session]
	live atomic.Pointer[session]
	// last is the last session installed: complete, never changed again,
	// what Session, Supports and ServerInfo describe while reconnecting.
	last atomic.Pointer[session]

	inval   *invalHub
	cache   *cache
	blobs   *blobcache.Cache // nil without Options.BlobDir or with SharedBlobDir
	lastTID atomic.Uint64    // highest tid delivered: connect tid, invalidations, catch-ups, own commits

	loads loadTable
	// maxTIDArg is MaxTID as a call argument, boxed once: every ZEO 5
	// Load sends it.
	maxTIDArg any
	oids      oidPool

	// txnSlot holds one token per transaction in progress: ZEO carries one
	// transaction per connection.
	txnSlot chan struct{}
	txnMu   sync.Mutex
	curTxn  *Transaction // receives serialnos; guarded by txnMu
	txnSeq  atomic.Int64

	// Lifecycle, guarded by mu: ready is closed while a live session is
	// installed and replaced by an open channel when it is lost; outage
	// describes the current outage for the errors of calls that waited.
	mu     sync.Mutex
	status Status
	ready  chan struct{}
	outage outage
	endErr error // why the client ended, once it has
	// life is cancelled by Close: the lifecycle's own work (reconnecting,
	// moving off a read-only fallback) runs under it; closing is its Done.
	life     context.Context
	endLife  context.CancelFunc
	closing  <-chan struct{}
	ended    chan struct{} // closed once the client is done (Done)
	superWG  sync.WaitGroup
	statusMu sync.Mutex // serializes OnStatus calls

	closeOnce sync.Once
}

// outage is what a call that waits for a connection reports when none
// comes.
type outage struct {
	since    time.Time
	cause    error // why the connection was lost
	attempts int
	last     error // why the last attempt failed
}

// Dial connects to a ZEO server and opens a storage on it. address is
// "host:port", a Unix socket path (anything containing a slash), a
// "zeo://host:port?storage=NAME" URL (see Options for the parameters it
// takes), or several of these separated by commas: the servers to try, in
// order, preferring one that accepts a read-write registration. opts may
// be nil. ctx bounds the first connection: handshake, authentication,
// registration and the first metadata calls, and with WaitForServer the
// wait for a server to answer. After Dial returns, the Client keeps itself
// connected until Close.
func Dial(ctx context.Context, address string, opts *Options) (*Client, error) {
	o := opts.withDefaults()
	var targets []target
	for part := range strings.SplitSeq(address, ",") {
		tgt, err := parseTarget(strings.TrimSpace(part), &o)
		if err != nil {
			return nil, err
		}
		targets = append(targets, tgt)
	}
	if o.Storage == "" {
		o.Storage = defaultStorage
	}
	c := &Client{
		targets: targets,
		opts:    o,
		log:     o.Logger,
		txnSlot: make(chan struct{}, 1),
		cache:   newCache(o.CacheSize),
		ready:   make(chan struct{}),
		ended:   make(chan struct{}),

		maxTIDArg: pickle.Bytes(append([]byte(nil), MaxTID[:]...)),
	}
	if o.BlobDir != "" && !o.SharedBlobDir {
		bc, err := blobcache.Open(o.BlobDir, blobcache.Options{MaxBytes: o.BlobCacheSize, Logger: o.Logger})
		if err != nil {
			return nil, fmt.Errorf("zeo: Options.BlobDir: %w", err)
		}
		c.blobs = bc
	}
	c.life, c.endLife = context.WithCancel(context.Background())
	c.closing = c.life.Done()
	c.inval = newInvalHub(o.SubscriptionBuffer, c.log, c.advance)
	c.oids.c = c
	c.setStatus(StatusEvent{Status: StatusConnecting, Server: address})
	s, err := c.connectFirst(ctx)
	if err != nil {
		c.finish(err)
		if c.blobs != nil {
			c.blobs.Close()
		}
		return nil, err
	}
	c.superWG.Add(1)
	go c.supervise(s)
	return c, nil
}

// Close closes the client for good: the connection is closed, calls in
// flight and calls waiting for a connection fail with a
// *DisconnectedError whose cause is ErrClosed, and subscriptions end. A
// transaction in progress is abandoned (the server aborts it). Close does
// not wait for the server; it returns once the client's goroutines have
// ended. It is idempotent.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.endLife()
		if s := c.cur.Load(); s != nil {
			s.conn.Close()
		}
		c.superWG.Wait()
		c.finish(ErrClosed)
		if c.blobs != nil {
			c.blobs.Close()
		}
	})
	return nil
}

// finish ends the client with cause: Done is closed, subscriptions end,
// waiting calls fail. It runs once, from Close or from the supervisor when
// reconnection is disabled.
func (c *Client) finish(cause error) {
	c.mu.Lock()
	if c.endErr != nil {
		c.mu.Unlock()
		return
	}
	if errors.Is(cause, ErrClosed) {
		cause = ErrClosed
	}
	de := &DisconnectedError{Server: c.server(), Version: c.version(), Cause: cause, NoReconnect: !errors.Is(cause, ErrClosed)}
	c.endErr = de
	c.mu.Unlock()
	c.live.Store(nil)
	c.cache.setLive(false, TID{})
	c.inval.end(de)
	c.setStatus(StatusEvent{Status: StatusClosed, Server: c.server(), Err: de})
	c.mu.Lock()
	c.status = StatusClosed
	c.mu.Unlock()
	close(c.ended)
}

// Done is closed when the client has ended: after Close, or when the
// connection was lost with reconnection disabled. A lost connection that
// the client reconnects does not close it.
func (c *Client) Done() <-chan struct{} { return c.ended }

// Err returns nil while the client runs (connected or reconnecting), and
// then why it ended: a *DisconnectedError (cause ErrClosed after Close).
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.endErr == nil {
		return nil
	}
	return c.endErr
}

// Addr returns the address of the server of the current (or last)
// connection.
func (c *Client) Addr() string { return c.server() }

// sess returns the latest session (nil only while Dial's first attempt
// has not got as far as a handshake). It may be an attempt still being
// set up: only its address and negotiated version may be read, for
// errors; everything else comes from installed.
func (c *Client) sess() *session { return c.cur.Load() }

// installed returns the session calls use, or the last one while
// reconnecting: a session whose setup is complete.
func (c *Client) installed() *session {
	if s := c.live.Load(); s != nil {
		return s
	}
	return c.last.Load()
}

// server is the address errors name: the latest session's, or the
// configured ones before any.
func (c *Client) server() string {
	if s := c.sess(); s != nil {
		return s.addr
	}
	addrs := make([]string, len(c.targets))
	for i, t := range c.targets {
		addrs[i] = t.address
	}
	return strings.Join(addrs, ",")
}

// version is the negotiated version, for errors; "" before the handshake.
func (c *Client) version() Version {
	if s := c.sess(); s != nil {
		return s.neg.Chosen
	}
	return ""
}

// dialectName is the encoding in use, for errors.
func (c *Client) dialectName() string {
	if s := c.sess(); s != nil && s.conn != nil {
		return s.conn.Encoding().Name()
	}
	return ""
}

// LastTID returns the last transaction id the client knows of without
// asking the server: the server's last transaction at connect, advanced by
// every invalidation and catch-up delivered and every commit made through
// this client. It never goes back, across reconnects included.
func (c *Client) LastTID() TID { return tidFromUint(c.lastTID.Load()) }

// advance records tid as known, keeping the maximum.
func (c *Client) advance(t TID) {
	n := t.Uint64()
	for {
		cur := c.lastTID.Load()
		if n <= cur || c.lastTID.CompareAndSwap(cur, n) {
			return
		}
	}
}

func tidFromUint(u uint64) TID {
	var t TID
	for i := 7; i >= 0; i-- {
		t[i] = byte(u)
		u >>= 8
	}
	return t
}

// CacheStats returns the client cache's counters (all zero when the cache
// is off).
func (c *Client) CacheStats() CacheStats { return c.cache.stats() }

// liveSession returns the session calls go to, waiting while the client
// is disconnected: until a connection is ready, ctx ends,
// Options.WaitTimeout passes or the client ends.
func (c *Client) liveSession(ctx context.Context, method string) (*session, error) {
	if s := c.live.Load(); s != nil && s.conn.Err() == nil {
		return s, nil
	}
	var timeout <-chan time.Time
	if c.opts.WaitTimeout > 0 {
		t := time.NewTimer(c.opts.WaitTimeout)
		defer t.Stop()
		timeout = t.C
	}
	for {
		c.mu.Lock()
		ready, endErr := c.ready, c.endErr
		c.mu.Unlock()
		if endErr != nil {
			return nil, c.notSent(method, endErr, nil)
		}
		s := c.live.Load()
		if s != nil && s.conn.Err() == nil {
			return s, nil
		}
		if c.opts.WaitTimeout < 0 {
			return nil, c.notSent(method, nil, nil)
		}
		if s != nil {
			// Lost, and the supervisor is about to say so: ready is still
			// closed until it does.
			ready = afterDelay(time.Millisecond)
		}
		select {
		case <-ready:
			continue
		case <-c.closing:
			continue
		case <-c.ended:
			continue
		case <-timeout:
			return nil, c.notSent(method, nil, fmt.Errorf("%w (%s; raise it, or bound the call with its ctx instead)", errWaitTimeout, c.opts.WaitTimeout))
		case <-ctx.Done():
			return nil, c.notSent(method, nil, ctx.Err())
		}
	}
}

// afterDelay returns a channel closed after d.
func afterDelay(d time.Duration) chan struct{} {
	ch := make(chan struct{})
	time.AfterFunc(d, func() { close(ch) })
	return ch
}

// errWaitTimeout is why a call that waited Options.WaitTimeout failed.
var errWaitTimeout = errors.New("zeo: no connection within Options.WaitTimeout")

// notSent builds the error of a call that was never sent: the client had
// ended (ended), or no connection came in time (wait says why it stopped
// waiting).
func (c *Client) notSent(method string, ended error, wait error) error {
	var de *DisconnectedError
	if errors.As(ended, &de) {
		e := *de
		e.Method, e.NotSent = method, true
		return &e
	}
	c.mu.Lock()
	o := c.outage
	c.mu.Unlock()
	e := &DisconnectedError{Method: method, Server: c.server(), Version: c.version(), Cause: o.cause,
		NotSent: true, Waited: wait, Attempts: o.attempts, LastAttempt: o.last}
	if !o.since.IsZero() {
		e.Down = time.Since(o.since)
	}
	return e
}

// call makes a sync call on the live session and maps its errors. It
// refuses a method the negotiated version lacks without sending it: that
// would make the server drop the connection. A call the connection was
// lost under is retried on the next connection when o.idempotent.
func (c *Client) call(ctx context.Context, o op, args ...any) (any, error) {
	v, _, err := c.callArgs(ctx, o, func(*session, string) []any { return args })
	return v, err
}

// maxAttempts bounds how often an idempotent call is sent again after a
// lost connection, so that a server that drops every such call is
// reported rather than retried forever.
const maxAttempts = 3

// callArgs is call for arguments that depend on the session: o.operation,
// when set, picks the method on each session, and args builds the
// arguments for it. It returns the session that answered.
func (c *Client) callArgs(ctx context.Context, o op, args func(s *session, method string) []any) (any, *session, error) {
	name := o.method
	if name == "" {
		name, _ = c.installed().method(o.operation) // for errors while waiting
	}
	for attempt := 1; ; attempt++ {
		s, err := c.liveSession(ctx, name)
		if err != nil {
			return nil, nil, sentEarlier(err, attempt)
		}
		so := o
		if o.operation != "" {
			m, ok := s.method(o.operation)
			if !ok {
				return nil, s, c.unsupportedOp(s, o.operation)
			}
			so.method = m
		}
		v, err := c.callIn(ctx, s, so, args(s, so.method)...)
		if err == nil || !o.idempotent || attempt == maxAttempts || !errors.Is(err, ErrDisconnected) ||
			c.opts.Reconnect.Disabled || ctx.Err() != nil {
			return v, s, err
		}
		c.log.Debug("zeo: connection lost during a read; retrying on the next connection", "method", so.method, "attempt", attempt)
	}
}

// sentEarlier corrects the error of a retry that could not be sent: an
// earlier attempt was sent and cut off, so the call may have reached the
// server. (Its own function, so that the error's copy is allocated only on
// this path, not on every call.)
func sentEarlier(err error, attempt int) error {
	var de *DisconnectedError
	if attempt > 1 && errors.As(err, &de) {
		e := *de
		e.NotSent = false
		return &e
	}
	return err
}

// callIn makes a sync call on session s, refusing methods its version
// lacks.
func (c *Client) callIn(ctx context.Context, s *session, o op, args ...any) (any, error) {
	if !s.neg.Chosen.HasMethod(o.method) {
		return nil, c.unsupported(o.method, o.method)
	}
	v, err := s.conn.Call(ctx, o.method, args...)
	if err != nil {
		return nil, c.mapError(err, o)
	}
	return v, nil
}

// notify makes a one-way call on the live session.
func (c *Client) notify(ctx context.Context, method string, args ...any) error {
	s, err := c.liveSession(ctx, method)
	if err != nil {
		return err
	}
	return c.notifyIn(ctx, s, method, args...)
}

// notifyIn makes a one-way call on session s, with the same refusal as
// callIn.
func (c *Client) notifyIn(ctx context.Context, s *session, method string, args ...any) error {
	if !s.neg.Chosen.HasMethod(method) {
		return c.unsupported(method, method)
	}
	if err := s.conn.Notify(ctx, method, args...); err != nil {
		return c.mapError(err, op{method: method})
	}
	return nil
}

// unsupported builds the error for an operation the version lacks.
func (c *Client) unsupported(opName, method string) error {
	// The session's own version is left out even where the table gives
	// it the method: some releases announcing it lack the method (ZODB
	// 3.2 and 3.3.0 both announce Z201; only 3.3.0 has loadBefore), and
	// this server is one of those.
	var since []Version
	for _, v := range zrpc.KnownVersions() {
		if method != "" && v.HasMethod(method) && v != c.version() {
			since = append(since, v)
		}
	}
	return &UnsupportedError{Op: opName, Method: method, Server: c.server(), Version: c.version(), Since: since}
}

// nextTxnID returns a transaction id unique on this client. ZEO servers
// only compare it with the id of the transaction in progress.
func (c *Client) nextTxnID() int64 { return c.txnSeq.Add(1) }
