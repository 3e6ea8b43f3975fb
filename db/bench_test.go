package db_test

import (
	"context"
	"testing"

	"github.com/gozeo/gozeo/db"
	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/internal/zodbtest"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// BenchmarkSnapshotLoad reads the objects of the real-ZODB database (zeo5,
// 653 records) through a snapshot over a loopback test server, with the
// client cache (every read after the first is served from it) and without
// (every read is a LoadBefore round trip), one object at a time and with
// LoadMany of 32.
func BenchmarkSnapshotLoad(b *testing.B) {
	recs := zodbtest.MustRecords(b, "zeo5")
	want := zodbtest.MustExpected(b, "zeo5")
	var oids []zodb.OID
	for oid := range want.Objects {
		oids = append(oids, oid)
	}
	srv := testserver.Start(b, testserver.Options{Store: replay(b, recs)})
	for _, c := range []struct {
		name  string
		cache int64
	}{{"cached", 0}, {"uncached", -1}} {
		client, err := zeo.Dial(context.Background(), srv.Addr(), &zeo.Options{CacheSize: c.cache})
		if err != nil {
			b.Fatal(err)
		}
		defer client.Close()
		snap := db.New(client, nil).SnapshotAt(want.LastTID)
		ctx := context.Background()
		if _, err := snap.LoadMany(ctx, oids); err != nil { // warm the cache
			b.Fatal(err)
		}
		b.Run(c.name+"/Load", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if _, err := snap.Load(ctx, oids[i%len(oids)]); err != nil {
					b.Fatal(err)
				}
				i++
			}
		})
		b.Run(c.name+"/LoadMany32", func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				start := (i * 32) % (len(oids) - 32)
				if _, err := snap.LoadMany(ctx, oids[start:start+32]); err != nil {
					b.Fatal(err)
				}
				i++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*32), "ns/object")
		})
	}
}
