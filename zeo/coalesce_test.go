package zeo

import (
	"bytes"
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/zodb"
)

// gatedConn holds the client's reads while the gate is shut, so that a
// reply stays unread for as long as a test needs, and counts the loads
// the client writes.
type gatedConn struct {
	net.Conn
	mu    sync.Mutex
	shut  chan struct{} // non-nil: reads wait until it is closed
	loads int
}

// Read holds what it read, not the read itself: the client's read
// goroutine is usually already inside Read when the gate shuts.
func (g *gatedConn) Read(p []byte) (int, error) {
	n, err := g.Conn.Read(p)
	g.mu.Lock()
	shut := g.shut
	g.mu.Unlock()
	if shut != nil {
		<-shut
	}
	return n, err
}

func (g *gatedConn) Write(p []byte) (int, error) {
	g.mu.Lock()
	g.loads += bytes.Count(p, []byte("loadBefore"))
	g.mu.Unlock()
	return g.Conn.Write(p)
}

// waitFor polls cond, giving up (as a hang guard, not an assertion on
// timing) after a generous while.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for start := time.Now(); !cond(); time.Sleep(time.Millisecond) {
		if time.Since(start) > time.Minute {
			t.Fatal("condition never reached")
		}
	}
}

// TestLoadCoalesced: concurrent loads of one oid send one request; the
// caller that started it may leave without failing the others, and each
// of them gets its own copy of the data.
func TestLoadCoalesced(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Profile: "z5-py3"})
	oid := zodb.OIDFromUint64(7)
	if _, err := srv.Store().SeedMany(context.Background(), map[zodb.OID][]byte{oid: []byte("shared record")}); err != nil {
		t.Fatal(err)
	}
	var gc *gatedConn
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		nc, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			gc = &gatedConn{Conn: nc}
		}
		return gc, err
	}
	c, err := Dial(context.Background(), srv.Addr(), &Options{DialContext: dial})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()

	gate := make(chan struct{})
	gc.mu.Lock()
	gc.shut = gate
	gc.mu.Unlock()

	inFlight := func(joined int) func() bool {
		return func() bool {
			c.loads.mu.Lock()
			defer c.loads.mu.Unlock()
			for _, cl := range c.loads.calls {
				return cl.joined == joined
			}
			return false
		}
	}
	type result struct {
		rev Revision
		err error
	}
	load := func(ctx context.Context) <-chan result {
		ch := make(chan result, 1)
		go func() {
			rev, err := c.Load(ctx, oid)
			ch <- result{rev, err}
		}()
		return ch
	}

	ctxA, cancelA := context.WithCancel(context.Background())
	a := load(ctxA)
	waitFor(t, inFlight(0))
	b, d := load(context.Background()), load(context.Background())
	waitFor(t, inFlight(2))

	cancelA()
	if r := <-a; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("the first caller, cancelled: %v, want context.Canceled", r.err)
	}
	close(gate)
	rb, rd := <-b, <-d
	for _, r := range []result{rb, rd} {
		if r.err != nil || string(r.rev.Data) != "shared record" {
			t.Fatalf("joined caller: %q, %v", r.rev.Data, r.err)
		}
	}
	gc.mu.Lock()
	n := gc.loads
	gc.mu.Unlock()
	if n != 1 {
		t.Errorf("%d loadBefore requests sent, want 1", n)
	}
	c.loads.mu.Lock()
	left := len(c.loads.calls)
	c.loads.mu.Unlock()
	if left != 0 {
		t.Errorf("%d loads left in the table", left)
	}
}
