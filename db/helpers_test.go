package db_test

import (
	"context"
	"testing"
	"time"

	"github.com/gozeo/gozeo/db"
	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/internal/testserver/store"
	"github.com/gozeo/gozeo/internal/zodbtest"
	"github.com/gozeo/gozeo/zeo"
)

// profileOf is a test server generation close to the ZODB that wrote gen.
func profileOf(g zodbtest.Generation) string {
	if g.Py2 {
		return "z3101-py27"
	}
	return "z5-py3"
}

// replay returns a store holding recs under their own tids.
func replay(t testing.TB, recs []zodbtest.Record) *store.Store {
	t.Helper()
	st := store.New(store.Options{})
	if err := zodbtest.Replay(context.Background(), st, recs); err != nil {
		t.Fatal(err)
	}
	return st
}

// open serves st (a new store when nil) as profile and returns a DB over
// a client connected to it.
func open(t testing.TB, profile string, st *store.Store, opts *db.Options) (*db.DB, *testserver.Server) {
	t.Helper()
	srv := testserver.Start(t, testserver.Options{Profile: profile, Store: st})
	c, err := zeo.Dial(context.Background(), srv.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return db.New(c, opts), srv
}

// catchUp waits until the client has processed every commit the server
// has made (invalidations arrive before the reply to a later call).
func catchUp(t testing.TB, d *db.DB) {
	t.Helper()
	ctx := context.Background()
	last, err := d.Client().LastTransaction(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; d.Client().LastTID().Compare(last) < 0; i++ {
		if i > 1000 {
			t.Fatalf("the client knows %v, the server %v", d.Client().LastTID(), last)
		}
		time.Sleep(time.Millisecond)
	}
}
