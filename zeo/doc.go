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
// Servers differ in which methods exist and what they return (PROTOCOL.md
// §7, §13): a current-revision load is loadEx(oid, "") on ZODB 3.8,
// loadEx(oid) on 3.9 to ZEO 4 and loadBefore(oid, maxtid) on ZEO 5; store
// results come in a serialnos call before the vote reply up to ZEO 4 and as
// the vote's return value on ZEO 5. The client picks per negotiated version
// (through [zrpc.Capabilities] and [zrpc.Version.HasMethod]) so that callers
// see one behaviour. An operation the negotiated version lacks fails with an
// [*UnsupportedError] before anything is sent, since an unknown method makes
// every ZEO server drop the connection.
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
// transaction known at connect time.
//
// # Not yet
//
// The client does not reconnect, has no object cache and does not handle
// blobs. The connection lifecycle lives in one place (session.go) so that
// these can be added without reshaping the API.
package zeo
