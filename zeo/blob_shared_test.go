package zeo_test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zeo/blobcache"
)

// TestBlobSharedReadKeepsServerFile: a client reading through the
// server's own blob directory (SharedBlobDir, read-only) changes nothing
// there, not even the committed file's times.
func TestBlobSharedReadKeepsServerFile(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Profile: "z5-py3"})
	o, tid := storeBlob(t, dialT(t, srv.Addr(), nil), strings.NewReader("committed"))
	path := blobcache.BushyPath(srv.BlobDir(), o, tid)
	old := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)
	if err := os.Chtimes(path, old, old); err != nil {
		t.Fatal(err)
	}
	r := dialT(t, srv.Addr(), &zeo.Options{BlobDir: srv.BlobDir(), SharedBlobDir: true, ReadOnly: true})
	b, err := r.LoadBlob(ctxT(t), o, tid)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if !fi.ModTime().Equal(old) {
		t.Errorf("a shared read moved the server file's modification time from %v to %v", old, fi.ModTime())
	}
}
