package zrpc

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"hash"
	"io"
	"testing"
	"testing/synctest"

	"github.com/gozeo/gozeo/pickle"
)

// rawFrame is a frame as a peer sees it on the wire, read without the
// FrameReader so that the test checks the MAC flag and digest itself.
type rawFrame struct {
	signed  bool
	mac     []byte
	payload []byte
}

func readRawFrame(r io.Reader) (rawFrame, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return rawFrame{}, err
	}
	prefix := binary.BigEndian.Uint32(hdr[:])
	f := rawFrame{signed: prefix&MACBit != 0}
	if f.signed {
		f.mac = make([]byte, sha1.Size)
		if _, err := io.ReadFull(r, f.mac); err != nil {
			return rawFrame{}, err
		}
	}
	f.payload = make([]byte, prefix&^MACBit)
	_, err := io.ReadFull(r, f.payload)
	return f, err
}

// macStream computes the MACs of one direction of a session: HMAC-SHA1 over
// every payload since the key was installed (docs/protocol.md, MAC'd frames).
type macStream struct{ h hash.Hash }

func (s *macStream) next(payload []byte) []byte {
	s.h.Write(payload)
	return s.h.Sum(nil)
}

// The client side of digest authentication: the auth_response reply is
// the last unsigned frame each way; StartMAC, called from OnReply, signs
// everything queued after it and requires a MAC on the next frame read.
func TestConnStartMACOrdering(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		key := []byte("0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab")
		c, p := newPipeConn(t, ConnOptions{})
		onReply := func(m *Message) {
			// Queued before the switch: goes out unsigned.
			_ = c.Notify(context.Background(), "beforeKey")
			c.StartMAC(key)
			_ = c.Notify(context.Background(), "afterKey")
		}
		r := goCall(context.Background(), c, CallOptions{OnReply: onReply}, "auth_response", pickle.ByteString("response"))

		recv := func(wantMethod string, wantSigned bool, macs *macStream) {
			t.Helper()
			f, err := readRawFrame(p.conn)
			if err != nil {
				t.Fatal(err)
			}
			m, err := p.enc.DecodeMessage(f.payload)
			if err != nil {
				t.Fatal(err)
			}
			if m.Method != wantMethod || f.signed != wantSigned {
				t.Fatalf("got %s signed=%v, want %s signed=%v", m.Method, f.signed, wantMethod, wantSigned)
			}
			if wantSigned {
				if want := macs.next(f.payload); !bytes.Equal(f.mac, want) {
					t.Fatalf("%s: MAC %x, want %x", m.Method, f.mac, want)
				}
			}
		}
		clientMACs := &macStream{hmac.New(sha1.New, key)}
		serverMACs := &macStream{hmac.New(sha1.New, key)}

		f, err := readRawFrame(p.conn)
		if err != nil || f.signed {
			t.Fatalf("auth_response frame: signed=%v err=%v", f.signed, err)
		}
		call, err := p.enc.DecodeMessage(f.payload)
		if err != nil {
			t.Fatal(err)
		}
		p.mustReply(t, call, true) // unsigned, as the server sends it
		recv("beforeKey", false, nil)
		recv("afterKey", true, clientMACs)
		if res := <-r; res.err != nil || res.v != true {
			t.Fatalf("auth_response = %v, %v", res.v, res.err)
		}

		// Both directions are now signed.
		r = goCall(context.Background(), c, CallOptions{}, "lastTransaction")
		f, err = readRawFrame(p.conn)
		if err != nil || !f.signed {
			t.Fatalf("call after StartMAC: signed=%v err=%v", f.signed, err)
		}
		if want := clientMACs.next(f.payload); !bytes.Equal(f.mac, want) {
			t.Fatalf("MAC chain broken: %x, want %x", f.mac, want)
		}
		call, _ = p.enc.DecodeMessage(f.payload)
		payload := mustEncode(p.enc, &Message{ID: call.ID, Method: ReplyMethod, Args: pickle.ByteString("tid")})
		frame := binary.BigEndian.AppendUint32(nil, uint32(len(payload))|MACBit)
		frame = append(append(frame, serverMACs.next(payload)...), payload...)
		if _, err := p.conn.Write(frame); err != nil {
			t.Fatal(err)
		}
		if res := <-r; res.err != nil || pickle.Repr(res.v) != pickle.Repr(pickle.ByteString("tid")) {
			t.Fatalf("signed reply = %v, %v", res.v, res.err)
		}

		// An unsigned frame is now a protocol violation that ends the
		// connection.
		p.mustSend(t, &Message{ID: int64(0), Flags: FlagAsync, Method: "info", Args: pickle.Tuple{}})
		<-c.Done()
		if err := c.Err(); !errors.Is(err, ErrMACMissing) {
			t.Errorf("unsigned frame after StartMAC: Err = %v, want ErrMACMissing", err)
		}
	})
}
