//go:build race

package zeo_test

// raceEnabled: the race detector slows byte pushing tenfold, so the
// biggest blob tests run on fewer profiles (blob_matrix_test.go).
const raceEnabled = true
