package zeo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zeo/blobcache"
	"github.com/gozeo/gozeo/zrpc"
)

// BlobChunkSize is the size of the chunks blobs travel in, both ways, in
// every generation (ZEO reads 59000 bytes at a time).
const BlobChunkSize = 59000

// flushEvery bounds what one StoreBlob queues ahead of the network: after
// this many chunks (about 1 MB) it waits for them to be written, so memory
// does not grow with the blob's size.
const flushEvery = 16

// The record of a new ZODB.blob.Blob: the class pickle alone and the state
// None, as a Python 3 client (protocol 3) and a Python 2 client (cPickle,
// protocol 1) write it; the captures show both byte for byte.
var (
	blobRecordPy3 = []byte("\x80\x03cZODB.blob\nBlob\nq\x00.\x80\x03N.")
	blobRecordPy2 = []byte("cZODB.blob\nBlob\nq\x01.N.")
)

// BlobRecord returns the object record of a ZODB.blob.Blob in the pickle
// dialect of the current connection: what StoreBlob stores with the blob.
func (c *Client) BlobRecord() []byte { return c.installed().blobRecord() }

func (s *session) blobRecord() []byte {
	if pe, ok := s.conn.Encoding().(*zrpc.PickleEncoding); ok && pe.Style().Dialect == pickle.Python2 {
		return slices.Clone(blobRecordPy2)
	}
	return slices.Clone(blobRecordPy3)
}

// pendingBlob is a blob the transaction sent, written to a temporary file
// of the blob cache to be moved into place under the new tid.
type pendingBlob struct {
	oid OID
	tmp string
}

// StoreBlob stores data, read to its end, as the blob of oid, whose
// current revision is serial (zero for a new object), together with the
// object's record: a ZODB.blob.Blob (BlobRecord). ZEO's calls do both:
// storea with the record, then storeBlobStart, the data in 59000-byte
// storeBlobChunks and storeBlobEnd with the record again. Memory use does
// not depend on the blob's size. One StoreBlob at a time sends its whole
// chunk sequence: concurrent StoreBlobs of a transaction wait for each
// other, so their chunks never interleave.
//
// With Options.SharedBlobDir the data is written to a temporary file in
// the server's directory instead and only its name is sent
// (storeBlobShared). With Options.BlobDir, the blob is also kept in the
// blob cache, where Finish moves it under the new tid.
//
// An error reading data before anything was sent leaves the transaction
// usable. Once the chunks have started, a failure (data's, ctx's, the
// connection's) leaves a partial blob on the server: the transaction then
// fails Vote and Finish and must be aborted.
func (tx *Transaction) StoreBlob(ctx context.Context, oid OID, serial TID, data io.Reader) error {
	if err := tx.active("StoreBlob"); err != nil {
		return err
	}
	if err := tx.c.checkBlobs(tx.s, "StoreBlob", "storeBlobStart"); err != nil {
		return err
	}
	record := tx.s.blobRecord()
	tx.blobMu.Lock()
	defer tx.blobMu.Unlock()
	if tx.c.opts.SharedBlobDir {
		return tx.storeBlobShared(ctx, oid, serial, record, data)
	}
	buf := make([]byte, BlobChunkSize)
	n, rerr := readChunk(data, buf)
	if rerr != nil {
		return fmt.Errorf("zeo: StoreBlob: reading the blob (nothing sent): %w", rerr)
	}
	var keep *os.File
	if tx.c.blobs != nil {
		f, err := tx.c.blobs.TempFile(oid)
		if err != nil {
			return err
		}
		keep = f
	}
	discard := func() {
		if keep != nil {
			keep.Close()
			os.Remove(keep.Name())
			keep = nil
		}
	}
	// keepChunk copies a chunk sent to the cache's file; the cache copy is
	// a courtesy, so a failure drops it and the store goes on.
	keepChunk := func(p []byte) {
		if keep == nil {
			return
		}
		if _, err := keep.Write(p); err != nil {
			tx.c.log.Warn("zeo: cannot keep a stored blob in the cache", "oid", oid, "err", err)
			discard()
		}
	}
	if err := tx.storeRecord(ctx, oid, serial, record); err != nil {
		discard()
		return err
	}
	err := tx.sendChunks(ctx, oid, serial, record, data, buf, n, keepChunk)
	if err != nil {
		discard()
		tx.mu.Lock()
		if tx.broken == nil {
			tx.broken = fmt.Errorf("zeo: a StoreBlob of this transaction was cut off (%w); the server holds a partial blob: Abort the transaction", err)
		}
		tx.mu.Unlock()
		return err
	}
	if keep != nil {
		if err := keep.Close(); err != nil {
			os.Remove(keep.Name())
			tx.c.log.Warn("zeo: cannot keep a stored blob in the cache", "oid", oid, "err", err)
		} else {
			tx.mu.Lock()
			tx.blobFiles = append(tx.blobFiles, pendingBlob{oid: oid, tmp: keep.Name()})
			tx.mu.Unlock()
		}
	}
	return nil
}

// sendChunks sends storeBlobStart, the chunks (the first, n bytes, already
// in buf) and storeBlobEnd, handing each chunk to keep as well. If it
// fails after storeBlobStart, it still tries to end the sequence, so that
// the server's next blob does not start inside this one.
func (tx *Transaction) sendChunks(ctx context.Context, oid OID, serial TID, record []byte, data io.Reader, buf []byte, n int, keep func([]byte)) error {
	if err := tx.notify(ctx, "storeBlobStart"); err != nil {
		return err
	}
	var err error
	for sent := 1; n > 0; sent++ {
		keep(buf[:n])
		if err = tx.notify(ctx, "storeBlobChunk", pickle.Bytes(buf[:n])); err != nil {
			break
		}
		if sent%flushEvery == 0 {
			if err = tx.s.conn.Flush(ctx); err != nil {
				err = tx.lostOr(tx.c.mapError(err, op{method: "storeBlobChunk"}))
				break
			}
		}
		if n < len(buf) {
			break
		}
		if n, err = readChunk(data, buf); err != nil {
			err = fmt.Errorf("zeo: StoreBlob: reading the blob: %w", err)
			break
		}
	}
	endCtx := ctx
	if err != nil {
		var cancel context.CancelFunc
		endCtx, cancel = context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
	}
	if eerr := tx.notify(endCtx, "storeBlobEnd", tx.blobEndArgs(oid, serial, record)...); err == nil {
		err = eerr
	}
	return err
}

// readChunk fills buf from r, returning fewer bytes only at the end.
func readChunk(r io.Reader, buf []byte) (int, error) {
	n, err := io.ReadFull(r, buf)
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		err = nil
	}
	return n, err
}

// blobEndArgs are the arguments of storeBlobEnd and, with the file name
// inserted, storeBlobShared: those of storea.
func (tx *Transaction) blobEndArgs(oid OID, serial TID, record []byte) []any {
	if tx.s.caps.VersionsAPI {
		return []any{pickle.Bytes(oid[:]), pickle.Bytes(serial[:]), pickle.Bytes(record), "", tx.id}
	}
	return []any{pickle.Bytes(oid[:]), pickle.Bytes(serial[:]), pickle.Bytes(record), tx.id}
}

// storeRecord is Store without its checks: the blob's storea.
func (tx *Transaction) storeRecord(ctx context.Context, oid OID, serial TID, record []byte) error {
	if err := tx.notify(ctx, "storea", tx.blobEndArgs(oid, serial, record)...); err != nil {
		return err
	}
	tx.mu.Lock()
	tx.written = append(tx.written, oid)
	tx.stores = slices.DeleteFunc(tx.stores, func(sd storedData) bool { return sd.oid == oid })
	tx.stores = append(tx.stores, storedData{oid: oid, serial: serial, data: record})
	tx.mu.Unlock()
	return nil
}

// storeBlobShared writes the blob into the server's directory, in oid's
// directory under a name ending in ".tmp" (the server checks that), and
// sends the record and the name.
func (tx *Transaction) storeBlobShared(ctx context.Context, oid OID, serial TID, record []byte, data io.Reader) error {
	root := tx.c.opts.BlobDir
	dir := blobcache.BushyOIDDir(root, oid)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return &BlobDirError{Dir: root, Op: "create an oid directory", Err: err}
	}
	f, err := os.CreateTemp(dir, "*.tmp")
	if err != nil {
		return &BlobDirError{Dir: root, Op: "create a temporary blob file", Err: err}
	}
	_, err = io.CopyBuffer(f, data, make([]byte, BlobChunkSize))
	if cerr := f.Close(); err == nil && cerr != nil {
		err = &BlobDirError{Dir: root, Op: "write a blob file", Err: cerr}
	}
	if err != nil {
		os.Remove(f.Name())
		var de *BlobDirError
		if !errors.As(err, &de) {
			err = fmt.Errorf("zeo: StoreBlob: copying the blob (nothing sent): %w", err)
		}
		return err
	}
	if err := tx.storeRecord(ctx, oid, serial, record); err != nil {
		os.Remove(f.Name())
		return err
	}
	args := tx.blobEndArgs(oid, serial, record)
	args = slices.Insert(args, 3, any(filepath.Base(f.Name())))
	return tx.notify(ctx, "storeBlobShared", args...)
}

// adoptWait bounds how long Finish waits for the blob cache's oid
// directories to move committed blobs in. A download holds its directory
// for as long as the transfer takes (one of this process or of another
// sharing the cache, which may have hung); keeping the committed file is
// a courtesy, so past this bound it is dropped and the next LoadBlob of
// it downloads it.
const adoptWait = 2 * time.Second

// adoptBlobs moves the blobs the transaction committed into the blob
// cache under tid (ClientStorage does the same at tpc_finish).
func (tx *Transaction) adoptBlobs(tid TID) {
	tx.mu.Lock()
	files := tx.blobFiles
	tx.blobFiles = nil
	tx.mu.Unlock()
	if len(files) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), adoptWait)
	defer cancel()
	for _, b := range files {
		if err := tx.c.blobs.Adopt(ctx, b.tmp, b.oid, tid); err != nil {
			tx.c.log.Warn("zeo: cannot keep a committed blob in the cache; the next LoadBlob of it downloads it", "oid", b.oid, "tid", tid, "err", err)
		}
	}
}

// dropBlobFiles removes the cache copies of blobs never committed.
func (tx *Transaction) dropBlobFiles() {
	tx.mu.Lock()
	files := tx.blobFiles
	tx.blobFiles = nil
	tx.mu.Unlock()
	for _, b := range files {
		os.Remove(b.tmp)
	}
}
