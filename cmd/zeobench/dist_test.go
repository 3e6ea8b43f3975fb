package main

import (
	"math/rand/v2"
	"testing"
)

// Zipf picks stay in range and favour the first objects; uniform ones
// spread out.
func TestPicker(t *testing.T) {
	const n, draws = 100, 20000
	for _, tc := range []struct {
		dist           string
		minHot, maxHot int // picks of the first 10 objects
	}{
		{distZipf, draws / 2, draws},
		{distUniform, draws / 20, draws / 5},
	} {
		w := &workload{dist: tc.dist, zipfS: defaultZipfS}
		pick := w.picker(rand.New(rand.NewPCG(1, 2)), n)
		hot := 0
		for range draws {
			i := pick()
			if i < 0 || i >= n {
				t.Fatalf("%s: pick %d out of [0, %d)", tc.dist, i, n)
			}
			if i < 10 {
				hot++
			}
		}
		if hot < tc.minHot || hot > tc.maxHot {
			t.Errorf("%s: %d of %d picks in the first 10 objects, want %d to %d", tc.dist, hot, draws, tc.minHot, tc.maxHot)
		}
	}
	// One object: always it.
	w := &workload{dist: distZipf, zipfS: defaultZipfS}
	if i := w.picker(rand.New(rand.NewPCG(1, 2)), 1)(); i != 0 {
		t.Errorf("pick %d of 1 object", i)
	}
}
