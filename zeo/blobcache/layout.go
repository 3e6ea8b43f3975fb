package blobcache

import (
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/gozeo/gozeo/zodb"
)

// layoutMarker is the file naming a blob directory's layout (ZODB's
// LAYOUT_MARKER).
const layoutMarker = ".layout"

// Layout names, as written in the marker file.
const (
	// LayoutZEOCache is the layout of client blob caches.
	LayoutZEOCache = "zeocache"
	// LayoutBushy is the layout of a server's blob directory, and so of a
	// shared blob directory: one directory level per oid byte.
	LayoutBushy = "bushy"
)

// cacheDirs is the number of oid directories of the zeocache layout.
const cacheDirs = 997

// blobSuffix ends the name of every committed blob file.
const blobSuffix = ".blob"

// The temporary files of the cache: a download in progress is its final
// name plus downloadSuffix, a blob being committed a random name ending
// in tempSuffix.
const (
	downloadSuffix = ".dl"
	tempSuffix     = ".tmp"
)

// cachePath is the zeocache path of (oid, tid), relative to the root.
func cachePath(oid zodb.OID, tid zodb.TID) string {
	n := oid.Uint64()
	return filepath.Join(strconv.FormatUint(n%cacheDirs, 10),
		strconv.FormatUint(n/cacheDirs, 10)+"."+hex.EncodeToString(tid[:])+blobSuffix)
}

// BushyOIDDir is the directory of oid's blobs in a server's (bushy) blob
// directory root: "0x00/0x00/0x00/0x00/0x00/0x00/0x00/0x02" for oid 2.
func BushyOIDDir(root string, oid zodb.OID) string {
	parts := make([]string, 0, len(oid)+1)
	parts = append(parts, root)
	for _, b := range oid {
		parts = append(parts, "0x"+hex.EncodeToString([]byte{b}))
	}
	return filepath.Join(parts...)
}

// BushyPath is the file of blob revision (oid, tid) in a server's blob
// directory root: the tid as ZODB's tid_repr plus ".blob".
func BushyPath(root string, oid zodb.OID, tid zodb.TID) string {
	return filepath.Join(BushyOIDDir(root, oid), tid.Repr()+blobSuffix)
}

// EnsureLayout creates dir if needed and checks, or writes, its layout
// marker. A directory marked with another layout is refused: mixing them
// would make one side miss the other's files.
func EnsureLayout(dir, layout string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return &DirError{Dir: dir, Op: "create the blob directory", Err: err}
	}
	marker := filepath.Join(dir, layoutMarker)
	b, err := os.ReadFile(marker)
	switch {
	case err == nil:
		if got := strings.TrimSpace(string(b)); got != layout {
			return &DirError{Dir: dir, Op: "check the layout", Err: fmt.Errorf("the directory has layout %q, want %q (is it another kind of blob directory?)", got, layout)}
		}
		return nil
	case os.IsNotExist(err):
		if err := os.WriteFile(marker, []byte(layout), 0o600); err != nil {
			return &DirError{Dir: dir, Op: "write the layout marker", Err: err}
		}
		return nil
	default:
		return &DirError{Dir: dir, Op: "read the layout marker", Err: err}
	}
}
