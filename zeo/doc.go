// Package zeo is a ZEO storage client: it connects to a ZEO server of any
// generation, from ZODB 3.8 on Python 2.4 to ZEO 5/6 with msgpack, and gives
// a Go program the storage API of ZODB's ClientStorage: loads, history,
// new oids, two-phase commit, undo, pack, the transaction iterator and
// invalidations.
//
// # Connecting
//
// [Dial] takes "host:port", a Unix socket path or a "zeo://host:port?storage=1"
// URL, and [Options] mirroring ClientStorage's: storage name, read-only mode
// and fallback, the allowed protocol versions, the pickle dialect, digest
// credentials (ZEO 3.x/4.x), a *tls.Config (ZEO 5), a client label and a
// *slog.Logger. After Dial, [Client.Session] tells what the server announced,
// what was negotiated and why, and which encoding the connection uses;
// [Client.ServerInfo] is the server's get_info as a typed struct.
//
// # One API, every generation
//
// Servers differ in which methods exist and what they return (docs/protocol.md,
// Methods, Versions and capabilities): a current-revision load is loadEx(oid,
// "") on ZODB 3.8, loadEx(oid) on 3.9 to ZEO 4 and loadBefore(oid, maxtid) on
// ZEO 5; store results come in a serialnos call before the vote reply up to ZEO
// 4 and as the vote's return value on ZEO 5. The client picks per negotiated
// version (through [zrpc.Capabilities] and [zrpc.Version.HasMethod]) so that
// callers see one behaviour. An operation the negotiated version lacks fails
// with an [*UnsupportedError] before anything is sent, since an unknown method
// makes every ZEO server drop the connection.
//
// # Concurrency
//
// A Client is safe for concurrent use. Calls share one connection and are
// pipelined; concurrent loads of the same object at the same point in time
// are coalesced into one request; [Client.LoadMany] fetches a set of objects
// in parallel with a bound on requests in flight. A ZEO connection carries
// one transaction at a time, so [Client.Begin] waits for the previous
// transaction on the same Client to finish or abort.
//
// # Connection lifecycle
//
// A Client outlives its connections, as ClientStorage does. When the
// connection is lost it reconnects by itself, with exponential backoff and
// jitter ([ReconnectPolicy]; Disabled for tools that look at one
// connection), trying each address given to Dial and preferring one that
// accepts a read-write registration. The server that answers may speak
// another protocol generation than the one before: the client negotiates
// again, and [Client.Session] and every per-version choice follow.
// [Options.OnStatus] reports each change ([StatusEvent]: connecting,
// connected with what was negotiated, reconnecting with why, closed).
//
// While disconnected, calls wait for the next connection, bounded by their
// ctx and [Options.WaitTimeout]; then they fail with a [*DisconnectedError]
// whose NotSent says the call never left the client. Reads cut off by a
// lost connection are sent again on the next one. A [Transaction] belongs
// to the connection it began on: if that is lost before tpc_finish, the
// server has aborted it, and its operations fail with TxnAborted set.
// [Client.Close] is final.
//
// What a service does:
//   - on reconnect, nothing: the client catches up by itself (getInvalidations,
//     or cache verification on servers up to ZEO 4) and delivers what
//     changed meanwhile as one [Invalidation] with Catchup set;
//   - on a reset ([Invalidation].Reset: the server could not say what
//     changed), drop or reload whatever it derived from the database, as
//     ZODB's invalidateCache;
//   - on an uncertain commit ([*CommitOutcomeUnknownError], the connection
//     lost during tpc_finish), call its Resolve to learn from the storage
//     whether the transaction committed, and at which tid, before retrying.
//
// A server whose last transaction is older than one the client has seen
// (a restored backup) is refused with a [*StaleServerError].
//
// # The client cache
//
// Loads go through an in-memory MVCC cache bounded by [Options.CacheSize]
// (20 MiB by default, negative to switch it off), as ZEO's client cache: it
// holds current revisions until an invalidation ends them, and non-current
// ones with their validity range, so [Client.Load] of a cached object and
// [Client.LoadBefore] inside a known range need no round trip. A load reply
// is cached as current only if no invalidation of the object reached the
// client after the request was made, decided in wire order. Current
// revisions are served only while connected and caught up; non-current
// ones at any time. Another client's commit reaches the cache when its
// invalidation does; to read it right after hearing of the commit some
// other way, sync first: any round trip, such as [Client.LastTransaction],
// returns after every invalidation the server sent before its reply (as
// ZODB's sync does). Eviction is S3-FIFO, which a one-off scan does not
// flush. Revision.Data is shared with the cache: treat it as read-only.
// [Client.CacheStats] gives the counters.
//
// # Errors
//
// Every error is typed and matchable with errors.Is and errors.As: conflicts
// ([*ConflictError], [ErrConflict]), read conflicts, missing objects
// ([*NotFoundError], [ErrNotFound]), read-only refusals, lost connections
// ([ErrDisconnected]; a connection lost during tpc_finish is a
// [*CommitOutcomeUnknownError], never a success or a plain failure), protocol
// mismatches, undecodable messages and any other server exception
// ([*ServerError], with the Python class name). Each error names the oid, the
// server and the negotiated version, and says what to do.
//
// # Invalidations
//
// [Client.Subscribe] delivers each committed transaction's tid and oids
// exactly once, in strictly increasing tid order, starting after the last
// transaction known at subscription time, across reconnects too (see
// Catchup and Reset above).
//
// # Blobs
//
// From ZODB 3.8 (Z308) on, an object whose record is a ZODB.blob.Blob has a
// file. [Client.LoadBlob] opens a blob revision: the server streams it in
// 59000-byte chunks straight into a file of the client's blob directory
// (Options.BlobDir, bounded by Options.BlobCacheSize and shareable by
// several processes: package blobcache), or, with Options.SharedBlobDir,
// the client reads the server's own directory. [Transaction.StoreBlob]
// sends a blob from an io.Reader with its record, in constant memory. See
// docs/protocol.md, Blobs, for the calls.
package zeo
