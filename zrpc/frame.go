package zrpc

import (
	"bufio"
	"crypto/hmac"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"strconv"
	"sync/atomic"
	"time"
)

// Frame sizes (docs/protocol.md, Framing): a frame is a 4-byte big-endian
// payload length followed by the payload.
const (
	// DefaultMaxFrameSize is the largest payload a FrameReader accepts
	// unless told otherwise. ZEO itself has no limit; real messages are far
	// smaller (blob chunks are 59 000 bytes, data records rarely exceed a
	// few MiB).
	DefaultMaxFrameSize = 128 << 20
	// MaxFramePayload is the largest payload any frame can carry: the top
	// bit of the length prefix is the MAC flag of pre-5 servers.
	MaxFramePayload = 1<<31 - 1
)

const (
	// readBufferSize is the FrameReader's bufio size: many small frames
	// per read system call.
	readBufferSize = 32 << 10
	// payloadChunk is the most a FrameReader allocates for a payload
	// before any of it has arrived (see readPayload).
	payloadChunk = 64 << 10
	// commitShare: a FrameReader allocates a large payload whole once
	// 1/commitShare of it has arrived (see readPayload).
	commitShare = 8
	// writeBufferSize is how many bytes of frames a FrameWriter gathers
	// before it writes on its own (Flush writes the rest).
	writeBufferSize = 64 << 10
)

// readDeadliner is implemented by net.Conn and lets the handshake honour a
// context while blocked in a read.
type readDeadliner interface {
	SetReadDeadline(t time.Time) error
}

// writeDeadliner is the write-side counterpart of readDeadliner.
type writeDeadliner interface {
	SetWriteDeadline(t time.Time) error
}

// FrameReader reads frames from a stream. It is meant for one reading
// goroutine; only SetMACKey may be called concurrently with ReadFrame.
// After a framing error (truncation, oversize, MAC failure, an I/O error
// in the middle of a frame) the stream is out of step and every later
// ReadFrame returns the same error.
type FrameReader struct {
	br       *bufio.Reader
	deadline readDeadliner // nil if the stream has no deadlines
	max      int64
	chain    atomic.Pointer[macChain] // nil: MAC mode off
	err      error                    // sticky error
	hdr      [4]byte
	mac      [MACSize]byte
	sum      [MACSize]byte
}

// NewFrameReader returns a FrameReader reading from r through its own
// buffer. If r has a SetReadDeadline method (a net.Conn does), the
// handshake functions use it to honour their context.
func NewFrameReader(r io.Reader) *FrameReader {
	fr := &FrameReader{br: bufio.NewReaderSize(r, readBufferSize), max: DefaultMaxFrameSize}
	fr.deadline, _ = r.(readDeadliner)
	return fr
}

// SetMaxFrameSize sets the largest payload ReadFrame accepts; a larger
// length prefix fails with ErrFrameTooLarge before anything is allocated.
// n <= 0 restores DefaultMaxFrameSize; n is capped at MaxFramePayload.
func (fr *FrameReader) SetMaxFrameSize(n int) {
	switch {
	case n <= 0:
		fr.max = DefaultMaxFrameSize
	case int64(n) > MaxFramePayload:
		fr.max = MaxFramePayload
	default:
		fr.max = int64(n)
	}
}

// MaxFrameSize returns the largest payload ReadFrame accepts.
func (fr *FrameReader) MaxFrameSize() int { return int(fr.max) }

// SetMACKey switches MAC mode on with a fresh chain keyed by key (the
// 60-byte session key of DigestSessionKey), or off when key is nil. It
// applies to every frame whose length prefix is read after the call: a
// client may install the key from another goroutine while ReadFrame waits
// for the next frame, which is what happens after a successful
// auth_response.
func (fr *FrameReader) SetMACKey(key []byte) {
	if key == nil {
		fr.chain.Store(nil)
		return
	}
	fr.chain.Store(newMACChain(key))
}

// ReadFrame reads the next frame and returns its payload in a fresh slice
// that the caller owns (decoders may alias it). At a clean end of stream,
// between frames, it returns io.EOF itself. Other failures are
// *FrameError values matching ErrFrameTruncated, ErrFrameTooLarge,
// ErrMACMissing, ErrMACMismatch or the underlying I/O error.
//
// Without a session key, a frame flagged with MACBit has its MAC skipped
// unchecked, as the reference implementation does; with one, every frame
// must be flagged and carry the MAC of the stream so far.
func (fr *FrameReader) ReadFrame() ([]byte, error) {
	if fr.err != nil {
		return nil, fr.err
	}
	n, err := io.ReadFull(fr.br, fr.hdr[:])
	if err != nil {
		switch {
		case n == 0 && err == io.EOF:
			return nil, io.EOF
		case n == 0:
			// Nothing of the frame was consumed (a deadline, say): the
			// stream is still in step, so the error is not sticky.
			return nil, &FrameError{Op: "read", Size: -1, Err: err}
		case err == io.ErrUnexpectedEOF:
			return nil, fr.fail(truncated(-1, int64(n), 0))
		default:
			return nil, fr.fail(&FrameError{Op: "read", Size: -1, Got: int64(n), Err: err})
		}
	}
	prefix := binary.BigEndian.Uint32(fr.hdr[:])
	size := int64(prefix &^ MACBit)
	flagged := prefix&MACBit != 0
	chain := fr.chain.Load()
	if chain != nil && !flagged {
		return nil, fr.fail(&FrameError{Op: "read", Size: size, Prefix: prefix, Seq: chain.seq + 1, Err: ErrMACMissing})
	}
	if size > fr.max {
		return nil, fr.fail(&FrameError{Op: "read", Size: size, Prefix: prefix, Err: ErrFrameTooLarge,
			detail: strconv.FormatInt(fr.max, 10)})
	}
	got := int64(len(fr.hdr))
	if flagged {
		n, err := io.ReadFull(fr.br, fr.mac[:])
		if err != nil {
			return nil, fr.fail(fr.midFrame(err, size, got+int64(n), prefix))
		}
		got += MACSize
	}
	payload, n, err := fr.readPayload(int(size))
	if err != nil {
		return nil, fr.fail(fr.midFrame(err, size, got+int64(n), prefix))
	}
	if chain != nil {
		sum := chain.next(fr.sum[:0], payload)
		if !hmac.Equal(sum, fr.mac[:]) {
			return nil, fr.fail(&FrameError{Op: "read", Size: size, Prefix: prefix, Seq: chain.seq, Err: ErrMACMismatch,
				// The expected MAC stays out of the message: logs are no
				// place for a value derived from the session key.
				detail: "received " + hex.EncodeToString(fr.mac[:])})
		}
	}
	return payload, nil
}

// readPayload reads an n-byte payload into a fresh slice; on error it
// also returns how many bytes arrived.
//
// A payload of up to payloadChunk bytes gets its exact buffer at once. A
// larger one is gathered in chunks, each as large as all before it, until
// 1/commitShare of it has arrived; only then is the whole payload
// allocated, the chunks copied in and the rest read straight into place
// (bufio bypasses its buffer for such reads). So memory follows the bytes
// received, not the length claimed: before the commit at most twice what
// arrived plus payloadChunk, and a hostile peer must send an eighth of a
// claimed size to make the reader allocate it. A genuine large payload
// costs 1.125x its size in allocations and an eighth of it in copying
// (growing one buffer fourfold, as before, cost 1.33x and a third).
func (fr *FrameReader) readPayload(n int) ([]byte, int, error) {
	if n <= payloadChunk {
		buf := make([]byte, n)
		got, err := io.ReadFull(fr.br, buf)
		return buf, got, err
	}
	commitAt := max(n/commitShare, payloadChunk)
	var chunkArr [32][]byte // 2 GiB/8 takes 13 doublings of 64 KiB
	chunks := chunkArr[:0]
	got := 0
	for got < commitAt {
		chunk := make([]byte, min(max(got, payloadChunk), commitAt-got))
		m, err := io.ReadFull(fr.br, chunk)
		got += m
		if err != nil {
			return nil, got, err
		}
		chunks = append(chunks, chunk)
	}
	buf := make([]byte, n)
	at := 0
	for _, chunk := range chunks {
		at += copy(buf[at:], chunk)
	}
	m, err := io.ReadFull(fr.br, buf[got:])
	return buf, got + m, err
}

// midFrame converts an error met after the length prefix.
func (fr *FrameReader) midFrame(err error, size, got int64, prefix uint32) *FrameError {
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return truncated(size, got, prefix)
	}
	return &FrameError{Op: "read", Size: size, Got: got, Prefix: prefix, Err: err}
}

func (fr *FrameReader) fail(err *FrameError) error {
	fr.err = err
	return err
}

// FrameWriter writes frames to a stream, gathering small ones in a buffer
// so that a burst of messages goes out in one system call: frames
// accumulate until Flush, or until the buffer (64 KiB) fills. A large
// payload that does not fit in what is left of the buffer is written at
// once, together with the buffered frames, straight from the caller's
// slice (a vectored write on a net.Conn), never copied. A FrameWriter is not safe for concurrent
// use; after a write error every later call returns that error.
type FrameWriter struct {
	w        io.Writer
	deadline writeDeadliner // nil if the stream has no deadlines
	buf      []byte
	chain    *macChain
	err      error
}

// NewFrameWriter returns a FrameWriter writing to w.
func NewFrameWriter(w io.Writer) *FrameWriter {
	fw := &FrameWriter{w: w, buf: make([]byte, 0, writeBufferSize)}
	fw.deadline, _ = w.(writeDeadliner)
	return fw
}

// SetMACKey switches MAC mode on with a fresh chain keyed by key, or off
// when key is nil: frames written after the call carry MACBit and the MAC
// of every payload written since. Frames already buffered are unaffected.
func (fw *FrameWriter) SetMACKey(key []byte) {
	if key == nil {
		fw.chain = nil
		return
	}
	fw.chain = newMACChain(key)
}

// Buffered returns the number of bytes written to the buffer and not yet
// to the stream.
func (fw *FrameWriter) Buffered() int { return len(fw.buf) }

// WriteFrame adds one frame carrying payload. The frame reaches the
// stream at the latest on Flush; WriteFrame writes by itself when the
// buffer is full or the payload is large. The caller may reuse payload as
// soon as WriteFrame returns.
func (fw *FrameWriter) WriteFrame(payload []byte) error {
	if fw.err != nil {
		return fw.err
	}
	if err := checkPayloadSize(int64(len(payload))); err != nil {
		return err
	}
	prefix := uint32(len(payload))
	head := 4
	if fw.chain != nil {
		prefix |= MACBit
		head += MACSize
	}
	small := head+len(payload) <= writeBufferSize/2
	if len(fw.buf)+head+len(payload) > cap(fw.buf) && (small || len(fw.buf)+head > cap(fw.buf)) {
		// Make room: a small frame joins the next batch; a large one
		// needs room for its prefix and MAC only.
		if err := fw.Flush(); err != nil {
			return err
		}
	}
	fw.buf = binary.BigEndian.AppendUint32(fw.buf, prefix)
	if fw.chain != nil {
		fw.buf = fw.chain.next(fw.buf, payload)
	}
	if len(fw.buf)+len(payload) <= cap(fw.buf) {
		fw.buf = append(fw.buf, payload...)
		return nil
	}
	// Large payload: send what is buffered and the payload together,
	// without copying the payload.
	bufs := net.Buffers{fw.buf, payload}
	total := int64(len(fw.buf) + len(payload))
	n, err := bufs.WriteTo(fw.w)
	fw.buf = fw.buf[:0]
	if err == nil && n != total {
		err = io.ErrShortWrite
	}
	if err != nil {
		fw.err = &FrameError{Op: "write", Size: int64(len(payload)), Err: err}
		return fw.err
	}
	return nil
}

// checkPayloadSize refuses payloads that do not fit in a length prefix.
func checkPayloadSize(n int64) error {
	if n > MaxFramePayload {
		return &FrameError{Op: "write", Size: n, Err: ErrFrameTooLarge}
	}
	return nil
}

// Flush writes every buffered frame to the stream.
func (fw *FrameWriter) Flush() error {
	if fw.err != nil {
		return fw.err
	}
	if len(fw.buf) == 0 {
		return nil
	}
	n, err := fw.w.Write(fw.buf)
	if err == nil && n != len(fw.buf) {
		err = io.ErrShortWrite
	}
	fw.buf = fw.buf[:0]
	if err != nil {
		fw.err = &FrameError{Op: "write", Size: -1, Err: err}
		return fw.err
	}
	return nil
}
