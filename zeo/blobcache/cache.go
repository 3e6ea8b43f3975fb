package blobcache

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gozeo/gozeo/zodb"
)

// Options configure a Cache.
type Options struct {
	// MaxBytes bounds the bytes of blob files kept, as ClientStorage's
	// blob_cache_size: once downloads since the last check pass a tenth of
	// it, least recently used files are removed (in the background) until
	// the cache is a tenth below the bound. 0 means no bound.
	MaxBytes int64
	// Logger receives diagnostics; nil discards them.
	Logger *slog.Logger
}

// Cache is a client blob directory. It is safe for concurrent use, and
// several processes may use one directory at once (see the package
// documentation).
type Cache struct {
	dir  string
	max  int64
	log  *slog.Logger
	wg   sync.WaitGroup
	done chan struct{}

	loaded   atomic.Int64 // bytes added since the last size check
	checking atomic.Bool  // a background check is running

	mu      sync.Mutex
	flights map[key]*flight
	closed  bool
}

type key struct {
	oid zodb.OID
	tid zodb.TID
}

// flight is a download in progress in this process.
type flight struct {
	done chan struct{}
	err  error
}

// Open opens (creating if needed) the blob cache directory dir.
func Open(dir string, opts Options) (*Cache, error) {
	if dir == "" {
		return nil, errors.New("blobcache: no directory given")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, &DirError{Dir: dir, Op: "resolve the path", Err: err}
	}
	if err := EnsureLayout(abs, LayoutZEOCache); err != nil {
		return nil, err
	}
	c := &Cache{dir: abs, max: opts.MaxBytes, log: opts.Logger, done: make(chan struct{}), flights: make(map[key]*flight)}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c, nil
}

// Dir returns the cache's directory (absolute).
func (c *Cache) Dir() string { return c.dir }

// MaxBytes returns the bound on the cache's size, 0 for none.
func (c *Cache) MaxBytes() int64 { return c.max }

// Path returns where the blob revision (oid, tid) lives in the cache,
// whether or not it is there.
func (c *Cache) Path(oid zodb.OID, tid zodb.TID) string {
	return filepath.Join(c.dir, cachePath(oid, tid))
}

// Close waits for a background size check to end. Files stay.
func (c *Cache) Close() error {
	c.mu.Lock()
	if !c.closed {
		c.closed = true
		close(c.done)
	}
	c.mu.Unlock()
	c.wg.Wait()
	return nil
}

// OpenFile opens the cached revision (oid, tid) for reading, marking it
// used; an error matching fs.ErrNotExist when it is not in the cache.
func (c *Cache) OpenFile(oid zodb.OID, tid zodb.TID) (*File, error) {
	return openUsed(c.Path(oid, tid))
}

// Fetch returns the revision (oid, tid) opened for reading, downloading it
// first with fetch when it is not in the cache. fetch writes the blob's
// bytes to the Download it is given and returns nil once they are all
// there; on error nothing is kept and Fetch returns that error. Concurrent
// Fetches of one revision in this process download it once; across
// processes the oid directory's lock does the same.
func (c *Cache) Fetch(ctx context.Context, oid zodb.OID, tid zodb.TID, fetch func(context.Context, *Download) error) (*File, error) {
	k := key{oid, tid}
	for {
		if f, err := c.OpenFile(oid, tid); err == nil {
			return f, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return nil, &DirError{Dir: c.dir, Op: "open a cached blob", Err: err}
		}
		c.mu.Lock()
		fl := c.flights[k]
		if fl == nil {
			fl = &flight{done: make(chan struct{})}
			c.flights[k] = fl
			c.mu.Unlock()
			f, err := c.download(ctx, oid, tid, fetch)
			fl.err = err
			c.mu.Lock()
			delete(c.flights, k)
			c.mu.Unlock()
			close(fl.done)
			return f, err
		}
		c.mu.Unlock()
		select {
		case <-fl.done:
		case <-ctx.Done():
			return nil, fmt.Errorf("blobcache: waiting for another download of the same blob: %w", ctx.Err())
		}
		if fl.err != nil && !errors.Is(fl.err, context.Canceled) && !errors.Is(fl.err, context.DeadlineExceeded) {
			return nil, fl.err
		}
		// Done, or the other caller gave up: look again.
	}
}

// download runs one download under the oid directory's lock.
func (c *Cache) download(ctx context.Context, oid zodb.OID, tid zodb.TID, fetch func(context.Context, *Download) error) (*File, error) {
	path := c.Path(oid, tid)
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, &DirError{Dir: c.dir, Op: "create an oid directory", Err: err}
	}
	unlock, err := lockDir(ctx, dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	// Someone else may have downloaded it while we waited for the lock.
	if f, err := openUsed(path); err == nil {
		return f, nil
	}
	d, err := newDownload(c.dir, path)
	if err != nil {
		return nil, err
	}
	if err := fetch(ctx, d); err != nil {
		d.discard()
		return nil, err
	}
	if err := d.commit(); err != nil {
		return nil, err
	}
	f, err := openUsed(path)
	if err != nil {
		return nil, &DirError{Dir: c.dir, Op: "open a downloaded blob", Err: err}
	}
	c.added(d.n)
	return f, nil
}

// Adopt moves the file at tmp, written by this process (a blob it just
// committed), into the cache as revision (oid, tid).
func (c *Cache) Adopt(ctx context.Context, tmp string, oid zodb.OID, tid zodb.TID) error {
	path := c.Path(oid, tid)
	unlock, err := lockDir(ctx, filepath.Dir(path))
	if err != nil {
		os.Remove(tmp)
		return err
	}
	defer unlock()
	fi, err := os.Stat(tmp)
	if err == nil {
		os.Chmod(tmp, 0o444) //nolint:errcheck // read-only is a courtesy
		err = os.Rename(tmp, path)
	}
	if err != nil {
		os.Remove(tmp)
		return &DirError{Dir: c.dir, Op: "move a committed blob into the cache", Err: err}
	}
	c.added(fi.Size())
	return nil
}

// TempFile creates a temporary file in oid's directory, for a blob being
// committed (see Adopt). The caller removes it if the commit fails.
func (c *Cache) TempFile(oid zodb.OID) (*os.File, error) {
	dir := filepath.Dir(c.Path(oid, zodb.TID{}))
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, &DirError{Dir: c.dir, Op: "create an oid directory", Err: err}
	}
	f, err := os.CreateTemp(dir, "*"+tempSuffix)
	if err != nil {
		return nil, &DirError{Dir: c.dir, Op: "create a temporary file", Err: err}
	}
	return f, nil
}

// added counts n new bytes and starts a size check in the background when
// enough have come in since the last one.
func (c *Cache) added(n int64) {
	if c.max <= 0 {
		return
	}
	if c.loaded.Add(n) < c.checkBytes() {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || !c.checking.CompareAndSwap(false, true) {
		return
	}
	c.loaded.Store(0)
	c.wg.Add(1)
	go func() {
		defer c.wg.Done()
		defer c.checking.Store(false)
		for {
			if _, err := c.shrink(context.Background(), false); err != nil {
				c.log.Warn("blobcache: size check failed", "dir", c.dir, "err", err)
			}
			// Downloads that finished meanwhile could not start a check.
			if c.loaded.Load() < c.checkBytes() {
				return
			}
			c.loaded.Store(0)
		}
	}()
}

// checkBytes is how many bytes may come in between two size checks:
// ClientStorage's blob_cache_size_check default, 10 % of the bound.
func (c *Cache) checkBytes() int64 { return max(c.max/10, 1) }

// lockDir takes the exclusive lock of an oid directory, polling while
// another process or goroutine holds it.
func lockDir(ctx context.Context, dir string) (unlock func(), err error) {
	return lockFile(ctx, filepath.Join(dir, ".lock"), true)
}

// lockFile takes an exclusive flock on path (created if needed), waiting
// for it when wait is set; without wait it returns a nil unlock when the
// lock is busy.
func lockFile(ctx context.Context, path string, wait bool) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, &DirError{Dir: filepath.Dir(path), Op: "open the lock file", Err: err}
	}
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	for {
		ok, err := flock(f, true)
		if err != nil {
			f.Close()
			return nil, &DirError{Dir: filepath.Dir(path), Op: "lock " + filepath.Base(path), Err: err}
		}
		if ok {
			// zc.lockfile writes the holder's pid, for people debugging.
			f.Truncate(0)                                        //nolint:errcheck
			f.WriteAt(fmt.Appendf(nil, " %d\n", os.Getpid()), 0) //nolint:errcheck
			return func() { f.Close() }, nil
		}
		if !wait {
			f.Close()
			return nil, nil
		}
		select {
		case <-t.C:
		case <-ctx.Done():
			f.Close()
			return nil, fmt.Errorf("blobcache: waiting for %s: %w", path, ctx.Err())
		}
	}
}
