package zeo_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zeotest"
	"github.com/gozeo/gozeo/zodb"
)

// A service's client across a server restart: the status callback reports
// the loss and the new connection, calls made meanwhile wait, and the
// subscription goes on (what changed while the client was away arrives as
// one event with Catchup set).
func ExampleOptions_reconnect() {
	srv, err := zeotest.NewServer(&zeotest.Options{Profile: zeotest.Z5Py3})
	if err != nil {
		log.Fatal(err)
	}
	defer srv.Close()
	ctx := context.Background()
	oid := zodb.OIDFromUint64(1)
	serial, _ := srv.Seed(ctx, oid, []byte("v1"))

	statuses := make(chan zeo.StatusEvent, 16)
	c, err := zeo.Dial(ctx, srv.Addr(), &zeo.Options{
		Reconnect:   zeo.ReconnectPolicy{MinDelay: 10 * time.Millisecond},
		WaitTimeout: 10 * time.Second,
		OnStatus:    func(ev zeo.StatusEvent) { statuses <- ev },
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	sub := c.Subscribe()
	for ev := range statuses {
		if ev.Status == zeo.StatusConnected {
			fmt.Println(ev.Status, ev.Session.Negotiated)
			break
		}
	}

	// The server restarts; another client commits before this one is back.
	if err := srv.Restart(); err != nil {
		log.Fatal(err)
	}
	for ev := range statuses {
		if ev.Status == zeo.StatusReconnecting {
			fmt.Println(ev.Status, errors.Is(ev.Err, zeo.ErrDisconnected))
			break
		}
	}
	tid2, err := srv.Seed(ctx, oid, []byte("v2"))
	if err != nil {
		log.Fatal(err)
	}

	ev := <-sub.Events() // the commit, once the client is back
	rev, err := c.Load(ctx, oid)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%q newer: %v; event for it: %v %v\n", rev.Data, rev.Serial.Compare(serial) > 0, ev.TID == tid2, ev.OIDs)
	// Output:
	// connected Z5
	// reconnecting true
	// "v2" newer: true; event for it: true [0000000000000001]
}

// Settling a commit whose tpc_finish reply was lost with the connection.
func ExampleCommitOutcomeUnknownError_Resolve() {
	srv, err := zeotest.NewServer(&zeotest.Options{Profile: zeotest.Z3101Py27})
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

	// The server drops the connection instead of answering tpc_finish.
	srv.SetFaults(zeotest.Fault{Method: "tpc_finish", Action: zeotest.Close})
	_, err = c.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oid, Serial: rev.Serial, Data: []byte("v2?")})
	srv.SetFaults()

	var unknown *zeo.CommitOutcomeUnknownError
	if errors.As(err, &unknown) {
		out, err := unknown.Resolve(ctx) // once reconnected, ask the storage
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(out.Outcome)
	}
	// Output:
	// not committed
}
