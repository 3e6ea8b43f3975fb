package zeo

import (
	"github.com/gozeo/gozeo/zodb"
	"github.com/gozeo/gozeo/zrpc"
)

// OID is a ZODB object id: 8 bytes, printed as 16 hex digits.
type OID = zodb.OID

// TID is a ZODB transaction id (also an object revision's serial): 8 bytes
// that are also a timestamp (TID.Time, zodb.TIDFromTime).
type TID = zodb.TID

// Version is a ZEO protocol version string such as "Z3101" or "M5".
type Version = zrpc.Version

// The protocol versions a client can negotiate, oldest first. Pin one in
// Options.Versions to test against a particular generation.
const (
	Z200  = zrpc.Z200  // ZODB 3.1 / ZEO 2.0
	Z201  = zrpc.Z201  // ZODB 3.2 – 3.3.0
	Z303  = zrpc.Z303  // ZODB 3.3.1 – 3.7
	Z308  = zrpc.Z308  // ZODB 3.8
	Z309  = zrpc.Z309  // ZODB 3.9
	Z310  = zrpc.Z310  // ZODB 3.10.0 pre-releases
	Z3101 = zrpc.Z3101 // ZODB 3.10, ZEO 4.0 – 4.1
	Z4    = zrpc.Z4    // ZEO 4.2 – 4.3
	Z5    = zrpc.Z5    // ZEO 5 / 6, pickle
	M5    = zrpc.M5    // ZEO 5.1+ / 6, msgpack
)

// MaxTID is ZODB's maxtid: LoadBefore(oid, MaxTID) loads the current
// revision.
var MaxTID = zodb.MaxTID
