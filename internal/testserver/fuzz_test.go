package testserver

import (
	"net"
	"testing"
	"time"

	"github.com/gozeo/gozeo/internal/captures"
	"github.com/gozeo/gozeo/internal/zrpcserver"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zrpc"
)

// probeID is the msgid of the call FuzzServerMessage sends after the fuzzed
// frame.
const probeID = 987654

// FuzzServerMessage sends one arbitrary frame after a good handshake to
// every profile: whatever the bytes, the server answers, ignores or drops
// the client, and never panics or hangs: a probe call sent after the frame
// is answered or the connection is closed. Seeds are the client frames of
// the real-server captures.
func FuzzServerMessage(f *testing.F) {
	for _, name := range captures.Names() {
		for _, fr := range captures.MustLoad(f, name) {
			if fr.Dir == "c2s" && len(fr.Payload) > 5 {
				f.Add(fr.Payload)
			}
		}
	}
	f.Add([]byte("\x94\x01\xc2\xa8register\x92\xa11\xc2"))
	f.Add([]byte("\x80\x03(K\x01\x88X\x05\x00\x00\x00storeC\x01x\x85t."))

	servers := make([]*Server, 0, len(profiles))
	for _, p := range profiles {
		srv, err := New(Options{Profile: p.Name})
		if err != nil {
			f.Fatal(err)
		}
		f.Cleanup(func() { srv.Close() })
		servers = append(servers, srv)
	}
	f.Fuzz(func(t *testing.T, payload []byte) {
		for _, srv := range servers {
			fuzzOne(t, srv, payload)
		}
	})
}

func fuzzOne(t *testing.T, srv *Server, payload []byte) {
	a, b := net.Pipe()
	defer b.Close()
	srv.conns.Add(1)
	go func() {
		defer srv.conns.Done()
		srv.serveConn(a)
	}()
	b.SetDeadline(time.Now().Add(waitTimeout))
	fr, fw := zrpc.NewFrameReader(b), zrpc.NewFrameWriter(b)
	raw, err := fr.ReadFrame()
	if err != nil {
		t.Fatalf("%s: no announcement: %v", srv.prof.Name, err)
	}
	v := zrpc.Version(raw)
	// The probe: answered before register on every generation (ZEO 5
	// answers register; a second register drops the client).
	probe := &zrpc.Message{ID: int64(probeID), Method: "getAuthProtocol", Args: pickle.Tuple{}}
	if v.IsZEO5() {
		probe = &zrpc.Message{ID: int64(probeID), Method: "register", Args: pickle.Tuple{"1", true}}
	}
	p, err := zrpc.EncodingFor(v, srv.prof.dialect(), zrpc.ClientSide).AppendMessage(nil, probe)
	if err != nil {
		t.Fatal(err)
	}
	// Writes may fail once the server has dropped us: that is an answer.
	go func() {
		fw.WriteFrame(raw)
		fw.WriteFrame(payload)
		fw.WriteFrame(p)
		fw.Flush()
	}()
	enc := zrpcserver.ServerEncoding(srv.prof.Generation, v, srv.prof.dialect())
	for {
		frame, err := fr.ReadFrame()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatalf("%s: neither an answer to the probe nor a close after %s", srv.prof.Name, pickle.ReprBytes(payload))
			}
			return // dropped
		}
		if m, err := enc.DecodeMessage(frame); err == nil && m.IsReply() {
			if id, ok := pickle.AsInt(m.ID); ok && id == probeID {
				return
			}
		}
	}
}
