//go:build unix && !solaris && !aix

package zeo_test

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/zeo"
)

// TestBlobFinishWithCacheDirLocked: a commit whose blob's cache
// directory stays locked (another process downloading into it, or hung
// there) still finishes; the committed file is not kept, and a load
// downloads it once the directory is free.
func TestBlobFinishWithCacheDirLocked(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Profile: "z5-py3"})
	c := dialT(t, srv.Addr(), &zeo.Options{BlobDir: t.TempDir()})
	ctx := ctxT(t)
	o, err := c.NewOID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Dir(c.BlobCache().Path(o, zeo.TID{}))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}

	tx, err := c.Begin(ctx, zeo.TxnMeta{User: "blob test"})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Abort(ctx)
	if err := tx.StoreBlob(ctx, o, zeo.TID{}, strings.NewReader("committed while locked")); err != nil {
		t.Fatal(err)
	}
	tid, err := tx.Finish(ctx)
	if err != nil {
		t.Fatalf("Finish with the cache directory locked: %v", err)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "*.tmp")); len(left) > 0 {
		t.Errorf("the committed blob's temporary file stayed behind: %v", left)
	}
	if _, err := os.Stat(c.BlobCache().Path(o, tid)); err == nil {
		t.Errorf("the blob went into a directory someone else held locked")
	}

	lock.Close()
	b, err := c.LoadBlob(ctx, o, tid)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	got, err := io.ReadAll(b)
	if err != nil || !bytes.Equal(got, []byte("committed while locked")) {
		t.Errorf("LoadBlob after the lock: %q, %v", got, err)
	}
}
