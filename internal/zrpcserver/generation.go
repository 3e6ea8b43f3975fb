package zrpcserver

import (
	"github.com/gozeo/gozeo/internal/releases"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zrpc"
)

// Generation identifies a server release line by its handshake behaviour:
// what it announces and which client replies it accepts. The test server
// uses it to act as a given release.
type Generation = releases.Generation

// Server generations, oldest first.
const (
	GenZ200  = releases.Z200  // ZODB 3.1 / ZEO 2.0
	GenZ201  = releases.Z201  // ZODB 3.2 – 3.3.0
	GenZ303  = releases.Z303  // ZODB 3.3.1 – 3.7
	GenZ308  = releases.Z308  // ZODB 3.8
	GenZ309  = releases.Z309  // ZODB 3.9
	GenZ310  = releases.Z310  // ZODB 3.10.0a1 – b4
	GenZ3101 = releases.Z3101 // ZODB 3.10.0b5 – 3.10.7, ZEO 4.0 – 4.1
	GenZ4    = releases.Z4    // ZEO 4.2 – 4.3
	GenZ50   = releases.Z50   // ZEO 5.0
	GenZ51   = releases.Z51   // ZEO 5.1+ / 6.x, pickle
	GenM51   = releases.M51   // ZEO 5.1+ / 6.x, msgpack
)

// Generations returns every server generation, oldest first.
func Generations() []Generation { return releases.All() }

// Announce returns the version the server of generation g sends first.
func Announce(g Generation) zrpc.Version { return zrpc.Version(g.Row().Announce) }

// Accepts reports whether g's server accepts reply as the client's version
// (clients_we_can_talk_to, or its rule).
func Accepts(g Generation, reply zrpc.Version) bool {
	return g.Valid() && g.Row().Accept.Allows(string(reply))
}

// Ruok reports whether g's server answers the "ruok" status probe (ZEO
// 4.1+; 4.0 and 4.1 share GenZ3101, which says no).
func Ruok(g Generation) bool { return g.Row().Ruok }

// ClientsWeCanTalkTo returns the known versions g's server accepts from
// clients. For the rule-based generations (a string range in ZODB 3.2, any
// letter + "5" in ZEO 5.1+) the rule admits more strings than the known
// versions listed.
func ClientsWeCanTalkTo(g Generation) []zrpc.Version { return filterKnown(g.Row().Accept) }

// ServersWeCanTalkTo returns the known versions that g's own client would
// settle on with a server (see ClientReply).
func ServersWeCanTalkTo(g Generation) []zrpc.Version { return filterKnown(g.Row().TalkTo) }

func filterKnown(r releases.Rule) []zrpc.Version {
	var vs []zrpc.Version
	for _, v := range zrpc.KnownVersions() {
		if r.Allows(string(v)) {
			vs = append(vs, v)
		}
	}
	return vs
}

// ClientReply returns what g's reference client answers to a server
// announcing server, or a *zrpc.NegotiationError where it would drop the
// connection. It models the peers a Go server may meet: a ZEO 2.0 client
// sends Z200 and wants Z200 back; ZODB 3.2 – ZEO 5.0 clients reply
// min(server, own version) if their list (or range) allows it; ZEO 5.1+
// clients keep the server's letter and take the min of the digits.
func ClientReply(g Generation, server zrpc.Version) (zrpc.Version, error) {
	if !g.Valid() {
		return "", &zrpc.NegotiationError{Server: server, Reason: "unknown client generation"}
	}
	in := g.Row()
	announce := zrpc.Version(in.Announce)
	var reply zrpc.Version
	switch {
	case g == GenZ200:
		// Sends its version at once and checks the server's string itself.
		reply = zrpc.Z200
		if !in.TalkTo.Allows(string(server)) {
			return "", &zrpc.NegotiationError{Server: server, Client: reply,
				Reason: "a " + in.Release + " client accepts only a server announcing " + in.TalkTo.Describe(show)}
		}
		return reply, nil
	case in.TalkTo.Digits != nil:
		if len(server) < 1 {
			return "", &zrpc.NegotiationError{Server: server, Reason: "empty server version"}
		}
		reply = server[:1] + min(server[1:], announce[1:])
	default:
		reply = min(server, announce)
	}
	if !in.TalkTo.Allows(string(reply)) {
		return "", &zrpc.NegotiationError{Server: server, Client: reply,
			Reason: "a " + in.Release + " client settles on " + show(string(reply)) + " with that server, outside what it speaks (" + in.TalkTo.Describe(show) + ")"}
	}
	return reply, nil
}

// AcceptVersion applies the acceptance rule of server generation g to the
// client's reply: Z200 exact, the ZODB 3.2 string range, the explicit
// lists of 3.3.1 – 5.0, or ZEO 5.1+'s "any letter followed by 5" (the
// letter then picks the encoding: M for msgpack, anything else pickle).
// It returns the version the connection speaks, which is the reply, or a
// *zrpc.NegotiationError matching zrpc.ErrProtocolMismatch.
func AcceptVersion(g Generation, reply zrpc.Version) (zrpc.Version, error) {
	if !g.Valid() {
		return "", &zrpc.NegotiationError{Client: reply, Reason: "unknown server generation"}
	}
	in := g.Row()
	if !in.Accept.Allows(string(reply)) {
		return "", &zrpc.NegotiationError{Server: zrpc.Version(in.Announce), Client: reply, Allowed: ClientsWeCanTalkTo(g),
			Reason: "a " + in.Release + " server announcing " + show(in.Announce) + " accepts " + in.Accept.Describe(show) + ", not " + show(string(reply))}
	}
	return reply, nil
}

// show prints known versions bare and anything else as Python would show
// the bytes, so that garbage in a handshake is visible as such.
func show(v string) string {
	if zrpc.Version(v).Known() {
		return v
	}
	const max = 64
	if len(v) > max {
		return pickle.ReprBytes([]byte(v[:max])) + "…"
	}
	return pickle.ReprBytes([]byte(v))
}
