package zrpc

import (
	"errors"
	"fmt"
	"strings"

	"github.com/gozeo/gozeo/internal/releases"
)

// ErrProtocolMismatch is matched (errors.Is) by every *NegotiationError:
// the two sides have no protocol version in common, or the peer's version
// string is not a ZEO version at all. Real servers react to a version they
// do not accept by closing the connection without a word (docs/protocol.md,
// Handshake).
var ErrProtocolMismatch = errors.New("protocol version mismatch")

// ErrUnknownVersion reports an allowed set naming a version this package
// does not speak.
var ErrUnknownVersion = errors.New("unknown protocol version")

// Negotiation is the outcome of the client side of the handshake.
type Negotiation struct {
	// Server is the version the server announced.
	Server Version
	// Chosen is the version the client replied, which the connection now
	// speaks: feature gates (Capabilities, HasMethod) use it, since servers
	// adapt to the client's version.
	Chosen Version
	// Reason says in one sentence why Chosen was picked.
	Reason string
}

// NegotiationError reports that no version could be agreed on.
type NegotiationError struct {
	// Server is the version the server announced (or, server side, the one
	// it would have announced).
	Server Version
	// Client is the client's reply, when there was one.
	Client Version
	// Allowed is, client side, the set the caller allowed; server side,
	// the known versions the server accepts.
	Allowed []Version
	// Reason explains the mismatch.
	Reason string
}

// Error names both sides' versions and why they do not match.
func (e *NegotiationError) Error() string {
	return "zrpc: protocol version mismatch: " + e.Reason
}

// Is makes every NegotiationError match ErrProtocolMismatch.
func (e *NegotiationError) Is(target error) bool { return target == ErrProtocolMismatch }

// Negotiate picks the client's reply to a server that announced server,
// among the allowed versions (nil or empty: KnownVersions). The rules,
// from the generation table (docs/protocol.md, Handshake):
//
//   - A version is a candidate if it is allowed and every server release
//     announcing that string accepts it (Z5 is announced by ZEO 5.0, which
//     accepts only Z5, and by 5.1+, which accepts M5 too, so M5 is no
//     candidate there; an M5 server is 5.1+ and accepts Z5).
//   - The server's own string is preferred when it is a candidate: Z200
//     gets Z200, ZEO 5 gets its letter echoed, and every older server gets
//     its version, which is min(S, highest allowed) whenever the allowed
//     set reaches S.
//   - Otherwise the highest candidate is chosen (a lower version is fine:
//     servers adapt to older clients), preferring the server's letter
//     among ZEO 5 versions.
//
// A failure is a *NegotiationError (ErrProtocolMismatch) naming the
// server's string, the allowed set and what that server accepts.
func Negotiate(server Version, allowed []Version) (Negotiation, error) {
	if len(allowed) == 0 {
		allowed = knownVersions[:]
	}
	if err := checkAllowed(allowed); err != nil {
		return Negotiation{}, err
	}
	gens := releases.Announcing(string(server))
	if len(gens) == 0 {
		reason := fmt.Sprintf("server announced %s, which is not the version string of any ZEO release (known: %s)",
			showVersion(server), showVersions(knownVersions[:]))
		if hint := announcementHint(server); hint != "" {
			reason += "; " + hint
		}
		return Negotiation{}, &NegotiationError{Server: server, Allowed: allowed, Reason: reason}
	}

	acceptable := func(v Version) bool {
		for _, g := range gens {
			if !g.Row().Accept.Allows(string(v)) {
				return false
			}
		}
		return true
	}
	var best Version
	for _, v := range allowed {
		if !acceptable(v) {
			continue
		}
		if v == server {
			return Negotiation{Server: server, Chosen: v,
				Reason: fmt.Sprintf("server announced %s; replied %s, the highest version both sides speak", server, v)}, nil
		}
		if best == "" || v.rank() > best.rank() || (v.rank() == best.rank() && v[0] == server[0]) {
			best = v
		}
	}
	if best == "" {
		var rules []string
		for _, g := range gens {
			rules = append(rules, fmt.Sprintf("a %s server accepts %s", g, g.Row().Accept.Describe(showString)))
		}
		var fits []Version
		for _, v := range knownVersions {
			if acceptable(v) {
				fits = append(fits, v)
			}
		}
		return Negotiation{}, &NegotiationError{Server: server, Allowed: allowed,
			Reason: fmt.Sprintf("server announced %s (%s); none of the allowed versions %s is accepted; allow one of %s to talk to this server",
				server, strings.Join(rules, ", "), showVersions(allowed), showVersions(fits))}
	}
	var reason string
	if best.IsZEO5() {
		reason = fmt.Sprintf("server announced %s; replied %s because %s is not allowed, and ZEO 5.1+ servers use the encoding of the client's letter",
			server, best, server)
	} else {
		reason = fmt.Sprintf("server announced %s; replied %s, the highest allowed version that server accepts (%s itself is not allowed)",
			server, best, server)
	}
	return Negotiation{Server: server, Chosen: best, Reason: reason}, nil
}

// checkAllowed rejects allowed sets naming versions this package does not
// speak.
func checkAllowed(allowed []Version) error {
	for _, v := range allowed {
		if !v.Known() {
			return fmt.Errorf("zrpc: allowed versions %s: %s is not a ZEO protocol version this package speaks (known: %s): %w",
				showVersions(allowed), showVersion(v), showVersions(knownVersions[:]), ErrUnknownVersion)
		}
	}
	return nil
}

// announcementHint guesses what a non-ZEO first frame was.
func announcementHint(v Version) string {
	switch {
	case v == "ruok":
		return "that is the status probe a client sends, so the peer is a client, not a server"
	case len(v) >= 2 && (v[0] == 'Z' || v[0] == 'M') && v[1] >= '0' && v[1] <= '9':
		return "it looks like a ZEO version newer or older than this package knows"
	case len(v) > 0 && (v[0] == '{' || v[0] == '('):
		return "it looks like a message, not a version: the peer skipped the handshake"
	}
	return ""
}

// showVersion prints known versions bare and anything else as Python
// would show the bytes.
func showVersion(v Version) string {
	if v.Known() {
		return string(v)
	}
	return reprVersion(v)
}

func showString(s string) string { return showVersion(Version(s)) }

func showVersions(vs []Version) string {
	parts := make([]string, len(vs))
	for i, v := range vs {
		parts[i] = showVersion(v)
	}
	return "[" + strings.Join(parts, " ") + "]"
}
