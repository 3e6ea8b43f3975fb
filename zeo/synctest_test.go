package zeo_test

import (
	"errors"
	"testing"
	"testing/synctest"
	"time"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// The default policy on a fake clock: client and server talk over
// net.Pipe inside a synctest bubble, so ZEO's 30 s wait_timeout and the
// backoff between attempts pass in no time and exactly.
func TestDefaultWaitTimeoutAndBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		srv, err := testserver.New(testserver.Options{Profile: "z5-py3"})
		if err != nil {
			t.Fatal(err)
		}
		defer srv.Close()
		oid := zodb.OIDFromUint64(1)
		if _, err := srv.Store().Seed(t.Context(), oid, []byte("v")); err != nil {
			t.Fatal(err)
		}
		n := &netCtl{pipeTo: srv}
		c, err := zeo.Dial(t.Context(), "pipe:1", &zeo.Options{DialContext: n.dial, CacheSize: -1})
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		n.setDown(true)
		n.cut()
		synctest.Wait() // the client has noticed and waits to retry

		start := time.Now()
		_, err = c.Load(t.Context(), oid)
		waited := time.Since(start)
		var de *zeo.DisconnectedError
		if !errors.As(err, &de) || !de.NotSent || !errors.Is(de.LastAttempt, errUnreachable) {
			t.Fatalf("Load while down: %v", err)
		}
		if waited != 30*time.Second {
			t.Errorf("the call waited %s, want Options.WaitTimeout's default of 30s", waited)
		}
		// Attempts at 0 s, then after delays drawn from [0.5, 1], [1, 2],
		// [2, 4], [4, 8], [8, 16] and [15, 30] seconds: 5 to 7 in 30 s.
		if de.Attempts < 5 || de.Attempts > 7 {
			t.Errorf("%d attempts in 30 s, want 5 to 7 with 1 s doubling to 30 s", de.Attempts)
		}
		dials := n.dialCount()
		time.Sleep(10 * time.Minute)
		// Capped at 30 s: about 20 more attempts in 10 minutes, not 2^n.
		if more := n.dialCount() - dials; more < 18 || more > 42 {
			t.Errorf("%d attempts in the next 10 minutes, want 20 to 40 with the 30 s cap", more)
		}
		n.setDown(false)
		if rev, err := c.Load(t.Context(), oid); err != nil || string(rev.Data) != "v" {
			t.Fatalf("Load once the server is reachable: %+v, %v", rev, err)
		}
	})
}
