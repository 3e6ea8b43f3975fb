package zrpc

import (
	"crypto/sha1"
	"encoding/hex"
)

// Digest authentication of ZODB 3.2 … ZEO 4.x (docs/protocol.md,
// Authentication). The exchange: getAuthProtocol() → "digest";
// auth_get_challenge() → (realm, challenge, nonce); auth_response((user,
// challenge, response)) → True; then both sides switch to MAC mode (SetMACKey)
// with the session key. The scheme is SHA-1 based and as weak as it was in
// 2003; it only matters for talking to servers configured for it.

// DigestHash returns h_up, the lowercase hex SHA-1 of "user:realm:password".
// It is what a server's password file stores for each user; the realm is
// the one configured on the client (the reference client refuses a server
// whose realm differs).
func DigestHash(user, realm, password string) string {
	return sha1Hex(user + ":" + realm + ":" + password)
}

// DigestResponse returns the client's answer to challenge: the hex SHA-1
// of h_up + ":" + challenge.
func DigestResponse(hup, challenge string) string {
	return sha1Hex(hup + ":" + challenge)
}

// DigestSessionKey returns the 60-byte MAC key both sides install after a
// successful auth_response: the raw SHA-1 of h_up + ":" + nonce followed
// by h_up itself (the reference code appends h_up[:44], the whole 40-char
// string). The nonce is the third element of the challenge tuple, which
// usually equals the challenge but need not.
func DigestSessionKey(hup, nonce string) []byte {
	sum := sha1.Sum([]byte(hup + ":" + nonce))
	tail := hup
	if len(tail) > 44 {
		tail = tail[:44]
	}
	return append(sum[:], tail...)
}

func sha1Hex(s string) string {
	sum := sha1.Sum([]byte(s))
	return hex.EncodeToString(sum[:])
}
