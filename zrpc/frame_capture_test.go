package zrpc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/gozeo/gozeo/internal/captures"
)

// wireBytes rebuilds the bytes the capture saw: length prefix (with
// MACBit on authenticated frames), MAC, payload.
func wireBytes(frames []captures.Frame) []byte {
	var b []byte
	for _, f := range frames {
		prefix := uint32(len(f.Payload))
		if f.MAC != nil {
			prefix |= MACBit
		}
		b = binary.BigEndian.AppendUint32(b, prefix)
		b = append(b, f.MAC...)
		b = append(b, f.Payload...)
	}
	return b
}

var hex40 = regexp.MustCompile(`[0-9a-f]{40}`)

// captureAuth is what the digest exchange of an authenticated capture
// connection carried.
type captureAuth struct {
	Challenge, Nonce string // from the auth_get_challenge reply
	Response         string // what the client sent in auth_response
}

// findCaptureAuth extracts the digest exchange of one connection, or
// reports false if it has none. The payloads are protocol-1 pickles; the
// 40-hex strings are found by pattern, which avoids depending on the
// pickle decoder here.
func findCaptureAuth(frames []captures.Frame, conn int) (captureAuth, bool) {
	var a captureAuth
	for _, f := range frames {
		if f.Conn != conn {
			continue
		}
		switch {
		case f.Dir == "s2c" && bytes.Contains(f.Payload, []byte("zeorealm")):
			m := hex40.FindAll(f.Payload, -1)
			if len(m) == 2 {
				a.Challenge, a.Nonce = string(m[0]), string(m[1])
			}
		case f.Dir == "c2s" && bytes.Contains(f.Payload, []byte("auth_response")):
			m := hex40.FindAll(f.Payload, -1)
			if len(m) == 2 {
				a.Response = string(m[1])
			}
		}
	}
	return a, a.Nonce != "" && a.Response != ""
}

// Every frame of every capture, replayed per connection and direction
// through a FrameReader, comes back byte for byte, the MAC'd ones checked
// against the session key recomputed from the capture's own digest
// exchange, and the stream ends in a clean io.EOF.
func TestCaptureReplayThroughFrameReader(t *testing.T) {
	for _, path := range captures.Names() {
		t.Run(filepath.Base(path), func(t *testing.T) {
			frames := captures.MustLoad(t, path)
			for k, stream := range captures.Streams(frames) {
				var key []byte
				if hasMAC(stream) {
					auth, ok := findCaptureAuth(frames, k.Conn)
					if !ok {
						t.Fatalf("conn %d has MAC'd frames but no digest exchange", k.Conn)
					}
					key = DigestSessionKey(DigestHash("alice", "zeorealm", "secret"), auth.Nonce)
				}
				fr := NewFrameReader(bytes.NewReader(wireBytes(stream)))
				for i, want := range stream {
					if want.MAC != nil && (i == 0 || stream[i-1].MAC == nil) {
						fr.SetMACKey(key) // the first MAC'd frame of this direction
					}
					got, err := fr.ReadFrame()
					if err != nil {
						t.Fatalf("conn %d %s frame %d: %v", k.Conn, k.Dir, i, err)
					}
					if !bytes.Equal(got, want.Payload) {
						t.Fatalf("conn %d %s frame %d: payload differs", k.Conn, k.Dir, i)
					}
				}
				if _, err := fr.ReadFrame(); err != io.EOF {
					t.Fatalf("conn %d %s: after the last frame got %v, want io.EOF", k.Conn, k.Dir, err)
				}
			}
		})
	}
}

// A FrameWriter given the same payloads, with the session key installed
// at the same point, produces exactly the bytes the real Python client and
// server sent: our MACs are theirs.
func TestCaptureFrameWriterReproducesWire(t *testing.T) {
	for _, path := range captures.Names() {
		frames := captures.MustLoad(t, path)
		for k, stream := range captures.Streams(frames) {
			var key []byte
			if hasMAC(stream) {
				auth, _ := findCaptureAuth(frames, k.Conn)
				key = DigestSessionKey(DigestHash("alice", "zeorealm", "secret"), auth.Nonce)
			}
			var out bytes.Buffer
			fw := NewFrameWriter(&out)
			for i, f := range stream {
				if f.MAC != nil && (i == 0 || stream[i-1].MAC == nil) {
					fw.SetMACKey(key)
				}
				if err := fw.WriteFrame(f.Payload); err != nil {
					t.Fatal(err)
				}
			}
			if err := fw.Flush(); err != nil {
				t.Fatal(err)
			}
			if want := wireBytes(stream); !bytes.Equal(out.Bytes(), want) {
				t.Errorf("%s conn %d %s: written bytes differ from the capture", filepath.Base(path), k.Conn, k.Dir)
			}
		}
	}
}

// The authenticated captures: the client's response is DigestResponse of
// the challenge, the server's first MAC'd frame after the switch is
// accepted, and an unMAC'd frame after it is refused.
func TestCaptureDigestExchange(t *testing.T) {
	hup := DigestHash("alice", "zeorealm", "secret")
	checked := 0
	for _, path := range captures.Names() {
		frames := captures.MustLoad(t, path)
		for k, stream := range captures.Streams(frames) {
			if k.Dir != "c2s" || !hasMAC(stream) {
				continue
			}
			auth, ok := findCaptureAuth(frames, k.Conn)
			if !ok {
				t.Fatalf("%s conn %d: no digest exchange", path, k.Conn)
			}
			if got := DigestResponse(hup, auth.Challenge); got != auth.Response {
				t.Errorf("%s conn %d: DigestResponse = %s, the real client sent %s", path, k.Conn, got, auth.Response)
			}
			checked++
		}
	}
	if checked < 3 {
		t.Fatalf("only %d authenticated connections found in the captures", checked)
	}
}

// Replaying an authenticated stream with a key derived from the wrong
// password fails on the first MAC'd frame with ErrMACMismatch.
func TestCaptureWrongPasswordMACMismatch(t *testing.T) {
	path := "zeo310auth-handshake"
	frames := captures.MustLoad(t, path)
	auth, ok := findCaptureAuth(frames, 3)
	if !ok {
		t.Fatal("no digest exchange on conn 3")
	}
	stream := captures.Streams(frames)[captures.StreamKey{Conn: 3, Dir: "s2c"}]
	fr := NewFrameReader(bytes.NewReader(wireBytes(stream)))
	for i, f := range stream {
		if f.MAC != nil && stream[i-1].MAC == nil {
			fr.SetMACKey(DigestSessionKey(DigestHash("alice", "zeorealm", "wrong"), auth.Nonce))
		}
		_, err := fr.ReadFrame()
		if f.MAC == nil {
			if err != nil {
				t.Fatal(err)
			}
			continue
		}
		var fe *FrameError
		if !errors.Is(err, ErrMACMismatch) || !errors.As(err, &fe) || fe.Seq != 1 {
			t.Fatalf("first MAC'd frame with a wrong key: got %v, want ErrMACMismatch on frame 1", err)
		}
		return
	}
	t.Fatal("no MAC'd frame in the stream")
}

func hasMAC(stream []captures.Frame) bool {
	for _, f := range stream {
		if f.MAC != nil {
			return true
		}
	}
	return false
}
