package zrpc

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gozeo/gozeo/pickle"
)

// Tests over net.Pipe run in a synctest bubble: time is virtual (the
// heartbeat tests wait no real time), and the bubble fails the test if any
// goroutine it started is still blocked when the test returns, which checks
// that no goroutine outlives Close.

func TestConnOutOfOrderReplies(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := newPipeConn(t, ConnOptions{})
		ctx := context.Background()
		r1 := goCall(ctx, c, CallOptions{}, "vote", int64(1))
		m1 := p.mustRecv(t)
		r2 := goCall(ctx, c, CallOptions{}, "loadEx", int64(2))
		m2 := p.mustRecv(t)
		if pickle.Repr(m1.ID) == pickle.Repr(m2.ID) {
			t.Fatalf("two calls share msgid %s", pickle.Repr(m1.ID))
		}
		for _, m := range []*Message{m1, m2} {
			if id, ok := m.ID.(int64); !ok || id < 1 || m.Flags != 0 {
				t.Errorf("call %s has msgid %s flags %d, want an int >= 1 and 0", m.Method, pickle.Repr(m.ID), m.Flags)
			}
		}
		p.mustReply(t, m2, "two")
		if r := <-r2; r.err != nil || r.v != "two" {
			t.Errorf("second call = %v, %v; want two", r.v, r.err)
		}
		p.mustReply(t, m1, "one")
		if r := <-r1; r.err != nil || r.v != "one" {
			t.Errorf("first call = %v, %v; want one", r.v, r.err)
		}
	})
}

// The peer's one-way calls are handled before any reply that follows them
// on the wire reaches its caller (docs/protocol.md, Messages, Commit).
func TestConnOneWayCallsBeforeLaterReplies(t *testing.T) {
	for _, tc := range []struct{ call, oneWay string }{
		{"vote", "serialnos"},
		{"loadEx", "invalidateTransaction"},
	} {
		t.Run(tc.oneWay, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				var mu sync.Mutex
				var handled []int64
				handler := func(c *Conn, m *Message) {
					if m.Method != tc.oneWay || m.Flags != FlagAsync {
						t.Errorf("handler got %s flags %d", m.Method, m.Flags)
					}
					args, _ := m.Args.(pickle.Tuple)
					// A slow handler (virtual time): the reply behind it
					// must wait.
					time.Sleep(time.Second)
					mu.Lock()
					handled = append(handled, args[0].(int64))
					mu.Unlock()
				}
				c, p := newPipeConn(t, ConnOptions{Handler: handler})
				for i := range int64(50) {
					r := goCall(context.Background(), c, CallOptions{}, tc.call)
					m := p.mustRecv(t)
					p.mustSend(t, &Message{ID: int64(0), Flags: FlagAsync, Method: tc.oneWay, Args: pickle.Tuple{i}})
					p.mustReply(t, m, pickle.None)
					if r := <-r; r.err != nil {
						t.Fatal(r.err)
					}
					mu.Lock()
					n := len(handled)
					mu.Unlock()
					if n != int(i)+1 {
						t.Fatalf("%s reply delivered before the %s sent ahead of it was handled", tc.call, tc.oneWay)
					}
				}
			})
		})
	}
}

func TestConnConcurrentCalls(t *testing.T) {
	checkNoLeaks(t)
	addr := newEchoServer(t)
	c := dialConn(t, addr, ConnOptions{})
	const workers, calls = 64, 50
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range int64(workers) {
		wg.Go(func() {
			for i := range int64(calls) {
				v, err := c.Call(context.Background(), "echo", w, i, "x")
				if err != nil {
					errs <- err
					return
				}
				want := pickle.Repr(pickle.Tuple{w, i, "x"})
				if got := pickle.Repr(v); got != want {
					errs <- fmt.Errorf("worker %d got %s, want %s", w, got, want)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if n := c.pendingCount(); n != 0 {
		t.Errorf("%d pending calls left after all returned", n)
	}
}

func TestConnCancel(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs logBuffer
		c, p := newPipeConn(t, ConnOptions{Logger: logs.logger()})
		ctx, cancel := context.WithCancel(context.Background())
		r := goCall(ctx, c, CallOptions{}, "pack")
		m := p.mustRecv(t)
		cancel()
		res := <-r
		if !errors.Is(res.err, context.Canceled) {
			t.Fatalf("cancelled call returned %v, %v; want context.Canceled", res.v, res.err)
		}
		if n := c.pendingCount(); n != 0 {
			t.Errorf("cancelled call left %d pending slots", n)
		}
		// The late reply must not reach anyone, in particular not the
		// next call.
		p.mustReply(t, m, "late")
		r2 := goCall(context.Background(), c, CallOptions{}, "lastTransaction")
		m2 := p.mustRecv(t)
		p.mustReply(t, m2, "fresh")
		if res := <-r2; res.err != nil || res.v != "fresh" {
			t.Errorf("call after a late reply = %v, %v; want fresh", res.v, res.err)
		}
		if !logs.contains("dropping reply to no pending call") {
			t.Error("late reply not logged at debug level")
		}
	})
}

// A call whose context is already done does not leave its slot behind.
func TestConnCallWithDoneContext(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := newPipeConn(t, ConnOptions{})
		go func() { // drain whatever gets sent
			for {
				if _, err := p.recv(); err != nil {
					return
				}
			}
		}()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		for range 20 {
			if _, err := c.Call(ctx, "ping"); !errors.Is(err, context.Canceled) {
				t.Fatalf("call with a cancelled context = %v", err)
			}
		}
		if n := c.pendingCount(); n != 0 {
			t.Errorf("%d pending slots left", n)
		}
	})
}

func assertDisconnected(t *testing.T, err error, method string, cause error) {
	t.Helper()
	if !errors.Is(err, ErrDisconnected) {
		t.Fatalf("%s: err = %v, want ErrDisconnected", method, err)
	}
	var de *DisconnectedError
	if !errors.As(err, &de) {
		t.Fatalf("%s: err %T is not a *DisconnectedError", method, err)
	}
	if de.Method != method {
		t.Errorf("DisconnectedError.Method = %q, want %q", de.Method, method)
	}
	if cause != nil && !errors.Is(err, cause) {
		t.Errorf("%s: err = %v, want cause %v", method, err, cause)
	}
}

func TestConnPeerCloseMidFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := newPipeConn(t, ConnOptions{})
		r := goCall(context.Background(), c, CallOptions{}, "loadEx", pickle.Bytes(testOID))
		p.mustRecv(t)
		// A header announcing 100 bytes, 10 of them, then the end.
		if _, err := p.conn.Write([]byte("\x00\x00\x00\x640123456789")); err != nil {
			t.Fatal(err)
		}
		p.conn.Close()
		assertDisconnected(t, (<-r).err, "loadEx", io.ErrUnexpectedEOF)
		<-c.Done()
		assertDisconnected(t, c.Err(), "", io.ErrUnexpectedEOF)
		_, err := c.Call(context.Background(), "tpc_abort")
		assertDisconnected(t, err, "tpc_abort", io.ErrUnexpectedEOF)
		assertDisconnected(t, c.Notify(context.Background(), "storea"), "storea", io.ErrUnexpectedEOF)
		assertDisconnected(t, c.Reply(context.Background(), int64(3), pickle.None), ReplyMethod, io.ErrUnexpectedEOF)
	})
}

func TestConnPeerCleanClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := newPipeConn(t, ConnOptions{})
		r := goCall(context.Background(), c, CallOptions{}, "vote")
		p.mustRecv(t)
		p.conn.Close()
		assertDisconnected(t, (<-r).err, "vote", io.EOF)
	})
}

func TestConnGarbageFrame(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var logs logBuffer
		c, p := newPipeConn(t, ConnOptions{Logger: logs.logger()})
		r := goCall(context.Background(), c, CallOptions{}, "loadBefore")
		p.mustRecv(t)
		if err := p.fw.WriteFrame([]byte("\x80\x02garbage")); err != nil {
			t.Fatal(err)
		}
		if err := p.fw.Flush(); err != nil {
			t.Fatal(err)
		}
		err := (<-r).err
		assertDisconnected(t, err, "loadBefore", nil)
		var de *testDecodeError
		if !errors.As(err, &de) {
			t.Errorf("disconnection cause %v does not hold the decode error", err)
		}
		<-c.Done()
		if !logs.contains("undecodable message") {
			t.Error("decode failure not logged")
		}
		// The transport was closed: the peer sees it.
		if _, err := p.recv(); err == nil {
			t.Error("peer still connected after an undecodable message")
		}
	})
}

func TestConnCloseWithCallsInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := newPipeConn(t, ConnOptions{})
		// The peer reads nothing: the writer is stuck in a write and the
		// calls wait for replies that never come.
		var rs []<-chan callResult
		for i := range 5 {
			rs = append(rs, goCall(context.Background(), c, CallOptions{}, fmt.Sprintf("call%d", i)))
		}
		synctest.Wait()
		if err := c.Close(); err != nil {
			t.Errorf("Close = %v", err)
		}
		for i, r := range rs {
			assertDisconnected(t, (<-r).err, fmt.Sprintf("call%d", i), ErrClosed)
		}
		_, err := c.Call(context.Background(), "after")
		assertDisconnected(t, err, "after", ErrClosed)
		if err := c.Close(); err != nil {
			t.Errorf("second Close = %v", err)
		}
		_ = p
	})
}

func TestConnNoGoroutineLeakOverTCP(t *testing.T) {
	checkNoLeaks(t)
	addr := newEchoServer(t)
	for range 3 {
		c := dialConn(t, addr, ConnOptions{HeartbeatInterval: time.Hour})
		if _, err := c.Call(context.Background(), "ping"); err != nil {
			t.Fatal(err)
		}
		r := goCall(context.Background(), c, CallOptions{}, "block-in-queue")
		c.Close()
		if err := (<-r).err; err != nil && !errors.Is(err, ErrDisconnected) {
			t.Errorf("call racing Close = %v", err)
		}
	}
}

func TestConnHeartbeatWhenIdle(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		const interval = 30 * time.Second
		c, p := newPipeConn(t, ConnOptions{HeartbeatInterval: interval})
		start := time.Now()
		m := p.mustRecv(t)
		if !m.IsHeartbeat() || m.Flags != 0 || !pickle.IsNone(m.Args) {
			t.Fatalf("idle connection sent %s, want the heartbeat (-1, 0, .reply, None)", pickle.Repr(pickle.Tuple{m.ID, int64(m.Flags), m.Method, m.Args}))
		}
		if waited := time.Since(start); waited < interval {
			t.Errorf("heartbeat after %v of idleness, want %v", waited, interval)
		}

		// A connection that keeps sending sends no heartbeat.
		busyUntil := time.Now().Add(3 * interval)
		for time.Now().Before(busyUntil) {
			time.Sleep(interval / 3)
			if err := c.Notify(context.Background(), "storea"); err != nil {
				t.Fatal(err)
			}
			if m := p.mustRecv(t); m.Method != "storea" {
				t.Fatalf("busy connection sent %s", m.Method)
			}
		}
		if m := p.mustRecv(t); !m.IsHeartbeat() {
			t.Fatalf("got %s, want a heartbeat once idle again", m.Method)
		}
	})
}

func TestConnNoHeartbeatByDefault(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := newPipeConn(t, ConnOptions{})
		got := make(chan *Message, 1)
		go func() {
			m, err := p.recv()
			if err == nil {
				got <- m
			}
			close(got)
		}()
		time.Sleep(24 * time.Hour)
		synctest.Wait()
		select {
		case m := <-got:
			t.Fatalf("connection without heartbeat sent %s", m.Method)
		default:
		}
		c.Close()
		p.conn.Close()
	})
}

func TestConnErrorReply(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := newPipeConn(t, ConnOptions{})
		r := goCall(context.Background(), c, CallOptions{}, "loadBefore", pickle.Bytes(testOID))
		m := p.mustRecv(t)
		p.mustSend(t, &Message{ID: m.ID, Flags: FlagError, Method: ReplyMethod,
			Args: pickle.Tuple{"ZODB.POSException.POSKeyError", pickle.Tuple{pickle.Bytes(testOID)}}})
		var re *RemoteError
		if err := (<-r).err; !errors.As(err, &re) {
			t.Fatalf("error reply returned %v, want a *RemoteError", err)
		}
		if re.Method != "loadBefore" || re.Class != "ZODB.POSException.POSKeyError" {
			t.Errorf("RemoteError = %+v", re)
		}

		// A 4.x-shaped error, then a legitimate (data, tid) pair.
		r = goCall(context.Background(), c, CallOptions{}, "loadEx")
		m = p.mustRecv(t)
		p.mustReply(t, m, pickle.Tuple{posKeyError, reconInstance(posKeyError, pickle.Tuple{testOID})})
		if err := (<-r).err; !errors.As(err, &re) || re.Method != "loadEx" {
			t.Fatalf("4.x error reply returned %v", err)
		}
		r = goCall(context.Background(), c, CallOptions{}, "loadEx")
		m = p.mustRecv(t)
		p.mustReply(t, m, pickle.Tuple{pickle.ByteString("data"), testTID})
		if res := <-r; res.err != nil {
			t.Fatalf("(data, tid) reply returned %v", res.err)
		}
	})
}

func TestConnUnencodableCall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := newPipeConn(t, ConnOptions{})
		_, err := c.Call(context.Background(), "store", 1.5) // the test codec has no floats
		if !errors.Is(err, errTestUnsupported) {
			t.Fatalf("unencodable call = %v", err)
		}
		if n := c.pendingCount(); n != 0 {
			t.Errorf("%d pending slots left", n)
		}
		r := goCall(context.Background(), c, CallOptions{}, "ping")
		p.mustReply(t, p.mustRecv(t), pickle.None)
		if res := <-r; res.err != nil {
			t.Errorf("connection unusable after an encoding error: %v", res.err)
		}
	})
}

// OnReply runs before the frame after the reply is read, so before the
// handler sees a call that follows the reply.
func TestConnOnReplyOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var order []string
		record := func(s string) {
			mu.Lock()
			order = append(order, s)
			mu.Unlock()
		}
		c, p := newPipeConn(t, ConnOptions{Handler: func(c *Conn, m *Message) { record(m.Method) }})
		r := goCall(context.Background(), c, CallOptions{OnReply: func(m *Message) { record("OnReply") }}, "auth_response")
		m := p.mustRecv(t)
		p.mustReply(t, m, true)
		p.mustSend(t, &Message{ID: int64(0), Flags: FlagAsync, Method: "info", Args: pickle.Tuple{}})
		if res := <-r; res.err != nil || res.v != true {
			t.Fatalf("call = %v, %v", res.v, res.err)
		}
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if fmt.Sprint(order) != "[OnReply info]" {
			t.Errorf("order = %v, want [OnReply info]", order)
		}
	})
}

// A server answers calls later, from another goroutine, echoing the msgid
// whatever its type; the client's heartbeat never reaches the handler.
func TestConnServerRole(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		calls := make(chan *Message, 4)
		c, p := newPipeConn(t, ConnOptions{Handler: func(c *Conn, m *Message) { calls <- m }})
		id := pickle.Tuple{pickle.Bytes(testOID), pickle.Bytes(testTID)} // ZEO 5 loadBefore msgid
		p.mustSend(t, &Message{ID: int64(-1), Method: ReplyMethod, Args: pickle.None})
		p.mustSend(t, &Message{ID: id, Method: "loadBefore", Args: pickle.Tuple{pickle.Bytes(testOID), pickle.Bytes(testTID)}})
		m := <-calls
		if m.Method != "loadBefore" {
			t.Fatalf("handler got %s first", m.Method)
		}
		go func() { _ = c.Reply(context.Background(), m.ID, pickle.None) }()
		got := p.mustRecv(t)
		if !got.IsReply() || pickle.Repr(got.ID) != pickle.Repr(id) {
			t.Errorf("reply %s to msgid %s, want msgid %s", got.Method, pickle.Repr(got.ID), pickle.Repr(id))
		}
		if err := c.Err(); err != nil {
			t.Errorf("heartbeat broke the connection: %v", err)
		}
	})
}

func TestConnAdaptEncoding(t *testing.T) {
	for _, adapt := range []bool{true, false} {
		t.Run(fmt.Sprint("adapt=", adapt), func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				handler := func(c *Conn, m *Message) { _ = c.Reply(context.Background(), m.ID, "ok") }
				c, p := newPipeConn(t, ConnOptions{Encoding: codecA, AdaptEncoding: adapt, Handler: handler})
				p.enc = codecB
				p.mustSend(t, &Message{ID: int64(7), Method: "register", Args: pickle.Tuple{"1", false}})
				payload, err := p.fr.ReadFrame()
				if err != nil {
					t.Fatal(err)
				}
				want := byte('A')
				if adapt {
					want = 'B'
				}
				if payload[0] != want || c.Encoding().Name() != "test-"+string(want) {
					t.Errorf("reply in dialect %c, Encoding %s; want %c", payload[0], c.Encoding().Name(), want)
				}
			})
		})
	}
}

func TestConnAbortFromHandler(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		errBad := errors.New("invalid method name")
		c, p := newPipeConn(t, ConnOptions{Handler: func(c *Conn, m *Message) { c.Abort(errBad) }})
		r := goCall(context.Background(), c, CallOptions{}, "vote")
		p.mustRecv(t)
		p.mustSend(t, &Message{ID: int64(0), Flags: FlagAsync, Method: "_private", Args: pickle.Tuple{}})
		assertDisconnected(t, (<-r).err, "vote", errBad)
	})
}

func TestConnFlush(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c, p := newPipeConn(t, ConnOptions{})
		got := make(chan string, 2)
		go func() {
			for {
				m, err := p.recv()
				if err != nil {
					close(got)
					return
				}
				got <- m.Method
			}
		}()
		if err := c.Notify(context.Background(), "last"); err != nil {
			t.Fatal(err)
		}
		if err := c.Flush(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.Close()
		if m := <-got; m != "last" {
			t.Errorf("message sent before Flush+Close not received: %q", m)
		}
	})
}

// writeCounter counts the writes reaching the transport.
type writeCounter struct {
	w      io.Writer
	writes atomic.Int64
}

func (wc *writeCounter) Write(p []byte) (int, error) {
	wc.writes.Add(1)
	return wc.w.Write(p)
}

// Frames queued while the writer is busy go out together, one write for
// many frames.
func TestConnCoalescesWrites(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a, b := net.Pipe()
		wc := &writeCounter{w: a}
		c := NewConn(NewFrameReader(a), NewFrameWriter(wc), a, ConnOptions{Encoding: codecA})
		defer c.Close()
		defer b.Close()
		p := newPeer(b)
		const frames = 100
		var wg sync.WaitGroup
		for i := range int64(frames) {
			wg.Go(func() {
				if err := c.Notify(context.Background(), "storea", i); err != nil {
					t.Error(err)
				}
			})
		}
		wg.Wait()       // all queued; the writer is blocked writing the first
		synctest.Wait() // until the peer reads
		for range frames {
			p.mustRecv(t)
		}
		if n := wc.writes.Load(); n > 3 {
			t.Errorf("%d frames queued together took %d writes", frames, n)
		}
	})
}
