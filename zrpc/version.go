package zrpc

import (
	"slices"
	"strings"

	"github.com/gozeo/gozeo/pickle"
)

// Version is a ZEO protocol version string, the raw first frame each side
// sends (PROTOCOL.md §1, §3). Versions compare as byte strings, which is
// how every ZEO release compares them: Z200 < Z201 < Z303 < Z308 < Z309 <
// Z310 < Z3101 < Z4 < Z5 (Z310 sorts before Z3101 as its prefix).
type Version string

// The protocol versions ZEO servers have announced or accepted.
const (
	Z200  Version = "Z200"  // ZODB 3.1 / ZEO 2.0
	Z201  Version = "Z201"  // ZODB 3.2 and 3.3.0 (3.3.0 has MVCC but kept the number)
	Z303  Version = "Z303"  // ZODB 3.3.1 – 3.7
	Z308  Version = "Z308"  // ZODB 3.8: blobs
	Z309  Version = "Z309"  // ZODB 3.9: versions removed
	Z310  Version = "Z310"  // ZODB 3.10.0a1 – b4
	Z3101 Version = "Z3101" // ZODB 3.10.0b5 – 3.10.7, ZEO 4.0 – 4.1
	Z4    Version = "Z4"    // ZEO 4.2 – 4.3
	Z5    Version = "Z5"    // ZEO 5.x / 6.x, pickle encoding
	M5    Version = "M5"    // ZEO 5.1+ / 6.x, msgpack encoding
)

// knownVersions lists every version this package speaks, in protocol
// order (M5 is Z5 with the other encoding).
var knownVersions = [...]Version{Z200, Z201, Z303, Z308, Z309, Z310, Z3101, Z4, Z5, M5}

// KnownVersions returns every version this package speaks, oldest first.
// It is the allowed set Negotiate uses when given none.
func KnownVersions() []Version { return slices.Clone(knownVersions[:]) }

// String returns v as it travels on the wire.
func (v Version) String() string { return string(v) }

// Known reports whether v is one of the versions this package speaks.
func (v Version) Known() bool { return v.rank() >= 0 && (!v.IsZEO5() || v == Z5 || v == M5) }

// IsZEO5 reports whether v has the ZEO 5 shape: one encoding letter
// followed by "5".
func (v Version) IsZEO5() bool { return len(v) == 2 && v[1] == '5' }

// rank orders versions by protocol generation: its index in knownVersions,
// with every ZEO 5 letter ranking as Z5; -1 for unknown strings.
func (v Version) rank() int {
	if v.IsZEO5() {
		return 8
	}
	for i, k := range knownVersions[:8] {
		if v == k {
			return i
		}
	}
	return -1
}

// Generation identifies a server release line by its handshake behaviour:
// what it announces and which client replies it accepts (PROTOCOL.md §1,
// §3). The test server uses it to act as a given release.
type Generation uint8

// Server generations, oldest first.
const (
	GenZ200  Generation = iota + 1 // ZODB 3.1 / ZEO 2.0: both sides send Z200; exactly Z200 accepted
	GenZ201                        // ZODB 3.2 – 3.3.0: announces Z201, accepts "Z200" <= reply <= "Z201"
	GenZ303                        // ZODB 3.3.1 – 3.7: announces Z303
	GenZ308                        // ZODB 3.8: announces Z308
	GenZ309                        // ZODB 3.9: announces Z309
	GenZ310                        // ZODB 3.10.0a1 – b4: announces Z310
	GenZ3101                       // ZODB 3.10.0b5 – 3.10.7, ZEO 4.0 – 4.1: announces Z3101
	GenZ4                          // ZEO 4.2 – 4.3: announces Z4
	GenZ50                         // ZEO 5.0: announces Z5, accepts exactly Z5
	GenZ51                         // ZEO 5.1+ and 6.x, pickle: announces Z5, accepts any letter + "5"
	GenM51                         // ZEO 5.1+ and 6.x with msgpack on: announces M5, accepts any letter + "5"
)

// versionRule is one side's acceptance rule for the other side's version.
type versionRule struct {
	list   []Version // explicit list (3.3.1 – 5.0)
	lo, hi Version   // inclusive byte-string range (ZODB 3.2), when lo != ""
	digits []string  // ZEO 5.1+: the first byte is ignored, the rest must be one of these
}

func (r versionRule) allows(v Version) bool {
	switch {
	case r.digits != nil:
		if len(v) < 1 {
			return false
		}
		for _, d := range r.digits {
			if string(v[1:]) == d {
				return true
			}
		}
		return false
	case r.lo != "":
		return r.lo <= v && v <= r.hi
	default:
		for _, x := range r.list {
			if v == x {
				return true
			}
		}
		return false
	}
}

// String describes the rule for error messages.
func (r versionRule) String() string {
	switch {
	case r.digits != nil:
		return "any letter followed by " + strings.Join(r.digits, " or ")
	case r.lo != "":
		return "any string from " + showVersion(r.lo) + " to " + showVersion(r.hi)
	default:
		return showVersions(r.list)
	}
}

// generationInfo is one row of the generation table.
type generationInfo struct {
	release  string
	announce Version
	// accept is clients_we_can_talk_to: what this release's server takes
	// as the client's reply.
	accept versionRule
	// talkTo is servers_we_can_talk_to: what this release's own client
	// accepts; see ClientReply for how it is applied.
	talkTo versionRule
	// ruok: the server answers a "ruok" status probe instead of a version.
	ruok bool
}

var preZEO5 = []Version{Z200, Z201, Z303, Z308, Z309, Z310, Z3101, Z4}

// generations is the table of PROTOCOL.md §1 and §3.3–3.4, indexed by
// Generation.
var generations = [...]generationInfo{
	GenZ200: {release: "ZODB 3.1 / ZEO 2.0", announce: Z200,
		accept: versionRule{list: []Version{Z200}}, talkTo: versionRule{list: []Version{Z200}}},
	GenZ201: {release: "ZODB 3.2 – 3.3.0", announce: Z201,
		accept: versionRule{lo: Z200, hi: Z201}, talkTo: versionRule{lo: Z200, hi: Z201}},
	GenZ303: {release: "ZODB 3.3.1 – 3.7", announce: Z303,
		accept: versionRule{list: preZEO5[:3]}, talkTo: versionRule{list: []Version{Z303}}},
	GenZ308: {release: "ZODB 3.8", announce: Z308,
		accept: versionRule{list: preZEO5[:4]}, talkTo: versionRule{list: []Version{Z308}}},
	GenZ309: {release: "ZODB 3.9", announce: Z309,
		accept: versionRule{list: preZEO5[:5]}, talkTo: versionRule{list: preZEO5[3:5]}},
	GenZ310: {release: "ZODB 3.10.0a1 – 3.10.0b4", announce: Z310,
		accept: versionRule{list: preZEO5[:6]}, talkTo: versionRule{list: preZEO5[3:6]}},
	GenZ3101: {release: "ZODB 3.10.0b5 – 3.10.7, ZEO 4.0 – 4.1", announce: Z3101,
		accept: versionRule{list: preZEO5[:7]}, talkTo: versionRule{list: preZEO5[3:7]}},
	GenZ4: {release: "ZEO 4.2 – 4.3", announce: Z4,
		accept: versionRule{list: preZEO5[:8]}, talkTo: versionRule{list: preZEO5[3:8]}, ruok: true},
	GenZ50: {release: "ZEO 5.0", announce: Z5,
		accept: versionRule{list: []Version{Z5}}, talkTo: versionRule{list: []Version{Z309, Z310, Z3101, Z4, Z5}}, ruok: true},
	// The 5.1+ client rule is that of 5.4+; 5.1 – 5.3 clients also took
	// the digits 309, 310, 3101 and 4 (ZEO 4 servers).
	GenZ51: {release: "ZEO 5.1+ / 6.x (pickle)", announce: Z5,
		accept: versionRule{digits: []string{"5"}}, talkTo: versionRule{digits: []string{"5"}}, ruok: true},
	GenM51: {release: "ZEO 5.1+ / 6.x (msgpack)", announce: M5,
		accept: versionRule{digits: []string{"5"}}, talkTo: versionRule{digits: []string{"5"}}, ruok: true},
}

// Generations returns every server generation, oldest first.
func Generations() []Generation {
	gs := make([]Generation, 0, len(generations)-1)
	for g := GenZ200; int(g) < len(generations); g++ {
		gs = append(gs, g)
	}
	return gs
}

func (g Generation) valid() bool { return g >= GenZ200 && int(g) < len(generations) }

func (g Generation) info() generationInfo {
	if !g.valid() {
		return generationInfo{release: "unknown generation"}
	}
	return generations[g]
}

// String names the releases of the generation.
func (g Generation) String() string { return g.info().release }

// Announce returns the version the server of this generation sends first.
func (g Generation) Announce() Version { return g.info().announce }

// Accepts reports whether this generation's server accepts reply as the
// client's version (clients_we_can_talk_to, or its rule).
func (g Generation) Accepts(reply Version) bool { return g.valid() && g.info().accept.allows(reply) }

// Ruok reports whether this generation's server answers the "ruok" status
// probe (ZEO 4.1+; 4.0 and 4.1 share GenZ3101, which says no).
func (g Generation) Ruok() bool { return g.info().ruok }

// ClientsWeCanTalkTo returns the known versions this generation's server
// accepts from clients. For the rule-based generations (a string range
// in ZODB 3.2, any letter + "5" in ZEO 5.1+) the rule admits more strings
// than the known versions listed.
func (g Generation) ClientsWeCanTalkTo() []Version { return filterKnown(g.info().accept) }

// ServersWeCanTalkTo returns the known versions that this generation's own
// client would settle on with a server (see ClientReply).
func (g Generation) ServersWeCanTalkTo() []Version { return filterKnown(g.info().talkTo) }

func filterKnown(r versionRule) []Version {
	var vs []Version
	for _, v := range knownVersions {
		if r.allows(v) {
			vs = append(vs, v)
		}
	}
	return vs
}

// ClientReply returns what this generation's reference client answers to
// a server announcing server, or a *NegotiationError where it would drop
// the connection. It models the peers a Go server may meet: a ZEO 2.0
// client sends Z200 and wants Z200 back; ZODB 3.2 – ZEO 5.0 clients reply
// min(server, own version) if their list (or range) allows it; ZEO 5.1+
// clients keep the server's letter and take the min of the digits.
func (g Generation) ClientReply(server Version) (Version, error) {
	in := g.info()
	if !g.valid() {
		return "", &NegotiationError{Server: server, Reason: "unknown client generation"}
	}
	var reply Version
	switch {
	case g == GenZ200:
		// Sends its version at once and checks the server's string itself.
		reply = Z200
		if !in.talkTo.allows(server) {
			return "", &NegotiationError{Server: server, Client: reply,
				Reason: "a " + in.release + " client accepts only a server announcing " + in.talkTo.String()}
		}
		return reply, nil
	case in.talkTo.digits != nil:
		if len(server) < 1 {
			return "", &NegotiationError{Server: server, Reason: "empty server version"}
		}
		reply = server[:1] + min(server[1:], in.announce[1:])
	default:
		reply = min(server, in.announce)
	}
	if !in.talkTo.allows(reply) {
		return "", &NegotiationError{Server: server, Client: reply,
			Reason: "a " + in.release + " client settles on " + showVersion(reply) + " with that server, outside what it speaks (" + in.talkTo.String() + ")"}
	}
	return reply, nil
}

// AcceptVersion applies the acceptance rule of server generation g to the
// client's reply: Z200 exact, the ZODB 3.2 string range, the explicit
// lists of 3.3.1 – 5.0, or ZEO 5.1+'s "any letter followed by 5" (the
// letter then picks the encoding: M for msgpack, anything else pickle).
// It returns the version the connection speaks, which is the reply, or a
// *NegotiationError matching ErrProtocolMismatch.
func AcceptVersion(g Generation, reply Version) (Version, error) {
	if !g.valid() {
		return "", &NegotiationError{Client: reply, Reason: "unknown server generation"}
	}
	in := g.info()
	if !in.accept.allows(reply) {
		return "", &NegotiationError{Server: in.announce, Client: reply, Allowed: g.ClientsWeCanTalkTo(),
			Reason: "a " + in.release + " server announcing " + showVersion(in.announce) + " accepts " + in.accept.String() + ", not " + showVersion(reply)}
	}
	return reply, nil
}

// reprVersion shows a version as Python would show the bytes, so that
// garbage in a handshake is visible as such.
func reprVersion(v Version) string {
	const max = 64
	if len(v) > max {
		return pickle.ReprBytes([]byte(v[:max])) + "…"
	}
	return pickle.ReprBytes([]byte(v))
}
