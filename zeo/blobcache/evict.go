package blobcache

import (
	"context"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"time"
)

// oidDirName matches the oid directories of the zeocache layout.
var oidDirName = regexp.MustCompile(`^[0-9]+$`)

// staleAfter is how long a temporary file (a download's ".dl", a stored
// blob's ".tmp") may go unwritten before size checks take it for the
// leftover of a process that crashed, and remove it.
const staleAfter = time.Hour

// Usage returns the bytes and number of the blob files in the cache.
// Temporary files are not counted.
func (c *Cache) Usage() (bytes int64, files int, err error) {
	entries, _, err := c.scan()
	for _, e := range entries {
		bytes += e.size
	}
	return bytes, len(entries), err
}

// Shrink evicts least recently used blob files until the cache is below
// its bound by a tenth of it (ClientStorage's target), skipping files that
// are open for reading and directories where a download is in progress.
// It also removes temporary files unwritten for an hour, outside such
// directories: the leftovers of crashed processes. It waits for a size
// check running in another process or goroutine. It returns the bytes
// left; with no bound it removes nothing.
func (c *Cache) Shrink(ctx context.Context) (int64, error) {
	return c.shrink(ctx, true)
}

type cacheEntry struct {
	rel   string // relative to the cache dir
	size  int64
	atime time.Time
}

func (c *Cache) shrink(ctx context.Context, wait bool) (int64, error) {
	if c.max <= 0 {
		n, _, err := c.Usage()
		return n, err
	}
	target := max(c.max-c.checkBytes(), 0)
	attempt := filepath.Join(c.dir, "check_size.attempt")
	unlock, err := lockFile(ctx, filepath.Join(c.dir, "check_size.lock"), wait)
	if err != nil {
		return 0, err
	}
	if unlock == nil {
		// Another process is checking: ask it to go round once more.
		if f, err := os.Create(attempt); err == nil {
			f.Close()
		}
		c.log.Debug("blobcache: another process is checking the size", "dir", c.dir)
		return 0, nil
	}
	defer unlock()
	for {
		entries, stale, err := c.scan()
		if err != nil {
			return 0, err
		}
		c.removeStale(ctx, stale)
		var size int64
		for _, e := range entries {
			size += e.size
		}
		slices.SortFunc(entries, func(a, b cacheEntry) int { return a.atime.Compare(b.atime) })
		for _, e := range entries {
			if size <= target {
				break
			}
			if ctx.Err() != nil {
				return size, ctx.Err()
			}
			if c.evict(ctx, e) {
				size -= e.size
			}
		}
		c.log.Debug("blobcache: size checked", "dir", c.dir, "bytes", size, "target", target)
		if err := os.Remove(attempt); err == nil {
			continue // someone asked for another pass meanwhile
		}
		return size, nil
	}
}

// evict removes one file unless it is busy.
func (c *Cache) evict(ctx context.Context, e cacheEntry) bool {
	path := filepath.Join(c.dir, e.rel)
	unlock, err := lockFile(ctx, filepath.Join(filepath.Dir(path), ".lock"), false)
	if err != nil || unlock == nil {
		c.log.Debug("blobcache: skipping a file in a locked directory", "file", e.rel)
		return false
	}
	defer unlock()
	f, err := os.Open(path)
	if err != nil {
		return false
	}
	defer f.Close()
	if ok, err := flock(f, true); err != nil || !ok {
		c.log.Debug("blobcache: skipping a file open for reading", "file", e.rel)
		return false
	}
	if err := os.Remove(path); err != nil {
		return false
	}
	return true
}

// removeStale removes temporary files (relative to the cache dir) that
// are still unwritten for staleAfter, each under its directory's lock;
// a busy directory keeps its files.
func (c *Cache) removeStale(ctx context.Context, stale []string) {
	for len(stale) > 0 {
		dir := filepath.Dir(stale[0])
		n := 1
		for n < len(stale) && filepath.Dir(stale[n]) == dir {
			n++
		}
		files := stale[:n]
		stale = stale[n:]
		unlock, err := lockFile(ctx, filepath.Join(c.dir, dir, ".lock"), false)
		if err != nil || unlock == nil {
			continue
		}
		for _, rel := range files {
			path := filepath.Join(c.dir, rel)
			if fi, err := os.Lstat(path); err == nil && isStale(fi) {
				if os.Remove(path) == nil {
					c.log.Debug("blobcache: removed a stale temporary file", "file", rel)
				}
			}
		}
		unlock()
	}
}

// isStale reports whether fi is a temporary file left unwritten for
// staleAfter.
func isStale(fi os.FileInfo) bool {
	name := fi.Name()
	return fi.Mode().IsRegular() && (strings.HasSuffix(name, tempSuffix) || strings.HasSuffix(name, downloadSuffix)) &&
		time.Since(fi.ModTime()) > staleAfter
}

// scan lists the committed blob files, and the temporary files that look
// stale, directory by directory (os.ReadDir sorts by name), as
// removeStale wants them.
func (c *Cache) scan() (blobs []cacheEntry, stale []string, err error) {
	dirs, err := os.ReadDir(c.dir)
	if err != nil {
		return nil, nil, &DirError{Dir: c.dir, Op: "list the cache", Err: err}
	}
	for _, d := range dirs {
		if !d.IsDir() || !oidDirName.MatchString(d.Name()) {
			continue
		}
		files, err := os.ReadDir(filepath.Join(c.dir, d.Name()))
		if err != nil {
			continue
		}
		for _, f := range files {
			if !f.Type().IsRegular() {
				continue
			}
			fi, err := f.Info()
			if err != nil {
				continue
			}
			rel := filepath.Join(d.Name(), f.Name())
			switch {
			case strings.HasSuffix(f.Name(), blobSuffix):
				blobs = append(blobs, cacheEntry{rel: rel, size: fi.Size(), atime: accessTime(fi)})
			case isStale(fi):
				stale = append(stale, rel)
			}
		}
	}
	return blobs, stale, nil
}
