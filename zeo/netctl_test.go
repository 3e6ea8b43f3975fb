package zeo_test

import (
	"context"
	"errors"
	"net"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/internal/testserver/store"
	"github.com/gozeo/gozeo/zeo"
)

// netCtl stands between clients and a server: the test can cut every
// connection (a network failure) and take the server off the network (an
// outage), independently of the server itself.
type netCtl struct {
	mu    sync.Mutex
	down  bool
	conns []net.Conn
	dials int
	// pipeTo, when set, serves each connection in memory over net.Pipe
	// instead of dialling, for tests inside a testing/synctest bubble.
	pipeTo *testserver.Server
	// breakHandshakes counts the connections still to break in the
	// handshake (failHandshakes).
	breakHandshakes int
}

var errUnreachable = errors.New("netctl: server unreachable (test outage)")

func (n *netCtl) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	n.mu.Lock()
	n.dials++
	down := n.down
	n.mu.Unlock()
	if down {
		return nil, errUnreachable
	}
	var nc net.Conn
	if n.pipeTo != nil {
		client, server := net.Pipe()
		go n.pipeTo.ServeConn(server)
		nc = client
	} else {
		var d net.Dialer
		var err error
		if nc, err = d.DialContext(ctx, network, addr); err != nil {
			return nil, err
		}
	}
	n.mu.Lock()
	n.conns = append(n.conns, nc)
	if n.breakHandshakes > 0 {
		n.breakHandshakes--
		nc = handshakeBreaker{nc}
	}
	n.mu.Unlock()
	return nc, nil
}

// cut closes every connection made so far.
func (n *netCtl) cut() {
	n.mu.Lock()
	conns := n.conns
	n.conns = nil
	n.mu.Unlock()
	for _, nc := range conns {
		nc.Close()
	}
}

func (n *netCtl) setDown(down bool) {
	n.mu.Lock()
	n.down = down
	n.mu.Unlock()
}

func (n *netCtl) dialCount() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.dials
}

// statusLog records a client's status events for a test to wait on.
type statusLog struct {
	mu     sync.Mutex
	events []zeo.StatusEvent
	notify chan struct{}
}

func newStatusLog() *statusLog { return &statusLog{notify: make(chan struct{}, 1)} }

func (l *statusLog) record(ev zeo.StatusEvent) {
	l.mu.Lock()
	l.events = append(l.events, ev)
	l.mu.Unlock()
	select {
	case l.notify <- struct{}{}:
	default:
	}
}

func (l *statusLog) all() []zeo.StatusEvent {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]zeo.StatusEvent(nil), l.events...)
}

// waitFor waits until an event after the first skip ones matches, and
// returns its index.
func (l *statusLog) waitFor(t testing.TB, skip int, match func(zeo.StatusEvent) bool) int {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		for i, ev := range l.all() {
			if i >= skip && match(ev) {
				return i
			}
		}
		select {
		case <-l.notify:
		case <-deadline:
			t.Fatalf("no matching status event; got %v", l.all())
		}
	}
}

func isStatus(s zeo.Status) func(zeo.StatusEvent) bool {
	return func(ev zeo.StatusEvent) bool { return ev.Status == s }
}

// reconnecting returns options that reconnect fast through n, recording
// status events in log.
func reconnecting(n *netCtl, log *statusLog) *zeo.Options {
	return &zeo.Options{
		DialContext: n.dial,
		Reconnect:   zeo.ReconnectPolicy{MinDelay: 2 * time.Millisecond, MaxDelay: 20 * time.Millisecond},
		WaitTimeout: 20 * time.Second,
		OnStatus:    log.record,
	}
}

// checkNoLeak fails the test if goroutines started after baseline are
// still running a while after everything was closed.
func checkNoLeak(t *testing.T, baseline int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > baseline {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left, %d before:\n%s", runtime.NumGoroutine(), baseline, buf[:runtime.Stack(buf, true)])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func numGoroutines() int { return runtime.NumGoroutine() }

var contextDeadline = context.DeadlineExceeded

func contextWithTimeout(ctx context.Context, d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, d)
}

// storeOptions are the options of a store cloned outside a server.
func storeOptions() store.Options { return store.Options{Name: "clone"} }

// failHandshakes makes the next n connections break in the version
// handshake: they close as the client sends its reply to the server's
// announcement.
func (n *netCtl) failHandshakes(count int) {
	n.mu.Lock()
	n.breakHandshakes = count
	n.mu.Unlock()
}

// handshakeBreaker closes the connection at its first write.
type handshakeBreaker struct{ net.Conn }

func (h handshakeBreaker) Write(p []byte) (int, error) {
	h.Conn.Close()
	return 0, net.ErrClosed
}
