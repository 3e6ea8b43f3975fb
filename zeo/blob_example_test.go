package zeo_test

import (
	"context"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/gozeo/gozeo/zeo"
)

// A blob stored from a reader in one client and read back, as a file, in
// another with its own blob cache directory.
func ExampleClient_LoadBlob() {
	addr, stop := exampleServer("z3101-py27")
	defer stop()
	ctx := context.Background()

	writer, err := zeo.Dial(ctx, addr, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer writer.Close()
	oid, err := writer.NewOID(ctx)
	if err != nil {
		log.Fatal(err)
	}
	tx, err := writer.Begin(ctx, zeo.TxnMeta{User: "example", Description: "a blob"})
	if err != nil {
		log.Fatal(err)
	}
	if err := tx.StoreBlob(ctx, oid, zeo.TID{}, strings.NewReader("the bytes of a file")); err != nil {
		log.Fatal(err)
	}
	tid, err := tx.Finish(ctx)
	if err != nil {
		log.Fatal(err)
	}

	dir, _ := os.MkdirTemp("", "blobs")
	defer os.RemoveAll(dir)
	reader, err := zeo.Dial(ctx, addr, &zeo.Options{BlobDir: dir, BlobCacheSize: 100 << 20})
	if err != nil {
		log.Fatal(err)
	}
	defer reader.Close()
	rec, err := reader.Load(ctx, oid) // the record: a ZODB.blob.Blob
	if err != nil {
		log.Fatal(err)
	}
	blob, err := reader.LoadBlob(ctx, oid, rec.Serial)
	if err != nil {
		log.Fatal(err)
	}
	defer blob.Close()
	data, _ := io.ReadAll(blob)
	fmt.Println(rec.Serial == tid, blob.Size, string(data))
	// Output: true 19 the bytes of a file
}
