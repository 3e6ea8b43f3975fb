package zrpc

import (
	"context"
	"runtime"
	"testing"
)

// The benchmarks call an in-process echo server (a Conn whose handler
// replies with the arguments) over loopback TCP, with the test codec.
// Allocations count both ends: the client's call and the server's reply.
// calls/s is 1e9 / (ns/op).

func BenchmarkConnCallSequential(b *testing.B) {
	c := dialConn(b, newEchoServer(b), ConnOptions{})
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Call(ctx, "loadEx", testOID, ""); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}

func BenchmarkConnCall64Concurrent(b *testing.B) {
	c := dialConn(b, newEchoServer(b), ConnOptions{})
	ctx := context.Background()
	b.ReportAllocs()
	b.SetParallelism(max(1, 64/runtime.GOMAXPROCS(0)))
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.Call(ctx, "loadEx", testOID, ""); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "calls/s")
}
