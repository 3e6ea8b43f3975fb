package zrpc

import (
	"encoding/hex"
	"testing"
)

// The digest vector of docs/protocol.md, Test vectors.
func TestDigestProtocolVector(t *testing.T) {
	hup := DigestHash("alice", "zeo", "secret")
	if hup != "8c869e1f68b10efcf6140495cfa04c2c98ac8e1c" {
		t.Errorf("h_up = %s", hup)
	}
	if got := DigestResponse(hup, "5ccb6db4fa8e0d6cc6c266b2dc050a4698944d0b"); got != "47b0a86b82d7b60a88ed192fd1a95fdd324d879e" {
		t.Errorf("response = %s", got)
	}
	key := DigestSessionKey(hup, "7c026d4d47713939267cbc06c37ca8c996d2a027")
	if len(key) != 60 || hex.EncodeToString(key[:20]) != "dd59d3615280d35f49a26a70447a96f60cdca718" || string(key[20:]) != hup {
		t.Errorf("session key = %x", key)
	}
}

// The captured exchange with the real 3.10 server (realm zeorealm).
func TestDigestCapture(t *testing.T) {
	hup := DigestHash("alice", "zeorealm", "secret")
	const challenge = "5b8dc79c1ffa59a7e2a31abf86fefb67be7108de"
	if got := DigestResponse(hup, challenge); got != "4fd12d7ed3f67aecfea9359b25c1e1266ed6d9a9" {
		t.Errorf("response = %s, the real client sent 4fd12d7e…", got)
	}
	// The reference code appends h_up[:44]: a longer h_up is cut there.
	if key := DigestSessionKey(hup+"0123456789", challenge); string(key[20:]) != (hup + "0123456789")[:44] {
		t.Errorf("long h_up tail = %q", key[20:])
	}
}
