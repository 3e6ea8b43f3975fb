package conform

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/gozeo/gozeo/zeo"
)

// blobSize is the size of the blob the write suite stores: five full
// 59000-byte chunks and a short sixth, so that the transfer has a middle
// and an end in both directions.
const blobSize = 5*zeo.BlobChunkSize + 1234

// The blob checks of the write suite. Whether a server has blobs is zeo's
// decision, taken before anything is sent: the negotiated version's
// capability row (blobs from Z308) and the storage's interfaces in
// get_info (ZODB 3.9+ list IBlobStorage when there is a blob directory).
// zeo refuses a blob call with an *UnsupportedError otherwise, and the
// checks report that as a skip, "no blobs". A ZODB 3.8 server does not
// list its interfaces, so one without a blob directory cannot be told
// apart before trying: the checks run and fail there.

// noBlobs turns zeo's refusal of a blob operation into the skip note, and
// remembers it for the checks after.
func (e *env) noBlobs(err error) (Result, bool) {
	var ue *zeo.UnsupportedError
	if !errors.As(err, &ue) {
		return Result{}, false
	}
	why := ue.Reason
	if why == "" {
		why = fmt.Sprintf("%s has no %s", e.rep.Negotiated, ue.Method)
	}
	e.blobsMissing = "no blobs: " + why
	return skip(e.blobsMissing), true
}

// blobDirs makes the blob directories of the run's clients when the
// caller configured none: the main client's (where StoreBlob keeps what
// it commits), and the reading client's, kept apart so that the reader
// has to download the blob with sendBlob. With SharedBlobDir both use the
// server's directory, as configured. It returns the function that removes
// what it made.
func (e *env) blobDirs() (cleanup func(), err error) {
	if e.copts.SharedBlobDir {
		e.readerOpts = e.copts
		return func() {}, nil
	}
	root, err := os.MkdirTemp("", "zeoconform-blobs-")
	if err != nil {
		return nil, fmt.Errorf("conform: a blob directory for the write suite: %w", err)
	}
	if e.copts.BlobDir == "" {
		e.copts.BlobDir = filepath.Join(root, "writer")
	}
	e.readerOpts = e.copts
	e.readerOpts.BlobDir = filepath.Join(root, "reader")
	return func() { os.RemoveAll(root) }, nil
}

func checkBlobMissing(ctx context.Context, e *env) Result {
	serial := e.c.Session().ConnectTID
	sent := fmt.Sprintf("sendBlob(%s, %s), an oid no storage has", missingOID, serial)
	b, err := e.c.LoadBlob(ctx, missingOID, serial)
	if r, ok := e.noBlobs(err); ok {
		return r
	}
	r := pass(sent, errText(err))
	var nf *zeo.NotFoundError
	if !errors.As(err, &nf) || !nf.Blob {
		if b != nil {
			b.Close()
		}
		r = fail(sent, errText(err), "POSKeyError for the blob (a *zeo.NotFoundError with Blob set)")
	}
	if !e.copts.SharedBlobDir {
		r.Methods = []string{"sendBlob"}
	}
	return r
}

func checkBlobRoundTrip(ctx context.Context, e *env) (r Result) {
	if e.blobsMissing != "" {
		return skip(e.blobsMissing)
	}
	methods := []string{"storea", "storeBlobStart", "storeBlobChunk", "storeBlobEnd", "sendBlob"}
	store := "storea, storeBlobStart, storeBlobChunk, storeBlobEnd"
	if e.copts.SharedBlobDir {
		methods = []string{"storea", "storeBlobShared"}
		store = "storea, storeBlobShared"
	}
	defer func() {
		if r.Status != Skip {
			r.Methods = methods
		}
	}()
	data := make([]byte, blobSize)
	rand.Read(data)
	sum := sha256.Sum256(data)
	chunks := (len(data) + zeo.BlobChunkSize - 1) / zeo.BlobChunkSize
	oid, err := e.c.NewOID(ctx)
	if err != nil {
		return fail("new_oids()", errText(err), "a new oid")
	}
	sent := fmt.Sprintf("a new blob %s of %d bytes (%d chunks, sha256 %s…): tpc_begin, %s, vote, tpc_finish",
		oid, len(data), chunks, hex.EncodeToString(sum[:4]), store)

	tx, err := e.c.Begin(ctx, zeo.TxnMeta{User: "gozeo", Description: "gozeo conformance: a blob"})
	if err != nil {
		return fail("tpc_begin", errText(err), "a transaction")
	}
	defer tx.Abort(ctx)
	err = tx.StoreBlob(ctx, oid, zeo.TID{}, bytes.NewReader(data))
	if r, ok := e.noBlobs(err); ok {
		return r
	}
	var tid zeo.TID
	if err == nil {
		_, err = tx.Vote(ctx)
	}
	if err == nil {
		tid, err = tx.Finish(ctx)
	}
	if err != nil {
		return fail(sent, errText(err), "the new transaction's tid")
	}

	// Another client, with a blob cache of its own, asks the server.
	reader, err := zeo.Dial(ctx, e.opts.Addr, &e.readerOpts)
	if err != nil {
		return fail("a second connection", errText(err), "a connection")
	}
	defer reader.Close()
	sent += fmt.Sprintf("; another client loads the blob of %s at %s", oid, tid)
	want := fmt.Sprintf("%d bytes with sha256 %s…", len(data), hex.EncodeToString(sum[:4]))
	b, err := reader.LoadBlob(ctx, oid, tid)
	if err != nil {
		return fail(sent, errText(err), want)
	}
	defer b.Close()
	h := sha256.New()
	n, err := io.Copy(h, b)
	if err != nil {
		return fail(sent, fmt.Sprintf("%d bytes read, then %v", n, err), want)
	}
	got := h.Sum(nil)
	if n != int64(len(data)) || !bytes.Equal(got, sum[:]) {
		return fail(sent, fmt.Sprintf("%d bytes with sha256 %s…", n, hex.EncodeToString(got[:4])), want)
	}
	return pass(sent, fmt.Sprintf("committed in %s; the other client read the same %d bytes", tid, n))
}
