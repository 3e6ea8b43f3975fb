// Package testserver is a ZEO server written in Go that imitates the server
// generations a ZEO client meets in the wild, from ZODB 3.2 on Python 2.4 to
// ZEO 6 with msgpack (see [Profiles]). Real ZEO servers are Python programs;
// this one is what the client's tests, the examples and CI run against, so it
// reproduces what a client can observe of each generation: the version
// announcement and acceptance rule, the method set (an unknown method drops
// the connection), argument and reply shapes, the pickle dialect and
// protocol, the three error-reply shapes, store results (serialnos before
// the vote reply, or ZEO 5's vote list), invalidation payloads, one-way
// error handling, digest authentication with MACs (3.x/4.x) and mutual TLS
// (ZEO 5). Every behaviour comes from docs/protocol.md and the captures of real
// servers or, where they are silent, from the released servers' sources.
//
// In tests:
//
//	srv := testserver.Start(t, testserver.Options{Profile: "z309-py26"})
//	// dial srv.Addr(); seed data with srv.Store().Seed(...)
//
// The storage is an in-memory multi-version store (package store) with a
// commit lock: a second committer's vote is answered once the first
// finishes or aborts, as in ZEO. Faults (closing at a method or after N
// frames, delays of the connection or of single replies, stalls, corrupt
// frames, garbage, a chosen version announcement) are set with
// Options.Faults or [Server.SetFaults]; [Server.Restart] drops every
// client and listens again on the same port. For a server replaced during
// an outage, Close it and start another on its address with its data
// (Options.Addr, Options.Store), maybe of another profile, or with a
// clone of the store taken earlier (store.Store.Clone) for one restored
// from an older backup.
//
// Blobs (Z308+) live in a real directory in ZODB's bushy layout
// ([Server.BlobDir]) and travel in 59000-byte chunks both ways.
//
// Known gaps: no restorea;
// no invalidation-age (getInvalidations answers from the queue only, as
// with the option's default); ZODB 3.9's synchronous undo after a store
// that failed fails itself, where the real server still undoes and the
// failure shows in serialnos at vote; ZODB 3.2's non-transactional
// undo(trans_id) is not imitated (its clients use transactionalUndo).
//
// Logging goes to Options.Logger (log/slog), silent by default.
package testserver
