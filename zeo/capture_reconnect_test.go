package zeo_test

import (
	"slices"
	"testing"
	"time"

	"github.com/gozeo/gozeo/zeo"
)

// Reconnection against the recordings of real servers (the captures'
// shortgap and longgap scenarios): A loads two objects and receives one
// invalidation; the server closes A's connection, B commits meanwhile, A
// reconnects. On the new connection the client asks the same questions the
// real client did (getInvalidations from the tid of that invalidation;
// for ZODB 3.10 after a long gap, verify and endZeoVerify), gets the real
// server's answers and ends with the same cache: the changed object
// reloaded from the server, the other served from the cache, as the
// Python client's log says.
func TestCaptureReconnect(t *testing.T) {
	for _, tc := range []struct {
		capture          string
		changed, kept    uint64
		seenTID, lastTID string // A's tid before the break, the server's after
		reset            bool
		// keptCached: the unchanged object is still served from the cache
		// (ZEO 5 drops its cache after a long gap; 3.10 verifies it).
		keptCached bool
	}{
		{"zeo5-shortgap", 5, 6, "040d769b5be19bee", "040d769b5e0bfc33", false, true},
		{"zeo310-shortgap", 5, 6, "", "", false, true},
		{"zeo5-longgap", 8, 9, "", "040d769b6570b177", true, false},
		{"zeo310-longgap", 8, 9, "040d769b87cffddd", "040d769b8adaa6ee", true, true},
	} {
		t.Run(tc.capture, func(t *testing.T) {
			srv := startScripted(t, tc.capture)
			srv.endConns = true
			ctx := ctxT(t)
			c := dialScripted(t, srv, &zeo.Options{Reconnect: zeo.ReconnectPolicy{MinDelay: time.Millisecond}})
			sub := c.Subscribe()
			for _, o := range []uint64{tc.changed, tc.kept} {
				if _, err := c.Load(ctx, oid(o)); err != nil {
					t.Fatalf("Load %d: %v", o, err)
				}
			}
			first := <-sub.Events() // C's commit, before the break
			if tc.seenTID != "" && first.TID != tid(t, tc.seenTID) {
				t.Errorf("first event %+v", first)
			}
			ev := <-sub.Events() // what A missed, after reconnecting
			if ev.Reset != tc.reset || ev.Catchup == tc.reset || (tc.keptCached && !slices.Contains(ev.OIDs, oid(tc.changed))) {
				t.Fatalf("event after reconnecting: %+v", ev)
			}
			if tc.lastTID != "" && ev.TID != tid(t, tc.lastTID) {
				t.Errorf("event tid %s, want the server's last %s", ev.TID, tc.lastTID)
			}
			rev, err := c.Load(ctx, oid(tc.changed))
			if err != nil || rev.Serial.Compare(first.TID) <= 0 {
				t.Fatalf("reload of the changed object: %+v, %v", rev, err)
			}
			hits := c.CacheStats().Hits
			if _, err := c.Load(ctx, oid(tc.kept)); err != nil {
				t.Fatal(err)
			}
			if hit := c.CacheStats().Hits == hits+1; hit != tc.keptCached {
				t.Errorf("unchanged object served from the cache: %v; the real client's was: %v", hit, tc.keptCached)
			}
		})
	}
}
