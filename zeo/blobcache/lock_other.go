//go:build !unix

package blobcache

import "os"

// flock does nothing where flock(2) does not exist. There the operating
// system itself refuses to remove a file that is open, which protects
// readers from eviction, but locks between processes are not taken: share
// a cache directory between processes only on Unix.
func flock(f *os.File, exclusive bool) (bool, error) { return true, nil }
