//go:build unix && !solaris && !aix

package blobcache

import (
	"errors"
	"os"
	"syscall"
)

// flock applies a whole-file advisory lock on f without waiting. It
// reports false when another open file holds a conflicting lock.
func flock(f *os.File, exclusive bool) (bool, error) {
	how := syscall.LOCK_SH | syscall.LOCK_NB
	if exclusive {
		how = syscall.LOCK_EX | syscall.LOCK_NB
	}
	for {
		err := syscall.Flock(int(f.Fd()), how)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, syscall.EINTR):
			continue
		case errors.Is(err, syscall.EWOULDBLOCK):
			return false, nil
		}
		return false, err
	}
}
