// Package zrpc is the ZEO wire protocol under the storage API: how bytes
// become messages and messages become calls, for every ZEO generation from
// ZEO 2.0 (ZODB 3.1) to ZEO 6. It knows nothing of storage semantics: the
// zeo package builds the storage client on it. Its API is the protocol a
// client speaks; frames, encodings and connections work on either end, and
// what only a server imitating a given ZEO release needs (its handshake
// rules, its error-reply shapes) is kept out of it.
//
// # Layers
//
// The package has three layers, each using only the ones below it:
//
//   - Frames. [FrameReader] and [FrameWriter] carry payloads, each behind a
//     4-byte big-endian length prefix (docs/protocol.md, Framing). They also
//     implement the MAC mode of authenticated ZEO 2.2 – 4.x sessions
//     ([FrameWriter.SetMACKey], [FrameReader.SetMACKey]).
//   - Encodings. A [Message] is the (msgid, flags, method, args) tuple of
//     every call and reply. An [Encoding] turns it into a frame payload and
//     back: a [PickleEncoding] writing in the style of one ZEO release
//     ([PickleStyle], [Preset]; Python 2 or Python 3 dialect), or the
//     [MsgpackEncoding] of version M5. [EncodingFor] picks the one a
//     negotiated version uses on either side. Decoding accepts every
//     protocol and dialect; arguments and results are values of the
//     [pickle] package's model.
//   - Connections. A [Conn] runs calls over a framer pair and an encoding:
//     concurrent calls ([Conn.Call]) matched to their replies by msgid,
//     one-way calls ([Conn.Notify]), the peer's calls handed to
//     [ConnOptions.Handler] in wire order, heartbeats, and a
//     [*DisconnectedError] for every call in flight when the connection
//     ends.
//
// # Handshake and negotiation
//
// Before any message, each side sends its protocol [Version] as one raw frame
// (docs/protocol.md, Handshake): the server announces its own, the client
// replies with the version the connection will speak, and a server that does
// not accept the reply closes the connection without a word. [ClientHandshake]
// does the client side, choosing the reply with [Negotiate] among the versions
// the caller allows. Servers adapt to the client's version, so what a
// connection can do follows from the negotiated version: [Version.Capabilities]
// and [Version.HasMethod] (calling a method the server lacks makes every ZEO
// server drop the connection).
//
// A client therefore dials, wraps the net.Conn in a FrameReader and a
// FrameWriter, runs ClientHandshake with them, and hands the same framers
// (which may already hold frames the server sent after its version) to
// [NewConn], with the encoding [EncodingFor] gives for the negotiated
// version. The Conn example shows both ends. Servers of ZODB
// 3.2 to ZEO 4 may then ask for digest authentication: [DigestHash],
// [DigestResponse] and [DigestSessionKey] compute its values, and
// [Conn.StartMAC] switches the connection to MAC'd frames.
//
// # Errors
//
// An exception the peer raised comes back as a [*RemoteError], whichever
// reply shape its generation uses ([ErrorFromReply]). Failures are typed and matched with errors.Is and
// errors.As: [*NegotiationError] ([ErrProtocolMismatch]),
// [*HandshakeError], [*FrameError] ([ErrFrameTooLarge],
// [ErrFrameTruncated], [ErrMACMismatch], ...), [*MessageDecodeError]
// ([ErrUndecodable]) and [*DisconnectedError] ([ErrDisconnected]).
package zrpc

import "github.com/gozeo/gozeo/pickle"

// Flags is the flags field of a message.
type Flags uint8

// Message flags (docs/protocol.md, Messages).
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

// IsHeartbeat reports whether m is the client heartbeat (docs/protocol.md,
// Heartbeats): a reply to msgid -1 carrying None.
func (m *Message) IsHeartbeat() bool {
	id, ok := pickle.AsInt(m.ID)
	return m.IsReply() && ok && id == -1
}
