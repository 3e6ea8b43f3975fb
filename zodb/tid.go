package zodb

import (
	"encoding/binary"
	"encoding/hex"
	"math"
)

// TID identifies a committed transaction; the revision of an object written by
// that transaction carries the same 8 bytes as its serial. It is an 8-byte
// big-endian unsigned integer that is also a TimeStamp (see [TID.Time]).
// TIDs compare with == and order like their Uint64 values, which is commit
// order.
type TID [8]byte

// ZeroTID is ZODB's z64: "no transaction yet". It is what lastTransaction
// returns for an empty storage and the serial a client sends when storing a
// new object.
var ZeroTID TID

// MaxTID is ZODB's maxtid, 0x7fffffffffffffff: loadBefore(oid, MaxTID) loads
// the current revision.
var MaxTID = TIDFromUint64(math.MaxInt64)

// TIDFromUint64 returns the TID whose big-endian encoding is v.
func TIDFromUint64(v uint64) TID {
	var t TID
	binary.BigEndian.PutUint64(t[:], v)
	return t
}

// TIDFromBytes returns the TID held in b, which must be exactly 8 bytes long.
// Any other length is an error wrapping [ErrLength].
func TIDFromBytes(b []byte) (TID, error) {
	var t TID
	if err := fromBytes(t[:], b, "tid"); err != nil {
		return ZeroTID, err
	}
	return t, nil
}

// ParseTID parses 1 to 16 hex digits, optionally prefixed by "0x" or "0X", in
// any letter case. Errors wrap [ErrSyntax].
func ParseTID(s string) (TID, error) {
	v, err := parseHex64(s, "tid")
	if err != nil {
		return ZeroTID, err
	}
	return TIDFromUint64(v), nil
}

// Uint64 returns the TID as an unsigned integer (ZODB's u64).
func (t TID) Uint64() uint64 { return binary.BigEndian.Uint64(t[:]) }

// Bytes returns a new 8-byte slice holding the TID, its wire form.
func (t TID) Bytes() []byte { return append([]byte(nil), t[:]...) }

// String returns the TID as 16 lowercase hex digits, e.g. "040d40e347ce3111".
func (t TID) String() string { return hex.EncodeToString(t[:]) }

// Repr returns the TID as ZODB's tid_repr prints it: "0x" and the hex digits
// without leading zero bytes.
func (t TID) Repr() string { return reprHex(t[:]) }

// ReadableRepr returns Repr followed by a space and TimeString, the form
// ZODB's readable_tid_repr gives and ConflictError messages contain, e.g.
// "0x040d40e347ce3111 2026-11-25 13:23:16.829399".
func (t TID) ReadableRepr() string { return t.Repr() + " " + t.TimeString() }

// Compare returns -1, 0 or +1 as t is less than, equal to or greater than u.
func (t TID) Compare(u TID) int { return compare64(t.Uint64(), u.Uint64()) }

// MarshalText implements encoding.TextMarshaler with the String form.
func (t TID) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler, accepting what ParseTID
// accepts.
func (t *TID) UnmarshalText(b []byte) error {
	v, err := ParseTID(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}
