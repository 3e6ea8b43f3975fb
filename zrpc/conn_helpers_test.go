package zrpc

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gozeo/gozeo/pickle"
)

// peer is the scripted other end of a connection, built on the framer and
// the test codec only, so that it checks the Conn against the wire.
type scriptedPeer struct {
	conn net.Conn
	fr   *FrameReader
	fw   *FrameWriter
	enc  Encoding
}

func newPeer(conn net.Conn) *scriptedPeer {
	return &scriptedPeer{conn: conn, fr: NewFrameReader(conn), fw: NewFrameWriter(conn), enc: codecA}
}

func (p *scriptedPeer) recv() (*Message, error) {
	payload, err := p.fr.ReadFrame()
	if err != nil {
		return nil, err
	}
	return p.enc.DecodeMessage(payload)
}

func (p *scriptedPeer) send(m *Message) error {
	if err := p.fw.WriteFrame(mustEncode(p.enc, m)); err != nil {
		return err
	}
	return p.fw.Flush()
}

func (p *scriptedPeer) mustRecv(t testing.TB) *Message {
	t.Helper()
	m, err := p.recv()
	if err != nil {
		t.Fatalf("peer: receiving: %v", err)
	}
	return m
}

func (p *scriptedPeer) mustSend(t testing.TB, m *Message) {
	t.Helper()
	if err := p.send(m); err != nil {
		t.Fatalf("peer: sending %s: %v", m.Method, err)
	}
}

func (p *scriptedPeer) mustReply(t testing.TB, call *Message, v pickle.Value) {
	t.Helper()
	p.mustSend(t, &Message{ID: call.ID, Method: ReplyMethod, Args: v})
}

// newPipeConn connects a Conn to a scripted peer over net.Pipe. Both are
// closed when the test ends.
func newPipeConn(t testing.TB, opts ConnOptions) (*Conn, *scriptedPeer) {
	t.Helper()
	a, b := net.Pipe()
	if opts.Encoding == nil {
		opts.Encoding = codecA
	}
	if opts.Name == "" {
		opts.Name = "pipe-peer"
	}
	c := NewConn(NewFrameReader(a), NewFrameWriter(a), a, opts)
	p := newPeer(b)
	t.Cleanup(func() {
		c.Close()
		b.Close()
	})
	return c, p
}

// newEchoServer starts, on loopback TCP, a server Conn whose handler
// answers every call with its argument tuple, and returns its address.
// It stops when the test ends, after which none of its goroutines remain.
func newEchoServer(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var (
		mu    sync.Mutex
		conns []*Conn
		wg    sync.WaitGroup
	)
	echo := func(c *Conn, m *Message) {
		if m.Flags&FlagAsync == 0 {
			_ = c.Reply(context.Background(), m.ID, m.Args)
		}
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			nc, err := ln.Accept()
			if err != nil {
				return
			}
			c := NewConn(NewFrameReader(nc), NewFrameWriter(nc), nc, ConnOptions{Encoding: codecA, Handler: echo})
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

func dialConn(t testing.TB, addr string, opts ConnOptions) *Conn {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	if opts.Encoding == nil {
		opts.Encoding = codecA
	}
	c := NewConn(NewFrameReader(nc), NewFrameWriter(nc), nc, opts)
	t.Cleanup(func() { c.Close() })
	return c
}

type callResult struct {
	v   pickle.Value
	err error
}

// goCall runs a call in its own goroutine.
func goCall(ctx context.Context, c *Conn, opts CallOptions, method string, args ...pickle.Value) <-chan callResult {
	ch := make(chan callResult, 1)
	go func() {
		v, err := c.CallWith(ctx, opts, method, args...)
		ch <- callResult{v, err}
	}()
	return ch
}

func (c *Conn) pendingCount() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.pending)
}

// checkNoLeaks fails the test if, once the test's cleanups have run, more
// goroutines exist than before it started. It polls because exiting
// goroutines (the test's own) take a moment to be accounted for.
func checkNoLeaks(t *testing.T) {
	before := runtime.NumGoroutine()
	t.Cleanup(func() {
		deadline := time.Now().Add(5 * time.Second)
		for {
			n := runtime.NumGoroutine()
			if n <= before {
				return
			}
			if time.Now().After(deadline) {
				buf := make([]byte, 1<<20)
				buf = buf[:runtime.Stack(buf, true)]
				t.Errorf("%d goroutines before the test, %d after:\n%s", before, n, buf)
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	})
}

// logBuffer collects log output for assertions.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logBuffer) contains(s string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Contains(l.buf.String(), s)
}

func (l *logBuffer) logger() *slog.Logger {
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug}))
}
