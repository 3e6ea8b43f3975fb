package zrpc

import (
	"context"
	"encoding/binary"
	"errors"
	"testing"
	"testing/synctest"

	"github.com/gozeo/gozeo/pickle"
)

// fuzzFrames frames payloads for the fuzz seeds.
func fuzzFrames(payloads ...[]byte) []byte {
	var b []byte
	for _, p := range payloads {
		b = binary.BigEndian.AppendUint32(b, uint32(len(p)))
		b = append(b, p...)
	}
	return b
}

// FuzzConnIncoming feeds arbitrary bytes from the peer to a connection with
// a call in flight and a handler that answers calls: whatever arrives, the
// call ends (with its reply, a remote error or a disconnection), the
// connection ends when the peer goes away, and no goroutine is left behind.
func FuzzConnIncoming(f *testing.F) {
	enc := func(m *Message) []byte { return mustEncode(codecA, m) }
	f.Add(fuzzFrames(enc(&Message{ID: int64(1), Method: ReplyMethod, Args: pickle.None})))
	f.Add(fuzzFrames(
		enc(&Message{ID: int64(0), Flags: FlagAsync, Method: "invalidateTransaction", Args: pickle.Tuple{testTID, &pickle.List{testOID}}}),
		enc(&Message{ID: int64(9), Method: "ping", Args: pickle.Tuple{}}),
		enc(&Message{ID: int64(-1), Method: ReplyMethod, Args: pickle.None}),
		enc(&Message{ID: int64(1), Flags: FlagError, Method: ReplyMethod, Args: pickle.Tuple{"builtins.KeyError", pickle.Tuple{"x"}}}),
	))
	f.Add(fuzzFrames(enc(&Message{ID: int64(1), Method: ReplyMethod, Args: pickle.Tuple{posKeyError, pickle.None}})))
	f.Add(fuzzFrames([]byte("garbage")))
	f.Add([]byte("\x80\x00\x00\x02" + "01234567890123456789" + "A?"))
	f.Add([]byte("\x7f\xff\xff\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		synctest.Test(t, func(t *testing.T) {
			handler := func(c *Conn, m *Message) {
				if m.Flags&FlagAsync == 0 {
					_ = c.Reply(context.Background(), m.ID, m.Args)
				}
			}
			c, p := newPipeConn(t, ConnOptions{Handler: handler})
			r := goCall(context.Background(), c, CallOptions{}, "loadEx")
			go func() { // the peer reads whatever the connection sends
				for {
					if _, err := p.fr.ReadFrame(); err != nil {
						return
					}
				}
			}()
			_, _ = p.conn.Write(data)
			p.conn.Close()
			res := <-r
			var re *RemoteError
			if res.err != nil && !errors.Is(res.err, ErrDisconnected) && !errors.As(res.err, &re) {
				t.Errorf("call ended with %v", res.err)
			}
			<-c.Done()
			if err := c.Err(); !errors.Is(err, ErrDisconnected) {
				t.Errorf("Err after the peer left = %v", err)
			}
		})
	})
}
