package db_test

import (
	"context"
	"fmt"
	"log"
	"time"

	"github.com/gozeo/gozeo/db"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zeotest"
)

// Write a root and a document in one transaction, change the document,
// and read both versions back through snapshots.
func Example() {
	clock := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	srv, err := zeotest.NewServer(&zeotest.Options{Clock: func() time.Time { return clock }})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	c, err := zeo.Dial(ctx, srv.Addr(), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	objects := db.New(c, nil)

	txn, err := objects.Begin(ctx, zeo.TxnMeta{User: "alice", Description: "first document"})
	if err != nil {
		log.Fatal(err)
	}
	doc, err := txn.NewOID(ctx)
	if err != nil {
		log.Fatal(err)
	}
	txn.Store(doc, "myapp.Document", pickle.DictOf("title", pickle.Unicode("Hello")))
	root := record.NewMapping()
	root.Data.Set(pickle.Unicode("doc"), record.RefTo(doc, "myapp.Document"))
	txn.Store(db.RootOID, record.ClassPersistentMapping, root.State())
	first, err := txn.Commit(ctx)
	if err != nil {
		log.Fatal(err)
	}

	snap := objects.SnapshotAt(first)
	txn, _ = snap.Begin(ctx, zeo.TxnMeta{Description: "retitle"})
	rec, _ := txn.Load(ctx, doc)
	state, _ := pickle.AsDict(rec.State)
	state.Set("title", pickle.Unicode("Hello, world"))
	if err := txn.Store(doc, rec.Class, state); err != nil {
		log.Fatal(err)
	}
	second, err := txn.Commit(ctx)
	if err != nil {
		log.Fatal(err)
	}

	for _, at := range []zeo.TID{first, second} {
		rec, err := objects.SnapshotAt(at).Load(ctx, doc)
		if err != nil {
			log.Fatal(err)
		}
		view, _ := record.JSON(rec.State)
		fmt.Printf("%s %s\n", rec.Class, view)
	}
	// Output:
	// myapp.Document {"dict":[[{"u":"title"},{"u":"Hello"}]]}
	// myapp.Document {"dict":[[{"u":"title"},{"u":"Hello, world"}]]}
}
