package zodb

import (
	"encoding/binary"
	"encoding/hex"
)

// OID identifies a persistent object: an 8-byte big-endian unsigned integer.
// The zero value is the root object's id (ZODB's z64). OIDs compare with ==
// and order like their Uint64 values.
type OID [8]byte

// ZeroOID is the root object's id, 0x0000000000000000.
var ZeroOID OID

// OIDFromUint64 returns the OID whose big-endian encoding is v.
func OIDFromUint64(v uint64) OID {
	var o OID
	binary.BigEndian.PutUint64(o[:], v)
	return o
}

// OIDFromBytes returns the OID held in b, which must be exactly 8 bytes long
// (the raw form oids take on the wire). Any other length is an error wrapping
// [ErrLength].
func OIDFromBytes(b []byte) (OID, error) {
	var o OID
	if err := fromBytes(o[:], b, "oid"); err != nil {
		return ZeroOID, err
	}
	return o, nil
}

// ParseOID parses the text forms String and Repr produce: 1 to 16 hex digits,
// optionally prefixed by "0x" or "0X", any letter case ("1f8", "0x01f8" and
// "00000000000001f8" are the same OID). Errors wrap [ErrSyntax].
func ParseOID(s string) (OID, error) {
	v, err := parseHex64(s, "oid")
	if err != nil {
		return ZeroOID, err
	}
	return OIDFromUint64(v), nil
}

// Uint64 returns the OID as an unsigned integer (ZODB's u64).
func (o OID) Uint64() uint64 { return binary.BigEndian.Uint64(o[:]) }

// Bytes returns a new 8-byte slice holding the OID, the form it takes on the
// wire.
func (o OID) Bytes() []byte { return append([]byte(nil), o[:]...) }

// String returns the OID as 16 lowercase hex digits, e.g. "00000000000001f8".
func (o OID) String() string { return hex.EncodeToString(o[:]) }

// Repr returns the OID the way ZODB's oid_repr prints it in messages: "0x"
// followed by the hex digits with leading zero bytes removed, at least one
// byte ("0x00" for the root, "0x01f8").
func (o OID) Repr() string { return reprHex(o[:]) }

// Compare returns -1, 0 or +1 as o is less than, equal to or greater than p.
func (o OID) Compare(p OID) int { return compare64(o.Uint64(), p.Uint64()) }

// MarshalText implements encoding.TextMarshaler with the String form.
func (o OID) MarshalText() ([]byte, error) { return []byte(o.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler, accepting what ParseOID
// accepts.
func (o *OID) UnmarshalText(b []byte) error {
	v, err := ParseOID(string(b))
	if err != nil {
		return err
	}
	*o = v
	return nil
}
