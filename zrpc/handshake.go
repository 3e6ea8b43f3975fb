package zrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sync"
	"time"
)

// handshakeMaxFrame bounds the first frame of each side: a version string
// has 2 to 5 bytes, and "ruok" 4. Anything bigger means the peer is not
// doing a ZEO handshake, and saying so at once beats allocating for it.
const handshakeMaxFrame = 64

// HandshakeError reports an I/O or framing failure during the version
// exchange. Negotiation failures are *NegotiationError instead.
type HandshakeError struct {
	// Side is "client" or "server": whose handshake failed.
	Side string
	// Op is the step that failed, e.g. "read the server's version".
	Op string
	// Err is the failure: a *FrameError, an I/O error.
	Err error
	// Context is the context's error when the context ended the
	// handshake (the I/O error is then a consequence of it).
	Context error
}

// Error says which step failed, why, and what it most likely means.
func (e *HandshakeError) Error() string {
	msg := fmt.Sprintf("zrpc: %s handshake: %s: %v", e.Side, e.Op, e.Err)
	if e.Context != nil && e.Context != e.Err {
		msg += " (" + e.Context.Error() + ")"
	}
	switch {
	case e.Context != nil && e.Side == "client":
		msg += "; no version arrived in time: a ZEO 5 server using TLS sends nothing until the client starts TLS"
	case errors.Is(e.Err, io.EOF) && e.Side == "client":
		msg += "; the peer closed the connection before announcing a protocol version: it may not be a ZEO server, or it refused this client"
	case errors.Is(e.Err, io.EOF):
		msg += "; the client disconnected before sending its protocol version"
	case errors.Is(e.Err, ErrFrameTooLarge):
		msg += fmt.Sprintf("; a protocol version is a few bytes, the handshake takes at most %d", handshakeMaxFrame)
	}
	return msg
}

// Unwrap returns the failure and, if set, the context's error.
func (e *HandshakeError) Unwrap() []error {
	if e.Context != nil {
		return []error{e.Err, e.Context}
	}
	return []error{e.Err}
}

// ClientHandshake performs the client side of the version exchange: it reads
// the server's version frame, picks a reply with Negotiate among allowed (nil:
// every known version) and sends it. Nothing else may be sent before
// (docs/protocol.md, Handshake). Extra frames the server sends right after its
// version stay buffered in fr for the connection.
//
// ctx bounds the whole exchange. If the streams behind fr and fw have
// deadlines (a net.Conn does), they carry ctx's deadline and cancellation
// and are cleared afterwards. Otherwise the exchange runs in a goroutine
// and a cancelled ctx returns at once, leaving that goroutine blocked
// until the caller closes the stream, which it must then do.
func ClientHandshake(ctx context.Context, fr *FrameReader, fw *FrameWriter, allowed []Version) (Negotiation, error) {
	if err := checkAllowed(allowed); err != nil {
		return Negotiation{}, err
	}
	var neg Negotiation
	err := bounded(ctx, "client", fr, fw, func() error {
		raw, err := fr.readHandshakeFrame()
		if err != nil {
			return &HandshakeError{Side: "client", Op: "read the server's version", Err: err}
		}
		n, err := Negotiate(Version(raw), allowed)
		if err != nil {
			return err
		}
		if err := fw.WriteFrame([]byte(n.Chosen)); err != nil {
			return &HandshakeError{Side: "client", Op: "send version " + string(n.Chosen), Err: err}
		}
		if err := fw.Flush(); err != nil {
			return &HandshakeError{Side: "client", Op: "send version " + string(n.Chosen), Err: err}
		}
		neg = n
		return nil
	})
	if err != nil {
		return Negotiation{}, err
	}
	return neg, nil
}

// readHandshakeFrame reads one frame under the handshake's size bound.
func (fr *FrameReader) readHandshakeFrame() ([]byte, error) {
	saved := fr.max
	fr.max = handshakeMaxFrame
	defer func() { fr.max = saved }()
	return fr.ReadFrame()
}

// bounded runs the exchange fn under ctx (see ClientHandshake).
func bounded(ctx context.Context, side string, fr *FrameReader, fw *FrameWriter, fn func() error) error {
	if err := ctx.Err(); err != nil {
		return &HandshakeError{Side: side, Op: "start", Err: context.Cause(ctx), Context: err}
	}
	if fr.deadline == nil {
		done := make(chan error, 1)
		go func() { done <- fn() }()
		select {
		case err := <-done:
			return err
		case <-ctx.Done():
			return &HandshakeError{Side: side, Op: "exchange versions", Err: context.Cause(ctx), Context: ctx.Err()}
		}
	}

	var mu sync.Mutex
	finished := false
	setDeadlines := func(t time.Time) {
		fr.deadline.SetReadDeadline(t)
		if fw.deadline != nil {
			fw.deadline.SetWriteDeadline(t)
		}
	}
	deadline, hasDeadline := ctx.Deadline()
	if hasDeadline {
		setDeadlines(deadline)
	}
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !finished {
			setDeadlines(time.Unix(1, 0)) // in the past: wake any blocked I/O now
		}
	})
	err := fn()
	stop()
	mu.Lock()
	finished = true
	setDeadlines(time.Time{})
	mu.Unlock()

	var he *HandshakeError
	if err != nil && errors.As(err, &he) && he.Context == nil {
		switch {
		case ctx.Err() != nil:
			he.Context = ctx.Err()
		case hasDeadline && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(deadline):
			// The stream's timer fired a hair before the context's.
			he.Context = context.DeadlineExceeded
		}
	}
	return err
}
