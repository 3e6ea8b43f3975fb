// Package blobcache is the client side blob directory of a ZEO client: the
// place blob files downloaded from the server (sendBlob) are written to and
// read from, bounded in bytes, and safe to share between several client
// processes on one machine. It follows the conventions of ZEO's
// ClientStorage so that a Go client and Python clients may share one
// directory.
//
// # Layout
//
// The directory holds a ".layout" marker file whose content is
// "zeocache", and one sub-directory per oid modulo 997, named by that
// number in decimal. A blob revision (oid, tid) is the file
//
//	<oid % 997>/<oid / 997>.<tid as 16 hex digits>.blob
//
// e.g. oid 2, tid 040d769b4f7198ee is "2/0.040d769b4f7198ee.blob", which is
// where ZEO 3.9+ clients put it (the blobload captures say so). The layout
// is flat on purpose: a cache holds a bounded number of files, so two
// levels suffice, and eviction walks it cheaply. Files are read-only once
// complete.
//
// # Locks and temporary files
//
//   - Each oid directory has a ".lock" file. Whoever downloads a blob
//     into the directory, or evicts a file from it, holds an exclusive lock
//     on it (flock, as zc.lockfile takes it), so a download and an eviction
//     never race and two processes never fetch the same file at once.
//   - A download is written to "<file>.dl" next to its final name and
//     renamed into place only once complete, so a reader never sees a
//     partial blob and a cut transfer leaves nothing behind (the ".dl" file
//     is removed; a crashed process's leftover is replaced by the next
//     download, which holds the lock).
//   - Blobs this client committed are written to "<random>.tmp" in the oid
//     directory while they are sent and renamed into place once the
//     transaction's tid is known.
//   - Size checks remove ".dl" and ".tmp" files left unwritten for an hour
//     (a crashed process's), under the oid directory's lock, and skip a
//     directory whose lock is busy. Such files never count as cached
//     bytes.
//   - Eviction is run by one process at a time, under "check_size.lock";
//     a process that finds it busy leaves a "check_size.attempt" file so
//     that the running check goes round once more, as ZEO does.
//
// Readers hold a shared flock on the blob file they have open; eviction
// takes an exclusive one without waiting and skips the file when it
// cannot, so a file any process (using this package) is reading is not
// evicted. A reader that finds the file locked by an eviction does not
// read it: to the cache the blob is missing, and it is downloaded again.
//
// Least recently used is judged by access time, which every open of a
// cached file sets explicitly, keeping the modification time (ZEO's
// clients do the same), so mounts with noatime do not matter. Where this
// package cannot read access times (AIX, Plan 9, WebAssembly) eviction
// goes by modification time instead: the files downloaded first go
// first. OpenFile, for files of a directory the cache does not own (a
// server's blob directory shared with its clients), changes nothing on
// the file, not even its times.
//
// Within one process, concurrent requests for the same blob are coalesced:
// one download, every caller gets its own open file.
package blobcache
