package store_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gozeo/gozeo/internal/testserver/store"
	"github.com/gozeo/gozeo/zodb"
)

// A commit as a ZEO server drives it, with another client's invalidation.
func Example() {
	frozen := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	st := store.New(store.Options{Clock: func() time.Time { return frozen }})
	alice := st.NewSession(store.SessionOptions{})
	bob := st.NewSession(store.SessionOptions{})
	defer alice.Close()
	defer bob.Close()

	st.Subscribe(func(c store.Commit) {
		if c.Origin != bob { // the protocol layer skips the committer
			fmt.Println("bob invalidates", c.OIDs, "at", c.TID)
		}
	})

	ctx := context.Background()
	oids, _ := alice.NewOIDs(1)
	txn := int64(140234) // whatever id the client sent
	_ = alice.TpcBegin(txn, store.TxnMeta{User: "alice", Description: "create"})
	_ = alice.Store(txn, oids[0], zodb.ZeroTID, []byte("record"))
	res, err := alice.Vote(ctx, txn)
	if err != nil {
		fmt.Println("vote failed:", err)
		return
	}
	fmt.Println("vote:", res.Objects)
	tid, _ := alice.Finish(txn)

	// Bob writes on top of a stale serial and gets a conflict at vote.
	_ = bob.TpcBegin("b", store.TxnMeta{})
	_ = bob.Store("b", oids[0], zodb.ZeroTID, []byte("mine"))
	_, err = bob.Vote(ctx, "b")
	var conflict *store.ConflictError
	fmt.Println(errors.As(err, &conflict), conflict.Committed == tid)
	bob.Abort("b")
	// Output:
	// vote: [{0000000000000001 stored}]
	// bob invalidates [0000000000000001] at 03f58e0000000000
	// true true
}
