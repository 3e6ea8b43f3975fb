// Package store is the in-memory, multi-version object storage the Go test
// server serves over ZEO. It knows nothing of the wire: records are opaque
// byte strings, transaction ids are passed in as opaque values, and failures
// are typed Go errors the protocol layer translates into the exceptions of
// the generation it imitates (docs/protocol.md, Commit, Undo, Errors).
//
// # Model
//
// A [Store] keeps every revision of every object, as FileStorage does until
// it is packed. A revision is written by one committed transaction and holds
// either data or nothing (the object was deleted, or its creation undone).
// Revisions that undo restores share the data of the revision they restore,
// like FileStorage's backpointers; that identity is what the undo conflict
// rule compares.
//
// Transaction ids come from [zodb.NextTID] over an injectable clock
// ([Options.Clock]), so they are strictly increasing even when the clock
// stands still or goes back.
//
// # Sessions and two-phase commit
//
// Each client connection gets a [Session] ([Store.NewSession]); a session has
// at most one transaction at a time, identified by whatever value the client
// sent (compared with reflect.DeepEqual, so any decoded pickle value works).
// The calls mirror the ZEO server's:
//
//	TpcBegin → Store / CheckCurrentSerial / DeleteObject / Undo (buffered) → Vote → Finish
//	                                                         any time → Abort
//
// Like a ZEO server, the store only buffers the operations until the vote.
// [Session.Vote] waits (honouring its context) for the storage-wide commit
// lock, which queues voters first come first served, picks the tid, replays
// the buffered operations against the committed state and reports the
// per-object results or the first failure (a *ConflictError,
// *ReadConflictError, *POSKeyError, *MultipleUndoErrors …). The lock stays
// held until [Session.Finish] or [Session.Abort], even after a failed vote,
// as with ZEO ≤ 4 and FileStorage. ZEO ≤ 3.9's synchronous undo is
// [Session.UndoNow], which takes the lock early.
//
// # Invalidations
//
// [Store.Subscribe] registers a function called once per commit with a
// [Commit] event naming the committing session (the protocol layer skips
// that one). It runs before the new state becomes visible to readers, as
// ZODB's tpc_finish callback does, so a session that queues the invalidation
// on its connection is sure to send it before any load reply showing the new
// data. What each commit invalidates, and so what getInvalidations can
// answer, differs between ZEO generations: the protocol layer decides it
// from the event and keeps the server's invalidation queue itself.
//
// # Not modelled
//
// Blobs, restore (restorea), versions, garbage collection at pack time (that
// needs the references inside pickles) and client-side conflict resolution
// (ZEO 5's vote returning conflicts to resolve) are left out; Options.Resolve
// stands in for server-side conflict resolution.
//
// # Concurrency
//
// All methods are safe for concurrent use by many sessions. Byte slices
// returned by the store are shared with it and must not be modified; data
// passed in is copied.
package store
