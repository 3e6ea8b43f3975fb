package blobcache

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gozeo/gozeo/zodb"
)

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func openT(t *testing.T, dir string, max int64) *Cache {
	t.Helper()
	c, err := Open(dir, Options{MaxBytes: max})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func writeBlob(data []byte) func(context.Context, *Download) error {
	return func(_ context.Context, d *Download) error {
		_, err := d.Write(data)
		return err
	}
}

func TestLayoutPaths(t *testing.T) {
	c := openT(t, t.TempDir(), 0)
	tid, _ := zodb.ParseTID("040d769b4f7198ee")
	// The path ZEO 5 and 3.10 clients used in the blobload captures.
	if got, want := c.Path(zodb.OIDFromUint64(2), tid), filepath.Join(c.Dir(), "2", "0.040d769b4f7198ee.blob"); got != want {
		t.Errorf("Path = %s, want %s", got, want)
	}
	if got, want := c.Path(zodb.OIDFromUint64(997*3+5), tid), filepath.Join(c.Dir(), "5", "3.040d769b4f7198ee.blob"); got != want {
		t.Errorf("Path = %s, want %s", got, want)
	}
	// The server's bushy layout, as the 3.8 client's log shows it.
	tid38, _ := zodb.ParseTID("040d769b9433d200")
	want := filepath.Join("r", "0x00", "0x00", "0x00", "0x00", "0x00", "0x00", "0x00", "0x02", "0x040d769b9433d200.blob")
	if got := BushyPath("r", zodb.OIDFromUint64(2), tid38); got != want {
		t.Errorf("BushyPath = %s, want %s", got, want)
	}
	if b, _ := os.ReadFile(filepath.Join(c.Dir(), ".layout")); string(b) != "zeocache" {
		t.Errorf(".layout holds %q", b)
	}
}

func TestLayoutMismatch(t *testing.T) {
	dir := t.TempDir()
	if err := EnsureLayout(dir, LayoutBushy); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir, Options{})
	var de *DirError
	if !errors.As(err, &de) || de.Dir != dir || !strings.Contains(err.Error(), "bushy") {
		t.Errorf("Open of a bushy directory = %v", err)
	}
}

// TestFetchOnceAcrossCaches: two caches on one directory, standing for two
// processes, fetch the same blob concurrently; the directory lock makes
// one download it and the other find it.
func TestFetchOnceAcrossCaches(t *testing.T) {
	dir := t.TempDir()
	caches := []*Cache{openT(t, dir, 0), openT(t, dir, 0)}
	oid, tid := zodb.OIDFromUint64(42), zodb.TIDFromUint64(7)
	data := bytes.Repeat([]byte("x"), 100_000)
	var fetches atomic.Int32
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			f, err := caches[i%2].Fetch(ctxT(t), oid, tid, func(ctx context.Context, d *Download) error {
				fetches.Add(1)
				time.Sleep(20 * time.Millisecond)
				return writeBlob(data)(ctx, d)
			})
			if err != nil {
				t.Error(err)
				return
			}
			defer f.Close()
			got, _ := io.ReadAll(f)
			if !bytes.Equal(got, data) || f.Size != int64(len(data)) {
				t.Errorf("read %d bytes", len(got))
			}
		})
	}
	wg.Wait()
	if n := fetches.Load(); n != 1 {
		t.Errorf("%d downloads, want 1", n)
	}
}

func TestFetchFailureLeavesNothing(t *testing.T) {
	c := openT(t, t.TempDir(), 0)
	oid, tid := zodb.OIDFromUint64(1), zodb.TIDFromUint64(1)
	boom := errors.New("connection lost")
	_, err := c.Fetch(ctxT(t), oid, tid, func(_ context.Context, d *Download) error {
		d.Write([]byte("partial"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Fetch = %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(c.Path(oid, tid)))
	for _, e := range entries {
		if e.Name() != ".lock" {
			t.Errorf("left behind: %s", e.Name())
		}
	}
	if _, err := c.OpenFile(oid, tid); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("OpenFile after a failed fetch = %v", err)
	}
}

func TestShrinkSkipsOpenAndLocked(t *testing.T) {
	const size = 1000
	dir := t.TempDir()
	fill := openT(t, dir, 0) // no automatic check while filling
	ctx := ctxT(t)
	var open *File
	for i := range 8 {
		f, err := fill.Fetch(ctx, zodb.OIDFromUint64(uint64(i)), zodb.TIDFromUint64(1), writeBlob(make([]byte, size)))
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			open = f
		} else {
			f.Close()
		}
		os.Chtimes(f.Name(), time.Unix(int64(1000+i), 0), time.Unix(int64(1000+i), 0))
	}
	defer open.Close()
	c := openT(t, dir, 4*size)
	// Oid 1's directory is locked, as during a download by another process.
	unlock, err := lockDir(ctx, filepath.Dir(c.Path(zodb.OIDFromUint64(1), zodb.TID{})))
	if err != nil {
		t.Fatal(err)
	}
	left, err := c.Shrink(ctx)
	unlock()
	if err != nil {
		t.Fatal(err)
	}
	// Target: 4000 − 400. Oids 0 (open) and 1 (locked) stay; 2…6 go, the
	// oldest first, until it fits; 7 stays.
	if left > 3600 {
		t.Errorf("left %d bytes", left)
	}
	for i, kept := range []bool{true, true, false, false, false, false, false, true} {
		_, err := os.Stat(c.Path(zodb.OIDFromUint64(uint64(i)), zodb.TIDFromUint64(1)))
		if (err == nil) != kept {
			t.Errorf("oid %d: kept %v, want %v", i, err == nil, kept)
		}
	}
	if n, files, _ := c.Usage(); n != left || files != 3 {
		t.Errorf("Usage = %d bytes in %d files, Shrink said %d", n, files, left)
	}
}

func TestAutomaticShrink(t *testing.T) {
	const size = 1000
	c := openT(t, t.TempDir(), 4*size)
	ctx := ctxT(t)
	for i := range 20 {
		f, err := c.Fetch(ctx, zodb.OIDFromUint64(uint64(i)), zodb.TIDFromUint64(1), writeBlob(make([]byte, size)))
		if err != nil {
			t.Fatal(err)
		}
		f.Close()
	}
	c.Close() // waits for the background check
	// The bound holds to within a download (ZEO's check is as loose).
	if n, _, _ := c.Usage(); n > 4*size+size {
		t.Errorf("cache holds %d bytes, bound %d", n, 4*size)
	}
}

func TestAdoptAndTempFile(t *testing.T) {
	c := openT(t, t.TempDir(), 0)
	oid, tid := zodb.OIDFromUint64(3), zodb.TIDFromUint64(9)
	f, err := c.TempFile(oid)
	if err != nil {
		t.Fatal(err)
	}
	f.WriteString("committed")
	f.Close()
	if !strings.HasSuffix(f.Name(), ".tmp") {
		t.Errorf("temp file %s", f.Name())
	}
	if err := c.Adopt(ctxT(t), f.Name(), oid, tid); err != nil {
		t.Fatal(err)
	}
	b, err := c.OpenFile(oid, tid)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if got, _ := io.ReadAll(b); string(got) != "committed" {
		t.Errorf("adopted blob reads %q", got)
	}
}

// TestOpenKeepsModTime: opening a cached blob marks it used by its access
// time only, as ZEO's clients do; its modification time stays that of the
// download. OpenFile, for files of a directory the cache does not own,
// changes neither.
func TestOpenKeepsModTime(t *testing.T) {
	c := openT(t, t.TempDir(), 0)
	oid, tid := zodb.OIDFromUint64(5), zodb.TIDFromUint64(2)
	f, err := c.Fetch(ctxT(t), oid, tid, writeBlob([]byte("blob")))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	path := c.Path(oid, tid)
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	f, err = OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	fi, _ := os.Stat(path)
	if !fi.ModTime().Equal(old) || !accessTime(fi).Equal(old) {
		t.Errorf("OpenFile changed the file's times to mtime %v atime %v, want both %v", fi.ModTime(), accessTime(fi), old)
	}
	f, err = c.OpenFile(oid, tid)
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	fi, _ = os.Stat(path)
	if !fi.ModTime().Equal(old) {
		t.Errorf("Cache.OpenFile changed the modification time from %v to %v", old, fi.ModTime())
	}
	if runtime.GOOS == "linux" && !accessTime(fi).After(old) {
		t.Errorf("Cache.OpenFile left the access time at %v", accessTime(fi))
	}
}

// TestOpenFileDuringEviction: a reader that finds the file locked by an
// eviction (its exclusive lock) does not read it unlocked: OpenFile says
// it is gone, and Fetch downloads it again.
func TestOpenFileDuringEviction(t *testing.T) {
	c := openT(t, t.TempDir(), 0)
	oid, tid := zodb.OIDFromUint64(6), zodb.TIDFromUint64(3)
	f, err := c.Fetch(ctxT(t), oid, tid, writeBlob([]byte("old copy")))
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	evicting, err := os.Open(c.Path(oid, tid))
	if err != nil {
		t.Fatal(err)
	}
	defer evicting.Close()
	if ok, err := flock(evicting, true); err != nil || !ok {
		t.Fatalf("exclusive lock: %v %v", ok, err)
	}
	probe, err := os.Open(c.Path(oid, tid))
	if err != nil {
		t.Fatal(err)
	}
	ok, _ := flock(probe, false)
	probe.Close()
	if ok {
		t.Skip("no file locks on this system")
	}
	if f, err := c.OpenFile(oid, tid); !errors.Is(err, fs.ErrNotExist) {
		if err == nil {
			f.Close()
		}
		t.Fatalf("OpenFile of a file being evicted = %v, want an error matching fs.ErrNotExist", err)
	}
	fetched := 0
	f, err = c.Fetch(ctxT(t), oid, tid, func(ctx context.Context, d *Download) error {
		fetched++
		return writeBlob([]byte("new copy"))(ctx, d)
	})
	if err != nil {
		t.Fatalf("Fetch of a file being evicted: %v", err)
	}
	defer f.Close()
	if got, _ := io.ReadAll(f); fetched != 1 || string(got) != "new copy" {
		t.Errorf("Fetch of a file being evicted: %d downloads, read %q", fetched, got)
	}
}

// TestShrinkRemovesStaleTemp: a size check removes the temporary files a
// crashed process left (a download's ".dl", a stored blob's ".tmp") once
// they are an hour old, but not younger ones, which may be in use, nor
// those of a directory locked for a download.
func TestShrinkRemovesStaleTemp(t *testing.T) {
	c := openT(t, t.TempDir(), 1<<20)
	ctx := ctxT(t)
	old := time.Now().Add(-2 * time.Hour)
	file := func(oid uint64, name string, mtime time.Time) string {
		dir := filepath.Dir(c.Path(zodb.OIDFromUint64(oid), zodb.TID{}))
		if err := os.MkdirAll(dir, 0o700); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, make([]byte, 1000), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(path, mtime, mtime); err != nil {
			t.Fatal(err)
		}
		return path
	}
	crashedDL := file(3, "0.0000000000000001.blob.dl", old)
	crashedTmp := file(3, "123.tmp", old)
	liveTmp := file(3, "456.tmp", time.Now())
	lockedTmp := file(4, "789.tmp", old)
	if f, err := c.Fetch(ctx, zodb.OIDFromUint64(3), zodb.TIDFromUint64(2), writeBlob([]byte("kept"))); err != nil {
		t.Fatal(err)
	} else {
		f.Close()
	}
	unlock, err := lockDir(ctx, filepath.Dir(lockedTmp))
	if err != nil {
		t.Fatal(err)
	}
	defer unlock()
	left, err := c.Shrink(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for path, kept := range map[string]bool{crashedDL: false, crashedTmp: false, liveTmp: true, lockedTmp: true} {
		if _, err := os.Stat(path); (err == nil) != kept {
			t.Errorf("%s: kept %v, want %v", filepath.Base(path), err == nil, kept)
		}
	}
	if n, files, _ := c.Usage(); left != 4 || n != 4 || files != 1 {
		t.Errorf("Shrink left %d bytes; Usage %d bytes in %d files; want the 4-byte blob alone", left, n, files)
	}
}
