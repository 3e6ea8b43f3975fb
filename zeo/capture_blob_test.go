package zeo_test

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"fmt"
	"io"
	"path/filepath"
	"sync"
	"testing"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zrpc"
)

// The blob captures (internal/captures/testdata/*-blob{store,load}.jsonl): a
// real client stored a 153600-byte blob in one transaction, and another
// loaded it with an empty blob cache. Their .log files give the blob's
// sha1 and the committed tids.
const capturedBlobSHA1 = "fe66909456a175ba3964f18b29151d0c23d8dca8"

var blobGenerations = []struct {
	prefix    string
	version   zeo.Version
	recordLen int    // the Blob record: protocol 3 (25 bytes) or 1 (21)
	storeTID  string // blobstore's commit
	loadTID   string // the blob loaded in blobload (oid 2)
}{
	{"zeo5", zeo.Z5, 25, "040d769b4bdeb3dd", "040d769b4f7198ee"},
	{"zeo310", zeo.Z3101, 21, "040d769b6ab4f8dd", "040d769b6e602233"},
	{"zeo38", zeo.Z308, 21, "040d769b908687bb", "040d769b9433d200"},
}

// recordedBlob concatenates the chunks a capture's client sent.
func recordedBlob(t *testing.T, name string) []byte {
	t.Helper()
	var data []byte
	for _, conn := range loadCapture(t, name).conns {
		for _, f := range conn {
			if f.msg != nil && f.msg.Method == "storeBlobChunk" {
				args, _ := pickle.AsTuple(f.msg.Args)
				b, _ := pickle.AsBytes(args[0])
				data = append(data, b...)
			}
		}
	}
	return data
}

func TestCaptureBlobStore(t *testing.T) {
	for _, g := range blobGenerations {
		t.Run(g.prefix, func(t *testing.T) {
			data := recordedBlob(t, g.prefix+"-blobstore")
			if sum := sha1.Sum(data); hex.EncodeToString(sum[:]) != capturedBlobSHA1 || len(data) != 153600 {
				t.Fatalf("recorded blob: %d bytes, sha1 %x", len(data), sum)
			}
			srv := startScripted(t, g.prefix+"-blobstore")
			var mu sync.Mutex
			var chunks []int
			var methods []string
			srv.check = func(got, rec *zrpc.Message) error {
				ga, _ := pickle.AsTuple(got.Args)
				ra, _ := pickle.AsTuple(rec.Args)
				mu.Lock()
				defer mu.Unlock()
				methods = append(methods, got.Method)
				switch got.Method {
				case "storeBlobChunk":
					chunks = append(chunks, len(bytesOf(ga[0])))
					if !bytes.Equal(bytesOf(ga[0]), bytesOf(ra[0])) {
						return fmt.Errorf("chunk %d differs from the recorded one", len(chunks))
					}
				case "storea", "storeBlobEnd":
					// Same oid, serial, record (and version ''); the txn
					// id is the client's own.
					if len(ga) != len(ra) {
						return fmt.Errorf("%d arguments, recorded %d", len(ga), len(ra))
					}
					for i := range len(ga) - 1 {
						if !bytes.Equal(bytesOf(ga[i]), bytesOf(ra[i])) {
							return fmt.Errorf("argument %d is %s, recorded %s", i, pickle.Repr(ga[i]), pickle.Repr(ra[i]))
						}
					}
				}
				return nil
			}
			c := dialScripted(t, srv, &zeo.Options{BlobDir: t.TempDir()})
			ctx := ctxT(t)
			o, err := c.NewOID(ctx)
			if err != nil || o != oid(1) {
				t.Fatalf("NewOID = %s, %v", o, err)
			}
			if rec := c.BlobRecord(); len(rec) != g.recordLen {
				t.Errorf("BlobRecord is %d bytes, want %d", len(rec), g.recordLen)
			}
			tx, err := c.Begin(ctx, zeo.TxnMeta{User: "capture", Description: "store a 150 KiB blob"})
			if err != nil {
				t.Fatal(err)
			}
			if err := tx.StoreBlob(ctx, o, zeo.TID{}, bytes.NewReader(data)); err != nil {
				t.Fatalf("StoreBlob: %v", err)
			}
			rs, err := tx.Vote(ctx)
			if err != nil {
				t.Fatalf("Vote: %v", err)
			}
			want := tid(t, g.storeTID)
			if g.prefix != "zeo5" && (len(rs) != 2 || rs[0].OID != o || rs[1].Serial != want) {
				// 3.x servers list the oid twice: storea and storeBlobEnd.
				t.Errorf("serialnos results %+v", rs)
			}
			got, err := tx.Finish(ctx)
			if err != nil || got != want {
				t.Fatalf("Finish = %s, %v; want %s", got, err, want)
			}
			mu.Lock()
			defer mu.Unlock()
			if fmt.Sprint(chunks) != "[59000 59000 35600]" {
				t.Errorf("chunks %v, want [59000 59000 35600]", chunks)
			}
			wantSeq := "[storea storeBlobStart storeBlobChunk storeBlobChunk storeBlobChunk storeBlobEnd vote tpc_finish]"
			if seq := fmt.Sprint(methods[len(methods)-8:]); seq != wantSeq {
				t.Errorf("calls %s, want %s", seq, wantSeq)
			}
			// As ClientStorage does, the committed blob is now in the cache.
			b, err := c.BlobCache().OpenFile(o, want)
			if err != nil {
				t.Fatalf("the committed blob is not in the cache: %v", err)
			}
			defer b.Close()
			if sum := sha1Of(t, b); sum != capturedBlobSHA1 {
				t.Errorf("cached committed blob sha1 %s", sum)
			}
		})
	}
}

func TestCaptureBlobLoad(t *testing.T) {
	for _, g := range blobGenerations {
		t.Run(g.prefix, func(t *testing.T) {
			srv := startScripted(t, g.prefix+"-blobload")
			dir := t.TempDir()
			c := dialScripted(t, srv, &zeo.Options{BlobDir: dir})
			ctx := ctxT(t)
			r, err := c.Load(ctx, oid(2))
			want := tid(t, g.loadTID)
			if err != nil || r.Serial != want || len(r.Data) != g.recordLen {
				t.Fatalf("Load = %s, %d bytes, %v", r.Serial, len(r.Data), err)
			}
			if !bytes.Equal(r.Data, c.BlobRecord()) {
				t.Errorf("the recorded Blob record %q is not BlobRecord() %q", r.Data, c.BlobRecord())
			}
			b, err := c.LoadBlob(ctx, oid(2), r.Serial)
			if err != nil {
				t.Fatalf("LoadBlob: %v", err)
			}
			defer b.Close()
			// Where ZEO 3.9+ clients put it (the capture's log).
			if wantPath := filepath.Join(dir, "2", "0."+g.loadTID+".blob"); b.Path != wantPath {
				t.Errorf("Path %s, want %s", b.Path, wantPath)
			}
			if b.Size != 153600 {
				t.Errorf("Size %d", b.Size)
			}
			if sum := sha1Of(t, b); sum != capturedBlobSHA1 {
				t.Errorf("sha1 %s, want %s", sum, capturedBlobSHA1)
			}
			if _, err := b.Seek(153600-17, io.SeekStart); err != nil {
				t.Fatal(err)
			}
			// A second load is served from the cache: the capture has no
			// second sendBlob to answer it with.
			b2, err := c.LoadBlob(ctx, oid(2), r.Serial)
			if err != nil {
				t.Fatalf("second LoadBlob: %v", err)
			}
			b2.Close()
		})
	}
}

func bytesOf(v pickle.Value) []byte {
	b, _ := pickle.AsBytes(v)
	return b
}

func sha1Of(t *testing.T, r io.Reader) string {
	t.Helper()
	h := sha1.New()
	if _, err := io.Copy(h, r); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(h.Sum(nil))
}
