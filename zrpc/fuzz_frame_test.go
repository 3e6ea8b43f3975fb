package zrpc

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"hash"
	"io"
	"testing"

	"github.com/gozeo/gozeo/internal/captures"
)

// fuzzMaxFrame keeps fuzzing memory small; the limit logic is the same at
// any size.
const fuzzMaxFrame = 1 << 20

// fuzzNonce is the nonce of connection 3 of zeo310auth-handshake.jsonl;
// with alice/zeorealm/secret it gives the key the MAC seeds were made
// with, so the fuzzer starts from frames that verify.
const fuzzNonce = "5b8dc79c1ffa59a7e2a31abf86fefb67be7108de"

// refFrame is one step of the reference parser below.
type refFrame struct {
	payload []byte
	err     error // nil, io.EOF or a sentinel
}

// refParse is a deliberately plain reading of docs/protocol.md, Framing and
// MAC'd frames, the oracle the fuzz targets hold FrameReader to. mac is nil for
// MAC mode off.
func refParse(data []byte, max int, mac hash.Hash) []refFrame {
	var out []refFrame
	for {
		if len(data) == 0 {
			return append(out, refFrame{err: io.EOF})
		}
		if len(data) < 4 {
			return append(out, refFrame{err: ErrFrameTruncated})
		}
		prefix := binary.BigEndian.Uint32(data)
		flagged := prefix&MACBit != 0
		size := int(prefix &^ MACBit)
		data = data[4:]
		if mac != nil && !flagged {
			return append(out, refFrame{err: ErrMACMissing})
		}
		if size > max {
			return append(out, refFrame{err: ErrFrameTooLarge})
		}
		var sent []byte
		if flagged {
			if len(data) < MACSize {
				return append(out, refFrame{err: ErrFrameTruncated})
			}
			sent, data = data[:MACSize], data[MACSize:]
		}
		if len(data) < size {
			return append(out, refFrame{err: ErrFrameTruncated})
		}
		payload := data[:size]
		data = data[size:]
		if mac != nil {
			mac.Write(payload)
			if !bytes.Equal(mac.Sum(nil), sent) {
				return append(out, refFrame{err: ErrMACMismatch})
			}
		}
		out = append(out, refFrame{payload: payload})
	}
}

// checkAgainstRef reads data with fr and compares every step with the
// reference parser.
func checkAgainstRef(t *testing.T, fr *FrameReader, want []refFrame) {
	for i, w := range want {
		got, err := fr.ReadFrame()
		if w.err == nil {
			if err != nil || !bytes.Equal(got, w.payload) {
				t.Fatalf("frame %d: got %q, %v; want %q", i, got, err, w.payload)
			}
			continue
		}
		if !errors.Is(err, w.err) || got != nil {
			t.Fatalf("frame %d: got %q, %v; want error %v", i, got, err, w.err)
		}
		if w.err != io.EOF {
			var fe *FrameError
			if !errors.As(err, &fe) || fe.Error() == "" {
				t.Fatalf("frame %d: %v is not a *FrameError", i, err)
			}
			// Framing errors stick.
			if _, err2 := fr.ReadFrame(); err2 != err {
				t.Fatalf("frame %d: error did not stick: %v then %v", i, err, err2)
			}
		}
		return
	}
}

func addCaptureSeeds(f *testing.F, macOnly bool) {
	for _, path := range captures.Names() {
		frames := captures.MustLoad(f, path)
		for k, stream := range captures.Streams(frames) {
			if !macOnly {
				f.Add(wireBytes(stream))
				continue
			}
			if auth, ok := findCaptureAuth(frames, k.Conn); !ok || auth.Nonce != fuzzNonce {
				continue
			}
			var macd []captures.Frame
			for _, fr := range stream {
				if fr.MAC != nil {
					macd = append(macd, fr)
				}
			}
			f.Add(wireBytes(macd))
		}
	}
}

// FuzzReadFrame: arbitrary bytes through a FrameReader without a key never
// panic, never allocate beyond what arrives, and parse exactly as the
// reference reading of the framing does (MACs skipped unchecked).
func FuzzReadFrame(f *testing.F) {
	addCaptureSeeds(f, false)
	f.Add([]byte{})
	f.Add([]byte{0, 0})
	f.Add([]byte{0x7f, 0xff, 0xff, 0xff, 1, 2, 3})
	f.Add([]byte{0x80, 0, 0, 1})
	f.Add([]byte("HTTP/1.1 200 OK\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := NewFrameReader(bytes.NewReader(data))
		fr.SetMaxFrameSize(fuzzMaxFrame)
		checkAgainstRef(t, fr, refParse(data, fuzzMaxFrame, nil))
	})
}

// FuzzReadFrameMAC: the same in MAC mode, keyed as the captured session:
// every accepted frame carries the chained HMAC-SHA1 the reference
// computes, and anything else is refused with the right error.
func FuzzReadFrameMAC(f *testing.F) {
	key := DigestSessionKey(DigestHash("alice", "zeorealm", "secret"), fuzzNonce)
	addCaptureSeeds(f, true)
	var seed bytes.Buffer
	fw := NewFrameWriter(&seed)
	fw.SetMACKey(key)
	fw.WriteFrame([]byte("(K\x03K\x00U\x08register(U\x011I00\ntt."))
	fw.WriteFrame(nil)
	fw.Flush()
	f.Add(seed.Bytes())
	f.Add([]byte{0, 0, 0, 1, 'x'})
	f.Add([]byte{0x80, 0, 0, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		fr := NewFrameReader(bytes.NewReader(data))
		fr.SetMaxFrameSize(fuzzMaxFrame)
		fr.SetMACKey(key)
		checkAgainstRef(t, fr, refParse(data, fuzzMaxFrame, hmac.New(sha1.New, key)))
	})
}
