package btree_test

import (
	"context"
	"fmt"
	"log"

	"github.com/gozeo/gozeo/btree"
	"github.com/gozeo/gozeo/db"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zeotest"
)

// Create an IOBTree big enough to split, hang it from the root, and read
// it back from a snapshot: a lookup, a range in key order, the length.
func Example() {
	srv, err := zeotest.NewServer(nil)
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

	txn, err := objects.Begin(ctx, zeo.TxnMeta{Description: "squares"})
	if err != nil {
		log.Fatal(err)
	}
	io, _ := btree.FamilyOf("IO")
	squares, err := btree.Create(ctx, txn, io, btree.KindBTree)
	if err != nil {
		log.Fatal(err)
	}
	for i := int64(1); i <= 1000; i++ { // a few buckets: IOBTree's hold 120 items
		if _, err := squares.Set(ctx, i, pickle.Unicode(fmt.Sprint(i*i))); err != nil {
			log.Fatal(err)
		}
	}
	root := record.NewMapping()
	root.Data.Set(pickle.Unicode("squares"), squares.Ref())
	if err := txn.Store(db.RootOID, record.ClassPersistentMapping, root.State()); err != nil {
		log.Fatal(err)
	}
	if _, err := txn.Commit(ctx); err != nil {
		log.Fatal(err)
	}

	snap, err := objects.Snapshot(ctx)
	if err != nil {
		log.Fatal(err)
	}
	rootRec, err := snap.Root(ctx)
	if err != nil {
		log.Fatal(err)
	}
	m, err := record.DecodeMapping(rootRec.State)
	if err != nil {
		log.Fatal(err)
	}
	ref, _ := m.Data.GetString("squares")
	tree, err := btree.Open(ctx, snap, record.ParseRef(ref.(pickle.PersistentRef).ID).OID)
	if err != nil {
		log.Fatal(err)
	}
	v, ok, err := tree.Get(ctx, int64(12))
	fmt.Println(tree.Class(), v, ok, err)
	for item, err := range tree.Range(ctx, int64(998), nil) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(item.Key, item.Value)
	}
	n, err := tree.Len(ctx)
	fmt.Println(n, err)
	// Output:
	// BTrees.IOBTree.IOBTree 144 true <nil>
	// 998 996004
	// 999 998001
	// 1000 1000000
	// 1000 <nil>
}
