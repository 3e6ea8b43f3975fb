package testserver

import (
	"errors"
	"fmt"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zrpc"
)

// errClientReply is why the connection of a client that sent a reply the
// imitated server does not take is dropped.
var errClientReply = errors.New("testserver: the imitated server drops a client that sends this reply")

// checkClientReply applies the imitated server's rule for a .reply message from
// the client (docs/protocol.md, Heartbeats). Servers make no calls that expect
// a reply, so the only legitimate one is the heartbeat (-1, 0, '.reply', None).
// The connection passes on (and ignores) what the server takes; an error drops
// the client.
//
//   - ZODB ≤ 3.9 file any reply in a table nobody reads; only a msgid that
//     cannot be a dict key makes that fail, and the client is dropped.
//   - ZODB 3.10 and ZEO 4 assert that a reply is not one-way, has msgid -1
//     and carries None; anything else fails the assertion and drops the
//     client.
//   - ZEO 5 ignores every message with msgid -1, and drops the client for
//     any other reply, since '.reply' is not one of its methods.
func (p Profile) checkClientReply(m *zrpc.Message) error {
	switch {
	case p.caps().IgnoresMinusOne:
		if !isMinusOne(m.ID) {
			return fmt.Errorf("%w: reply to msgid %s is not the heartbeat and '.reply' is no ZEO 5 method", errClientReply, pickle.Repr(m.ID))
		}
	case p.caps().AssertsHeartbeat:
		if m.Flags != 0 || !isMinusOne(m.ID) || !pickle.IsNone(m.Args) {
			return fmt.Errorf("%w: (%s, %d, '.reply', %s) fails the 3.10/4.x assertion that a client reply is the heartbeat (-1, 0, '.reply', None)",
				errClientReply, pickle.Repr(m.ID), m.Flags, pickle.Repr(m.Args))
		}
	default:
		if err := pickle.NewDict(1).Set(m.ID, pickle.None); err != nil {
			return fmt.Errorf("%w: reply msgid %s cannot key the server's reply table: %w", errClientReply, pickle.Repr(m.ID), err)
		}
	}
	return nil
}

// isMinusOne reports whether v == -1 in Python: the int, the long or the
// float.
func isMinusOne(v pickle.Value) bool {
	if _, ok := v.(bool); ok {
		return false // True == 1, False == 0
	}
	if f, ok := v.(float64); ok {
		return f == -1
	}
	n, ok := pickle.AsInt(v)
	return ok && n == -1
}
