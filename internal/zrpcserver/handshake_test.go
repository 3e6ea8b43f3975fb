package zrpcserver

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gozeo/gozeo/internal/captures"
	"github.com/gozeo/gozeo/internal/nettest"

	. "github.com/gozeo/gozeo/zrpc"
)

// handshakePair runs ServerHandshake as gen and ClientHandshake with
// allowed over a loopback TCP connection.
func handshakePair(t *testing.T, gen Generation, allowed []Version) (Negotiation, error, Version, error) {
	t.Helper()
	client, server := tcpPair(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var sv Version
	var serr error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		sv, serr = Handshake(ctx, server, NewFrameReader(server), NewFrameWriter(server), gen, Announce(gen))
		if serr != nil {
			server.Close() // as real servers do
		}
	}()
	n, cerr := ClientHandshake(ctx, NewFrameReader(client), NewFrameWriter(client), allowed)
	if cerr != nil {
		client.Close()
	}
	wg.Wait()
	return n, cerr, sv, serr
}

// Our client and our server agree on the server's version for every
// generation.
func TestHandshakeEveryGeneration(t *testing.T) {
	for _, g := range Generations() {
		n, cerr, sv, serr := handshakePair(t, g, nil)
		if cerr != nil || serr != nil {
			t.Errorf("%s: client %v, server %v", g, cerr, serr)
			continue
		}
		if n.Chosen != Announce(g) || sv != n.Chosen || n.Server != Announce(g) {
			t.Errorf("%s: client chose %s, server accepted %s", g, n.Chosen, sv)
		}
	}
}

// A restricted client against a server that cannot meet it: the client
// refuses before replying; the server sees the connection close.
func TestHandshakeMismatch(t *testing.T) {
	_, cerr, _, serr := handshakePair(t, GenZ4, []Version{Z5, M5})
	var ne *NegotiationError
	if !errors.As(cerr, &ne) || ne.Server != Z4 {
		t.Fatalf("client: got %v, want a NegotiationError for Z4", cerr)
	}
	var he *HandshakeError
	if !errors.As(serr, &he) || !errors.Is(serr, io.EOF) || !strings.Contains(serr.Error(), "client disconnected before sending its protocol version") {
		t.Fatalf("server: got %v", serr)
	}
}

// A client-side mismatch reaches a server that refuses: M5 to ZEO 5.0.
func TestHandshakeServerRefuses(t *testing.T) {
	client, server := tcpPair(t)
	go func() {
		fr, fw := NewFrameReader(client), NewFrameWriter(client)
		fr.ReadFrame()
		fw.WriteFrame([]byte("M5"))
		fw.Flush()
	}()
	_, err := Handshake(context.Background(), server, NewFrameReader(server), NewFrameWriter(server), GenZ50, Announce(GenZ50))
	if !errors.Is(err, ErrProtocolMismatch) || !strings.Contains(err.Error(), "ZEO 5.0 server announcing Z5 accepts [Z5], not M5") {
		t.Fatalf("got %v", err)
	}
}

func TestServerHandshakeRuok(t *testing.T) {
	for _, c := range []struct {
		gen  Generation
		ruok bool
	}{{GenZ4, true}, {GenZ51, true}, {GenZ3101, false}} {
		client, server := tcpPair(t)
		go func() {
			fw := NewFrameWriter(client)
			fw.WriteFrame([]byte("ruok"))
			fw.Flush()
		}()
		_, err := Handshake(context.Background(), server, NewFrameReader(server), NewFrameWriter(server), c.gen, Announce(c.gen))
		if c.ruok && !errors.Is(err, ErrRuok) {
			t.Errorf("%s: got %v, want ErrRuok", c.gen, err)
		}
		if !c.ruok && !errors.Is(err, ErrProtocolMismatch) {
			t.Errorf("%s: got %v, want a mismatch ('ruok' is not a version there)", c.gen, err)
		}
	}
}

// With the default allowed set, the reply to every server generation is
// one that generation accepts, and it is the server's own version
// (docs/protocol.md, Handshake).
func TestNegotiateDefaultSuitsEveryGeneration(t *testing.T) {
	for _, g := range Generations() {
		n, err := Negotiate(Announce(g), nil)
		if err != nil {
			t.Errorf("%s: %v", g, err)
			continue
		}
		if !Accepts(g, n.Chosen) || n.Chosen != Announce(g) {
			t.Errorf("%s: replied %s", g, n.Chosen)
		}
	}
}

// Against the captured sessions: our reply to each real server is the one
// the real client gave, and the server's rules accept it.
func TestNegotiateMatchesCaptures(t *testing.T) {
	gens := map[Version]Generation{Z3101: GenZ3101, Z308: GenZ308, Z5: GenZ51, M5: GenM51}
	for _, path := range captures.Names() {
		streams := captures.Streams(captures.MustLoad(t, path))
		for k, s2c := range streams {
			c2s, ok := streams[captures.StreamKey{Conn: k.Conn, Dir: "c2s"}]
			if k.Dir != "s2c" || !ok {
				continue
			}
			server, client := Version(s2c[0].Payload), Version(c2s[0].Payload)
			n, err := Negotiate(server, nil)
			if err != nil || n.Chosen != client {
				t.Errorf("%s conn %d: Negotiate(%s) = %+v, %v; the real client replied %s", filepath.Base(path), k.Conn, server, n, err, client)
			}
			if v, err := AcceptVersion(gens[server], client); err != nil || v != client {
				t.Errorf("%s conn %d: AcceptVersion(%s) = %s, %v", filepath.Base(path), k.Conn, client, v, err)
			}
		}
	}
}

// tcpPair is a loopback TCP connection's two ends.
func tcpPair(t *testing.T) (client, server net.Conn) { return nettest.TCPPair(t) }
