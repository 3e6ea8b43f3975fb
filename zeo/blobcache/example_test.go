package blobcache_test

import (
	"context"
	"fmt"
	"io"
	"os"

	"github.com/gozeo/gozeo/zeo/blobcache"
	"github.com/gozeo/gozeo/zodb"
)

// A cache fetches a blob once; later opens find the file.
func ExampleCache_Fetch() {
	dir, _ := os.MkdirTemp("", "blobcache-example")
	defer os.RemoveAll(dir)
	cache, err := blobcache.Open(dir, blobcache.Options{MaxBytes: 100 << 20})
	if err != nil {
		panic(err)
	}
	defer cache.Close()
	oid, tid := zodb.OIDFromUint64(2), zodb.TIDFromUint64(0x040d769b4f7198ee)
	for range 2 {
		f, err := cache.Fetch(context.Background(), oid, tid, func(ctx context.Context, d *blobcache.Download) error {
			fmt.Println("downloading")
			_, err := io.WriteString(d, "blob bytes") // a client writes the server's chunks here
			return err
		})
		if err != nil {
			panic(err)
		}
		b, _ := io.ReadAll(f)
		f.Close()
		fmt.Printf("%s (%d bytes)\n", b, f.Size)
	}
	// Output:
	// downloading
	// blob bytes (10 bytes)
	// blob bytes (10 bytes)
}
