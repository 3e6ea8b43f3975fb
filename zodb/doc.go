// Package zodb holds the two identifiers every ZODB storage speaks in: object
// ids ([OID]) and transaction ids ([TID], also called serials), plus the
// TimeStamp arithmetic that ties a TID to the wall-clock time of its commit.
//
// Both identifiers are 8-byte big-endian unsigned integers on the wire
// (ZODB's p64/u64). This package is a leaf: it imports only the standard
// library, so the ZEO client and the Go test server can share it.
//
// # Text form
//
// String prints 16 lowercase hex digits without a prefix ("00000000000001f8"),
// the form Python's binascii.hexlify and bytes.hex give and the one the
// capture logs use. Repr prints ZODB's oid_repr/tid_repr form ("0x01f8":
// leading zero bytes stripped, "0x" prefix), which ZODB puts in error
// messages. The Parse functions accept both.
//
// # TimeStamps
//
// A TID is a persistent.TimeStamp: the high 32 bits count minutes since
// 1900-01-01 00:00 UTC in a calendar where every month has 31 days, the low 32
// bits count 60/2³² s within that minute. [TIDFromTime], [TID.Time],
// [NextTID], [TID.TimeString] and [TID.UnixSeconds] implement that encoding;
// they are checked against tids and times printed by real ZODB servers.
package zodb
