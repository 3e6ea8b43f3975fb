package blobcache

import (
	"io/fs"
	"syscall"
	"time"
)

// accessTime is the file's last access time.
func accessTime(fi fs.FileInfo) time.Time {
	if a, ok := fi.Sys().(*syscall.Win32FileAttributeData); ok {
		return time.Unix(0, a.LastAccessTime.Nanoseconds())
	}
	return fi.ModTime()
}
