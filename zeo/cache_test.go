package zeo

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"runtime"
	"testing"

	"github.com/gozeo/gozeo/zodb"
)

func oidN(n uint64) OID { return zodb.OIDFromUint64(n) }
func tidN(n uint64) TID { return zodb.TIDFromUint64(n) }

// load stores rev in c as a load reply would: registered, then answered.
func load(c *cache, oid OID, rev Revision) {
	c.endLoad(oid, c.beginLoad(oid), rev, true)
}

func liveCache(limit int64) *cache {
	c := newCache(limit)
	c.setLive(true, tidN(10))
	return c
}

func TestCacheCurrentHitNeedsLive(t *testing.T) {
	c := newCache(1 << 20)
	load(c, oidN(1), Revision{Data: []byte("a"), Serial: tidN(5)})
	if _, ok := c.current(oidN(1)); ok {
		t.Fatal("current revision served while the cache is not live (disconnected or catching up)")
	}
	c.setLive(true, tidN(10))
	rev, ok := c.current(oidN(1))
	if !ok || string(rev.Data) != "a" || rev.Serial != tidN(5) {
		t.Fatalf("current(1) = %+v, %v; want data a serial 5", rev, ok)
	}
	c.setLive(false, TID{})
	if _, ok := c.current(oidN(1)); ok {
		t.Fatal("served after the connection was lost")
	}
}

// The race of ZEO#155/#166/#209: the invalidation of an object reaches the
// client between the load request and its reply. The reply must not be
// cached as current, or every later Load returns the stale revision.
func TestCacheInvalidationCrossingLoadReply(t *testing.T) {
	c := liveCache(1 << 20)
	oid := oidN(1)
	token := c.beginLoad(oid)          // request sent
	c.invalidate(tidN(20), []OID{oid}) // invalidation read before the reply
	c.endLoad(oid, token, Revision{Data: []byte("old"), Serial: tidN(5)}, true)
	if rev, ok := c.current(oid); ok {
		t.Fatalf("stale reply cached as current: %+v", rev)
	}
	// A load registered after the invalidation is cached.
	load(c, oid, Revision{Data: []byte("new"), Serial: tidN(20)})
	if rev, ok := c.current(oid); !ok || string(rev.Data) != "new" {
		t.Fatalf("fresh reply not cached: %+v %v", rev, ok)
	}
	// An invalidation of another oid does not taint the load.
	token = c.beginLoad(oidN(2))
	c.invalidate(tidN(21), []OID{oidN(3)})
	c.endLoad(oidN(2), token, Revision{Data: []byte("b"), Serial: tidN(4)}, true)
	if _, ok := c.current(oidN(2)); !ok {
		t.Fatal("load tainted by an invalidation of another object")
	}
}

func TestCacheResetTaintsLoadsInFlight(t *testing.T) {
	c := liveCache(1 << 20)
	load(c, oidN(1), Revision{Data: []byte("a"), Serial: tidN(5)})
	load(c, oidN(9), Revision{Data: []byte("old"), Serial: tidN(2), Next: tidN(5)})
	token := c.beginLoad(oidN(2))
	c.reset(tidN(30))
	c.endLoad(oidN(2), token, Revision{Data: []byte("b"), Serial: tidN(5)}, true)
	if _, ok := c.current(oidN(1)); ok {
		t.Error("current revision survived a reset")
	}
	if _, ok := c.current(oidN(2)); ok {
		t.Error("load in flight across a reset cached as current")
	}
	if rev, ok := c.before(oidN(9), tidN(4)); !ok || string(rev.Data) != "old" {
		t.Errorf("non-current revision lost by a reset: %+v %v", rev, ok)
	}
}

func TestCacheInvalidatedRevisionServesLoadBefore(t *testing.T) {
	c := liveCache(1 << 20)
	oid := oidN(1)
	load(c, oid, Revision{Data: []byte("v1"), Serial: tidN(5)})
	c.invalidate(tidN(20), []OID{oid})
	for _, tc := range []struct {
		before uint64
		hit    bool
	}{{5, false}, {6, true}, {19, true}, {20, true}, {21, false}} {
		rev, ok := c.before(oid, tidN(tc.before))
		if ok != tc.hit {
			t.Errorf("before(%d): hit %v, want %v", tc.before, ok, tc.hit)
		}
		if ok && (string(rev.Data) != "v1" || rev.Serial != tidN(5) || rev.Next != tidN(20)) {
			t.Errorf("before(%d) = %+v, want v1 [5, 20)", tc.before, rev)
		}
	}
	if _, ok := c.current(oid); ok {
		t.Error("invalidated revision still current")
	}
}

func TestCacheCurrentServesLoadBeforeOnlyUpToKnownTID(t *testing.T) {
	c := liveCache(1 << 20) // current as of tid 10
	load(c, oidN(1), Revision{Data: []byte("v"), Serial: tidN(5)})
	for _, tc := range []struct {
		before uint64
		hit    bool
	}{{5, false}, {6, true}, {10, true}, {11, true}, {12, false}} {
		if _, ok := c.before(oidN(1), tidN(tc.before)); ok != tc.hit {
			t.Errorf("before(%d) with the cache at tid 10: hit %v, want %v (a later transaction may have changed it)", tc.before, ok, tc.hit)
		}
	}
}

func TestCacheStaysWithinLimit(t *testing.T) {
	const limit = 64 << 10
	c := liveCache(limit)
	data := make([]byte, 1000)
	for i := range uint64(1000) {
		load(c, oidN(i), Revision{Data: data, Serial: tidN(5)})
		if c.bytes > limit {
			t.Fatalf("after %d inserts the cache holds %d bytes, over its %d limit", i+1, c.bytes, limit)
		}
	}
	st := c.stats()
	if st.Evictions == 0 || st.Entries == 0 {
		t.Fatalf("stats %+v: expected evictions and entries", st)
	}
	checkCacheInvariants(t, c)
	// A record bigger than half the cache is not cached at all.
	load(c, oidN(5000), Revision{Data: make([]byte, limit/2), Serial: tidN(5)})
	if _, ok := c.current(oidN(5000)); ok {
		t.Error("a record of half the cache size was cached")
	}
}

// A scan touching many objects once must not flush the objects that are
// read all the time: that is why the cache is S3-FIFO and not a FIFO or
// an LRU, which would both lose the whole hot set here.
func TestCacheScanResistance(t *testing.T) {
	const size = 100
	limit := int64(1000 * entrySize(size))
	c := liveCache(limit)
	data := make([]byte, size)
	const hot = 300 // 30% of the capacity
	for range 3 {
		for i := range uint64(hot) {
			if _, ok := c.current(oidN(i)); !ok {
				load(c, oidN(i), Revision{Data: data, Serial: tidN(5)})
			}
		}
	}
	for i := range uint64(20000) { // the scan: 20× the capacity, once each
		load(c, oidN(1_000_000+i), Revision{Data: data, Serial: tidN(5)})
	}
	kept := 0
	for i := range uint64(hot) {
		if _, ok := c.current(oidN(i)); ok {
			kept++
		}
	}
	if kept < hot*9/10 {
		t.Fatalf("after a scan of 20000 objects only %d of %d hot objects are still cached", kept, hot)
	}
	checkCacheInvariants(t, c)
}

func TestCacheHitAllocatesNothing(t *testing.T) {
	c := liveCache(1 << 20)
	load(c, oidN(1), Revision{Data: []byte("a"), Serial: tidN(5)})
	load(c, oidN(2), Revision{Data: []byte("b"), Serial: tidN(2), Next: tidN(5)})
	if n := testing.AllocsPerRun(1000, func() { c.current(oidN(1)) }); n != 0 {
		t.Errorf("current hit: %v allocations", n)
	}
	if n := testing.AllocsPerRun(1000, func() { c.before(oidN(2), tidN(4)) }); n != 0 {
		t.Errorf("before hit: %v allocations", n)
	}
}

// TestCacheRandomAgainstModel drives the cache with random loads,
// invalidations and resets and checks every answer against a model of the
// storage: a hit must be the revision the storage had at that point.
func TestCacheRandomAgainstModel(t *testing.T) {
	for seed := range uint64(20) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 1))
			c := liveCache(40 * entrySize(8))
			// history[oid] lists serials in order; data is "oid@serial".
			history := map[OID][]uint64{}
			tid := uint64(10)
			dataOf := func(oid OID, s uint64) []byte { return fmt.Appendf(nil, "%d@%d", oid.Uint64(), s) }
			revAt := func(oid OID, before uint64) (Revision, bool) {
				h := history[oid]
				for i := len(h) - 1; i >= 0; i-- {
					if h[i] < before {
						r := Revision{Data: dataOf(oid, h[i]), Serial: tidN(h[i])}
						if i+1 < len(h) {
							r.Next = tidN(h[i+1])
						}
						return r, true
					}
				}
				return Revision{}, false
			}
			for range 3000 {
				oid := oidN(rng.Uint64N(60))
				switch rng.IntN(10) {
				case 0, 1: // a commit, and its invalidation
					tid++
					history[oid] = append(history[oid], tid)
					c.invalidate(tidN(tid), []OID{oid})
				case 2: // a load whose reply crosses a commit of the same oid
					token := c.beginLoad(oid)
					r, ok := revAt(oid, tid+1)
					tid++
					history[oid] = append(history[oid], tid)
					c.invalidate(tidN(tid), []OID{oid})
					r.Next = TID{} // it was current when the server read it
					c.endLoad(oid, token, r, ok)
				case 3:
					if rng.IntN(20) == 0 {
						c.reset(tidN(tid))
					}
				case 4, 5, 6: // Load
					got, hit := c.current(oid)
					if !hit {
						r, ok := revAt(oid, tid+1)
						r.Next = TID{}
						c.endLoad(oid, c.beginLoad(oid), r, ok) // ok false: not found, nothing cached
						continue
					}
					want, _ := revAt(oid, tid+1)
					if got.Serial != want.Serial || !bytes.Equal(got.Data, want.Data) {
						t.Fatalf("Load(%d) hit %+v, storage has %+v", oid.Uint64(), got, want)
					}
				default: // LoadBefore at a random point
					before := 1 + rng.Uint64N(tid+1)
					want, exists := revAt(oid, before)
					got, hit := c.before(oid, tidN(before))
					if !hit {
						if exists {
							load(c, oid, want)
						}
						continue
					}
					if !exists || got.Serial != want.Serial || !bytes.Equal(got.Data, want.Data) || (got.Next != want.Next && got.Next != (TID{})) {
						t.Fatalf("LoadBefore(%d, %d) hit %+v, storage has %+v (exists %v)", oid.Uint64(), before, got, want, exists)
					}
				}
			}
			checkCacheInvariants(t, c)
		})
	}
}

// checkCacheInvariants checks the byte and entry accounting against the
// queues and the object table.
func checkCacheInvariants(t *testing.T, c *cache) {
	t.Helper()
	var n int
	var b int64
	seen := map[*cacheEntry]bool{}
	for _, q := range []*entryQueue{&c.small, &c.main} {
		var qb int64
		for e := q.head; e != nil; e = e.after {
			if seen[e] {
				t.Fatal("entry queued twice")
			}
			seen[e] = true
			qb += entrySize(len(e.data))
			n++
		}
		if qb != q.bytes {
			t.Fatalf("queue counts %d bytes, holds %d", q.bytes, qb)
		}
		b += qb
	}
	if b != c.bytes || n != c.entries {
		t.Fatalf("cache counts %d bytes in %d entries, queues hold %d in %d", c.bytes, c.entries, b, n)
	}
	if b > c.limit {
		t.Fatalf("%d bytes over the %d limit", b, c.limit)
	}
	held := 0
	for oid, o := range c.objects {
		if o.cur == nil && len(o.old) == 0 {
			t.Fatalf("empty object %d kept", oid.Uint64())
		}
		for _, e := range append([]*cacheEntry{o.cur}, o.old...) {
			if e == nil {
				continue
			}
			if !seen[e] || e.oid != oid {
				t.Fatalf("object %d holds an entry not queued under it", oid.Uint64())
			}
			held++
		}
	}
	if held != n {
		t.Fatalf("objects hold %d entries, queues %d", held, n)
	}
}

// BenchmarkCacheEntryOverhead measures what an entry costs besides its
// data (the entry, its object, the map slots), the figure entryOverhead
// charges against the limit.
func BenchmarkCacheEntryOverhead(b *testing.B) {
	const n = 100_000
	data := make([]byte, 8)
	var before, after runtime.MemStats
	for b.Loop() {
		c := liveCache(1 << 40)
		runtime.GC()
		runtime.ReadMemStats(&before)
		for i := range uint64(n) {
			load(c, oidN(i), Revision{Data: data, Serial: tidN(5)})
		}
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/n, "bytes/entry")
		runtime.KeepAlive(c)
	}
}

// BenchmarkCacheHit is the lookup alone.
func BenchmarkCacheHit(b *testing.B) {
	c := liveCache(1 << 20)
	load(c, oidN(1), Revision{Data: []byte("a"), Serial: tidN(5)})
	b.ReportAllocs()
	for b.Loop() {
		c.current(oidN(1))
	}
}

// A catch-up says an object changed somewhere in the gap, not when: its
// cached revision must go, not be kept with a guessed end.
func TestCacheCatchUpDropsRevisions(t *testing.T) {
	c := liveCache(1 << 20)
	load(c, oidN(1), Revision{Data: []byte("v"), Serial: tidN(5)})
	load(c, oidN(2), Revision{Data: []byte("w"), Serial: tidN(6)})
	c.invalidateUnion(tidN(40), []OID{oidN(1)})
	for _, before := range []uint64{6, 20, 40, 41} {
		if rev, ok := c.before(oidN(1), tidN(before)); ok {
			t.Errorf("before(%d) served %+v after a catch-up that changed the object at an unknown tid", before, rev)
		}
	}
	if _, ok := c.current(oidN(1)); ok {
		t.Error("changed object still current")
	}
	if _, ok := c.before(oidN(2), tidN(41)); !ok {
		t.Error("an unchanged object is no longer current as of the catch-up's tid")
	}
	checkCacheInvariants(t, c)
}

// While the cache is catching up after an outage, a live invalidation
// does not end a cached revision: another transaction of the outage may
// have replaced it first.
func TestCacheInvalidationWhileCatchingUpDrops(t *testing.T) {
	c := liveCache(1 << 20)
	load(c, oidN(1), Revision{Data: []byte("v1"), Serial: tidN(5)})
	c.setLive(false, TID{}) // connection lost; tid 20 changes oid 1 meanwhile
	c.invalidate(tidN(30), []OID{oidN(1)})
	if rev, ok := c.before(oidN(1), tidN(30)); ok {
		t.Fatalf("before(30) = %+v: the revision was given an end it may not have", rev)
	}
	checkCacheInvariants(t, c)
}
