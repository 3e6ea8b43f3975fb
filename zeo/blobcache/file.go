package blobcache

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"
)

// File is a committed blob file open for reading. While it is open the
// cache does not evict it. It is an io.ReadSeekCloser and an io.ReaderAt.
type File struct {
	*os.File
	// Size is the blob's length in bytes.
	Size int64
}

// OpenFile opens the blob file at path for reading, taking a shared lock
// on it (the eviction guard). It changes nothing on the file, not even its
// times: use it for files of a directory this process does not own, such
// as a server's blob directory shared with its clients (Cache.OpenFile
// also marks a cached file used). A missing file, or one an eviction holds
// locked, gives an error matching fs.ErrNotExist: a cache then downloads
// the blob again.
func OpenFile(path string) (*File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	ok, err := flock(f, false)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("blobcache: locking %s for reading: %w", path, err)
	}
	fi, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, err
	}
	if !ok || !samePath(path, fi) {
		// An eviction holds it, or removed it between the open and the
		// lock: reading it would race with its removal.
		f.Close()
		return nil, fmt.Errorf("blobcache: %s is being evicted: %w", path, fs.ErrNotExist)
	}
	return &File{File: f, Size: fi.Size()}, nil
}

// samePath reports whether path still names the file fi describes.
func samePath(path string, fi fs.FileInfo) bool {
	now, err := os.Stat(path)
	return err == nil && os.SameFile(now, fi)
}

// openUsed opens a cached blob file, marking it used now.
func openUsed(path string) (*File, error) {
	f, err := OpenFile(path)
	if err == nil {
		touch(path)
	}
	return f, err
}

// touch marks path as used now, for least-recently-used eviction: it sets
// the access time and keeps the modification time, as ZEO's clients do.
func touch(path string) {
	os.Chtimes(path, time.Now(), time.Time{}) //nolint:errcheck // best effort, as in ZEO
}

// Download is a blob being written into the cache: a ".dl" file next to
// its final name, renamed into place once complete.
type Download struct {
	root string // the cache directory, for errors
	path string // final name
	f    *os.File
	n    int64
}

func newDownload(root, path string) (*Download, error) {
	tmp := path + downloadSuffix
	// We hold the directory lock: a leftover is a crashed download's.
	os.Remove(tmp) //nolint:errcheck
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, &DirError{Dir: root, Op: "create " + filepath.Base(tmp), Err: err}
	}
	return &Download{root: root, path: path, f: f}, nil
}

// Reset empties the download, for a transfer that starts again.
func (d *Download) Reset() error {
	d.n = 0
	if _, err := d.f.Seek(0, 0); err != nil {
		return d.fail("rewind", err)
	}
	if err := d.f.Truncate(0); err != nil {
		return d.fail("truncate", err)
	}
	return nil
}

// Write appends p to the blob.
func (d *Download) Write(p []byte) (int, error) {
	n, err := d.f.Write(p)
	d.n += int64(n)
	if err != nil {
		return n, d.fail("write "+filepath.Base(d.f.Name()), err)
	}
	return n, nil
}

// Len returns the bytes written so far.
func (d *Download) Len() int64 { return d.n }

func (d *Download) fail(op string, err error) error {
	return &DirError{Dir: d.root, Op: op, Err: err}
}

// commit closes the download and renames it into place, read-only.
func (d *Download) commit() error {
	tmp := d.f.Name()
	if err := d.f.Close(); err != nil {
		os.Remove(tmp)
		return d.fail("close "+filepath.Base(tmp), err)
	}
	os.Chmod(tmp, 0o444) //nolint:errcheck // read-only is a courtesy
	if err := os.Rename(tmp, d.path); err != nil {
		os.Remove(tmp)
		return d.fail("rename "+filepath.Base(tmp)+" into place", err)
	}
	return nil
}

// discard removes the partial file.
func (d *Download) discard() {
	d.f.Close()
	os.Remove(d.f.Name())
}
