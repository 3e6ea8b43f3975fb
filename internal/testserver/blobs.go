package testserver

import (
	"errors"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zeo/blobcache"
	"github.com/gozeo/gozeo/zodb"
)

// blobChunk is the size of the chunks ZEO servers send blobs in.
const blobChunk = 59000

// flushEvery bounds how many chunks a blob stream queues before waiting
// for them to be written, so that a big blob does not fill memory.
const flushEvery = 16

// blobDir is the server's blob directory, in the bushy layout of a
// FileStorage's blob-dir: oid bytes as directories, "<tid repr>.blob"
// files, and a "tmp" directory for blobs being stored.
type blobDir struct {
	root string
	tmp  string
}

// openBlobDir opens root, or a new temporary directory removed at Close.
func (s *Server) openBlobDir(root string) (*blobDir, error) {
	if root == "" {
		dir, err := os.MkdirTemp("", "gozeo-testserver-blobs-*")
		if err != nil {
			return nil, err
		}
		s.cleanup = append(s.cleanup, func() { os.RemoveAll(dir) })
		root = dir
	}
	if err := blobcache.EnsureLayout(root, blobcache.LayoutBushy); err != nil {
		return nil, err
	}
	b := &blobDir{root: root, tmp: filepath.Join(root, "tmp")}
	if err := os.MkdirAll(b.tmp, 0o700); err != nil {
		return nil, err
	}
	return b, nil
}

// BlobDir returns the server's blob directory, "" when it has none (a
// generation before blobs, or Options.NoBlobs).
func (s *Server) BlobDir() string {
	if s.blobs == nil {
		return ""
	}
	return s.blobs.root
}

func (b *blobDir) path(oid zodb.OID, tid zodb.TID) string {
	return blobcache.BushyPath(b.root, oid, tid)
}

// pendingBlob is a blob file stored in the transaction, not yet in place.
type pendingBlob struct {
	oid  zodb.OID
	file string
}

// storeBlobStart(): open a temporary file for the chunks that follow.
func (s *session) storeBlobStart(c *call, args pickle.Tuple) (pickle.Value, error) {
	if s.srv.blobs == nil {
		return s.noBlobs(c, args)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.blobTemp != nil {
		// ZEO asserts that no blob is being received.
		return nil, s.prof.builtinErr("AssertionError")
	}
	f, err := os.CreateTemp(s.srv.blobs.tmp, "blob-*")
	if err != nil {
		return nil, s.prof.builtinErr("IOError", text(err.Error()))
	}
	s.blobTemp = f
	return pickle.None, nil
}

// storeBlobChunk(chunk): append to the file storeBlobStart opened.
func (s *session) storeBlobChunk(c *call, args pickle.Tuple) (pickle.Value, error) {
	if s.srv.blobs == nil {
		return s.noBlobs(c, args)
	}
	if err := s.prof.arity("storeBlobChunk", args, 1, 0); err != nil {
		return nil, err
	}
	chunk, err := s.prof.argBytes(args[0])
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.blobTemp == nil {
		return nil, s.prof.builtinErr("TypeError", text("'NoneType' object is not subscriptable"))
	}
	if _, err := s.blobTemp.Write(chunk); err != nil {
		return nil, s.prof.builtinErr("OSError", text(err.Error()))
	}
	return pickle.None, nil
}

// storeBlobEnd(oid, serial, data, [version,] txn): close the file and
// store the record with it, as storea does (the record arrives twice).
func (s *session) storeBlobEnd(c *call, args pickle.Tuple) (pickle.Value, error) {
	if s.srv.blobs == nil {
		return s.noBlobs(c, args)
	}
	s.mu.Lock()
	f := s.blobTemp
	s.blobTemp = nil
	s.mu.Unlock()
	if f == nil {
		return nil, s.prof.builtinErr("TypeError", text("cannot unpack non-iterable NoneType object"))
	}
	if err := f.Close(); err != nil {
		os.Remove(f.Name())
		return nil, s.prof.builtinErr("OSError", text(err.Error()))
	}
	return s.storeWithBlob("storeBlobEnd", args, f.Name())
}

// storeBlobShared(oid, serial, data, filename, [version,] txn): the
// client wrote the blob into oid's directory itself; filename must be a
// bare name ending in ".tmp" (or ".tmp" and one character).
func (s *session) storeBlobShared(c *call, args pickle.Tuple) (pickle.Value, error) {
	if s.srv.blobs == nil {
		return s.noBlobs(c, args)
	}
	if len(args) < 4 {
		return nil, s.prof.arity("storeBlobShared", args, 5, 0)
	}
	name := argRaw(args[3])
	if strings.ContainsRune(name, os.PathSeparator) || !(strings.HasSuffix(name, ".tmp") || len(name) > 4 && strings.HasSuffix(name[:len(name)-1], ".tmp")) {
		return nil, s.prof.builtinErr("ValueError", text(name))
	}
	rest := append(append(pickle.Tuple{}, args[:3]...), args[4:]...)
	oid, _, err := s.prof.argOIDTID(rest)
	if err != nil {
		return nil, err
	}
	return s.storeWithBlob("storeBlobShared", rest, filepath.Join(blobcache.BushyOIDDir(s.srv.blobs.root, oid), name))
}

// storeWithBlob stores the record of args (storea's arguments) and files
// the blob for the vote.
func (s *session) storeWithBlob(method string, args pickle.Tuple, file string) (pickle.Value, error) {
	if _, err := s.storea(&call{name: method}, args); err != nil {
		if !strings.HasPrefix(file, s.srv.blobs.tmp) {
			return nil, err // a shared file stays the client's
		}
		os.Remove(file)
		return nil, err
	}
	oid, _, _ := s.prof.argOIDTID(args)
	s.mu.Lock()
	if s.txn != nil {
		s.txn.blobs = append(s.txn.blobs, pendingBlob{oid: oid, file: file})
	}
	s.mu.Unlock()
	return pickle.None, nil
}

// placeBlobs moves the transaction's blobs to their place under tid, once
// the vote has fixed it. They are in place before the commit is visible,
// so a client that hears of it finds them.
func (s *session) placeBlobs(t *txnInfo, tid zodb.TID) error {
	s.mu.Lock()
	blobs := t.blobs
	t.blobs = nil
	s.mu.Unlock()
	for _, b := range blobs {
		dst := s.srv.blobs.path(b.oid, tid)
		if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
			return s.prof.builtinErr("OSError", text(err.Error()))
		}
		if err := os.Rename(b.file, dst); err != nil {
			return s.prof.builtinErr("OSError", text(err.Error()))
		}
		s.mu.Lock()
		t.placed = append(t.placed, dst)
		s.mu.Unlock()
	}
	return nil
}

// dropBlobs removes what an aborted transaction stored.
func (t *txnInfo) dropBlobs() {
	for _, b := range t.blobs {
		os.Remove(b.file)
	}
	for _, p := range t.placed {
		os.Remove(p)
	}
	t.blobs, t.placed = nil, nil
}

// dropBlobTemp removes a blob whose chunks never ended.
func (s *session) dropBlobTemp() {
	s.mu.Lock()
	f := s.blobTemp
	s.blobTemp = nil
	s.mu.Unlock()
	if f != nil {
		f.Close()
		os.Remove(f.Name())
	}
}

// sendBlob(oid, serial): stream the blob to the client in
// receiveBlobStart, receiveBlobChunk… and receiveBlobStop calls, then
// answer None; POSKeyError when the revision has no blob file.
func (s *session) sendBlob(c *call, args pickle.Tuple) (pickle.Value, error) {
	if s.srv.blobs == nil {
		return s.noBlobs(c, args)
	}
	if err := s.prof.arity("sendBlob", args, 2, 0); err != nil {
		return nil, err
	}
	oid, tid, err := s.prof.argOIDTID(args)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(s.srv.blobs.path(oid, tid))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, posErr("POSKeyError", text("No blob file"), oidValue(oid), tidValue(tid))
	}
	if err != nil {
		return nil, s.prof.builtinErr("IOError", text(err.Error()))
	}
	size := int64(-1)
	if fi, err := f.Stat(); err == nil {
		size = fi.Size()
	}
	cut := c.cut
	return nil, s.later(c, func() (pickle.Value, error) {
		defer f.Close()
		s.blobSend.Lock()
		defer s.blobSend.Unlock()
		if err := s.streamBlob(f, oid, tid, size, cut); err != nil {
			return nil, errDeferred
		}
		return pickle.None, nil
	})
}

// streamBlob sends the receiveBlob* calls for one blob. With cut it stops
// halfway and drops the connection.
func (s *session) streamBlob(f *os.File, oid zodb.OID, tid zodb.TID, size int64, cut bool) error {
	o, t := oidValue(oid), tidValue(tid)
	if err := s.notify(s.ctx, "receiveBlobStart", o, t); err != nil {
		return err
	}
	buf := make([]byte, blobChunk)
	var sent int64
	for n := 1; ; n++ {
		k, err := io.ReadFull(f, buf)
		if k > 0 {
			if err := s.notify(s.ctx, "receiveBlobChunk", o, t, bin(buf[:k])); err != nil {
				return err
			}
			sent += int64(k)
		}
		if cut && sent*2 >= size {
			s.log.Info("testserver: cutting a blob transfer", "oid", oid, "sent", sent, "size", size)
			s.conn.Flush(s.ctx) //nolint:errcheck // the connection ends anyway
			s.conn.Abort(ErrFaultInjected)
			return ErrFaultInjected
		}
		if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
			break
		}
		if err != nil {
			s.log.Warn("testserver: reading a blob file", "err", err)
			s.conn.Abort(err)
			return err
		}
		if n%flushEvery == 0 {
			if err := s.conn.Flush(s.ctx); err != nil {
				return err
			}
		}
	}
	return s.notify(s.ctx, "receiveBlobStop", o, t)
}
