package zrpc

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gozeo/gozeo/pickle"
)

// Sentinel errors of the framing layer. They arrive wrapped in a
// *FrameError, which says what was on the wire; match them with errors.Is.
var (
	// ErrFrameTooLarge: a length prefix announced a payload above the
	// reader's limit (SetMaxFrameSize), or a payload given to WriteFrame
	// does not fit in the 31 bits a length prefix can carry.
	ErrFrameTooLarge = errors.New("frame too large")
	// ErrFrameTruncated: the stream ended in the middle of a frame (its
	// length prefix, MAC or payload). The error also matches
	// io.ErrUnexpectedEOF.
	ErrFrameTruncated = errors.New("frame truncated")
	// ErrMACMismatch: an authenticated frame carried a MAC that is not the
	// HMAC-SHA1 of the stream so far under the session key.
	ErrMACMismatch = errors.New("frame MAC mismatch")
	// ErrMACMissing: a frame arrived without the MAC flag although a
	// session key is installed (docs/protocol.md, MAC'd frames: the reference
	// implementation drops the connection in that case too).
	ErrMACMissing = errors.New("frame MAC missing")
)

// FrameError describes a failure to read or write one frame. Err is one of
// the sentinels above, or the I/O error of the underlying stream; Unwrap
// also yields the underlying cause (io.ErrUnexpectedEOF for a truncation,
// a net.Error for a reset), so errors.Is works with either.
type FrameError struct {
	// Op is "read" or "write".
	Op string
	// Size is the payload length the frame announced (read) or was given
	// (write); -1 when the length prefix itself did not arrive.
	Size int64
	// Got counts the bytes of the frame (prefix, MAC and payload) that
	// arrived before a truncation.
	Got int64
	// Prefix is the raw 4-byte length prefix when it arrived; it is what
	// tells a non-ZEO peer apart (text such as "HTTP", or a TLS record).
	Prefix uint32
	// Seq is the 1-based index of the frame in the current MAC chain for
	// MAC errors, 0 otherwise.
	Seq int64
	// Err is the sentinel or the I/O error.
	Err error

	cause  error  // underlying I/O error when Err is a sentinel
	detail string // extra explanation for MAC errors
}

// Error says what arrived and what it most likely means.
func (e *FrameError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "zrpc: %s frame: ", e.Op)
	switch e.Err {
	case ErrFrameTooLarge:
		if e.Op == "write" {
			fmt.Fprintf(&b, "payload of %d bytes does not fit in a length prefix (the limit is %d bytes, the top bit being the MAC flag)", e.Size, MaxFramePayload)
			break
		}
		fmt.Fprintf(&b, "length prefix %#08x announces a %d-byte payload, over the reader's limit of %s bytes", e.Prefix, e.Size, e.detail)
		if hint := prefixHint(e.Prefix); hint != "" {
			b.WriteString("; ")
			b.WriteString(hint)
		} else {
			b.WriteString(" (raise the limit with SetMaxFrameSize if the peer really sends frames this large)")
		}
	case ErrFrameTruncated:
		fmt.Fprintf(&b, "stream ended inside a frame, after %d bytes of it", e.Got)
		if e.Size >= 0 {
			fmt.Fprintf(&b, " (payload of %d bytes announced)", e.Size)
		}
		b.WriteString(": the peer closed the connection or crashed mid-message")
	case ErrMACMismatch:
		fmt.Fprintf(&b, "MAC of authenticated frame %d (%d-byte payload) does not match: %s; the session key differs from the peer's (wrong password, realm or nonce) or a frame was lost or altered", e.Seq, e.Size, e.detail)
	case ErrMACMissing:
		fmt.Fprintf(&b, "frame %d (%d-byte payload, prefix %#08x) carries no MAC although a session key is installed: the peer has not switched to authenticated mode, or the key was installed a frame too early", e.Seq, e.Size, e.Prefix)
	default:
		if e.Size >= 0 {
			fmt.Fprintf(&b, "%d-byte payload: ", e.Size)
		}
		fmt.Fprintf(&b, "%v", e.Err)
	}
	return b.String()
}

// Unwrap returns the sentinel and the underlying I/O error, if any.
func (e *FrameError) Unwrap() []error {
	if e.cause != nil {
		return []error{e.Err, e.cause}
	}
	return []error{e.Err}
}

// prefixHint recognises length prefixes that are no ZEO length at all, so
// that the error names the likely mistake instead of a size.
func prefixHint(prefix uint32) string {
	p := []byte{byte(prefix >> 24), byte(prefix >> 16), byte(prefix >> 8), byte(prefix)}
	if p[0] == 0x16 && p[1] == 0x03 {
		return "the bytes look like a TLS handshake record: the peer speaks TLS and this side does not"
	}
	if p[0] == 0x15 && p[1] == 0x03 {
		return "the bytes look like a TLS alert: the peer speaks TLS and this side does not"
	}
	printable := true
	for _, c := range p {
		if c < 0x20 || c >= 0x7f {
			printable = false
			break
		}
	}
	if printable {
		return "the prefix reads as text " + pickle.ReprBytes(p) + ": the peer is not speaking ZEO framing (wrong port or protocol?)"
	}
	return ""
}

// truncated builds the error for a stream that ended inside a frame.
func truncated(size, got int64, prefix uint32) *FrameError {
	return &FrameError{Op: "read", Size: size, Got: got, Prefix: prefix, Err: ErrFrameTruncated, cause: io.ErrUnexpectedEOF}
}
