package zeo_test

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/zeo"
)

// The reconnection suite: every case ends in the documented state, on
// every server generation that has tids.

// cutOff is a client with two objects cached and a subscription, whose
// server has been taken off the network (cachedThenCut).
type cutOff struct {
	srv  *testserver.Server
	oids []zeo.OID
	t2   zeo.TID // the objects' serial
	a    *zeo.Client
	sub  *zeo.Subscription
	n    *netCtl // n.setDown(false) ends the outage
	log  *statusLog
}

// cachedThenCut starts a server with two objects and a client that has
// both cached and subscribes, then takes the server off the network; it
// returns once the client is reconnecting.
func cachedThenCut(t *testing.T, opts testserver.Options) cutOff {
	t.Helper()
	x := cutOff{srv: testserver.Start(t, opts), n: &netCtl{}, log: newStatusLog()}
	x.oids, _, x.t2 = seed(t, x.srv, 2)
	x.a = dialT(t, x.srv.Addr(), reconnecting(x.n, x.log))
	x.sub = x.a.Subscribe()
	for _, o := range x.oids {
		if _, err := x.a.Load(ctxT(t), o); err != nil {
			t.Fatal(err)
		}
	}
	x.n.setDown(true)
	x.n.cut()
	x.log.waitFor(t, 0, isStatus(zeo.StatusReconnecting))
	return x
}

func reconnectProfiles(t *testing.T) []testserver.Profile {
	var out []testserver.Profile
	for _, p := range profiles(t) {
		if p.Announce().Capabilities().LastTransaction {
			out = append(out, p)
		}
	}
	return out
}

// A connection cut while the client holds cached objects; another client
// commits one of them meanwhile. On reconnecting the client gets one
// catch-up event with what changed, reloads that object and keeps serving
// the other from its cache.
func TestReconnectCatchUp(t *testing.T) {
	for _, p := range reconnectProfiles(t) {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			x := cachedThenCut(t, testserver.Options{Profile: p.Name})
			srv, oids, t2, a, sub, n, log := x.srv, x.oids, x.t2, x.a, x.sub, x.n, x.log

			b := dialT(t, srv.Addr(), nil)
			tid, err := b.Commit(ctx, zeo.TxnMeta{Description: "while A was away"}, zeo.Write{OID: oids[0], Serial: t2, Data: []byte("new")})
			if err != nil {
				t.Fatal(err)
			}
			n.setDown(false)
			ev := <-sub.Events()
			if !ev.Catchup || ev.Reset || ev.TID != tid || !slices.Equal(ev.OIDs, oids[:1]) {
				t.Fatalf("event after reconnecting: %+v; want a catch-up at %s with %s", ev, tid, oids[0])
			}
			if a.LastTID() != tid {
				t.Errorf("LastTID %s, want %s", a.LastTID(), tid)
			}
			rev, err := a.Load(ctx, oids[0])
			if err != nil || rev.Serial != tid || string(rev.Data) != "new" {
				t.Fatalf("reload of the changed object: %+v, %v", rev, err)
			}
			hits := a.CacheStats().Hits
			rev, err = a.Load(ctx, oids[1])
			if err != nil || rev.Serial != t2 {
				t.Fatalf("unchanged object: %+v, %v", rev, err)
			}
			if a.CacheStats().Hits != hits+1 {
				t.Error("the unchanged object was not served from the cache after the catch-up")
			}
			// OnStatus hears of the connection after the calls waiting
			// for it were let go (a callback may itself call the
			// client), so the event may still be on its way.
			cut := log.waitFor(t, 0, isStatus(zeo.StatusReconnecting))
			i := log.waitFor(t, cut, func(ev zeo.StatusEvent) bool {
				return ev.Status == zeo.StatusConnected && ev.Session != nil && ev.Session.Negotiated == p.Announce()
			})
			evs := log.all()
			if last := evs[len(evs)-1]; len(evs) > i+1 && last.Status != zeo.StatusConnected {
				t.Errorf("after reconnecting: %+v", evs[i:])
			}
		})
	}
}

// More transactions than the server's invalidation queue holds: the
// server cannot say what changed. Subscribers get a reset; servers up to
// ZEO 4 verify the cache object by object so that what is still current
// stays cached, ZEO 5 drops the current revisions.
func TestReconnectLongGap(t *testing.T) {
	for _, p := range reconnectProfiles(t) {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			x := cachedThenCut(t, testserver.Options{Profile: p.Name, InvalidationQueueSize: 2})
			srv, oids, t2, a, sub, n := x.srv, x.oids, x.t2, x.a, x.sub, x.n
			b := dialT(t, srv.Addr(), nil)
			serial := t2
			for i := range 3 {
				var err error
				if serial, err = b.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oids[0], Serial: serial, Data: fmt.Appendf(nil, "v%d", i)}); err != nil {
					t.Fatal(err)
				}
			}
			n.setDown(false)
			ev := <-sub.Events()
			if !ev.Reset || ev.Catchup || ev.TID != serial {
				t.Fatalf("event after a long gap: %+v; want a reset at %s", ev, serial)
			}
			verifies := p.Announce().Capabilities().CacheVerification
			if verifies && !slices.Equal(ev.OIDs, oids[:1]) {
				t.Errorf("verification found %v stale, want %v", ev.OIDs, oids[:1])
			}
			if rev, err := a.Load(ctx, oids[0]); err != nil || rev.Serial != serial {
				t.Fatalf("reload: %+v, %v", rev, err)
			}
			hits := a.CacheStats().Hits
			if _, err := a.Load(ctx, oids[1]); err != nil {
				t.Fatal(err)
			}
			if hit := a.CacheStats().Hits == hits+1; hit != verifies {
				t.Errorf("unchanged object served from the cache: %v, want %v (cache verification)", hit, verifies)
			}
		})
	}
}

// The server restarts (every connection dropped, the port closed for a
// moment); calls made meanwhile wait and succeed on the new connection.
func TestReconnectAfterRestart(t *testing.T) {
	for _, p := range reconnectProfiles(t) {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			srv := testserver.Start(t, testserver.Options{Profile: p.Name})
			oids, _, t2 := seed(t, srv, 1)
			log := newStatusLog()
			opts := reconnecting(&netCtl{}, log)
			opts.CacheSize = -1 // the load must wait for the connection
			c := dialT(t, srv.Addr(), opts)
			if err := srv.Restart(); err != nil {
				t.Fatal(err)
			}
			if rev, err := c.Load(ctx, oids[0]); err != nil || rev.Serial != t2 {
				t.Fatalf("Load after the restart: %+v, %v", rev, err)
			}
			tid, err := c.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oids[0], Serial: t2, Data: []byte("after")})
			if err != nil {
				t.Fatalf("Commit after the restart: %v", err)
			}
			if c.LastTID() != tid || c.Status() != zeo.StatusConnected {
				t.Errorf("LastTID %s status %s", c.LastTID(), c.Status())
			}
			lost := log.waitFor(t, 0, isStatus(zeo.StatusReconnecting))
			if ev := log.all()[lost]; ev.Err == nil || !errors.Is(ev.Err, zeo.ErrDisconnected) {
				t.Errorf("the reconnecting event does not say why: %+v", ev)
			}
			log.waitFor(t, lost, isStatus(zeo.StatusConnected))
		})
	}
}

// A server upgraded during the outage: the storage is the same, the
// protocol generation is not. The client renegotiates, and Session and
// every per-version choice follow.
func TestReconnectToAnotherGeneration(t *testing.T) {
	for _, tc := range []struct{ before, after string }{
		{"z3101-py27", "z5-py3"}, {"z5-py3", "z4-py27"}, {"z308-py27", "m5-py3"},
	} {
		t.Run(tc.before+"→"+tc.after, func(t *testing.T) {
			ctx := ctxT(t)
			old := testserver.Start(t, testserver.Options{Profile: tc.before})
			oids, _, t2 := seed(t, old, 1)
			log := newStatusLog()
			c := dialT(t, old.Addr(), reconnecting(&netCtl{}, log))
			if got := c.Session().Negotiated; got != old.Profile().Announce() {
				t.Fatalf("negotiated %s", got)
			}
			addr := old.Addr()
			old.Close()
			upgraded := testserver.Start(t, testserver.Options{Profile: tc.after, Store: old.Store(), Addr: addr})
			rev, err := c.Load(ctx, oids[0])
			if err != nil || rev.Serial != t2 {
				t.Fatalf("Load after the upgrade: %+v, %v", rev, err)
			}
			if got, want := c.Session().Negotiated, upgraded.Profile().Announce(); got != want {
				t.Errorf("Session().Negotiated = %s, want %s", got, want)
			}
			wantLoad := "loadEx"
			if upgraded.Profile().Announce().IsZEO5() {
				wantLoad = "loadBefore"
			}
			if m := c.Session().Methods[zeo.OpLoad]; m != wantLoad {
				t.Errorf("Load uses %s, want %s", m, wantLoad)
			}
			if _, err := c.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oids[0], Serial: t2, Data: []byte("x")}); err != nil {
				t.Errorf("Commit after the upgrade: %v", err)
			}
			lost := log.waitFor(t, 0, isStatus(zeo.StatusReconnecting))
			i := log.waitFor(t, lost, isStatus(zeo.StatusConnected))
			if s := log.all()[i].Session; s == nil || s.Negotiated != upgraded.Profile().Announce() || s.Reason == "" {
				t.Errorf("connected event %+v", log.all()[i])
			}
		})
	}
}

// A server behind the client (a restored backup) is refused with an
// error naming both tids; calls fail once WaitTimeout passes, saying
// why; when the right server is back the client goes on.
func TestReconnectRefusesStaleServer(t *testing.T) {
	ctx := ctxT(t)
	cur := testserver.Start(t, testserver.Options{Profile: "z5-py3"})
	backup := cur.Store().Clone(storeOptions())
	oids, _, t2 := seed(t, cur, 1)
	log := newStatusLog()
	opts := reconnecting(&netCtl{}, log)
	opts.WaitTimeout = 300 * time.Millisecond
	c := dialT(t, cur.Addr(), opts)
	addr := cur.Addr()
	cur.Close()
	restored := testserver.Start(t, testserver.Options{Profile: "z5-py3", Store: backup, Addr: addr})

	i := log.waitFor(t, 0, func(ev zeo.StatusEvent) bool {
		var se *zeo.StaleServerError
		return errors.As(ev.Err, &se)
	})
	var se *zeo.StaleServerError
	errors.As(log.all()[i].Err, &se)
	if se.SeenTID != t2 || se.ServerTID.Compare(t2) >= 0 {
		t.Errorf("stale server error %+v, seen should be %s", se, t2)
	}
	_, err := c.Load(ctx, oids[0])
	var de *zeo.DisconnectedError
	if !errors.As(err, &de) || !de.NotSent || de.Attempts == 0 || !errors.As(de.LastAttempt, &se) {
		t.Fatalf("Load while only a stale server answers: %v", err)
	}
	t.Log(err)

	restored.Close()
	back := testserver.Start(t, testserver.Options{Profile: "z5-py3", Store: cur.Store(), Addr: addr})
	_ = back
	log.waitFor(t, i, isStatus(zeo.StatusConnected))
	if rev, err := c.Load(ctx, oids[0]); err != nil || rev.Serial != t2 {
		t.Fatalf("Load once the right server is back: %+v, %v", rev, err)
	}
}

// With several addresses the client prefers one that takes a read-write
// registration; with the read-only fallback it settles for a read-only
// one when that is all there is.
func TestReconnectPrefersWritableServer(t *testing.T) {
	ctx := ctxT(t)
	ro := testserver.Start(t, testserver.Options{Profile: "z5-py3", ReadOnly: true})
	rw := testserver.Start(t, testserver.Options{Profile: "z5-py3", Store: ro.Store()})
	c := dialT(t, ro.Addr()+","+rw.Addr(), &zeo.Options{ReadOnlyFallback: true})
	if s := c.Session(); s.Server != rw.Addr() || s.ReadOnly {
		t.Fatalf("connected to %s (read-only %v), want the writable %s", s.Server, s.ReadOnly, rw.Addr())
	}
	rw.Close()
	// Only the read-only server is left: the fallback takes it.
	log := newStatusLog()
	c2 := dialT(t, ro.Addr()+","+rw.Addr(), &zeo.Options{ReadOnlyFallback: true, OnStatus: log.record})
	if s := c2.Session(); s.Server != ro.Addr() || !s.ReadOnly || !s.ReadOnlyFallback {
		t.Fatalf("session %+v, want a read-only fallback on %s", s, ro.Addr())
	}
	if _, err := c2.Begin(ctx, zeo.TxnMeta{}); !errors.Is(err, zeo.ErrReadOnly) {
		t.Errorf("Begin on the fallback: %v", err)
	}
	// Without the fallback nothing will do.
	if _, err := zeo.Dial(ctx, ro.Addr()+","+rw.Addr(), nil); err == nil {
		t.Error("Dial without fallback succeeded with no writable server")
	}
}

// A call made while no server answers waits for WaitTimeout and then
// fails saying it was never sent, for how long the connection has been
// down and what the attempts ran into; ctx bounds it too.
func TestCallsWaitForTheConnection(t *testing.T) {
	ctx := ctxT(t)
	srv := testserver.Start(t, testserver.Options{Profile: "z3101-py27"})
	oids, _, t2 := seed(t, srv, 1)
	n, log := &netCtl{}, newStatusLog()
	opts := reconnecting(n, log)
	opts.WaitTimeout = 200 * time.Millisecond
	opts.CacheSize = -1
	c := dialT(t, srv.Addr(), opts)
	n.setDown(true)
	n.cut()
	log.waitFor(t, 0, func(ev zeo.StatusEvent) bool { return ev.Attempt > 0 })

	_, err := c.Load(ctx, oids[0])
	var de *zeo.DisconnectedError
	if !errors.As(err, &de) || !de.NotSent || de.Attempts == 0 || !errors.Is(de.LastAttempt, errUnreachable) || de.Down <= 0 {
		t.Fatalf("Load while down: %v (%+v)", err, de)
	}
	if msg := err.Error(); !contains(msg, "not sent") || contains(msg, "may or may not") {
		t.Errorf("message %q should say the call was not sent", msg)
	}
	// A waiting call whose ctx ends first reports the ctx.
	sctx, cancel := contextWithTimeout(ctx, 20*time.Millisecond)
	_, err = c.LastTransaction(sctx)
	cancel()
	if !errors.As(err, &de) || !errors.Is(de.Waited, contextDeadline) {
		t.Errorf("LastTransaction with a short ctx: %v", err)
	}
	// Back up: a call waiting at that moment succeeds.
	done := make(chan error, 1)
	go func() {
		_, err := c.Load(ctx, oids[0])
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	n.setDown(false)
	if err := <-done; err != nil {
		t.Fatalf("Load waiting while the server came back: %v", err)
	}
	if rev, err := c.Load(ctx, oids[0]); err != nil || rev.Serial != t2 {
		t.Fatalf("%+v %v", rev, err)
	}
}

// Fifty clients lose their server at once and all come back.
func TestFiftyClientsReconnect(t *testing.T) {
	ctx := ctxT(t)
	srv := testserver.Start(t, testserver.Options{Profile: "z5-py3"})
	oids, _, t2 := seed(t, srv, 1)
	clients := make([]*zeo.Client, 50)
	for i := range clients {
		clients[i] = dialT(t, srv.Addr(), reconnecting(&netCtl{}, newStatusLog()))
	}
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() {
			if rev, err := c.LoadBefore(ctx, oids[0], zeo.MaxTID); err != nil || rev.Serial != t2 {
				t.Errorf("client after restart: %+v, %v", rev, err)
			}
		})
	}
	wg.Wait()
}

// Close is final, idempotent and prompt, also in the middle of an outage;
// calls waiting then fail with ErrClosed; nothing is left running.
func TestCloseWhileReconnecting(t *testing.T) {
	baseline := numGoroutines()
	ctx := ctxT(t)
	srv := testserver.Start(t, testserver.Options{Profile: "z5-py3"})
	oids, _, _ := seed(t, srv, 1)
	n, log := &netCtl{}, newStatusLog()
	c, err := zeo.Dial(ctx, srv.Addr(), reconnecting(n, log))
	if err != nil {
		t.Fatal(err)
	}
	sub := c.Subscribe()
	n.setDown(true)
	n.cut()
	log.waitFor(t, 0, func(ev zeo.StatusEvent) bool { return ev.Attempt > 1 })
	waiting := make(chan error, 1)
	go func() {
		_, err := c.Load(ctx, oids[0])
		waiting <- err
	}()
	time.Sleep(10 * time.Millisecond)
	c.Close()
	c.Close()
	if err := <-waiting; !errors.Is(err, zeo.ErrClosed) || !errors.Is(err, zeo.ErrDisconnected) {
		t.Errorf("waiting call after Close: %v", err)
	}
	if _, ok := <-sub.Events(); ok || !errors.Is(sub.Err(), zeo.ErrClosed) {
		t.Errorf("subscription after Close: err %v", sub.Err())
	}
	select {
	case <-c.Done():
	default:
		t.Error("Done not closed after Close")
	}
	if c.Status() != zeo.StatusClosed || !errors.Is(c.Err(), zeo.ErrClosed) {
		t.Errorf("status %s, err %v", c.Status(), c.Err())
	}
	evs := log.all()
	if last := evs[len(evs)-1]; last.Status != zeo.StatusClosed {
		t.Errorf("last status event %+v", last)
	}
	srv.Close()
	checkNoLeak(t, baseline)
}

// The race of ZEO#155/#166/#209 on a real connection: the server reads an
// object for a load, another client commits it, and the invalidation
// reaches the reader before the (delayed) load reply. The old revision
// may be returned to that load, which began before the commit, but must
// not be cached as current: the next Load returns the new revision.
func TestInvalidationCrossingLoadReply(t *testing.T) {
	for _, p := range reconnectProfiles(t) {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			ctx := ctxT(t)
			srv := testserver.Start(t, testserver.Options{Profile: p.Name})
			oids, _, t2 := seed(t, srv, 1)
			reader := dialT(t, srv.Addr(), nil)
			writer := dialT(t, srv.Addr(), nil)
			sub := reader.Subscribe()
			loadMethod := reader.Session().Methods[zeo.OpLoad]
			serial := t2
			// The load must reach the server before the commit; a run where
			// it did not is tried again.
			for attempt := 0; ; attempt++ {
				if attempt == 20 {
					t.Fatal("the load never crossed the commit")
				}
				srv.SetFaults(testserver.Faults{Rules: []testserver.FaultRule{{Method: loadMethod, Action: testserver.FaultDelayReply, Delay: 100 * time.Millisecond}}})
				old := make(chan zeo.Revision, 1)
				go func() {
					rev, err := reader.Load(ctx, oids[0])
					if err != nil {
						t.Error(err)
					}
					old <- rev
				}()
				time.Sleep(10 * time.Millisecond)
				srv.SetFaults(testserver.Faults{})
				tid, err := writer.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oids[0], Serial: serial, Data: fmt.Appendf(nil, "v%d", attempt)})
				if err != nil {
					t.Fatal(err)
				}
				if ev := <-sub.Events(); ev.TID != tid {
					t.Fatalf("event %+v", ev)
				}
				crossed := (<-old).Serial == serial
				rev, err := reader.Load(ctx, oids[0])
				if err != nil || rev.Serial != tid {
					t.Fatalf("Load after the invalidation: serial %s, %v; want %s (the crossing reply was cached as current)", rev.Serial, err, tid)
				}
				serial = tid
				if crossed {
					return
				}
			}
		})
	}
}

// Settled on a read-only server for want of a writable one, the client
// keeps trying the others and moves to the first that takes a read-write
// registration.
func TestReadOnlyFallbackMovesToWritable(t *testing.T) {
	ctx := ctxT(t)
	ro := testserver.Start(t, testserver.Options{Profile: "z5-py3", ReadOnly: true})
	rw := testserver.Start(t, testserver.Options{Profile: "z5-py3", Store: ro.Store()})
	rwAddr := rw.Addr()
	rw.Close()
	log := newStatusLog()
	opts := reconnecting(&netCtl{}, log)
	opts.ReadOnlyFallback = true
	c := dialT(t, ro.Addr()+","+rwAddr, opts)
	if s := c.Session(); !s.ReadOnly || s.Server != ro.Addr() {
		t.Fatalf("session %+v, want the read-only fallback", s)
	}
	testserver.Start(t, testserver.Options{Profile: "z5-py3", Store: ro.Store(), Addr: rwAddr})
	log.waitFor(t, 2, func(ev zeo.StatusEvent) bool {
		return ev.Status == zeo.StatusConnected && ev.Session != nil && !ev.Session.ReadOnly
	})
	if s := c.Session(); s.ReadOnly || s.Server != rwAddr {
		t.Fatalf("session %+v, want read-write on %s", s, rwAddr)
	}
	oid, err := c.NewOID(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oid, Data: []byte("w")}); err != nil {
		t.Fatalf("Commit after moving to the writable server: %v", err)
	}
}

// WaitForServer: Dial keeps trying until the server is up, within ctx;
// without it Dial fails at once.
func TestDialWaitsForServer(t *testing.T) {
	ctx := ctxT(t)
	srv := testserver.Start(t, testserver.Options{Profile: "z5-py3"})
	n, log := &netCtl{}, newStatusLog()
	n.setDown(true)
	opts := reconnecting(n, log)
	if _, err := zeo.Dial(ctx, srv.Addr(), opts); !errors.Is(err, errUnreachable) {
		t.Fatalf("Dial without WaitForServer: %v", err)
	}
	opts.WaitForServer = true
	go func() {
		// Up once Dial has failed twice (no t.Fatal off the test goroutine:
		// Dial's own ctx bounds the wait).
		for ctx.Err() == nil && !slices.ContainsFunc(log.all(), func(ev zeo.StatusEvent) bool {
			return ev.Status == zeo.StatusConnecting && ev.Attempt >= 2
		}) {
			time.Sleep(time.Millisecond)
		}
		n.setDown(false)
	}()
	c, err := zeo.Dial(ctx, srv.Addr(), opts)
	if err != nil {
		t.Fatalf("Dial with WaitForServer: %v", err)
	}
	defer c.Close()
	if c.Status() != zeo.StatusConnected {
		t.Errorf("status %s", c.Status())
	}
}
