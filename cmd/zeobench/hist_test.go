package main

import (
	"math/rand/v2"
	"testing"
	"time"
)

// Every value falls in a bucket whose upper end is at most 1/32 above it.
func TestBuckets(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	values := []uint64{0, 1, 31, 32, 33, 63, 64, 65, 1000, 1 << 40, 1<<63 - 1}
	for range 10000 {
		values = append(values, r.Uint64N(1<<uint(r.IntN(63)+1)))
	}
	for _, v := range values {
		i := bucketOf(v)
		if i < 0 || i >= histBuckets {
			t.Fatalf("bucketOf(%d) = %d, out of range", v, i)
		}
		high := bucketHigh(i)
		if high < v || float64(high-v) > float64(v)/subBuckets {
			t.Errorf("value %d: bucket %d ends at %d", v, i, high)
		}
		if i > 0 && bucketHigh(i-1) >= v {
			t.Errorf("value %d: previous bucket %d already ends at %d", v, i-1, bucketHigh(i-1))
		}
	}
}

func TestPercentiles(t *testing.T) {
	var a, b histogram
	for i := 1; i <= 1000; i++ { // 1 µs to 1 ms, split over two histograms
		h := &a
		if i%2 == 0 {
			h = &b
		}
		h.record(time.Duration(i) * time.Microsecond)
	}
	a.merge(&b)
	if a.n != 1000 || a.min != time.Microsecond || a.max != time.Millisecond {
		t.Fatalf("n %d min %v max %v", a.n, a.min, a.max)
	}
	for _, tc := range []struct {
		q    float64
		want time.Duration
	}{{0.5, 500 * time.Microsecond}, {0.9, 900 * time.Microsecond}, {0.99, 990 * time.Microsecond}, {1, time.Millisecond}} {
		got := a.percentile(tc.q)
		if got < tc.want || float64(got-tc.want) > float64(tc.want)/subBuckets {
			t.Errorf("p%v = %v, want %v to %v", tc.q*100, got, tc.want, tc.want+tc.want/subBuckets)
		}
	}
	var empty histogram
	if empty.percentile(0.5) != 0 || latency(&empty, 0.5) != "-" {
		t.Error("an empty histogram has percentiles")
	}
	var one histogram
	one.record(42 * time.Second)
	if one.percentile(0.01) != 42*time.Second || latency(&one, 0.99) != "42.0s" {
		t.Errorf("single value: %v, %s", one.percentile(0.01), latency(&one, 0.99))
	}
}

func TestFormatDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		850:                     "850ns",
		12345:                   "12.3µs",
		123456:                  "123µs",
		1234567:                 "1.23ms",
		2 * time.Second:         "2.00s",
		1500 * time.Millisecond: "1.50s",
	} {
		if got := formatDuration(d); got != want {
			t.Errorf("%d: %s, want %s", d, got, want)
		}
	}
}
