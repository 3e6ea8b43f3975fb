package zeo_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/zeo"
)

// blobProfiles are the test-server profiles whose generation has blobs.
func blobProfiles(t *testing.T) []testserver.Profile {
	var ps []testserver.Profile
	for _, p := range profiles(t) {
		if p.Announce().Capabilities().Blobs {
			ps = append(ps, p)
		}
	}
	if len(ps) < 8 {
		t.Fatalf("only %d profiles with blobs", len(ps))
	}
	return ps
}

// blobData is a reproducible stream of n pseudo-random bytes, never held
// whole in memory.
func blobData(n int64, seed uint64) io.Reader {
	return io.LimitReader(rand.NewChaCha8([32]byte{byte(seed), byte(seed >> 8)}), n)
}

func sha256Of(t testing.TB, r io.Reader) (string, int64) {
	t.Helper()
	h := sha256.New()
	n, err := io.Copy(h, r)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%x", h.Sum(nil)), n
}

// peakHeap samples HeapInuse until stop is called, which returns the
// peak above the level when it started.
func peakHeap() (stop func() uint64) {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(2 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				runtime.ReadMemStats(&ms)
				peak = max(peak, ms.HeapInuse)
			}
		}
	}()
	return func() uint64 {
		close(done)
		wg.Wait()
		return peak - base
	}
}

// storeBlob commits one new blob read from r and returns its oid and tid.
func storeBlob(t testing.TB, c *zeo.Client, r io.Reader) (zeo.OID, zeo.TID) {
	t.Helper()
	ctx := ctxT(t)
	o, err := c.NewOID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := c.Begin(ctx, zeo.TxnMeta{User: "blob test"})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Abort(ctx)
	if err := tx.StoreBlob(ctx, o, zeo.TID{}, r); err != nil {
		t.Fatalf("StoreBlob: %v", err)
	}
	tid, err := tx.Finish(ctx)
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	return o, tid
}

// TestBlobMatrix stores a 150 KB and a 50 MiB blob on every profile with
// blobs and loads them back in another client, with its own empty blob
// cache: same sha256, and the heap never holds the blob (peak measured
// across store and load).
func TestBlobMatrix(t *testing.T) {
	sizes := []int64{150_000, 50 << 20}
	for _, p := range blobProfiles(t) {
		t.Run(p.Name, func(t *testing.T) {
			srv := testserver.Start(t, testserver.Options{Profile: p.Name})
			writer := dialT(t, srv.Addr(), &zeo.Options{Versions: []zeo.Version{p.Announce()}})
			reader := dialT(t, srv.Addr(), &zeo.Options{BlobDir: t.TempDir()})
			for i, size := range sizes {
				if size > 1<<20 && raceEnabled && p.Name != "z5-py3" && p.Name != "z308-py24" {
					t.Logf("%d-byte blob skipped under -race on this profile", size)
					continue
				}
				want, _ := sha256Of(t, blobData(size, uint64(i)))
				stop := peakHeap()
				o, tid := storeBlob(t, writer, blobData(size, uint64(i)))
				r, err := reader.Load(ctxT(t), o)
				if err != nil || r.Serial != tid || !bytes.Equal(r.Data, reader.BlobRecord()) {
					t.Fatalf("Load of the blob's record = %s %q, %v", r.Serial, r.Data, err)
				}
				b, err := reader.LoadBlob(ctxT(t), o, tid)
				if err != nil {
					t.Fatalf("LoadBlob: %v", err)
				}
				got, n := sha256Of(t, b)
				b.Close()
				peak := stop()
				if got != want || n != size || b.Size != size {
					t.Errorf("%d-byte blob came back as %d bytes, sha256 %s, want %s", size, n, got, want)
				}
				t.Logf("%s: %d-byte blob stored and loaded; heap peak +%.1f MiB", p.Name, size, float64(peak)/(1<<20))
				if size > 1<<20 && peak > uint64(size)/2 {
					t.Errorf("heap grew by %d bytes for a %d-byte blob: not bounded", peak, size)
				}
			}
		})
	}
}

func TestBlobSharedDir(t *testing.T) {
	for _, name := range []string{"z308-py24", "z3101-py27", "z5-py3"} {
		t.Run(name, func(t *testing.T) {
			srv := testserver.Start(t, testserver.Options{Profile: name})
			shared := &zeo.Options{BlobDir: srv.BlobDir(), SharedBlobDir: true}
			a := dialT(t, srv.Addr(), shared)
			want, _ := sha256Of(t, blobData(200_000, 7))
			o, tid := storeBlob(t, a, blobData(200_000, 7))
			// The server put it in its own layout, where a shared client reads it.
			b, err := dialT(t, srv.Addr(), shared).LoadBlob(ctxT(t), o, tid)
			if err != nil {
				t.Fatalf("shared LoadBlob: %v", err)
			}
			if got, _ := sha256Of(t, b); got != want {
				t.Errorf("shared load sha256 %s, want %s", got, want)
			}
			b.Close()
			if !strings.HasPrefix(b.Path, srv.BlobDir()) || !strings.HasSuffix(b.Path, tid.Repr()+".blob") {
				t.Errorf("shared blob path %s", b.Path)
			}
			// A client with its own cache gets it over the connection.
			c := dialT(t, srv.Addr(), &zeo.Options{BlobDir: t.TempDir()})
			b, err = c.LoadBlob(ctxT(t), o, tid)
			if err != nil {
				t.Fatal(err)
			}
			if got, _ := sha256Of(t, b); got != want {
				t.Errorf("downloaded sha256 %s, want %s", got, want)
			}
			b.Close()
			_, err = a.LoadBlob(ctxT(t), o, zeo.TID{1})
			var nf *zeo.NotFoundError
			if !errors.As(err, &nf) || !nf.Blob {
				t.Errorf("missing shared blob: %v, want a *NotFoundError for a blob", err)
			}
		})
	}
}

// TestBlobConcurrentStores: two goroutines store blobs in one transaction
// at once; their chunk sequences must not interleave (ZEO#150).
func TestBlobConcurrentStores(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Profile: "z3101-py27"})
	c := dialT(t, srv.Addr(), nil)
	ctx := ctxT(t)
	oids, err := c.NewOIDs(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := c.Begin(ctx, zeo.TxnMeta{})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i, o := range oids {
		wg.Go(func() {
			if err := tx.StoreBlob(ctx, o, zeo.TID{}, blobData(400_000+int64(i), uint64(i))); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	tid, err := tx.Finish(ctx)
	if err != nil {
		t.Fatal(err)
	}
	r := dialT(t, srv.Addr(), &zeo.Options{BlobDir: t.TempDir()})
	for i, o := range oids {
		want, _ := sha256Of(t, blobData(400_000+int64(i), uint64(i)))
		b, err := r.LoadBlob(ctx, o, tid)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := sha256Of(t, b); got != want {
			t.Errorf("blob %d interleaved: sha256 %s, want %s", i, got, want)
		}
		b.Close()
	}
}

// callCounter counts the server's calls of one method from its debug log.
type callCounter struct {
	method string
	n      atomic.Int64
}

func (h *callCounter) Enabled(context.Context, slog.Level) bool { return true }
func (h *callCounter) Handle(_ context.Context, r slog.Record) error {
	if r.Message == "testserver: call" {
		r.Attrs(func(a slog.Attr) bool {
			if a.Key == "method" && a.Value.String() == h.method {
				h.n.Add(1)
			}
			return true
		})
	}
	return nil
}
func (h *callCounter) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *callCounter) WithGroup(string) slog.Handler      { return h }

func TestBlobConcurrentLoadsFetchOnce(t *testing.T) {
	count := &callCounter{method: "sendBlob"}
	srv := testserver.Start(t, testserver.Options{Profile: "z5-py3", Logger: slog.New(count)})
	o, tid := storeBlob(t, dialT(t, srv.Addr(), nil), blobData(3<<20, 1))
	want, _ := sha256Of(t, blobData(3<<20, 1))
	c := dialT(t, srv.Addr(), &zeo.Options{BlobDir: t.TempDir()})
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			b, err := c.LoadBlob(ctxT(t), o, tid)
			if err != nil {
				t.Error(err)
				return
			}
			defer b.Close()
			if got, _ := sha256Of(t, b); got != want {
				t.Errorf("sha256 %s", got)
			}
		})
	}
	wg.Wait()
	if n := count.n.Load(); n != 1 {
		t.Errorf("8 concurrent loads made %d sendBlob calls, want 1", n)
	}
}

func TestBlobErrors(t *testing.T) {
	t.Run("not-found", func(t *testing.T) {
		srv := testserver.Start(t, testserver.Options{Profile: "z308-py27"})
		c := dialT(t, srv.Addr(), &zeo.Options{BlobDir: t.TempDir()})
		_, err := c.LoadBlob(ctxT(t), oid(42), zeo.TID{3})
		var nf *zeo.NotFoundError
		if !errors.As(err, &nf) || !nf.Blob || nf.OID != oid(42) || !errors.Is(err, zeo.ErrNotFound) {
			t.Fatalf("LoadBlob of a missing blob: %v", err)
		}
		if c.Err() != nil {
			t.Errorf("connection lost: %v", c.Err())
		}
	})
	t.Run("no-blob-generation", func(t *testing.T) {
		for _, name := range []string{"z201-py24", "z303-py24"} {
			srv := testserver.Start(t, testserver.Options{Profile: name})
			c := dialT(t, srv.Addr(), &zeo.Options{BlobDir: t.TempDir()})
			_, err := c.LoadBlob(ctxT(t), oid(1), zeo.TID{3})
			var ue *zeo.UnsupportedError
			if !errors.As(err, &ue) || ue.Method != "sendBlob" {
				t.Errorf("%s: LoadBlob = %v, want an *UnsupportedError", name, err)
			}
			tx, err := c.Begin(ctxT(t), zeo.TxnMeta{})
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.StoreBlob(ctxT(t), oid(1), zeo.TID{}, strings.NewReader("x")); !errors.Is(err, zeo.ErrUnsupported) {
				t.Errorf("%s: StoreBlob = %v, want ErrUnsupported", name, err)
			}
			if err := tx.Abort(ctxT(t)); err != nil || c.Err() != nil {
				t.Errorf("%s: the connection suffered: %v %v", name, err, c.Err())
			}
		}
	})
	t.Run("storage-without-blobs", func(t *testing.T) {
		srv := testserver.Start(t, testserver.Options{Profile: "z5-py3", NoBlobs: true})
		c := dialT(t, srv.Addr(), &zeo.Options{BlobDir: t.TempDir()})
		tx, err := c.Begin(ctxT(t), zeo.TxnMeta{})
		if err != nil {
			t.Fatal(err)
		}
		err = tx.StoreBlob(ctxT(t), oid(1), zeo.TID{}, strings.NewReader("x"))
		var ue *zeo.UnsupportedError
		if !errors.As(err, &ue) || !strings.Contains(err.Error(), "no blob") {
			t.Errorf("StoreBlob = %v, want an *UnsupportedError about the storage", err)
		}
		// Nothing was sent: ZEO 5 would have dropped the connection.
		if _, err := tx.Finish(ctxT(t)); err != nil || c.Err() != nil {
			t.Errorf("transaction after the refusal: %v (client: %v)", err, c.Err())
		}
	})
	t.Run("no-blob-dir", func(t *testing.T) {
		srv := testserver.Start(t, testserver.Options{})
		c := dialT(t, srv.Addr(), nil)
		if _, err := c.LoadBlob(ctxT(t), oid(1), zeo.TID{3}); !errors.Is(err, zeo.ErrNoBlobDir) {
			t.Errorf("LoadBlob without BlobDir = %v", err)
		}
	})
	t.Run("unwritable-cache", func(t *testing.T) {
		srv := testserver.Start(t, testserver.Options{})
		o, tid := storeBlob(t, dialT(t, srv.Addr(), nil), strings.NewReader("blob"))
		dir := t.TempDir()
		c := dialT(t, srv.Addr(), &zeo.Options{BlobDir: dir})
		// The oid's directory cannot be made: a file is in its way (the
		// same path as a full disk or a read-only directory, which root,
		// running CI here, would not see).
		if err := os.WriteFile(filepath.Dir(c.BlobCache().Path(o, tid)), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		_, err := c.LoadBlob(ctxT(t), o, tid)
		var de *zeo.BlobDirError
		if !errors.As(err, &de) || !strings.Contains(err.Error(), dir) || !errors.Is(err, syscall.ENOTDIR) {
			t.Errorf("LoadBlob into an unusable cache = %v, want a *BlobDirError naming %s", err, dir)
		}
	})
	t.Run("cut-mid-transfer", func(t *testing.T) {
		srv := testserver.Start(t, testserver.Options{Profile: "z3101-py27"})
		o, tid := storeBlob(t, dialT(t, srv.Addr(), nil), blobData(2<<20, 3))
		srv.SetFaults(testserver.Faults{Rules: []testserver.FaultRule{{Method: "sendBlob", Action: testserver.FaultCutTransfer}}})
		dir := t.TempDir()
		c := dialT(t, srv.Addr(), &zeo.Options{BlobDir: dir})
		_, err := c.LoadBlob(ctxT(t), o, tid)
		if !errors.Is(err, zeo.ErrDisconnected) {
			t.Fatalf("LoadBlob cut off = %v, want ErrDisconnected", err)
		}
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && (strings.HasSuffix(path, ".blob") || strings.HasSuffix(path, ".dl")) {
				t.Errorf("partial file left behind: %s", path)
			}
			return nil
		})
		// Once the fault is gone the client, reconnected, gets it whole.
		srv.SetFaults(testserver.Faults{})
		b, err := c.LoadBlob(ctxT(t), o, tid)
		if err != nil {
			t.Fatalf("LoadBlob after reconnecting: %v", err)
		}
		defer b.Close()
		if want, _ := sha256Of(t, blobData(2<<20, 3)); func() string { s, _ := sha256Of(t, b); return s }() != want {
			t.Error("blob differs after the retry")
		}
	})
	t.Run("reader-fails-midway", func(t *testing.T) {
		srv := testserver.Start(t, testserver.Options{Profile: "z5-py3"})
		c := dialT(t, srv.Addr(), nil)
		tx, err := c.Begin(ctxT(t), zeo.TxnMeta{})
		if err != nil {
			t.Fatal(err)
		}
		boom := errors.New("boom")
		r := io.MultiReader(blobData(200_000, 1), iotestErr{boom})
		if err := tx.StoreBlob(ctxT(t), oid(7), zeo.TID{}, r); !errors.Is(err, boom) {
			t.Fatalf("StoreBlob = %v, want the reader's error", err)
		}
		if _, err := tx.Vote(ctxT(t)); err == nil || !strings.Contains(err.Error(), "Abort") {
			t.Errorf("Vote after a cut-off StoreBlob = %v, want a refusal", err)
		}
		if err := tx.Abort(ctxT(t)); err != nil {
			t.Fatal(err)
		}
		// The connection is sound: the next transaction stores a blob.
		storeBlob(t, c, strings.NewReader("next"))
		if c.Err() != nil {
			t.Errorf("client lost: %v", c.Err())
		}
	})
}

type iotestErr struct{ err error }

func (e iotestErr) Read([]byte) (int, error) { return 0, e.err }

// TestBlobEviction loads blobs into a small cache while a reader holds one
// of the oldest open: eviction removes least recently used files, never
// the open one, and brings the cache under its bound.
func TestBlobEviction(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	w := dialT(t, srv.Addr(), nil)
	const size = 100_000
	type rev struct {
		o   zeo.OID
		tid zeo.TID
	}
	var revs []rev
	for i := range 10 {
		o, tid := storeBlob(t, w, blobData(size, uint64(i)))
		revs = append(revs, rev{o, tid})
	}
	dir := t.TempDir()
	c := dialT(t, srv.Addr(), &zeo.Options{BlobDir: dir, BlobCacheSize: 5 * size})
	ctx := ctxT(t)
	var held *zeo.Blob
	for i, r := range revs {
		b, err := c.LoadBlob(ctx, r.o, r.tid)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			held = b // the least recently used, but open
			continue
		}
		b.Close()
		time.Sleep(10 * time.Millisecond) // distinct access times
	}
	defer held.Close()
	left, err := c.BlobCache().Shrink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if left > 5*size {
		t.Errorf("cache holds %d bytes after Shrink, bound %d", left, 5*size)
	}
	if _, err := os.Stat(held.Path); err != nil {
		t.Errorf("the open blob was evicted: %v", err)
	}
	if _, err := os.Stat(c.BlobCache().Path(revs[1].o, revs[1].tid)); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the least recently used closed blob was kept: %v", err)
	}
	if _, err := os.Stat(c.BlobCache().Path(revs[9].o, revs[9].tid)); err != nil {
		t.Errorf("the most recent blob was evicted: %v", err)
	}
	if got, _ := sha256Of(t, held); got == "" {
		t.Error("cannot read the held blob")
	}
	// An evicted blob comes back from the server.
	b, err := c.LoadBlob(ctx, revs[1].o, revs[1].tid)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
}
