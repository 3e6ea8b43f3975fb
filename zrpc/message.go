// Package zrpc is the ZEO wire: size-prefixed frames (with the MAC mode of
// authenticated 3.x/4.x sessions), the (msgid, flags, method, args) message
// in pickle or msgpack, protocol-version negotiation across every ZEO
// generation, and a multiplexed connection usable by a client, a server or a
// proxy. It knows nothing of storage semantics.
package zrpc

import "github.com/gozeo/gozeo/pickle"

// Flags is the flags field of a message.
type Flags uint8

// Message flags (PROTOCOL.md §4.1).
const (
	// FlagAsync marks a one-way call: no reply is sent.
	FlagAsync Flags = 1
	// FlagError marks a ZEO 5 error reply: args is (class name, state).
	FlagError Flags = 2
)

// ReplyMethod is the method name of every reply.
const ReplyMethod = ".reply"

// Message is one RPC message: a call (either direction) or a reply.
type Message struct {
	// ID is the message id. Calls we make use int64 ids (0 for one-way
	// calls); a peer may use any value (ZEO 5 clients use an (oid, tid)
	// tuple for loadBefore), which a reply must echo unchanged.
	ID pickle.Value
	// Flags is FlagAsync for one-way calls, FlagError for ZEO 5 error
	// replies, 0 otherwise.
	Flags Flags
	// Method is the method name, or ReplyMethod for a reply.
	Method string
	// Args is the argument tuple of a call, or the value of a reply.
	Args pickle.Value
}

// IsReply reports whether m is a reply (including a heartbeat).
func (m *Message) IsReply() bool { return m.Method == ReplyMethod }

// IsHeartbeat reports whether m is the client heartbeat of PROTOCOL.md
// §4.4: a reply to msgid -1 carrying None.
func (m *Message) IsHeartbeat() bool {
	id, ok := pickle.AsInt(m.ID)
	return m.IsReply() && ok && id == -1
}
