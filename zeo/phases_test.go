package zeo_test

import (
	"context"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/zeo"
)

// A connection lost in each phase of the session: while connecting again
// (handshake, authentication, registration), with a load in flight, and
// at each step of a transaction. Every case ends in the documented state:
// the client connected again, reads working, a transaction cut off before
// tpc_finish aborted with nothing of it committed, and one cut off during
// tpc_finish settled by Resolve.
func TestDisconnectInEachPhase(t *testing.T) {
	for _, profile := range []string{"z3101-py27", "z5-py3", "z308-py27"} {
		t.Run(profile, func(t *testing.T) {
			t.Parallel()
			prof, _ := testserver.LookupProfile(profile)
			auth := prof.Announce().Capabilities().Auth
			for _, phase := range []string{"handshake", "authentication", "register", "load", "between stores", "vote", "finish lost", "finish reply lost"} {
				if phase == "authentication" && !auth {
					continue
				}
				t.Run(phase, func(t *testing.T) { disconnectIn(t, profile, auth, phase) })
			}
		})
	}
}

func disconnectIn(t *testing.T, profile string, auth bool, phase string) {
	ctx := ctxT(t)
	opts := testserver.Options{Profile: profile}
	if auth {
		opts.Auth = &testserver.Auth{Realm: "zeorealm", Users: map[string]string{"alice": "secret"}}
	}
	srv := testserver.Start(t, opts)
	oids, _, t2 := seed(t, srv, 2)
	n, log := &netCtl{}, newStatusLog()
	copts := reconnecting(n, log)
	if auth {
		copts.Credentials = &zeo.Credentials{User: "alice", Password: "secret"}
	}
	c := dialT(t, srv.Addr(), copts)
	loadMethod := c.Session().Methods[zeo.OpLoad]
	closeAt := func(method string) {
		srv.SetFaults(testserver.Faults{Rules: []testserver.FaultRule{{Method: method, Action: testserver.FaultClose}}})
	}
	// clearOnReconnect lifts the fault once the client has noticed the
	// loss, so that the next connection works.
	clearOnReconnect := func() {
		i := log.waitFor(t, 0, isStatus(zeo.StatusReconnecting))
		srv.SetFaults(testserver.Faults{})
		log.waitFor(t, i, isStatus(zeo.StatusConnected))
	}
	unchanged := func() {
		t.Helper()
		for _, o := range oids {
			rev, err := c.LoadBefore(ctx, o, zeo.MaxTID)
			if err != nil || rev.Serial != t2 {
				t.Errorf("object %s after the lost transaction: %+v, %v; want serial %s", o, rev, err, t2)
			}
		}
	}
	var tid zeo.TID
	switch phase {
	case "handshake", "authentication", "register":
		// The connection is cut, and the next attempts fail in this phase.
		switch phase {
		case "handshake":
			n.failHandshakes(3)
		case "authentication":
			closeAt("auth_response")
		case "register":
			closeAt("register")
		}
		n.cut()
		i := log.waitFor(t, 0, func(ev zeo.StatusEvent) bool { return ev.Attempt >= 2 })
		srv.SetFaults(testserver.Faults{})
		log.waitFor(t, i, isStatus(zeo.StatusConnected))
	case "load":
		// The load in flight is sent again on the next connection.
		closeAt(loadMethod)
		go clearOnReconnect()
		rev, err := c.Load(ctx, oids[0])
		if err != nil || rev.Serial != t2 {
			t.Fatalf("Load cut off in flight: %+v, %v; want it retried on the next connection", rev, err)
		}
	case "between stores", "vote":
		tx, err := c.Begin(ctx, zeo.TxnMeta{})
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Store(ctx, oids[0], t2, []byte("lost")); err != nil {
			t.Fatal(err)
		}
		if phase == "vote" {
			closeAt("vote")
		} else {
			n.cut()
			log.waitFor(t, 0, isStatus(zeo.StatusReconnecting))
			err := tx.Store(ctx, oids[1], t2, []byte("lost"))
			checkAborted(t, "Store after the loss", err)
		}
		_, err = tx.Vote(ctx)
		checkAborted(t, "Vote", err)
		_, err = tx.Finish(ctx)
		checkAborted(t, "Finish", err)
		if err := tx.Abort(ctx); err != nil {
			t.Errorf("Abort of the lost transaction: %v", err)
		}
		srv.SetFaults(testserver.Faults{})
		unchanged()
	case "finish lost":
		// The server drops the connection instead of committing.
		closeAt("tpc_finish")
		_, err := c.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oids[0], Serial: t2, Data: []byte("maybe")})
		srv.SetFaults(testserver.Faults{})
		out := resolve(t, err)
		if out.Outcome != zeo.OutcomeNotCommitted {
			t.Errorf("Resolve = %+v, want not committed", out)
		}
		unchanged()
	case "finish reply lost":
		// The server commits, and the connection is lost before its reply.
		srv.SetFaults(testserver.Faults{Rules: []testserver.FaultRule{{Method: "tpc_finish", Action: testserver.FaultDelayReply, Delay: time.Minute}}})
		go func() {
			// Cut once the commit is visible in the storage.
			for srv.Store().LastTransaction() == t2 {
				time.Sleep(time.Millisecond)
			}
			srv.SetFaults(testserver.Faults{})
			n.cut()
		}()
		_, err := c.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oids[0], Serial: t2, Data: []byte("made it")})
		out := resolve(t, err)
		tid = srv.Store().LastTransaction()
		if out.Outcome != zeo.OutcomeCommitted || out.TID != tid {
			t.Errorf("Resolve = %+v, want committed at %s", out, tid)
		}
	}
	// In every case the client ends connected and working.
	rev, err := c.LoadBefore(ctx, oids[0], zeo.MaxTID)
	if err != nil {
		t.Fatalf("LoadBefore after %s: %v", phase, err)
	}
	if tid != (zeo.TID{}) && rev.Serial != tid {
		t.Errorf("after the commit: serial %s, want %s", rev.Serial, tid)
	}
	if _, err := c.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oids[1], Serial: t2, Data: []byte("next")}); err != nil {
		t.Errorf("a new transaction after %s: %v", phase, err)
	}
	if c.Status() != zeo.StatusConnected {
		t.Errorf("status %s", c.Status())
	}
}

func checkAborted(t *testing.T, what string, err error) {
	t.Helper()
	var de *zeo.DisconnectedError
	if !errors.As(err, &de) || !de.TxnAborted || !errors.Is(err, zeo.ErrDisconnected) {
		t.Errorf("%s: %v; want a *DisconnectedError with TxnAborted", what, err)
	}
}

func resolve(t *testing.T, err error) zeo.CommitOutcome {
	t.Helper()
	var cu *zeo.CommitOutcomeUnknownError
	if !errors.As(err, &cu) {
		t.Fatalf("commit cut off in tpc_finish: %v; want a *CommitOutcomeUnknownError", err)
	}
	out, rerr := cu.Resolve(ctxT(t))
	if rerr != nil {
		t.Fatalf("Resolve: %v", rerr)
	}
	t.Logf("%s: %s", out.Outcome, out.Reason)
	return out
}

// A Finish whose caller stops waiting after tpc_finish was sent: the
// error is a CommitOutcomeUnknownError, and the reply, when it comes, is
// still taken in wire order: the commit reaches the subscription and the
// cache drops the old revision.
func TestFinishAbandonedByItsCaller(t *testing.T) {
	ctx := ctxT(t)
	srv := testserver.Start(t, testserver.Options{Profile: "z5-py3"})
	oids, _, t2 := seed(t, srv, 1)
	c := dialT(t, srv.Addr(), nil)
	if _, err := c.Load(ctx, oids[0]); err != nil { // cached
		t.Fatal(err)
	}
	sub := c.Subscribe()
	srv.SetFaults(testserver.Faults{Rules: []testserver.FaultRule{{Method: "tpc_finish", Action: testserver.FaultDelayReply, Delay: 200 * time.Millisecond}}})
	short, cancel := contextWithTimeout(ctx, 20*time.Millisecond)
	defer cancel()
	_, err := c.Commit(short, zeo.TxnMeta{}, zeo.Write{OID: oids[0], Serial: t2, Data: []byte("late")})
	var cu *zeo.CommitOutcomeUnknownError
	if !errors.As(err, &cu) || !errors.Is(err, contextDeadline) {
		t.Fatalf("Commit with a ctx ending during tpc_finish: %v", err)
	}
	ev := <-sub.Events()
	if !ev.Local {
		t.Fatalf("event %+v, want the local commit", ev)
	}
	rev, err := c.Load(ctx, oids[0])
	if err != nil || rev.Serial != ev.TID || string(rev.Data) != "late" {
		t.Fatalf("Load after the abandoned Finish: %+v, %v; want the commit %s", rev, err, ev.TID)
	}
	if out, err := cu.Resolve(ctx); err != nil || out.Outcome != zeo.OutcomeCommitted || out.TID != ev.TID {
		t.Errorf("Resolve = %+v, %v", out, err)
	}
}

// A server that hangs does not keep the next address from being tried.
func TestFailoverPastAHangingServer(t *testing.T) {
	ctx := ctxT(t)
	good := testserver.Start(t, testserver.Options{Profile: "z5-py3"})
	hang := "192.0.2.1:8100" // never answered
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		if addr == hang {
			<-ctx.Done()
			return nil, ctx.Err()
		}
		var d net.Dialer
		return d.DialContext(ctx, network, addr)
	}
	c := dialT(t, hang+","+good.Addr(), &zeo.Options{DialContext: dial, ConnectTimeout: 50 * time.Millisecond})
	if c.Session().Server != good.Addr() {
		t.Fatalf("connected to %s", c.Session().Server)
	}
	if _, err := c.LastTransaction(ctx); err != nil {
		t.Fatal(err)
	}
}
