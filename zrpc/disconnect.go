package zrpc

import (
	"errors"
	"strings"
)

// ErrDisconnected is matched by every error that reports a lost
// connection: errors.Is(err, ErrDisconnected) is true for a
// [*DisconnectedError].
var ErrDisconnected = errors.New("zrpc: disconnected")

// ErrClosed is the cause of a [*DisconnectedError] for a connection closed
// by this side ([Conn.Close]).
var ErrClosed = errors.New("zrpc: connection closed locally")

// DisconnectedError is what every call in flight, and every later call,
// gets once a connection is gone. The calls may or may not have reached the
// peer: a caller that needs to know (a commit, say) must find out on a new
// connection.
type DisconnectedError struct {
	// Cause is why the connection ended: io.EOF for a clean close by the
	// peer, io.ErrUnexpectedEOF for a close in the middle of a frame, a
	// network or framing error, a message decoding error, or [ErrClosed].
	Cause error
	// Method is the call that was in flight or attempted, if any.
	Method string
	// Peer names the other side (ConnOptions.Name), if known.
	Peer string
}

// Error says which connection was lost, during which call, and why.
func (e *DisconnectedError) Error() string {
	var b strings.Builder
	b.WriteString("zrpc: disconnected")
	if e.Peer != "" {
		b.WriteString(" from ")
		b.WriteString(e.Peer)
	}
	if e.Method != "" {
		b.WriteString(" (call ")
		b.WriteString(e.Method)
		b.WriteString(")")
	}
	if e.Cause != nil {
		b.WriteString(": ")
		b.WriteString(e.Cause.Error())
	}
	return b.String()
}

// Unwrap returns the cause.
func (e *DisconnectedError) Unwrap() error { return e.Cause }

// Is makes errors.Is(err, ErrDisconnected) true.
func (e *DisconnectedError) Is(target error) bool { return target == ErrDisconnected }
