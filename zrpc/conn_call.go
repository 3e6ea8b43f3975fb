package zrpc

import (
	"context"
	"fmt"
	"math"

	"github.com/gozeo/gozeo/pickle"
)

// call is a sync call awaiting its reply.
type call struct {
	method  string
	onReply func(*Message)
	done    chan struct{} // receives one value when reply or err is set
	reply   *Message
	err     error
	msg     Message // the call as encoded, kept here to save an allocation
}

// finish completes the call; the read goroutine or fail calls it once,
// after removing the call from the pending table.
func (cl *call) finish(reply *Message, err error) {
	cl.reply, cl.err = reply, err
	cl.done <- struct{}{}
}

// Call calls method on the peer with args and waits for the reply. It
// returns the reply value; an error reply as a [*RemoteError]; a
// [*DisconnectedError] if the connection ends first; or ctx's error,
// wrapped, if ctx ends first, in which case a reply that arrives later is
// dropped.
func (c *Conn) Call(ctx context.Context, method string, args ...pickle.Value) (pickle.Value, error) {
	return c.CallWith(ctx, CallOptions{}, method, args...)
}

// CallWith is [Conn.Call] with per-call options.
func (c *Conn) CallWith(ctx context.Context, opts CallOptions, method string, args ...pickle.Value) (pickle.Value, error) {
	cl := c.newCall(method, opts.OnReply)
	id, err := c.register(cl)
	if err != nil {
		c.putCall(cl)
		return nil, err
	}
	cl.msg = Message{ID: id, Method: method, Args: pickle.Tuple(args)}
	buf, err := c.encode(&cl.msg)
	if err == nil {
		err = c.enqueue(ctx, outFrame{buf: buf}, method)
	}
	if err != nil {
		if c.unregister(id) {
			c.putCall(cl)
			return nil, err
		}
		// The connection failed meanwhile and is finishing the call:
		// take its (disconnected) result to keep the call reusable.
		<-cl.done
		c.putCall(cl)
		return nil, err
	}

	select {
	case <-cl.done:
	case <-ctx.Done():
		if c.unregister(id) {
			// The slot is free; a reply arriving now finds no call and is
			// dropped by the read goroutine.
			c.putCall(cl)
			return nil, fmt.Errorf("zrpc: call %s: %w", method, ctx.Err())
		}
		// The reply (or the disconnection) won the race and is being
		// delivered: it is only an OnReply away, so take it.
		<-cl.done
	}
	reply, err := cl.reply, cl.err
	c.putCall(cl)
	if err != nil {
		return nil, err
	}
	if re, ok := ErrorFromReply(reply); ok {
		re.Method = method
		return nil, re
	}
	return reply.Args, nil
}

func (c *Conn) newCall(method string, onReply func(*Message)) *call {
	cl, _ := c.calls.Get().(*call)
	if cl == nil {
		cl = &call{done: make(chan struct{}, 1)}
	}
	cl.method, cl.onReply = method, onReply
	return cl
}

// putCall recycles a call nobody else references any more.
func (c *Conn) putCall(cl *call) {
	*cl = call{done: cl.done}
	c.calls.Put(cl)
}

// register gives cl a fresh msgid in the pending table, unless the
// connection has ended.
func (c *Conn) register(cl *call) (int64, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return 0, c.disconnected(cl.method)
	}
	c.nextID++
	if c.nextID == math.MaxInt64 { // unreachable in practice; stay ≥ 1
		c.nextID = 1
	}
	id := c.nextID
	c.pending[id] = cl
	return id, nil
}

// unregister removes msgid id from the pending table, reporting whether
// it was still there (and so whether the caller still owns the call).
func (c *Conn) unregister(id int64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.pending[id]; !ok {
		return false
	}
	delete(c.pending, id)
	return true
}

// takePending removes and returns the call a reply with msgid id answers.
func (c *Conn) takePending(id int64) *call {
	c.mu.Lock()
	defer c.mu.Unlock()
	cl := c.pending[id]
	if cl != nil {
		delete(c.pending, id)
	}
	return cl
}

// Notify makes a one-way call (ZEO's callAsync): flags FlagAsync, msgid 0,
// no reply. It returns once the message is queued for sending; it blocks
// only while the send queue is full, until ctx ends. A nil error does not
// mean the peer received or accepted it (docs/protocol.md, One-way calls).
func (c *Conn) Notify(ctx context.Context, method string, args ...pickle.Value) error {
	return c.Send(ctx, &Message{ID: int64(0), Flags: FlagAsync, Method: method, Args: pickle.Tuple(args)})
}

// Reply answers the call whose msgid was id (echoed as received, whatever
// its type) with the value v.
func (c *Conn) Reply(ctx context.Context, id pickle.Value, v pickle.Value) error {
	return c.Send(ctx, &Message{ID: id, Method: ReplyMethod, Args: v})
}

// Send queues a message as is: a reply, an error reply built by the caller,
// a one-way call. Messages are sent in the order their Send calls
// returned. It blocks only while the send queue is full, until ctx ends.
func (c *Conn) Send(ctx context.Context, m *Message) error {
	buf, err := c.encode(m)
	if err != nil {
		return err
	}
	return c.enqueue(ctx, outFrame{buf: buf}, m.Method)
}

// encode encodes m with the current encoding into a pooled buffer.
func (c *Conn) encode(m *Message) (*[]byte, error) {
	bp, _ := c.bufs.Get().(*[]byte)
	if bp == nil {
		bp = new([]byte)
	}
	enc := c.Encoding()
	b, err := enc.AppendMessage((*bp)[:0], m)
	if err != nil {
		c.putBuf(bp)
		return nil, fmt.Errorf("zrpc: encoding %s message for %s in %s: %w", messageKind(m), m.Method, enc.Name(), err)
	}
	*bp = b
	return bp, nil
}

func messageKind(m *Message) string {
	switch {
	case m.IsReply():
		return "reply"
	case m.Flags&FlagAsync != 0:
		return "one-way call"
	}
	return "call"
}

func (c *Conn) putBuf(bp *[]byte) {
	if cap(*bp) <= maxPooledBuf {
		c.bufs.Put(bp)
	}
}

// enqueue hands a frame to the writer, waiting for room in the queue.
func (c *Conn) enqueue(ctx context.Context, f outFrame, method string) error {
	// A closed connection must refuse even when the queue has room,
	// since nobody would send the frame.
	select {
	case <-c.done:
		c.dropFrame(f)
		return c.disconnected(method)
	default:
	}
	select {
	case c.queue <- f:
		return nil
	case <-c.done:
		c.dropFrame(f)
		return c.disconnected(method)
	case <-ctx.Done():
		c.dropFrame(f)
		return fmt.Errorf("zrpc: sending %s: %w", method, ctx.Err())
	}
}

func (c *Conn) dropFrame(f outFrame) {
	if f.buf != nil {
		c.putBuf(f.buf)
	}
}

// replyID reads the msgid of a reply to one of our calls.
func replyID(v pickle.Value) (int64, bool) {
	if u, ok := v.(uint64); ok {
		if u > math.MaxInt64 {
			return 0, false
		}
		return int64(u), true
	}
	if _, ok := v.(bool); ok { // never an id we sent
		return 0, false
	}
	return pickle.AsInt(v)
}
