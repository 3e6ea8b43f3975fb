// Package releases is the table of ZEO server release lines: for each, the
// protocol version its server announces, the client replies it accepts,
// what its own client settles on, and whether it answers the "ruok" probe
// (docs/protocol.md, Handshake). It is the one copy of that table, with
// two faces: zrpc's Negotiate reads it to choose a client's reply, and
// internal/zrpcserver reads it to act as a given release. Versions are
// plain strings here so that this package sits below zrpc.
package releases

import "strings"

// Generation identifies a server release line by its handshake behaviour.
type Generation uint8

// Server generations, oldest first.
const (
	Z200  Generation = iota + 1 // ZODB 3.1 / ZEO 2.0: both sides send Z200; exactly Z200 accepted
	Z201                        // ZODB 3.2 – 3.3.0: announces Z201, accepts "Z200" <= reply <= "Z201"
	Z303                        // ZODB 3.3.1 – 3.7: announces Z303
	Z308                        // ZODB 3.8: announces Z308
	Z309                        // ZODB 3.9: announces Z309
	Z310                        // ZODB 3.10.0a1 – b4: announces Z310
	Z3101                       // ZODB 3.10.0b5 – 3.10.7, ZEO 4.0 – 4.1: announces Z3101
	Z4                          // ZEO 4.2 – 4.3: announces Z4
	Z50                         // ZEO 5.0: announces Z5, accepts exactly Z5
	Z51                         // ZEO 5.1+ and 6.x, pickle: announces Z5, accepts any letter + "5"
	M51                         // ZEO 5.1+ and 6.x with msgpack on: announces M5, accepts any letter + "5"
)

// Rule is one side's acceptance rule for the other side's version.
type Rule struct {
	List   []string // explicit list (3.3.1 – 5.0)
	Lo, Hi string   // inclusive byte-string range (ZODB 3.2), when Lo != ""
	Digits []string // ZEO 5.1+: the first byte is ignored, the rest must be one of these
}

// Allows reports whether the rule admits version v.
func (r Rule) Allows(v string) bool {
	switch {
	case r.Digits != nil:
		if len(v) < 1 {
			return false
		}
		for _, d := range r.Digits {
			if v[1:] == d {
				return true
			}
		}
		return false
	case r.Lo != "":
		return r.Lo <= v && v <= r.Hi
	default:
		for _, x := range r.List {
			if v == x {
				return true
			}
		}
		return false
	}
}

// Describe says what the rule admits, showing versions with show.
func (r Rule) Describe(show func(string) string) string {
	switch {
	case r.Digits != nil:
		return "any letter followed by " + strings.Join(r.Digits, " or ")
	case r.Lo != "":
		return "any string from " + show(r.Lo) + " to " + show(r.Hi)
	default:
		parts := make([]string, len(r.List))
		for i, v := range r.List {
			parts[i] = show(v)
		}
		return "[" + strings.Join(parts, " ") + "]"
	}
}

// Row is one release line.
type Row struct {
	// Release names the releases, e.g. "ZODB 3.8".
	Release string
	// Announce is the version the server sends first.
	Announce string
	// Accept is clients_we_can_talk_to: what the server takes as the
	// client's reply.
	Accept Rule
	// TalkTo is servers_we_can_talk_to: what the release's own client
	// accepts.
	TalkTo Rule
	// Ruok: the server answers a "ruok" status probe instead of a version.
	Ruok bool
}

var preZEO5 = []string{"Z200", "Z201", "Z303", "Z308", "Z309", "Z310", "Z3101", "Z4"}

// rows is indexed by Generation.
var rows = [...]Row{
	Z200: {Release: "ZODB 3.1 / ZEO 2.0", Announce: "Z200",
		Accept: Rule{List: []string{"Z200"}}, TalkTo: Rule{List: []string{"Z200"}}},
	Z201: {Release: "ZODB 3.2 – 3.3.0", Announce: "Z201",
		Accept: Rule{Lo: "Z200", Hi: "Z201"}, TalkTo: Rule{Lo: "Z200", Hi: "Z201"}},
	Z303: {Release: "ZODB 3.3.1 – 3.7", Announce: "Z303",
		Accept: Rule{List: preZEO5[:3]}, TalkTo: Rule{List: []string{"Z303"}}},
	Z308: {Release: "ZODB 3.8", Announce: "Z308",
		Accept: Rule{List: preZEO5[:4]}, TalkTo: Rule{List: []string{"Z308"}}},
	Z309: {Release: "ZODB 3.9", Announce: "Z309",
		Accept: Rule{List: preZEO5[:5]}, TalkTo: Rule{List: preZEO5[3:5]}},
	Z310: {Release: "ZODB 3.10.0a1 – 3.10.0b4", Announce: "Z310",
		Accept: Rule{List: preZEO5[:6]}, TalkTo: Rule{List: preZEO5[3:6]}},
	Z3101: {Release: "ZODB 3.10.0b5 – 3.10.7, ZEO 4.0 – 4.1", Announce: "Z3101",
		Accept: Rule{List: preZEO5[:7]}, TalkTo: Rule{List: preZEO5[3:7]}},
	Z4: {Release: "ZEO 4.2 – 4.3", Announce: "Z4",
		Accept: Rule{List: preZEO5[:8]}, TalkTo: Rule{List: preZEO5[3:8]}, Ruok: true},
	Z50: {Release: "ZEO 5.0", Announce: "Z5",
		Accept: Rule{List: []string{"Z5"}}, TalkTo: Rule{List: []string{"Z309", "Z310", "Z3101", "Z4", "Z5"}}, Ruok: true},
	// The 5.1+ client rule is that of 5.4+; 5.1 – 5.3 clients also took
	// the digits 309, 310, 3101 and 4 (ZEO 4 servers).
	Z51: {Release: "ZEO 5.1+ / 6.x (pickle)", Announce: "Z5",
		Accept: Rule{Digits: []string{"5"}}, TalkTo: Rule{Digits: []string{"5"}}, Ruok: true},
	M51: {Release: "ZEO 5.1+ / 6.x (msgpack)", Announce: "M5",
		Accept: Rule{Digits: []string{"5"}}, TalkTo: Rule{Digits: []string{"5"}}, Ruok: true},
}

// All returns every generation, oldest first.
func All() []Generation {
	gs := make([]Generation, 0, len(rows)-1)
	for g := Z200; int(g) < len(rows); g++ {
		gs = append(gs, g)
	}
	return gs
}

// Valid reports whether g is a generation of the table.
func (g Generation) Valid() bool { return g >= Z200 && int(g) < len(rows) }

// Row returns g's row; a row released as "unknown generation" for an
// invalid g.
func (g Generation) Row() Row {
	if !g.Valid() {
		return Row{Release: "unknown generation"}
	}
	return rows[g]
}

// String names the releases of the generation.
func (g Generation) String() string { return g.Row().Release }

// Announcing returns the generations whose server announces v.
func Announcing(v string) []Generation {
	var gs []Generation
	for _, g := range All() {
		if rows[g].Announce == v {
			gs = append(gs, g)
		}
	}
	return gs
}
