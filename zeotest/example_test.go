package zeotest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"path/filepath"
	"time"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zeotest"
	"github.com/gozeo/gozeo/zodb"
)

// A server imitating ZODB 3.10 with one object seeded, and a client
// reading it. In a test, zeotest.Start(t, opts) and srv.Client(t, nil) do
// the same with cleanup.
func Example() {
	srv, err := zeotest.NewServer(&zeotest.Options{Profile: zeotest.Z3101Py27})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()

	oid := zodb.OIDFromUint64(1)
	if _, err := srv.Seed(ctx, oid, []byte("a raw record")); err != nil {
		log.Fatal(err)
	}

	c, err := zeo.Dial(ctx, srv.Addr(), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	rev, err := c.Load(ctx, oid)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(srv.Profile().Release())
	fmt.Println("negotiated", c.Session().Negotiated)
	fmt.Printf("%s\n", rev.Data)
	// Output:
	// ZODB 3.10.7 / ZEO 4.0 – 4.1 on Python 2.7
	// negotiated Z3101
	// a raw record
}

// Seeding an object by class and state: the record is written as ZODB on
// the profile's Python writes it, and the record package reads it back.
func ExampleServer_SeedObject() {
	for _, p := range []zeotest.Profile{zeotest.Z308Py27, zeotest.Z5Py3} {
		srv, err := zeotest.NewServer(&zeotest.Options{Profile: p})
		if err != nil {
			log.Fatal(err)
		}
		ctx := context.Background()
		root := zodb.OIDFromUint64(0)
		state := pickle.DictOf("data", pickle.DictOf("greeting", "hello"))
		if _, err := srv.SeedObject(ctx, root, "persistent.mapping.PersistentMapping", state); err != nil {
			log.Fatal(err)
		}

		c, err := zeo.Dial(ctx, srv.Addr(), nil)
		if err != nil {
			log.Fatal(err)
		}
		rev, err := c.Load(ctx, root)
		if err != nil {
			log.Fatal(err)
		}
		rec, err := record.Decode(rev.Data)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s: %s %s, pickle protocol %d\n", p, rec.Class, pickle.Repr(rec.State), protocol(rev.Data))
		c.Close()
		srv.Close()
	}
	// Output:
	// z308-py27: persistent.mapping.PersistentMapping {'data': {'greeting': 'hello'}}, pickle protocol 1
	// z5-py3: persistent.mapping.PersistentMapping {"data": {"greeting": "hello"}}, pickle protocol 3
}

// protocol reads a pickle's protocol from its PROTO header (none before
// protocol 2; ZODB on Python 2 writes protocol 1).
func protocol(p []byte) int {
	if len(p) > 1 && p[0] == 0x80 {
		return int(p[1])
	}
	return 1
}

// Faults: the server drops the connection instead of handling
// tpc_finish, so the client cannot know whether its commit happened until
// it asks again.
func ExampleServer_SetFaults() {
	srv, err := zeotest.NewServer(&zeotest.Options{Profile: zeotest.Z5Py3})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	c, err := zeo.Dial(ctx, srv.Addr(), &zeo.Options{Reconnect: zeo.ReconnectPolicy{MinDelay: 10 * time.Millisecond}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	oid := zodb.OIDFromUint64(1)
	if _, err := srv.Seed(ctx, oid, []byte("v1")); err != nil {
		log.Fatal(err)
	}
	rev, err := c.Load(ctx, oid)
	if err != nil {
		log.Fatal(err)
	}

	srv.SetFaults(zeotest.Fault{Method: "tpc_finish", Action: zeotest.Close})
	_, err = c.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oid, Serial: rev.Serial, Data: []byte("v2?")})
	srv.SetFaults()

	var unknown *zeo.CommitOutcomeUnknownError
	fmt.Println("outcome unknown:", errors.As(err, &unknown))
	out, err := unknown.Resolve(ctx) // once reconnected, ask the storage
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(out.Outcome)
	// Output:
	// outcome unknown: true
	// not committed
}

// Blobs: a ZODB 3.10 server keeps them in its blob directory; one client
// stores a blob of three chunks, another, with a blob cache of its own,
// downloads it. With NoBlobs the storage has none, and the client refuses
// blob operations before sending anything.
func ExampleServer_BlobDir() {
	srv, err := zeotest.NewServer(&zeotest.Options{Profile: zeotest.Z3101Py27})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	caches, err := os.MkdirTemp("", "blob-caches-")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(caches)
	dial := func(cache string) *zeo.Client {
		c, err := zeo.Dial(ctx, srv.Addr(), &zeo.Options{BlobDir: filepath.Join(caches, cache)})
		if err != nil {
			log.Fatal(err)
		}
		return c
	}

	writer := dial("writer")
	defer writer.Close()
	oid, err := writer.NewOID(ctx)
	if err != nil {
		log.Fatal(err)
	}
	tx, err := writer.Begin(ctx, zeo.TxnMeta{Description: "a blob"})
	if err != nil {
		log.Fatal(err)
	}
	content := bytes.Repeat([]byte("blob data "), 15000) // 150000 bytes: three chunks
	if err := tx.StoreBlob(ctx, oid, zeo.TID{}, bytes.NewReader(content)); err != nil {
		log.Fatal(err)
	}
	if _, err := tx.Vote(ctx); err != nil {
		log.Fatal(err)
	}
	tid, err := tx.Finish(ctx)
	if err != nil {
		log.Fatal(err)
	}

	reader := dial("reader")
	defer reader.Close()
	b, err := reader.LoadBlob(ctx, oid, tid)
	if err != nil {
		log.Fatal(err)
	}
	got, err := io.ReadAll(b)
	b.Close()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("server has a blob directory:", srv.BlobDir() != "")
	fmt.Println("read back:", len(got), "bytes, equal:", bytes.Equal(got, content))

	bare, err := zeotest.NewServer(&zeotest.Options{Profile: zeotest.Z3101Py27, NoBlobs: true})
	if err != nil {
		log.Fatal(err)
	}
	defer bare.Close()
	c, err := zeo.Dial(ctx, bare.Addr(), &zeo.Options{BlobDir: filepath.Join(caches, "bare")})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	_, err = c.LoadBlob(ctx, oid, tid)
	fmt.Println("without blobs:", bare.BlobDir() == "", errors.Is(err, zeo.ErrUnsupported))
	// Output:
	// server has a blob directory: true
	// read back: 150000 bytes, equal: true
	// without blobs: true true
}
