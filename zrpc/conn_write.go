package zrpc

import (
	"context"
	"fmt"
	"time"
)

// outFrame is one item of the writer's queue: an encoded payload, or a
// marker acting on the writer in queue order.
type outFrame struct {
	buf     *[]byte       // payload to send (pooled), or nil for a marker
	macKey  []byte        // marker: start signing frames with this key
	flushed chan struct{} // marker: closed once everything before it is flushed
}

// writeLoop sends queued frames. It takes whatever has queued up while it
// was busy and flushes once for the lot, so that under load many frames go
// out per system call, and it sends the heartbeat when idle.
func (c *Conn) writeLoop() {
	defer c.wg.Done()
	var idle <-chan time.Time
	var timer *time.Timer
	if c.heartbeat > 0 {
		timer = time.NewTimer(c.heartbeat)
		defer timer.Stop()
		idle = timer.C
	}
	for {
		var err error
		select {
		case f := <-c.queue:
			err = c.writeBatch(f)
		case <-idle:
			err = c.writeHeartbeat()
		case <-c.done:
			return
		}
		if err != nil {
			c.fail(err)
			return
		}
		if timer != nil {
			timer.Reset(c.heartbeat)
		}
	}
}

// maxBatch bounds the frames written between two flushes, so that a flood
// of one-way calls cannot hold back the frames ahead of it.
const maxBatch = queueLen

// writeBatch writes f and the frames queued behind it, then flushes.
func (c *Conn) writeBatch(f outFrame) error {
	for n := 1; ; n++ {
		if err := c.writeFrame(f); err != nil {
			return err
		}
		if n == maxBatch {
			break
		}
		select {
		case f = <-c.queue:
			continue
		default:
		}
		break
	}
	return c.fw.Flush()
}

func (c *Conn) writeFrame(f outFrame) error {
	switch {
	case f.buf != nil:
		err := c.fw.WriteFrame(*f.buf)
		c.putBuf(f.buf)
		return err
	case f.macKey != nil:
		// Frames queued before the marker have been written (signed or
		// not) with the previous key; the ones after it use this one.
		c.fw.SetMACKey(f.macKey)
	case f.flushed != nil:
		err := c.fw.Flush()
		close(f.flushed)
		return err
	}
	return nil
}

func (c *Conn) writeHeartbeat() error {
	enc := c.Encoding()
	p, err := enc.AppendMessage(nil, heartbeatMessage())
	if err != nil {
		// Not the peer's fault and not fatal: the peer may drop us for
		// idleness, and then calls report it.
		c.log.Error("zrpc: cannot encode the heartbeat", "encoding", enc.Name(), "err", err)
		return nil
	}
	if err := c.fw.WriteFrame(p); err != nil {
		return err
	}
	c.log.Debug("zrpc: heartbeat sent")
	return c.fw.Flush()
}

// StartMAC switches on the message authentication of authenticated ZEO 3.x/4.x
// sessions (docs/protocol.md, MAC'd frames, Authentication): the next frame
// read must carry a MAC under key, and every frame queued after this call is
// sent with one, while frames queued before it go out as they would have. It
// must be called on the read goroutine, from the Handler or an OnReply
// callback, so that "the next frame" is well defined. On a closed connection it
// does nothing.
func (c *Conn) StartMAC(key []byte) {
	key = append([]byte(nil), key...)
	c.fr.SetMACKey(key)
	if err := c.enqueue(context.Background(), outFrame{macKey: key}, "StartMAC"); err != nil {
		c.log.Debug("zrpc: StartMAC on an ended connection", "err", err)
	}
}

// Flush waits until every message queued before it has been written to
// the transport, for instance before a server closes a connection after
// sending an error.
func (c *Conn) Flush(ctx context.Context) error {
	flushed := make(chan struct{})
	if err := c.enqueue(ctx, outFrame{flushed: flushed}, ""); err != nil {
		return err
	}
	select {
	case <-flushed:
		return nil
	case <-c.done:
		return c.disconnected("")
	case <-ctx.Done():
		return fmt.Errorf("zrpc: flushing: %w", ctx.Err())
	}
}
