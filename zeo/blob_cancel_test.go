package zeo_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/zeo"
)

// readGate stands between a client and the server. Once armed it lets a
// given number of bytes reach the client, then holds every read until
// released, so that a test can act in the middle of a blob's stream. It
// also reports each sendBlob call the client writes.
type readGate struct {
	mu    sync.Mutex
	armed bool
	left  int

	held, released     chan struct{}
	heldOnce, relsOnce sync.Once
	sends              chan struct{} // a token per sendBlob written
}

func newReadGate() *readGate {
	return &readGate{held: make(chan struct{}), released: make(chan struct{}), sends: make(chan struct{}, 16)}
}

func (g *readGate) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &gatedConn{Conn: nc, g: g}, nil
}

// arm lets n more bytes through, then holds reads.
func (g *readGate) arm(n int) {
	g.mu.Lock()
	g.armed, g.left = true, n
	g.mu.Unlock()
}

// release lets reads go on, for good.
func (g *readGate) release() {
	g.mu.Lock()
	g.armed = false
	g.mu.Unlock()
	g.relsOnce.Do(func() { close(g.released) })
}

type gatedConn struct {
	net.Conn
	g *readGate
}

func (c *gatedConn) Read(p []byte) (int, error) {
	g := c.g
	g.mu.Lock()
	if g.armed && g.left == 0 {
		g.mu.Unlock()
		g.heldOnce.Do(func() { close(g.held) })
		<-g.released
		return c.Conn.Read(p)
	}
	if g.armed && len(p) > g.left {
		p = p[:g.left]
	}
	g.mu.Unlock()
	n, err := c.Conn.Read(p)
	g.mu.Lock()
	if g.armed {
		g.left -= n
	}
	g.mu.Unlock()
	return n, err
}

func (c *gatedConn) Write(p []byte) (int, error) {
	if bytes.Contains(p, []byte("sendBlob")) {
		c.g.sends <- struct{}{}
	}
	return c.Conn.Write(p)
}

// recv waits for a value from ch, failing the test when ctx ends first.
func recv[T any](t *testing.T, ctx context.Context, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-ctx.Done():
		t.Fatalf("waiting for %s: %v", what, ctx.Err())
	}
	var zero T
	return zero
}

// waitUntil polls cond until it holds, failing the test when ctx ends.
func waitUntil(t *testing.T, ctx context.Context, what string, cond func() bool) {
	t.Helper()
	for !cond() {
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v", what, ctx.Err())
		case <-time.After(time.Millisecond):
		}
	}
}

// TestBlobLoadAfterCancel: a LoadBlob cancelled in the middle of the
// server's stream, then another LoadBlob of the same blob on the same
// client, started after the first gave up ("retry") or while it was still
// running ("concurrent"). The server goes on streaming the cancelled
// transfer ahead of the new one; the new load must ignore those chunks
// and get the whole blob.
func TestBlobLoadAfterCancel(t *testing.T) {
	const size = 8 << 20
	srv := testserver.Start(t, testserver.Options{Profile: "z5-py3"})
	o, tid := storeBlob(t, dialT(t, srv.Addr(), nil), blobData(size, 21))
	want, _ := sha256Of(t, blobData(size, 21))
	for _, mode := range []string{"retry", "concurrent"} {
		t.Run(mode, func(t *testing.T) {
			g := newReadGate()
			dir := t.TempDir()
			c := dialT(t, srv.Addr(), &zeo.Options{BlobDir: dir, DialContext: g.dial})
			t.Cleanup(g.release) // before the client closes
			ctx := ctxT(t)

			type result struct {
				sum  string
				size int64
				err  error
			}
			load := func(ctx context.Context) <-chan result {
				ch := make(chan result, 1)
				go func() {
					b, err := c.LoadBlob(ctx, o, tid)
					if err != nil {
						ch <- result{err: err}
						return
					}
					defer b.Close()
					h := sha256.New()
					n, err := io.Copy(h, b)
					ch <- result{sum: fmt.Sprintf("%x", h.Sum(nil)), size: n, err: err}
				}()
				return ch
			}

			g.arm(1 << 20)
			cctx, cancel := context.WithCancel(ctx)
			defer cancel()
			first := load(cctx)
			recv(t, ctx, g.sends, "the first sendBlob")
			var second <-chan result
			if mode == "concurrent" {
				// It waits for the first one's download.
				second = load(ctx)
			}
			recv(t, ctx, g.held, "the gate to hold the stream")
			dl := c.BlobCache().Path(o, tid) + ".dl"
			waitUntil(t, ctx, "the download to have data", func() bool {
				fi, err := os.Stat(dl)
				return err == nil && fi.Size() > 0
			})
			cancel()
			if r := recv(t, ctx, first, "the cancelled load"); !errors.Is(r.err, context.Canceled) {
				t.Fatalf("cancelled LoadBlob = %v, want context.Canceled", r.err)
			}
			if mode == "retry" {
				if _, err := os.Stat(dl); !errors.Is(err, fs.ErrNotExist) {
					t.Errorf("the cancelled download left %s: %v", filepath.Base(dl), err)
				}
				second = load(ctx)
			}
			// The new transfer is registered before its sendBlob goes out:
			// the rest of the old stream reaches it.
			recv(t, ctx, g.sends, "the second sendBlob")
			g.release()
			r := recv(t, ctx, second, "the second load")
			if r.err != nil {
				t.Fatalf("LoadBlob after a cancelled one: %v", r.err)
			}
			if r.sum != want || r.size != size {
				t.Errorf("LoadBlob after a cancelled one read %d bytes, sha256 %s, want %d bytes %s", r.size, r.sum, size, want)
			}
			if err := c.Err(); err != nil {
				t.Errorf("client broken: %v", err)
			}
			// Nothing but the blob is left in its directory.
			entries, _ := os.ReadDir(filepath.Dir(dl))
			for _, e := range entries {
				if e.Name() != ".lock" && !strings.HasSuffix(e.Name(), ".blob") {
					t.Errorf("left behind: %s", e.Name())
				}
			}
		})
	}
}
