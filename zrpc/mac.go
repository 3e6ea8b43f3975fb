package zrpc

import (
	"crypto/hmac"
	"crypto/sha1"
	"hash"
)

// MAC mode of ZEO 2.2 … 4.x after digest authentication (docs/protocol.md,
// MAC'd frames).
const (
	// MACBit is the flag in a length prefix announcing that a MAC sits
	// between the prefix and the payload.
	MACBit = 0x80000000
	// MACSize is the size of that MAC: an HMAC-SHA1 digest.
	MACSize = sha1.Size
)

// macChain is the MAC state of one direction of an authenticated
// connection. The reference implementation keeps one HMAC object per
// direction, feeds it every payload and takes a digest after each update,
// so the MAC of frame k covers payloads 1..k: a lost, reordered or altered
// frame breaks every MAC after it. hash.Hash.Sum does not disturb the
// running state, which is exactly that digest-after-update semantics.
type macChain struct {
	h   hash.Hash
	seq int64 // frames covered so far
}

func newMACChain(key []byte) *macChain {
	return &macChain{h: hmac.New(sha1.New, key)}
}

// next feeds payload to the chain and appends the resulting MAC to dst.
func (m *macChain) next(dst, payload []byte) []byte {
	m.h.Write(payload)
	m.seq++
	return m.h.Sum(dst)
}
