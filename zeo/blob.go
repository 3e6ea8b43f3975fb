package zeo

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"sync"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zeo/blobcache"
)

// ErrNoBlobDir: LoadBlob needs Options.BlobDir.
var ErrNoBlobDir = errors.New("zeo: no blob directory configured (set Options.BlobDir)")

// BlobDirError reports a blob directory that cannot be used (a full disk,
// missing permissions); it names the directory. It is blobcache.DirError.
type BlobDirError = blobcache.DirError

// blobInterface is the get_info interface of storages with blobs.
const blobInterface = "ZODB.interfaces.IBlobStorage"

// Blob is one committed blob revision, open for reading: an
// io.ReadSeekCloser and io.ReaderAt over the file. Close it when done;
// until then the blob cache does not evict the file.
type Blob struct {
	OID    OID
	Serial TID
	// Path is the file: in the blob cache, or in the server's directory
	// with Options.SharedBlobDir (which LoadBlob reads without changing
	// anything there, not even the file's times). It is read-only and may
	// be evicted once the Blob is closed.
	Path string
	// Size is the blob's length in bytes.
	Size int64

	f *blobcache.File
}

// Read reads from the blob.
func (b *Blob) Read(p []byte) (int, error) { return b.f.Read(p) }

// ReadAt reads from the blob at off.
func (b *Blob) ReadAt(p []byte, off int64) (int, error) { return b.f.ReadAt(p, off) }

// Seek sets the offset of the next Read.
func (b *Blob) Seek(offset int64, whence int) (int64, error) { return b.f.Seek(offset, whence) }

// Close closes the file.
func (b *Blob) Close() error { return b.f.Close() }

// BlobCache returns the client's blob cache, nil without Options.BlobDir
// or with SharedBlobDir.
func (c *Client) BlobCache() *blobcache.Cache { return c.blobs }

// LoadBlob opens the blob of revision serial of oid (the serial of the
// object's record, a ZODB.blob.Blob). Without SharedBlobDir the file comes
// from the blob cache, downloaded first if it is not there: the server
// streams it in chunks (sendBlob, answered by receiveBlobStart,
// receiveBlobChunk… and receiveBlobStop) that go straight to a file,
// renamed into place once complete. Concurrent loads of one blob download
// it once. A load whose ctx ends gives up and leaves nothing in the cache;
// the server still streams the rest of that blob, which the next load of
// it ignores.
//
// Errors: a *NotFoundError with Blob set when the revision has no blob; a
// *DisconnectedError when the connection is lost during the transfer
// (nothing is left in the cache; the call is not retried); a
// *BlobDirError for a cache directory that cannot be written; a
// *UnsupportedError, with nothing sent, when the negotiated version
// predates blobs (before Z308) or the storage reports no blob support;
// ErrNoBlobDir without Options.BlobDir.
func (c *Client) LoadBlob(ctx context.Context, oid OID, serial TID) (*Blob, error) {
	if c.opts.BlobDir == "" {
		return nil, ErrNoBlobDir
	}
	s, err := c.liveSession(ctx, "sendBlob")
	if err != nil {
		return nil, err
	}
	if err := c.checkBlobs(s, "LoadBlob", "sendBlob"); err != nil {
		return nil, err
	}
	var f *blobcache.File
	if c.opts.SharedBlobDir {
		path := blobcache.BushyPath(c.opts.BlobDir, oid, serial)
		f, err = blobcache.OpenFile(path)
		if errors.Is(err, fs.ErrNotExist) {
			// The server's own directory: if the file is not there, it is
			// nowhere (ClientStorage says the same).
			return nil, &NotFoundError{OID: oid, Serial: serial, Blob: true, Server: s.addr, Version: s.neg.Chosen}
		}
		if err != nil {
			return nil, &BlobDirError{Dir: c.opts.BlobDir, Op: "open a blob of the shared directory", Err: err}
		}
	} else {
		f, err = c.blobs.Fetch(ctx, oid, serial, func(ctx context.Context, d *blobcache.Download) error {
			return c.downloadBlob(ctx, s, oid, serial, d)
		})
		if err != nil {
			return nil, err
		}
	}
	return &Blob{OID: oid, Serial: serial, Path: f.Name(), Size: f.Size, f: f}, nil
}

// checkBlobs refuses, before anything is sent, a blob operation the
// session cannot do: the version predates blobs, or the storage says it
// has none (get_info's interfaces, ZODB 3.9+; a ZEO 5 server drops a
// client whose one-way storeBlobStart fails).
func (c *Client) checkBlobs(s *session, opName, method string) error {
	if !s.caps.Blobs {
		return c.unsupported(opName, method)
	}
	if !s.blobStorage() {
		return &UnsupportedError{Op: opName, Method: method, Server: s.addr, Version: s.neg.Chosen,
			Reason: "the server's storage has no blob support (its interfaces lack IBlobStorage: no blob-dir configured)"}
	}
	return nil
}

// blobStorage reports whether the storage may have blobs: it lists
// IBlobStorage among its interfaces, or lists none (servers before 3.9
// do not say).
func (s *session) blobStorage() bool {
	ifaces := s.info.get().Interfaces
	return len(ifaces) == 0 || slices.Contains(ifaces, blobInterface)
}

// downloadBlob asks the server for a blob with sendBlob; the handler
// writes the receiveBlob* calls that come before the reply to d.
func (c *Client) downloadBlob(ctx context.Context, s *session, oid OID, serial TID, d *blobcache.Download) error {
	t := s.blobs.start(oid, serial, d)
	defer s.blobs.end(oid, serial, t)
	o := op{method: "sendBlob", oid: oid, oidKnown: true, serial: serial}
	_, err := c.callIn(ctx, s, o, pickle.Bytes(oid[:]), pickle.Bytes(serial[:]))
	var nf *NotFoundError
	if errors.As(err, &nf) {
		nf.Blob = true
	}
	if err != nil {
		return err
	}
	started, stopped, werr := t.result()
	switch {
	case werr != nil:
		return werr
	case !started || !stopped:
		// What ClientStorage concludes when the file is not there after
		// sendBlob returns.
		return &NotFoundError{OID: oid, Serial: serial, Blob: true, Method: "sendBlob", Server: s.addr, Version: s.neg.Chosen}
	}
	return nil
}

// blobKey names a blob revision.
type blobKey struct {
	oid    OID
	serial TID
}

// blobTransfers routes a session's receiveBlob* calls to the downloads
// waiting for them.
type blobTransfers struct {
	mu sync.Mutex
	m  map[blobKey]*blobTransfer
}

// blobTransfer is one download; the handler fills it on the read
// goroutine, the downloader reads it after the sendBlob reply.
type blobTransfer struct {
	mu      sync.Mutex
	d       *blobcache.Download // nil once the downloader has given up
	started bool
	stopped bool
	err     error // the first write error
}

func (bt *blobTransfers) start(oid OID, serial TID, d *blobcache.Download) *blobTransfer {
	t := &blobTransfer{d: d}
	bt.mu.Lock()
	if bt.m == nil {
		bt.m = make(map[blobKey]*blobTransfer)
	}
	bt.m[blobKey{oid, serial}] = t
	bt.mu.Unlock()
	return t
}

// end unregisters t. Once it returns the handler no longer touches t's
// Download, which the caller may then discard.
func (bt *blobTransfers) end(oid OID, serial TID, t *blobTransfer) {
	k := blobKey{oid, serial}
	bt.mu.Lock()
	if bt.m[k] == t {
		delete(bt.m, k)
	}
	bt.mu.Unlock()
	t.mu.Lock()
	t.d = nil
	t.mu.Unlock()
}

func (t *blobTransfer) result() (started, stopped bool, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.started, t.stopped, t.err
}

// receive handles receiveBlobStart(oid, serial), receiveBlobChunk(oid,
// serial, chunk) and receiveBlobStop(oid, serial) (docs/protocol.md,
// Invalidations and Blobs). It runs on the read goroutine, so the chunks
// reach the file in order and before the sendBlob reply wakes the
// downloader.
//
// A cancelled load gives up its transfer, but the server streams the blob
// to the end all the same. Calls nobody waits for are dropped. When a new
// load of the same blob has registered meanwhile, the rest of the old
// stream reaches it: chunks and stop before the new transfer's first
// receiveBlobStart are dropped, and a whole old stream ahead of the new
// one is overwritten, since every receiveBlobStart empties the file. The
// server answers sendBlobs in order, so the stream that ends just before
// the reply is the load's own.
func (bt *blobTransfers) receive(log *slog.Logger, method string, args []any) {
	if len(args) < 2 {
		log.Warn("zeo: malformed blob transfer call", "method", method, "args", len(args))
		return
	}
	oid, ok1 := asOID(args[0])
	serial, ok2 := asTID(args[1])
	if !ok1 || !ok2 {
		log.Warn("zeo: blob transfer call without oid and serial", "method", method)
		return
	}
	bt.mu.Lock()
	t := bt.m[blobKey{oid, serial}]
	bt.mu.Unlock()
	if t == nil {
		log.Debug("zeo: blob transfer nobody waits for", "method", method, "oid", oid, "serial", serial)
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.d == nil {
		log.Debug("zeo: blob transfer nobody waits for", "method", method, "oid", oid, "serial", serial)
		return
	}
	switch method {
	case "receiveBlobStart":
		t.started, t.stopped = true, false
		if t.err == nil {
			t.err = t.d.Reset()
		}
	case "receiveBlobChunk":
		if !t.started || t.stopped {
			// The tail of a stream for an earlier, cancelled load.
			log.Debug("zeo: dropping a blob chunk of an abandoned transfer", "oid", oid, "serial", serial)
			return
		}
		var chunk []byte
		ok := len(args) == 3
		if ok {
			chunk, ok = asData(args[2])
		}
		if !ok && t.err == nil {
			t.err = fmt.Errorf("zeo: receiveBlobChunk without bytes for oid %s serial %s", oid.Repr(), serial.Repr())
		}
		if t.err == nil {
			_, t.err = t.d.Write(chunk)
		}
	case "receiveBlobStop":
		if t.started {
			t.stopped = true
		}
	}
}
