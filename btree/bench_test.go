package btree

import (
	"context"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gozeo/gozeo/db"
	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// counting is a Loader that counts what a walk asks of the one it wraps:
// calls (each Load or LoadMany is one round trip over the network, as
// LoadMany's loads are in flight together) and objects.
type counting struct {
	l              Loader
	calls, objects atomic.Int64
}

func (c *counting) Load(ctx context.Context, oid zodb.OID) (*record.Record, error) {
	c.calls.Add(1)
	c.objects.Add(1)
	return c.l.Load(ctx, oid)
}

func (c *counting) LoadMany(ctx context.Context, oids []zodb.OID) ([]*record.Record, error) {
	c.calls.Add(1)
	c.objects.Add(int64(len(oids)))
	return c.l.LoadMany(ctx, oids)
}

// buildTree grows a tree of family prefix with keys 0..n-1 inserted in
// ascending order (an OO tree's keys are keyOf's strings), in memory.
func buildTree(tb testing.TB, prefix string, n int) (*memDB, *Tree) {
	tb.Helper()
	ctx := context.Background()
	m := newMemDB()
	tr, err := Create(ctx, m, mustFamily(tb, prefix), KindBTree)
	if err != nil {
		tb.Fatal(err)
	}
	for i := range n {
		if _, err := tr.Set(ctx, keyOf(tr.fam, i), valueOf(tr.fam, i)); err != nil {
			tb.Fatal(err)
		}
	}
	return m, tr
}

// encodeAll turns what Store stored into records as a storage keeps them,
// in format f.
func (m *memDB) encodeAll(tb testing.TB, f record.Format) {
	tb.Helper()
	for oid, rec := range m.stored {
		data, err := record.EncodeObject(rec.Class, rec.State, f)
		if err != nil {
			tb.Fatal(err)
		}
		m.data[oid] = data
	}
	clear(m.stored)
}

// serve commits every object of m (encoded) and a root mapping holding
// tree to a new test server, and returns a client with the given cache
// size and a snapshot after the commit. A latency above zero delays the
// reply to every loadBefore by that much, as a network would, while the
// connection goes on serving other calls.
func serve(tb testing.TB, m *memDB, tree *Tree, cacheSize int64, latency time.Duration) *db.Snapshot {
	tb.Helper()
	ctx := context.Background()
	m.encodeAll(tb, record.Py3)
	root := record.NewMapping()
	root.Data.Set("tree", tree.Ref())
	data, err := record.EncodeObject(record.ClassPersistentMapping, root.State(), record.Py3)
	if err != nil {
		tb.Fatal(err)
	}
	writes := []zeo.Write{{OID: db.RootOID, Data: data}}
	for oid, data := range m.data {
		writes = append(writes, zeo.Write{OID: oid, Data: data})
	}
	srv := testserver.Start(tb, testserver.Options{})
	c, err := zeo.Dial(ctx, srv.Addr(), &zeo.Options{CacheSize: cacheSize})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { c.Close() })
	tid, err := c.Commit(ctx, zeo.TxnMeta{Description: "bench"}, writes...)
	if err != nil {
		tb.Fatal(err)
	}
	if latency > 0 {
		srv.SetFaults(testserver.Faults{Rules: []testserver.FaultRule{
			{Method: "loadBefore", Action: testserver.FaultDelayReply, Delay: latency},
		}})
	}
	return db.New(c, nil).SnapshotAt(tid)
}

// BenchmarkGet looks up random keys of a 3-level OOBTree (8000 string
// keys inserted in order: a root of 2 nodes over 533 buckets): in memory,
// decoding each of the 3 records a lookup reads from its bytes; through a
// snapshot over a loopback test server with the client cache warm (no
// round trip) and with it off (3 round trips per lookup).
func BenchmarkGet(b *testing.B) {
	const n = 8000
	m, built := buildTree(b, "OO", n)
	if d := depth(b, built); d != 3 {
		b.Fatalf("%d levels", d)
	}
	m.encodeAll(b, record.Py3)
	run := func(b *testing.B, l Loader) {
		ctx := context.Background()
		cl := &counting{l: l}
		tr, err := Open(ctx, cl, built.OID())
		if err != nil {
			b.Fatal(err)
		}
		rnd := rand.New(rand.NewPCG(1, 2))
		cl.calls.Store(0)
		b.ReportAllocs()
		for b.Loop() {
			k := rnd.IntN(n)
			if _, ok, err := tr.Get(ctx, keyOf(tr.fam, k)); !ok || err != nil {
				b.Fatalf("Get(%d) = %v, %v", k, ok, err)
			}
		}
		b.ReportMetric(float64(cl.calls.Load())/float64(b.N), "loads/op")
	}
	b.Run("memory", func(b *testing.B) { run(b, m) })
	for _, c := range []struct {
		name  string
		cache int64
	}{{"server-cached", 0}, {"server-uncached", -1}} {
		b.Run(c.name, func(b *testing.B) {
			snap := serve(b, m, built, c.cache, 0)
			if c.cache >= 0 {
				tr, err := Open(context.Background(), snap, built.OID())
				if err != nil {
					b.Fatal(err)
				}
				if err := tr.Check(context.Background()); err != nil { // loads every object: warms the cache
					b.Fatal(err)
				}
			}
			run(b, snap)
		})
	}
}

// BenchmarkIterate walks all items of a 100k-item IOBTree (inserted in
// order: 3 levels, 3333 buckets of 30, as ascending inserts leave them
// half full) over a loopback test server with the client cache off, so
// that every object is a LoadBefore: with prefetch (the default, 16
// buckets per LoadMany, and 64) and without (each bucket loaded when the
// previous one is done), the reference.
// It reports items/s, round trips per item (Load and LoadMany calls: the
// loads of one LoadMany are in flight together), objects loaded per item,
// and the heap the walk holds at most beyond what was live before it
// (measured apart, with a collection every 1000 items), also counted in
// buckets (the heap one decoded bucket of the tree takes). On loopback a
// round trip costs little next to decoding; the latency=1ms runs delay
// every load's reply by 1 ms, as a network between two hosts would, which
// is where prefetching pays.
func BenchmarkIterate(b *testing.B) {
	const n = 100_000
	m, built := buildTree(b, "IO", n)
	if d := depth(b, built); d != 3 {
		b.Fatalf("%d levels", d)
	}
	loopback := serve(b, m, built, -1, 0)
	slow := serve(b, m, built, -1, time.Millisecond)
	bucketBytes := heapPerBucket(b, m, built)
	for _, c := range []struct {
		name     string
		prefetch int
		latency  bool
	}{
		{"prefetch=16", 0, false}, {"prefetch=64", 64, false}, {"prefetch=off", -1, false},
		{"latency=1ms/prefetch=16", 0, true}, {"latency=1ms/prefetch=off", -1, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			snap := loopback
			if c.latency {
				snap = slow
			}
			cl := &counting{l: snap}
			tr, err := Open(ctx, cl, built.OID())
			if err != nil {
				b.Fatal(err)
			}
			tr.Prefetch = c.prefetch
			walk := func(each func(int)) {
				i := 0
				for _, err := range tr.All(ctx) {
					if err != nil {
						b.Fatal(err)
					}
					if each != nil {
						each(i)
					}
					i++
				}
				if i != n {
					b.Fatalf("%d items", i)
				}
			}
			var peak uint64
			if !c.latency { // the same as on loopback, and slow to measure
				peak = peakHeap(func(sample func()) {
					walk(func(i int) {
						if i%1000 == 0 {
							sample()
						}
					})
				})
			}
			cl.calls.Store(0)
			cl.objects.Store(0)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				walk(nil)
			}
			items := float64(b.N) * n
			b.ReportMetric(items/b.Elapsed().Seconds(), "items/s")
			b.ReportMetric(float64(cl.calls.Load())/items, "roundtrips/item")
			b.ReportMetric(float64(cl.objects.Load())/items, "objects/item")
			if !c.latency {
				b.ReportMetric(float64(peak)/1024, "peak-live-KiB")
				b.ReportMetric(float64(peak)/float64(bucketBytes), "peak-live-buckets")
			}
		})
	}
}

// liveHeap is the heap in use after a full collection.
func liveHeap() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

// peakHeap runs walk, which calls sample now and then, and returns the
// most heap in use at a sample beyond what was in use before the walk.
func peakHeap(walk func(sample func())) uint64 {
	base := liveHeap()
	var peak uint64
	walk(func() {
		if h := liveHeap(); h > base {
			peak = max(peak, h-base)
		}
	})
	return peak
}

// heapPerBucket is the heap one decoded bucket of tree takes, on average:
// the heap held by all of them parsed, divided by their number.
func heapPerBucket(tb testing.TB, m *memDB, tree *Tree) uint64 {
	tb.Helper()
	ctx := context.Background()
	var oids []zodb.OID
	for oid, data := range m.data {
		if fam, kind, _ := ParseClass(record.ClassOf(data)); fam.Prefix == tree.fam.Prefix && kind == KindBucket {
			oids = append(oids, oid)
		}
	}
	base := liveHeap()
	held := make([]*object, len(oids))
	for i, oid := range oids {
		o, err := tree.load(ctx, oid)
		if err != nil {
			tb.Fatal(err)
		}
		held[i] = o
	}
	total := liveHeap() - base
	runtime.KeepAlive(held)
	return total / uint64(len(oids))
}

// A walk over a 3-level tree holds a few buckets at a time, never the
// tree: the heap it keeps alive beyond what was live before stays under
// 64 buckets' worth (the prefetch window is 16, and a path of interior
// nodes of up to 500 children each) while the tree has 1334.
func TestWalkHoldsFewBuckets(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a 40k-item tree")
	}
	const n = 40_000
	m, tr := buildTree(t, "IO", n)
	if d := depth(t, tr); d != 3 {
		t.Fatalf("%d levels", d)
	}
	m.encodeAll(t, record.Py3)
	bucketBytes := heapPerBucket(t, m, tr)
	for _, prefetch := range []int{0, -1} {
		tr.Prefetch = prefetch
		peak := peakHeap(func(sample func()) {
			i := 0
			for _, err := range tr.All(context.Background()) {
				if err != nil {
					t.Fatal(err)
				}
				if i%1000 == 0 {
					sample()
				}
				i++
			}
		})
		buckets := float64(peak) / float64(bucketBytes)
		t.Logf("prefetch %d: the walk held at most %d bytes, %.1f buckets of %d bytes", prefetch, peak, buckets, bucketBytes)
		if buckets > 64 {
			t.Errorf("prefetch %d: the walk held %d bytes at once, %.0f buckets' worth", prefetch, peak, buckets)
		}
	}
}

// BenchmarkCoerceKey converts the key a caller passes to a read or write
// into what the family stores: an int for an integer family, a string for
// an object one.
func BenchmarkCoerceKey(b *testing.B) {
	for _, c := range []struct {
		name string
		t    DataType
		key  any
	}{{"Int64/int", Int64, 12345}, {"Int32/int64", Int32, int64(-7)}, {"Object/string", Object, "key-00042"}} {
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.t.coerce(c.key, "key"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
