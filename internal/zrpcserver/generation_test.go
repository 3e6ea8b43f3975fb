package zrpcserver

import (
	"errors"
	"slices"
	"strings"
	"testing"

	. "github.com/gozeo/gozeo/zrpc"
)

// The server generations of docs/protocol.md (Generations, Handshake):
// announcement and accept rules.
func TestAcceptVersion(t *testing.T) {
	cases := []struct {
		gen    Generation
		accept []Version
		refuse []Version
	}{
		{GenZ200, []Version{Z200}, []Version{Z201, Z303, Z5, ""}},
		// ZODB 3.2's string range test is literal: "Z2005" sorts inside.
		{GenZ201, []Version{Z200, Z201, "Z2005"}, []Version{"Z1", Z303, Z4, Z5, ""}},
		{GenZ303, []Version{Z200, Z201, Z303}, []Version{Z308, Z3101, Z4}},
		{GenZ308, []Version{Z200, Z201, Z303, Z308}, []Version{Z309, Z4, Z5}},
		{GenZ309, []Version{Z200, Z308, Z309}, []Version{Z310, Z3101}},
		{GenZ310, []Version{Z309, Z310}, []Version{Z3101, Z4}},
		// [live-3.10]: Z309, Z308, Z200 accepted; Z5 and Z4 closed.
		{GenZ3101, []Version{Z200, Z201, Z303, Z308, Z309, Z310, Z3101}, []Version{Z4, Z5, M5, "Z2005"}},
		{GenZ4, []Version{Z200, Z3101, Z4}, []Version{Z5, M5}},
		{GenZ50, []Version{Z5}, []Version{M5, Z4, "X5"}},
		// 5.1+ strips the letter: [live-5] Z5 to an M5 server and back work.
		{GenZ51, []Version{Z5, M5, "X5"}, []Version{Z4, Z3101, "Z55", "5", "", "Z"}},
		{GenM51, []Version{Z5, M5, "X5"}, []Version{Z4, "M4", "M"}},
	}
	for _, c := range cases {
		for _, v := range c.accept {
			if got, err := AcceptVersion(c.gen, v); err != nil || got != v {
				t.Errorf("%s: AcceptVersion(%q) = %q, %v; want accepted", c.gen, v, got, err)
			}
		}
		for _, v := range c.refuse {
			_, err := AcceptVersion(c.gen, v)
			var ne *NegotiationError
			if !errors.Is(err, ErrProtocolMismatch) || !errors.As(err, &ne) || ne.Client != v || ne.Server != Announce(c.gen) {
				t.Errorf("%s: AcceptVersion(%q) = %v; want a mismatch naming both versions", c.gen, v, err)
			}
		}
	}
	if _, err := AcceptVersion(0, Z5); !errors.Is(err, ErrProtocolMismatch) {
		t.Errorf("invalid generation: %v", err)
	}
}

func TestAcceptVersionMessage(t *testing.T) {
	_, err := AcceptVersion(GenZ3101, "\x00\x01garbage")
	want := `a ZODB 3.10.0b5 – 3.10.7, ZEO 4.0 – 4.1 server announcing Z3101 accepts [Z200 Z201 Z303 Z308 Z309 Z310 Z3101], not '\x00\x01garbage'`
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v\nwant it to contain %s", err, want)
	}
	_, err = AcceptVersion(GenZ51, Z4)
	if err == nil || !strings.Contains(err.Error(), "accepts any letter followed by 5, not Z4") {
		t.Fatalf("got %v", err)
	}
}

func TestGenerationTable(t *testing.T) {
	announce := map[Generation]Version{GenZ200: Z200, GenZ201: Z201, GenZ303: Z303, GenZ308: Z308, GenZ309: Z309,
		GenZ310: Z310, GenZ3101: Z3101, GenZ4: Z4, GenZ50: Z5, GenZ51: Z5, GenM51: M5}
	gens := Generations()
	if len(gens) != len(announce) {
		t.Fatalf("%d generations, want %d", len(gens), len(announce))
	}
	for _, g := range gens {
		if Announce(g) != announce[g] {
			t.Errorf("%s announces %s, want %s", g, Announce(g), announce[g])
		}
		if !Accepts(g, Announce(g)) || g.String() == "" {
			t.Errorf("%s does not accept its own version", g)
		}
	}
	lists := []struct {
		gen             Generation
		clients, server []Version
	}{
		{GenZ200, []Version{Z200}, []Version{Z200}},
		{GenZ201, []Version{Z200, Z201}, []Version{Z200, Z201}},
		{GenZ303, []Version{Z200, Z201, Z303}, []Version{Z303}},
		{GenZ308, []Version{Z200, Z201, Z303, Z308}, []Version{Z308}},
		{GenZ309, []Version{Z200, Z201, Z303, Z308, Z309}, []Version{Z308, Z309}},
		{GenZ310, []Version{Z200, Z201, Z303, Z308, Z309, Z310}, []Version{Z308, Z309, Z310}},
		{GenZ3101, []Version{Z200, Z201, Z303, Z308, Z309, Z310, Z3101}, []Version{Z308, Z309, Z310, Z3101}},
		{GenZ4, []Version{Z200, Z201, Z303, Z308, Z309, Z310, Z3101, Z4}, []Version{Z308, Z309, Z310, Z3101, Z4}},
		{GenZ50, []Version{Z5}, []Version{Z309, Z310, Z3101, Z4, Z5}},
		{GenZ51, []Version{Z5, M5}, []Version{Z5, M5}},
		{GenM51, []Version{Z5, M5}, []Version{Z5, M5}},
	}
	for _, l := range lists {
		if got := ClientsWeCanTalkTo(l.gen); !slices.Equal(got, l.clients) {
			t.Errorf("%s clients_we_can_talk_to = %v, want %v", l.gen, got, l.clients)
		}
		if got := ServersWeCanTalkTo(l.gen); !slices.Equal(got, l.server) {
			t.Errorf("%s servers_we_can_talk_to = %v, want %v", l.gen, got, l.server)
		}
	}
	ruok := []Generation{GenZ4, GenZ50, GenZ51, GenM51}
	for _, g := range gens {
		if Ruok(g) != slices.Contains(ruok, g) {
			t.Errorf("%s Ruok = %v", g, Ruok(g))
		}
	}
}

// Who can talk to whom among the reference releases, using each release's
// own client rules against each release's server rules, checked against
// the facts of docs/protocol.md, Handshake.
func TestGenerationInterop(t *testing.T) {
	works := func(client, server Generation) (Version, bool) {
		reply, err := ClientReply(client, Announce(server))
		if err != nil {
			if !errors.Is(err, ErrProtocolMismatch) {
				t.Fatalf("ClientReply error %v is not a mismatch", err)
			}
			return "", false
		}
		return reply, Accepts(server, reply)
	}
	cases := []struct {
		client, server Generation
		reply          Version // "" = no connection
	}{
		{GenZ3101, GenZ308, Z308},   // a 3.10 client on a 3.8 server
		{GenZ308, GenZ3101, Z308},   // and the reverse
		{GenZ4, GenZ51, ""},         // a ZEO 4 client cannot use a ZEO 5 server
		{GenZ51, GenZ4, ""},         // ZEO 5.4+ dropped ZEO 4 servers
		{GenZ50, GenZ4, Z4},         // ZEO 5.0 clients still could
		{GenZ51, GenM51, M5},        // 5.1+ client keeps the server's letter
		{GenZ50, GenM51, ""},        // 5.0 clients know no M5
		{GenZ200, GenZ201, ""},      // a ZEO 2.0 client wants exactly Z200
		{GenZ201, GenZ200, Z200},    // 3.2 client on a 2.0 server
		{GenZ201, GenZ3101, Z201},   // 3.2 client on a 3.10 server
		{GenZ303, GenZ308, Z303},    // 3.3.1–3.7 clients reply Z303, which 3.8 takes
		{GenZ303, GenZ201, ""},      // but settle on nothing below Z303
		{GenZ309, GenZ308, Z308},    // 3.9 clients use 3.8 servers
		{GenZ3101, GenZ3101, Z3101}, // captured
	}
	for _, c := range cases {
		reply, ok := works(c.client, c.server)
		if ok != (c.reply != "") || (ok && reply != c.reply) {
			t.Errorf("%s client on %s server: reply %q, works=%v; want %q", c.client, c.server, reply, ok, c.reply)
		}
	}
	// Every release talks to its own server.
	for _, g := range Generations() {
		if _, ok := works(g, g); !ok {
			t.Errorf("%s cannot talk to itself", g)
		}
	}
}
