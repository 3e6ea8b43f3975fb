//go:build darwin || freebsd || netbsd

package blobcache

import (
	"io/fs"
	"syscall"
	"time"
)

// accessTime is the file's last access time.
func accessTime(fi fs.FileInfo) time.Time {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		return time.Unix(st.Atimespec.Unix())
	}
	return fi.ModTime()
}
