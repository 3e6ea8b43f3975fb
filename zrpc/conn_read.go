package zrpc

import (
	"errors"
	"fmt"

	"github.com/gozeo/gozeo/pickle"
)

// maxLoggedPayload bounds the bytes of an undecodable payload put in logs
// and errors.
const maxLoggedPayload = 64

// readLoop reads frames until the connection fails, delivering replies to
// their callers and passing the peer's calls to the handler, one message
// at a time and in wire order.
func (c *Conn) readLoop() {
	defer c.wg.Done()
	for {
		p, err := c.fr.ReadFrame()
		if err != nil {
			c.fail(err)
			return
		}
		select {
		case <-c.done: // closed while reading: nobody wants the message
			return
		default:
		}
		m, err := c.Encoding().DecodeMessage(p)
		if err != nil {
			// The peer's state is unknown after a message we cannot read,
			// as it was for ZEO's own "can't decode message".
			// Encodings describe the payload themselves (MessageDecodeError);
			// only an error that does not say what arrived gets the bytes.
			if !errors.Is(err, ErrUndecodable) {
				err = fmt.Errorf("%w: %d bytes starting %s: %w", ErrUndecodable,
					len(p), pickle.ReprBytes(p[:min(len(p), maxLoggedPayload)]), err)
			}
			c.log.Error("zrpc: dropping connection", "err", err)
			c.fail(err)
			return
		}
		if c.adapt {
			c.adapt = false
			c.adaptEncoding(p)
		}
		if m.IsReply() {
			c.deliver(m)
		} else {
			c.dispatch(m)
		}
	}
}

func (c *Conn) adaptEncoding(first []byte) {
	old := c.Encoding()
	enc := old.Adapt(first)
	if enc == nil {
		return
	}
	c.enc.Store(&encodingBox{enc})
	c.log.Debug("zrpc: encoding adapted to the peer", "from", old.Name(), "to", enc.Name())
}

// deliver hands a reply to the call waiting for it.
func (c *Conn) deliver(m *Message) {
	if m.IsHeartbeat() { // a client's idle message (we are its server)
		return
	}
	id, ok := replyID(m.ID)
	var cl *call
	if ok {
		cl = c.takePending(id)
	}
	if cl == nil {
		// The call was cancelled, or the peer is confused: either way
		// nobody waits for this.
		c.log.Debug("zrpc: dropping reply to no pending call", "msgid", pickle.Repr(m.ID))
		return
	}
	if cl.onReply != nil {
		cl.onReply(m)
	}
	cl.finish(m, nil)
}

// dispatch passes a call from the peer to the handler.
func (c *Conn) dispatch(m *Message) {
	if c.handler == nil {
		if m.Flags&FlagAsync == 0 {
			// The peer waits for a reply that will never come.
			c.log.Warn("zrpc: no handler, dropping a call that expects a reply", "method", m.Method)
		} else {
			c.log.Debug("zrpc: no handler, dropping one-way call", "method", m.Method)
		}
		return
	}
	c.handler(c, m)
}
