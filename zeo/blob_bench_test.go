package zeo_test

import (
	"context"
	"io"
	"os"
	"testing"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// BenchmarkBlob compares, per size, a blob download (LoadBlob into an
// empty cache: sendBlob, the chunks to a file, the rename), a blob upload
// (StoreBlob in a transaction, with its commit), and a plain Load of a
// record of the same size (one loadBefore reply, client cache off), over
// loopback against the test server:
//
//	go test -run=^$ -bench BenchmarkBlob -benchtime 1s ./zeo/
//
// MB/s is the blob's bytes per second.
func BenchmarkBlob(b *testing.B) {
	for _, size := range []struct {
		name string
		n    int
	}{{"1MiB", 1 << 20}, {"16MiB", 16 << 20}} {
		b.Run("load-blob/"+size.name, func(b *testing.B) {
			srv := testserver.Start(b, testserver.Options{Profile: "z5-py3"})
			w := dialBench(b, srv.Addr(), nil)
			o, tid := storeBlob(b, w, blobData(int64(size.n), 1))
			c := dialBench(b, srv.Addr(), &zeo.Options{BlobDir: b.TempDir()})
			path := c.BlobCache().Path(o, tid)
			ctx := context.Background()
			b.SetBytes(int64(size.n))
			for b.Loop() {
				blob, err := c.LoadBlob(ctx, o, tid)
				if err != nil {
					b.Fatal(err)
				}
				blob.Close()
				os.Remove(path) // the next load downloads again
			}
		})
		b.Run("store-blob/"+size.name, func(b *testing.B) {
			srv := testserver.Start(b, testserver.Options{Profile: "z5-py3"})
			c := dialBench(b, srv.Addr(), nil)
			data := make([]byte, size.n)
			io.ReadFull(blobData(int64(size.n), 2), data)
			ctx := context.Background()
			b.SetBytes(int64(size.n))
			for b.Loop() {
				o, err := c.NewOID(ctx)
				if err != nil {
					b.Fatal(err)
				}
				tx, err := c.Begin(ctx, zeo.TxnMeta{})
				if err != nil {
					b.Fatal(err)
				}
				if err := tx.StoreBlob(ctx, o, zeo.TID{}, &sliceReader{data: data}); err != nil {
					b.Fatal(err)
				}
				if _, err := tx.Finish(ctx); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("load-record/"+size.name, func(b *testing.B) {
			srv := testserver.Start(b, testserver.Options{Profile: "z5-py3"})
			o := zodb.OIDFromUint64(1)
			data := make([]byte, size.n)
			io.ReadFull(blobData(int64(size.n), 3), data)
			if _, err := srv.Store().Seed(context.Background(), o, data); err != nil {
				b.Fatal(err)
			}
			c := dialBench(b, srv.Addr(), &zeo.Options{CacheSize: -1})
			ctx := context.Background()
			b.SetBytes(int64(size.n))
			for b.Loop() {
				if _, err := c.Load(ctx, o); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func dialBench(b *testing.B, addr string, opts *zeo.Options) *zeo.Client {
	b.Helper()
	c, err := zeo.Dial(context.Background(), addr, opts)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c
}

// sliceReader reads data without copying it first (bytes.Reader would do,
// but a fresh one per iteration is what it is).
type sliceReader struct {
	data []byte
	off  int
}

func (r *sliceReader) Read(p []byte) (int, error) {
	if r.off >= len(r.data) {
		return 0, io.EOF
	}
	n := copy(p, r.data[r.off:])
	r.off += n
	return n, nil
}
