package zeo_test

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// Benchmarks against the Go test server over loopback:
//
//	go test -run=^$ -bench . -benchmem ./zeo/
//
// Both ends run in this process on the same cores, so the figures are a
// lower bound on what the client alone can do. The round-trip benchmarks
// switch the client cache off (benchServer), so that they measure the
// server path as before the cache existed; BenchmarkLoadCached measures a
// cache hit beside them.

var benchProfiles = []string{"z5-py3", "m5-py3", "z3101-py27"}

func benchServer(b *testing.B, profile string, objects int, size int) (*zeo.Client, []zeo.OID) {
	b.Helper()
	srv := testserver.Start(b, testserver.Options{Profile: profile})
	data := make([]byte, size)
	for i := range data {
		data[i] = byte(i)
	}
	seedObjs := map[zodb.OID][]byte{}
	var oids []zeo.OID
	for i := 0; i < objects; i++ {
		o := zodb.OIDFromUint64(uint64(i + 1))
		seedObjs[o] = data
		oids = append(oids, o)
	}
	if _, err := srv.Store().SeedMany(context.Background(), seedObjs); err != nil {
		b.Fatal(err)
	}
	c, err := zeo.Dial(context.Background(), srv.Addr(), &zeo.Options{CacheSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	return c, oids
}

// BenchmarkLoadCached is Load of an object the client cache holds: no
// round trip, no allocation. Compare with BenchmarkLoad, the round trip it
// saves.
func BenchmarkLoadCached(b *testing.B) {
	srv := testserver.Start(b, testserver.Options{Profile: "z5-py3"})
	o := zodb.OIDFromUint64(1)
	if _, err := srv.Store().Seed(context.Background(), o, make([]byte, 100)); err != nil {
		b.Fatal(err)
	}
	c, err := zeo.Dial(context.Background(), srv.Addr(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { c.Close() })
	ctx := context.Background()
	if _, err := c.Load(ctx, o); err != nil {
		b.Fatal(err)
	}
	b.Run("serial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := c.Load(ctx, o); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parallel", func(b *testing.B) {
		b.ReportAllocs()
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				if _, err := c.Load(ctx, o); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	if st := c.CacheStats(); st.Misses > 1 {
		b.Errorf("cache misses %d: the benchmark did not measure hits", st.Misses)
	}
}

func BenchmarkLoad(b *testing.B) {
	for _, p := range benchProfiles {
		b.Run(p, func(b *testing.B) {
			c, oids := benchServer(b, p, 1024, 100)
			ctx := context.Background()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				if _, err := c.Load(ctx, oids[i%len(oids)]); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "loads/s")
		})
	}
}

func BenchmarkLoadConcurrent64(b *testing.B) {
	for _, p := range benchProfiles {
		b.Run(p, func(b *testing.B) {
			c, oids := benchServer(b, p, 4096, 100)
			ctx := context.Background()
			var next atomic.Int64
			b.ReportAllocs()
			b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				// Each goroutine walks its own oids: no coalescing helps.
				i := int(next.Add(1)) * 64
				for pb.Next() {
					if _, err := c.Load(ctx, oids[i%len(oids)]); err != nil {
						b.Error(err)
						return
					}
					i++
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "loads/s")
		})
	}
}

func BenchmarkLoad16MiB(b *testing.B) {
	for _, p := range benchProfiles {
		b.Run(p, func(b *testing.B) {
			c, oids := benchServer(b, p, 1, 16<<20)
			ctx := context.Background()
			b.SetBytes(16 << 20)
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				r, err := c.Load(ctx, oids[0])
				if err != nil || len(r.Data) != 16<<20 {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCommit10(b *testing.B) {
	for _, p := range benchProfiles {
		b.Run(p, func(b *testing.B) {
			c, _ := benchServer(b, p, 0, 0)
			ctx := context.Background()
			oids, err := c.NewOIDs(ctx, 10)
			if err != nil {
				b.Fatal(err)
			}
			serials := make([]zeo.TID, 10)
			data := []byte(fmt.Sprintf("%0100d", 0))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				ws := make([]zeo.Write, 10)
				for j, o := range oids {
					ws[j] = zeo.Write{OID: o, Serial: serials[j], Data: data}
				}
				tid, err := c.Commit(ctx, zeo.TxnMeta{User: "bench"}, ws...)
				if err != nil {
					b.Fatal(err)
				}
				for j := range serials {
					serials[j] = tid
				}
			}
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "commits/s")
		})
	}
}
