package zodb

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// ErrLength is wrapped by the errors of OIDFromBytes and TIDFromBytes when the
// input is not exactly 8 bytes long.
var ErrLength = errors.New("zodb: identifier must be exactly 8 bytes")

// ErrSyntax is wrapped by the errors of ParseOID and ParseTID when the text is
// not 1 to 16 hex digits with an optional 0x prefix.
var ErrSyntax = errors.New("zodb: identifier must be 1 to 16 hex digits, optionally prefixed by 0x")

func fromBytes(dst, b []byte, what string) error {
	if len(b) != 8 {
		return fmt.Errorf("%w: %s of %d bytes", ErrLength, what, len(b))
	}
	copy(dst, b)
	return nil
}

func parseHex64(s, what string) (uint64, error) {
	digits := s
	if strings.HasPrefix(digits, "0x") || strings.HasPrefix(digits, "0X") {
		digits = digits[2:]
	}
	if len(digits) == 0 || len(digits) > 16 {
		return 0, fmt.Errorf("%w: %s %q", ErrSyntax, what, s)
	}
	// ParseUint alone would also accept underscores and a sign; hex.DecodeString
	// is not usable on odd lengths, so check the alphabet ourselves.
	for i := 0; i < len(digits); i++ {
		c := digits[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return 0, fmt.Errorf("%w: %s %q", ErrSyntax, what, s)
		}
	}
	v, err := strconv.ParseUint(digits, 16, 64)
	if err != nil { // unreachable after the checks above, kept for safety
		return 0, fmt.Errorf("%w: %s %q", ErrSyntax, what, s)
	}
	return v, nil
}

// reprHex is ZODB's oid_repr: strip leading zero bytes, keep at least one.
func reprHex(b []byte) string {
	i := 0
	for i < len(b)-1 && b[i] == 0 {
		i++
	}
	return "0x" + hex.EncodeToString(b[i:])
}

func compare64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
