package blobcache

import "fmt"

// DirError reports a blob directory that cannot be used: missing
// permissions, a full disk, a file system error. It names the directory
// and what was being done; Err is the underlying error (errors.Is works
// with syscall.ENOSPC, fs.ErrPermission and the like).
type DirError struct {
	Dir string
	Op  string
	Err error
}

// Error names the directory and the failed step.
func (e *DirError) Error() string {
	return fmt.Sprintf("blob directory %s: cannot %s: %v", e.Dir, e.Op, e.Err)
}

// Unwrap returns the underlying error.
func (e *DirError) Unwrap() error { return e.Err }
