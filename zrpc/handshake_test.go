package zrpc

import (
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gozeo/gozeo/internal/nettest"
)

// tcpPair is a loopback TCP connection's two ends.
func tcpPair(t *testing.T) (client, server net.Conn) { return nettest.TCPPair(t) }

// serveRaw starts a fake server writing raw bytes and returns the client
// side.
func serveRaw(t *testing.T, raw string, closeAfter bool) net.Conn {
	client, server := tcpPair(t)
	go func() {
		server.Write([]byte(raw))
		if closeAfter {
			server.Close()
		}
	}()
	return client
}

func TestClientHandshakeNotZEO(t *testing.T) {
	cases := []struct {
		name  string
		raw   string
		is    error
		says  string
		close bool
	}{
		{"http server", "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n", ErrFrameTooLarge, "reads as text 'HTTP'", false},
		{"version too long", "\x00\x00\x01\x00" + strings.Repeat("Z", 256), ErrFrameTooLarge, "a protocol version is a few bytes", false},
		{"unknown version", "\x00\x00\x00\x02Z6", ErrProtocolMismatch, "server announced 'Z6'", false},
		{"closed at once", "", io.EOF, "closed the connection before announcing a protocol version", true},
		{"closed mid-frame", "\x00\x00\x00\x05Z3", ErrFrameTruncated, "stream ended inside a frame", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			conn := serveRaw(t, c.raw, c.close)
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_, err := ClientHandshake(ctx, NewFrameReader(conn), NewFrameWriter(conn), nil)
			if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.says) {
				t.Fatalf("got %v\nwant %v saying %q", err, c.is, c.says)
			}
		})
	}
}

// A server that says nothing (a TLS-only ZEO 5 server does that to a
// plain client): the context ends the wait.
func TestClientHandshakeContext(t *testing.T) {
	t.Run("deadline", func(t *testing.T) {
		client, _ := tcpPair(t)
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := ClientHandshake(ctx, NewFrameReader(client), NewFrameWriter(client), nil)
		var he *HandshakeError
		if !errors.Is(err, context.DeadlineExceeded) || !errors.As(err, &he) || !strings.Contains(err.Error(), "TLS") {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("cancel", func(t *testing.T) {
		client, _ := tcpPair(t)
		ctx, cancel := context.WithCancel(context.Background())
		go func() { time.Sleep(10 * time.Millisecond); cancel() }()
		_, err := ClientHandshake(ctx, NewFrameReader(client), NewFrameWriter(client), nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("already done", func(t *testing.T) {
		client, _ := tcpPair(t)
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := ClientHandshake(ctx, NewFrameReader(client), NewFrameWriter(client), nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("got %v", err)
		}
	})
	t.Run("stream without deadlines", func(t *testing.T) {
		pr, pw := io.Pipe()
		defer pw.Close()
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		_, err := ClientHandshake(ctx, NewFrameReader(pr), NewFrameWriter(io.Discard), nil)
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("got %v", err)
		}
		pr.Close() // releases the blocked read, as the doc asks
	})
}

// deadlineRecorder is a net.Conn recording the deadlines set on it.
type deadlineRecorder struct {
	net.Conn
	mu    sync.Mutex
	read  []time.Time
	write []time.Time
}

func (d *deadlineRecorder) SetReadDeadline(t time.Time) error {
	d.mu.Lock()
	d.read = append(d.read, t)
	d.mu.Unlock()
	return d.Conn.SetReadDeadline(t)
}

func (d *deadlineRecorder) SetWriteDeadline(t time.Time) error {
	d.mu.Lock()
	d.write = append(d.write, t)
	d.mu.Unlock()
	return d.Conn.SetWriteDeadline(t)
}

// The context's deadline bounds the exchange and is cleared after it, so
// it does not leak into the connection's later life; frames the server
// sent right after its version stay readable, at the normal size limit.
func TestClientHandshakeLeavesConnClean(t *testing.T) {
	client, server := tcpPair(t)
	big := strings.Repeat("x", 1000)
	go func() {
		fw := NewFrameWriter(server)
		fw.WriteFrame([]byte("Z3101"))
		fw.WriteFrame([]byte(big))
		fw.Flush()
	}()
	rec := &deadlineRecorder{Conn: client}
	fr, fw := NewFrameReader(rec), NewFrameWriter(rec)
	deadline := time.Now().Add(time.Minute)
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	defer cancel()
	n, err := ClientHandshake(ctx, fr, fw, nil)
	if err != nil || n.Chosen != Z3101 {
		t.Fatalf("%+v, %v", n, err)
	}
	rec.mu.Lock()
	reads, writes := rec.read, rec.write
	rec.mu.Unlock()
	if len(reads) < 2 || !reads[0].Equal(deadline) || !reads[len(reads)-1].IsZero() {
		t.Errorf("read deadlines %v: want the context's, then cleared", reads)
	}
	if len(writes) < 2 || !writes[len(writes)-1].IsZero() {
		t.Errorf("write deadlines %v: want cleared at the end", writes)
	}
	if p, err := fr.ReadFrame(); err != nil || string(p) != big {
		t.Fatalf("frame after the version: %d bytes, %v", len(p), err)
	}
	if fr.MaxFrameSize() != DefaultMaxFrameSize {
		t.Errorf("max frame size left at %d", fr.MaxFrameSize())
	}
	got, err := NewFrameReader(server).ReadFrame()
	if err != nil || string(got) != "Z3101" {
		t.Fatalf("server got %q, %v", got, err)
	}
}

// The client sends nothing before the server's version has arrived
// (docs/protocol.md, Handshake), and only the version.
func TestClientHandshakeWaitsForServer(t *testing.T) {
	client, server := tcpPair(t)
	done := make(chan error, 1)
	go func() {
		_, err := ClientHandshake(context.Background(), NewFrameReader(client), NewFrameWriter(client), nil)
		done <- err
	}()
	server.SetReadDeadline(time.Now().Add(50 * time.Millisecond))
	var b [1]byte
	if n, err := server.Read(b[:]); n != 0 || !errors.Is(err, net.ErrClosed) && !isTimeout(err) {
		t.Fatalf("client sent %d bytes before the server's version (%v)", n, err)
	}
	server.SetReadDeadline(time.Time{})
	fw := NewFrameWriter(server)
	fw.WriteFrame([]byte("Z5"))
	fw.Flush()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got, err := NewFrameReader(server).ReadFrame()
	if err != nil || string(got) != "Z5" {
		t.Fatalf("reply %q, %v", got, err)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func TestClientHandshakeUnknownAllowed(t *testing.T) {
	client, _ := tcpPair(t)
	_, err := ClientHandshake(context.Background(), NewFrameReader(client), NewFrameWriter(client), []Version{"Z7"})
	if !errors.Is(err, ErrUnknownVersion) {
		t.Fatalf("got %v", err)
	}
}
