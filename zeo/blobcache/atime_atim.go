//go:build linux || openbsd || dragonfly || solaris

package blobcache

import (
	"io/fs"
	"syscall"
	"time"
)

// accessTime is the file's last access time.
func accessTime(fi fs.FileInfo) time.Time {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Atim.Unix())
	}
	return fi.ModTime()
}
