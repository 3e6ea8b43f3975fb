package main

import (
	"fmt"
	"math/rand/v2"
)

// The access patterns of -dist.
const (
	distUniform = "uniform" // every object alike
	distZipf    = "zipf"    // object k of n with probability ∝ 1/(1+k)^s
)

// defaultZipfS is the default of -zipf-s: a read-mostly hot set where,
// over 1000 objects, the hottest 1% take about half of the loads and the
// hottest 10% three quarters.
const defaultZipfS = 1.1

// picker returns a function that picks an object index in [0, n) by the
// workload's distribution, drawing from r.
func (w *workload) picker(r *rand.Rand, n int) func() int {
	if w.dist == distZipf && n > 1 {
		z := rand.NewZipf(r, w.zipfS, 1, uint64(n-1))
		return func() int { return int(z.Uint64()) }
	}
	return func() int { return r.IntN(n) }
}

// describeDist says, for the header, how the workers pick objects.
func describeDist(w *workload) string {
	if w.dist == distZipf {
		return fmt.Sprintf("objects picked by Zipf, s %.2f", w.zipfS)
	}
	return "objects picked uniformly"
}
