package zrpc

import (
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gozeo/gozeo/pickle"
)

// ConnOptions configures a [Conn].
type ConnOptions struct {
	// Encoding encodes outgoing and decodes incoming messages. Required.
	Encoding Encoding

	// AdaptEncoding makes the connection replace Encoding, for sending, by
	// Encoding.Adapt of the first payload the peer sends: a server answers
	// a Python 2 client in the Python 2 pickle dialect, for instance.
	AdaptEncoding bool

	// Handler receives the calls the peer makes: one-way calls (Flags
	// FlagAsync) and calls that expect a reply. It runs on the read
	// goroutine, in wire order with reply delivery: a call that arrived
	// before a reply has been handled when that reply's caller wakes up (a
	// serialnos before the vote reply after it, an invalidation before a
	// later load reply). So it must not block on the connection: it may
	// Send, Reply, Notify and StartMAC, but not wait for the result of a
	// Call. A call that expects a reply may be answered later, from any
	// goroutine, with [Conn.Reply] or [Conn.Send], echoing m.ID. Nil
	// drops incoming calls (logged at debug level).
	Handler func(c *Conn, m *Message)

	// HeartbeatInterval, when positive, makes the connection send the heartbeat
	// (docs/protocol.md, Heartbeats), a reply to msgid -1 carrying None,
	// whenever it has sent nothing for that long. ZEO clients use 30 s
	// (3.10/4.x) or 60 s (5.x); servers send none.
	HeartbeatInterval time.Duration

	// Logger receives the connection's diagnostics; nil discards them.
	Logger *slog.Logger

	// Name names the peer in errors and logs, e.g. its address.
	Name string
}

// CallOptions are per-call options of [Conn.CallWith].
type CallOptions struct {
	// OnReply, when set, runs on the read goroutine as soon as the reply
	// (error replies included) has been read, before the next frame is
	// read: the place to switch on message authentication after
	// auth_response ([Conn.StartMAC]). It does not run for a call that
	// ended before its reply arrived (cancelled, disconnected).
	OnReply func(reply *Message)
}

// queueLen bounds the frames waiting for the writer: callers block (until
// their context ends) rather than queue without limit behind a slow peer.
const queueLen = 256

// maxPooledBuf is the largest encode buffer kept for reuse, so that one
// big store does not pin its buffer for the life of the connection.
const maxPooledBuf = 64 << 10

// Conn is a multiplexed ZEO connection after the handshake: any number of
// goroutines make calls on it concurrently, replies are matched to calls
// by message id whatever their order, and the peer's own calls go to a
// handler in wire order. One goroutine reads frames and one writes them;
// callers encode their messages themselves and the writer sends whatever
// has queued up with one flush, so concurrent calls share system calls.
//
// A Conn serves a client as well as a server: a server answers the calls
// its Handler receives with [Conn.Reply].
//
// Once the connection fails (read or write error, undecodable message,
// Close), every pending and later call returns a [*DisconnectedError].
type Conn struct {
	fr     *FrameReader
	fw     *FrameWriter
	closer io.Closer

	handler   func(*Conn, *Message)
	heartbeat time.Duration
	log       *slog.Logger
	name      string

	enc      atomic.Pointer[encodingBox]
	adapt    bool // read goroutine only: Adapt still to be applied
	queue    chan outFrame
	bufs     sync.Pool // *[]byte encode buffers
	calls    sync.Pool // *call
	wg       sync.WaitGroup
	done     chan struct{} // closed once the connection has failed or been closed
	failure  sync.Once
	err      error // why the connection ended; written before done is closed
	closeErr error // from closer.Close

	mu      sync.Mutex
	pending map[int64]*call // sync calls awaiting their reply, by msgid
	nextID  int64
	closed  bool // no more pending entries may be added
}

// encodingBox lets an interface value live in an atomic.Pointer.
type encodingBox struct{ Encoding }

// NewConn starts a connection over the framer pair the handshake (the
// exchange of version strings) was done with, so that nothing buffered in
// fr is lost. It owns fr, fw and closer from now on: closer, usually the
// net.Conn under them, is closed when the connection ends and closing it
// must unblock fr and fw. The connection runs until [Conn.Close] or a
// failure; call Close in any case to wait for its goroutines.
//
// A nil closer or opts.Encoding is a programming error and panics.
func NewConn(fr *FrameReader, fw *FrameWriter, closer io.Closer, opts ConnOptions) *Conn {
	if opts.Encoding == nil || closer == nil {
		panic("zrpc: NewConn needs a closer and ConnOptions.Encoding")
	}
	c := &Conn{
		fr:        fr,
		fw:        fw,
		closer:    closer,
		handler:   opts.Handler,
		heartbeat: opts.HeartbeatInterval,
		log:       opts.Logger,
		name:      opts.Name,
		adapt:     opts.AdaptEncoding,
		queue:     make(chan outFrame, queueLen),
		done:      make(chan struct{}),
		pending:   make(map[int64]*call),
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.name != "" {
		c.log = c.log.With("peer", c.name)
	}
	c.enc.Store(&encodingBox{opts.Encoding})
	c.wg.Add(2)
	go c.readLoop()
	go c.writeLoop()
	return c
}

// Encoding returns the encoding used for sending: ConnOptions.Encoding, or
// what it adapted to once the peer's first message was read.
func (c *Conn) Encoding() Encoding { return c.enc.Load().Encoding }

// Done is closed when the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Err returns nil while the connection is up, then a [*DisconnectedError]
// saying why it ended.
func (c *Conn) Err() error {
	select {
	case <-c.done:
		return c.disconnected("")
	default:
		return nil
	}
}

// Close ends the connection: calls in flight return a [*DisconnectedError]
// whose cause is [ErrClosed], frames still queued are not sent (use
// [Conn.Flush] first to send them), and Close returns once the
// connection's goroutines have exited. It is safe to call more than once
// and from any goroutine except the Handler or an OnReply callback, which
// run on the read goroutine Close waits for: use [Conn.Abort] there.
func (c *Conn) Close() error {
	c.Abort(ErrClosed)
	c.wg.Wait()
	return c.closeErr
}

// Abort ends the connection with cause as the reason calls see (nil means
// [ErrClosed]) without waiting for its goroutines, so a Handler may use it
// to drop a peer that misbehaves. Call Close afterwards to wait.
func (c *Conn) Abort(cause error) {
	if cause == nil {
		cause = ErrClosed
	}
	c.fail(cause)
}

// fail ends the connection once: it records the cause, wakes everything
// that waits on done, closes the transport (which unblocks the read and
// write goroutines) and fails the pending calls.
func (c *Conn) fail(cause error) {
	c.failure.Do(func() {
		c.err = cause
		c.mu.Lock()
		c.closed = true
		pending := c.pending
		c.pending = nil
		// Closed under the lock with closed set: a call that register
		// refuses must find Err set too, or a caller retrying on "this
		// connection is still up" spins through its attempts in the
		// window between the two.
		close(c.done)
		c.mu.Unlock()
		c.closeErr = c.closer.Close()
		for _, cl := range pending {
			cl.finish(nil, c.disconnected(cl.method))
		}
		c.logEnd(cause, len(pending))
	})
}

func (c *Conn) logEnd(cause error, inFlight int) {
	switch {
	case cause == ErrClosed:
		c.log.Debug("zrpc: connection closed", "in_flight", inFlight)
	case cause == io.EOF:
		c.log.Info("zrpc: peer closed the connection", "in_flight", inFlight)
	default:
		c.log.Warn("zrpc: connection lost", "err", cause, "in_flight", inFlight)
	}
}

// disconnected is the error of a call once the connection has ended.
func (c *Conn) disconnected(method string) error {
	return &DisconnectedError{Cause: c.err, Method: method, Peer: c.name}
}

// heartbeatMessage is the idle-time message of docs/protocol.md, Heartbeats.
func heartbeatMessage() *Message {
	return &Message{ID: int64(-1), Flags: 0, Method: ReplyMethod, Args: pickle.None}
}
