package zrpc

import (
	"slices"

	"github.com/gozeo/gozeo/pickle"
)

// Version is a ZEO protocol version string, the raw first frame each side sends
// (docs/protocol.md, Generations, Handshake). Versions compare as byte strings,
// which is how every ZEO release compares them: Z200 < Z201 < Z303 < Z308 <
// Z309 < Z310 < Z3101 < Z4 < Z5 (Z310 sorts before Z3101 as its prefix).
type Version string

// The protocol versions ZEO servers have announced or accepted.
const (
	Z200  Version = "Z200"  // ZODB 3.1 / ZEO 2.0
	Z201  Version = "Z201"  // ZODB 3.2 and 3.3.0 (3.3.0 has MVCC but kept the number)
	Z303  Version = "Z303"  // ZODB 3.3.1 – 3.7
	Z308  Version = "Z308"  // ZODB 3.8: blobs
	Z309  Version = "Z309"  // ZODB 3.9: versions removed
	Z310  Version = "Z310"  // ZODB 3.10.0a1 – b4
	Z3101 Version = "Z3101" // ZODB 3.10.0b5 – 3.10.7, ZEO 4.0 – 4.1
	Z4    Version = "Z4"    // ZEO 4.2 – 4.3
	Z5    Version = "Z5"    // ZEO 5.x / 6.x, pickle encoding
	M5    Version = "M5"    // ZEO 5.1+ / 6.x, msgpack encoding
)

// knownVersions lists every version this package speaks, in protocol
// order (M5 is Z5 with the other encoding).
var knownVersions = [...]Version{Z200, Z201, Z303, Z308, Z309, Z310, Z3101, Z4, Z5, M5}

// KnownVersions returns every version this package speaks, oldest first.
// It is the allowed set Negotiate uses when given none.
func KnownVersions() []Version { return slices.Clone(knownVersions[:]) }

// String returns v as it travels on the wire.
func (v Version) String() string { return string(v) }

// Known reports whether v is one of the versions this package speaks.
func (v Version) Known() bool { return v.rank() >= 0 && (!v.IsZEO5() || v == Z5 || v == M5) }

// IsZEO5 reports whether v has the ZEO 5 shape: one encoding letter
// followed by "5".
func (v Version) IsZEO5() bool { return len(v) == 2 && v[1] == '5' }

// rank orders versions by protocol generation: its index in knownVersions,
// with every ZEO 5 letter ranking as Z5; -1 for unknown strings.
func (v Version) rank() int {
	if v.IsZEO5() {
		return 8
	}
	for i, k := range knownVersions[:8] {
		if v == k {
			return i
		}
	}
	return -1
}

// reprVersion shows a version as Python would show the bytes, so that
// garbage in a handshake is visible as such.
func reprVersion(v Version) string {
	const max = 64
	if len(v) > max {
		return pickle.ReprBytes([]byte(v[:max])) + "…"
	}
	return pickle.ReprBytes([]byte(v))
}
