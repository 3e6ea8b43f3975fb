//go:build !linux && !openbsd && !dragonfly && !solaris && !darwin && !freebsd && !netbsd && !windows

package blobcache

import (
	"io/fs"
	"time"
)

// accessTime falls back to the modification time where this package does
// not read access times. Opening a file sets only its access time, so
// there eviction removes the files downloaded first, not those used least
// recently.
func accessTime(fi fs.FileInfo) time.Time { return fi.ModTime() }
