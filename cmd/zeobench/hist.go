package main

import (
	"math/bits"
	"time"
)

// histogram counts latencies in log-linear buckets: exact below 32 ns,
// then 32 buckets per power of two, so that a percentile read from it is
// within 1/32 (about 3%) of the true value at any scale, from nanoseconds to
// hours, in a fixed 15 KiB. Each worker fills its own; they are merged at
// the end, so recording takes no lock.
type histogram struct {
	counts   [histBuckets]uint64
	n        uint64
	min, max time.Duration
}

const (
	subBits     = 5
	subBuckets  = 1 << subBits // buckets per power of two
	histBuckets = (64 - subBits + 1) * subBuckets
)

// bucketOf returns the bucket of a duration of v ns (v ≥ 0).
func bucketOf(v uint64) int {
	if v < subBuckets {
		return int(v)
	}
	e := bits.Len64(v) - subBits - 1 // v>>e is in [32, 64)
	return (e+1)*subBuckets + int(v>>e) - subBuckets
}

// bucketHigh returns the largest value in bucket i.
func bucketHigh(i int) uint64 {
	if i < subBuckets {
		return uint64(i)
	}
	e := i/subBuckets - 1
	m := uint64(i%subBuckets + subBuckets)
	return (m+1)<<e - 1
}

func (h *histogram) record(d time.Duration) {
	if d < 0 {
		d = 0
	}
	h.counts[bucketOf(uint64(d))]++
	if h.n == 0 || d < h.min {
		h.min = d
	}
	if d > h.max {
		h.max = d
	}
	h.n++
}

func (h *histogram) merge(o *histogram) {
	if o.n == 0 {
		return
	}
	for i, c := range o.counts {
		h.counts[i] += c
	}
	if h.n == 0 || o.min < h.min {
		h.min = o.min
	}
	if o.max > h.max {
		h.max = o.max
	}
	h.n += o.n
}

// percentile returns the latency below or at which a fraction q (0 < q ≤ 1)
// of the recorded ones fall: the upper end of the bucket holding that rank,
// clamped to the observed range, so it never understates.
func (h *histogram) percentile(q float64) time.Duration {
	if h.n == 0 {
		return 0
	}
	rank := uint64(q * float64(h.n))
	if float64(rank) < q*float64(h.n) {
		rank++ // ceiling: the q-th fraction must be covered
	}
	rank = max(rank, 1)
	var seen uint64
	for i, c := range h.counts {
		seen += c
		if seen >= rank {
			v := time.Duration(bucketHigh(i))
			return min(max(v, h.min), h.max)
		}
	}
	return h.max
}
