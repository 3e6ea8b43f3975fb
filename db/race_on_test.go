//go:build race

package db_test

// raceEnabled: under the race detector the biggest trees are grown only
// to two levels (the plain test run grows them to three), which keeps
// CI's race pass short while the concurrency is still checked.
const raceEnabled = true
