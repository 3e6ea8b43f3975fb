package zeo

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zrpc"
)

// Client is a connection to one storage on a ZEO server. It is safe for
// concurrent use; see the package documentation for how calls share the
// connection.
type Client struct {
	addr string // the server, as it appears in errors and logs
	opts Options
	tgt  target
	log  *slog.Logger

	// cur is the current session: the connection and what was
	// negotiated on it. It is set by connect; a reconnecting client would
	// replace it there and nowhere else.
	cur atomic.Pointer[session]

	inval   *invalHub
	lastTID atomic.Uint64 // highest tid known: connect tid, invalidations, own commits

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

	closeOnce sync.Once
	closeErr  error
}

// Dial connects to a ZEO server and opens a storage on it. address is
// "host:port", a Unix socket path (anything containing a slash) or a
// "zeo://host:port?storage=NAME" URL (see Options for the parameters it
// takes). opts may be nil. ctx bounds the whole connection sequence:
// handshake, authentication, registration and the first metadata calls.
func Dial(ctx context.Context, address string, opts *Options) (*Client, error) {
	o := opts.withDefaults()
	tgt, err := parseTarget(address, &o)
	if err != nil {
		return nil, err
	}
	if o.Storage == "" {
		o.Storage = defaultStorage
	}
	c := &Client{
		addr:    tgt.address,
		opts:    o,
		tgt:     tgt,
		log:     o.Logger,
		txnSlot: make(chan struct{}, 1),

		maxTIDArg: pickle.Bytes(append([]byte(nil), MaxTID[:]...)),
	}
	c.inval = newInvalHub(o.SubscriptionBuffer, c.log)
	c.oids.c = c
	s, err := c.connect(ctx) // installs the session
	if err != nil {
		return nil, err
	}
	go c.watch(s)
	return c, nil
}

// watch ends the subscriptions when the session's connection ends.
func (c *Client) watch(s *session) {
	<-s.conn.Done()
	c.inval.end(c.mapError(s.conn.Err(), op{}))
}

// Close closes the connection. Calls in flight fail with a
// *DisconnectedError whose cause is ErrClosed; subscriptions end. A
// transaction in progress is abandoned: the server aborts it when the
// connection drops.
func (c *Client) Close() error {
	c.closeOnce.Do(func() {
		c.closeErr = c.sess().conn.Close()
		c.inval.end(&DisconnectedError{Server: c.addr, Version: c.version(), Cause: ErrClosed})
	})
	return c.closeErr
}

// Done is closed when the connection has ended, by Close or a failure.
func (c *Client) Done() <-chan struct{} { return c.sess().conn.Done() }

// Err returns nil while the connection is up, and then why it ended (a
// *DisconnectedError or *UndecodableMessageError).
func (c *Client) Err() error {
	err := c.sess().conn.Err()
	if err == nil {
		return nil
	}
	return c.mapError(err, op{})
}

// Addr returns the server address the client connected to.
func (c *Client) Addr() string { return c.addr }

// sess returns the current session (nil only while Dial fails).
func (c *Client) sess() *session { return c.cur.Load() }

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
// every invalidation received and every commit made through this client.
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

// call makes a sync call and maps its errors. It refuses a method the
// negotiated version lacks without sending it: that would make the server
// drop the connection.
func (c *Client) call(ctx context.Context, o op, args ...any) (any, error) {
	s := c.sess()
	if !s.neg.Chosen.HasMethod(o.method) {
		return nil, c.unsupported(o.method, o.method)
	}
	v, err := s.conn.Call(ctx, o.method, args...)
	if err != nil {
		return nil, c.mapError(err, o)
	}
	return v, nil
}

// notify makes a one-way call, with the same refusal as call.
func (c *Client) notify(ctx context.Context, method string, args ...any) error {
	s := c.sess()
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
	var since []Version
	for _, v := range zrpc.KnownVersions() {
		if method != "" && v.HasMethod(method) {
			since = append(since, v)
		}
	}
	return &UnsupportedError{Op: opName, Method: method, Server: c.addr, Version: c.version(), Since: since}
}

// nextTxnID returns a transaction id unique on this client. ZEO servers
// only compare it with the id of the transaction in progress.
func (c *Client) nextTxnID() int64 { return c.txnSeq.Add(1) }
