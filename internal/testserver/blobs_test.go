package testserver

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zeo/blobcache"
	"github.com/gozeo/gozeo/zodb"
	"github.com/gozeo/gozeo/zrpc"
)

// blobRecord is the Blob record of a Python 3 client (the captures').
var blobRecord = []byte("\x80\x03cZODB.blob\nBlob\nq\x00.\x80\x03N.")

// storeBlobSeq sends what a ZEO client sends for one blob: storea, then
// storeBlobStart, the data in 59000-byte chunks and storeBlobEnd.
func (c *testClient) storeBlobSeq(p Profile, txn int64, oid uint64, data []byte) {
	c.t.Helper()
	c.store(p, txn, oid, zodb.ZeroTID, blobRecord)
	c.notify("storeBlobStart")
	for off := 0; off < len(data); off += blobChunk {
		c.notify("storeBlobChunk", pickle.Bytes(data[off:min(off+blobChunk, len(data))]))
	}
	args := []pickle.Value{oidArg(oid), pickle.Bytes(zodb.ZeroTID.Bytes()), pickle.Bytes(blobRecord)}
	if p.caps().VersionsAPI {
		args = append(args, "")
	}
	c.notify("storeBlobEnd", append(args, txn)...)
}

func blobBytes(n int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "blob line %06d\n", i)
	}
	return b.Bytes()[:n]
}

// TestBlobRoundTrip: a blob stored in chunks lands in the bushy layout
// under the vote's tid, and sendBlob streams it back as the captured
// servers do: start, 59000-byte chunks, stop, then the reply.
func TestBlobRoundTrip(t *testing.T) {
	for _, name := range []string{"z308-py27", "z309-py26", "z3101-py27", "z5-py3", "m5-py3"} {
		t.Run(name, func(t *testing.T) {
			srv := Start(t, Options{Profile: name})
			p := srv.Profile()
			data := blobBytes(153600)
			c := dial(t, srv)
			c.register(srv)
			c.beginTxn(p, 1)
			c.storeBlobSeq(p, 1, 0x42, data)
			vote := c.mustCall("vote", int64(1))
			tid := asTID(t, c.mustCall("tpc_finish", int64(1)))
			if p.caps().StoreResultsInVote {
				if l, _ := pickle.AsTuple(vote); len(l) != 0 {
					t.Errorf("vote = %s, want []", pickle.Repr(vote))
				}
			} else {
				// The record came twice: serialnos lists the oid twice.
				var items []any
				for _, m := range c.pending() {
					if m.Method == "serialnos" {
						args, _ := pickle.AsTuple(m.Args)
						items, _ = pickle.AsTuple(args[0])
					}
				}
				if len(items) != 2 {
					t.Errorf("serialnos has %d items, want 2", len(items))
				}
			}
			path := blobcache.BushyPath(srv.BlobDir(), zodb.OIDFromUint64(0x42), tid)
			if got, err := os.ReadFile(path); err != nil || !bytes.Equal(got, data) {
				t.Fatalf("blob file %s: %d bytes, %v", path, len(got), err)
			}
			if tmp, _ := os.ReadDir(filepath.Join(srv.BlobDir(), "tmp")); len(tmp) != 0 {
				t.Errorf("tmp holds %d files", len(tmp))
			}

			r := dial(t, srv)
			r.register(srv)
			if v := r.mustCall("sendBlob", oidArg(0x42), pickle.Bytes(tid.Bytes())); !pickle.IsNone(v) {
				t.Errorf("sendBlob = %s", pickle.Repr(v))
			}
			var methods []string
			var got []byte
			var ids []int64
			for _, m := range r.pending() {
				methods = append(methods, m.Method)
				id, _ := pickle.AsInt(m.ID)
				ids = append(ids, id)
				args, _ := pickle.AsTuple(m.Args)
				if m.Method == "receiveBlobChunk" {
					chunk, _ := pickle.AsBytes(args[2])
					methods[len(methods)-1] += fmt.Sprint(len(chunk))
					got = append(got, chunk...)
				}
			}
			want := "[receiveBlobStart receiveBlobChunk59000 receiveBlobChunk59000 receiveBlobChunk35600 receiveBlobStop]"
			if fmt.Sprint(methods) != want {
				t.Errorf("server calls %v, want %s", methods, want)
			}
			if !bytes.Equal(got, data) {
				t.Error("chunks do not add up to the blob")
			}
			if p.CountOneWay {
				// ZODB ≤ 3.9 number their one-way calls (zeo38-blobload).
				for i := 1; i < len(ids); i++ {
					if ids[i] != ids[i-1]+1 {
						t.Errorf("one-way msgids %v are not consecutive", ids)
						break
					}
				}
			}
			_, err := r.call("sendBlob", oidArg(0x42), pickle.Bytes(zodb.TIDFromUint64(1).Bytes()))
			var re *zrpc.RemoteError
			if !errors.As(err, &re) || re.Name() != "POSKeyError" {
				t.Errorf("sendBlob of a missing revision = %v, want POSKeyError", err)
			}
		})
	}
}

func TestBlobAbortRemovesFiles(t *testing.T) {
	srv := Start(t, Options{Profile: "z3101-py27"})
	p := srv.Profile()
	c := dial(t, srv)
	c.register(srv)
	c.beginTxn(p, 1)
	c.storeBlobSeq(p, 1, 7, blobBytes(100_000))
	c.mustCall("vote", int64(1))
	c.mustCall("tpc_abort", int64(1))
	var files []string
	filepath.WalkDir(srv.BlobDir(), func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != ".layout" {
			files = append(files, path)
		}
		return nil
	})
	if len(files) != 0 {
		t.Errorf("an aborted blob left %v", files)
	}
}

func TestBlobSharedStore(t *testing.T) {
	srv := Start(t, Options{Profile: "z5-py3"})
	c := dial(t, srv)
	c.register(srv)
	c.beginTxn(srv.Profile(), 1)
	oid := zodb.OIDFromUint64(9)
	dir := blobcache.BushyOIDDir(srv.BlobDir(), oid)
	os.MkdirAll(dir, 0o755)
	os.WriteFile(filepath.Join(dir, "abc.tmp-"), []byte("shared"), 0o644)
	c.store(srv.Profile(), 1, 9, zodb.ZeroTID, blobRecord)
	c.notify("storeBlobShared", oidArg(9), pickle.Bytes(zodb.ZeroTID.Bytes()), pickle.Bytes(blobRecord), "abc.tmp-", int64(1))
	c.mustCall("vote", int64(1))
	tid := asTID(t, c.mustCall("tpc_finish", int64(1)))
	if got, err := os.ReadFile(blobcache.BushyPath(srv.BlobDir(), oid, tid)); string(got) != "shared" {
		t.Errorf("shared blob in place: %q, %v", got, err)
	}
	// A name with a directory in it is an attack to ZEO: ValueError, and
	// ZEO 5 drops a client whose one-way call fails.
	c.beginTxn(srv.Profile(), 2)
	c.notify("storeBlobShared", oidArg(9), pickle.Bytes(tid.Bytes()), pickle.Bytes(blobRecord), "../x.tmp", int64(2))
	c.waitClosed()
}

func TestBlobCutTransfer(t *testing.T) {
	srv := Start(t, Options{Profile: "z4-py27"})
	p := srv.Profile()
	c := dial(t, srv)
	c.register(srv)
	c.beginTxn(p, 1)
	data := blobBytes(10 * blobChunk)
	c.storeBlobSeq(p, 1, 3, data)
	c.mustCall("vote", int64(1))
	tid := asTID(t, c.mustCall("tpc_finish", int64(1)))
	srv.SetFaults(Faults{Rules: []FaultRule{{Method: "sendBlob", Action: FaultCutTransfer}}})
	r := dial(t, srv)
	r.register(srv)
	if _, err := r.call("sendBlob", oidArg(3), pickle.Bytes(tid.Bytes())); !errors.Is(err, zrpc.ErrDisconnected) {
		t.Fatalf("sendBlob = %v, want the connection cut", err)
	}
	chunks := 0
	for _, m := range r.pending() {
		if m.Method == "receiveBlobChunk" {
			chunks++
		}
		if m.Method == "receiveBlobStop" {
			t.Error("the cut transfer was completed")
		}
	}
	if chunks == 0 || chunks >= 10 {
		t.Errorf("%d chunks before the cut, want some but not all", chunks)
	}
}

func TestNoBlobs(t *testing.T) {
	srv := Start(t, Options{Profile: "z5-py3", NoBlobs: true})
	if srv.BlobDir() != "" {
		t.Errorf("BlobDir = %q", srv.BlobDir())
	}
	c := dial(t, srv)
	c.register(srv)
	info, _ := pickle.AsDict(c.mustCall("get_info"))
	ifaces, _ := info.GetString("interfaces")
	if bytes.Contains([]byte(pickle.Repr(ifaces)), []byte("IBlobStorage")) {
		t.Errorf("interfaces %s list IBlobStorage", pickle.Repr(ifaces))
	}
	_, err := c.call("sendBlob", oidArg(1), pickle.Bytes(zodb.TIDFromUint64(1).Bytes()))
	var re *zrpc.RemoteError
	if !errors.As(err, &re) || re.Name() != "Unsupported" {
		t.Errorf("sendBlob = %v, want Unsupported", err)
	}
}
