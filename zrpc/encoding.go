package zrpc

// Encoding turns messages into frame payloads and back: one of the pickle
// dialects ZEO servers speak, or the msgpack variant of ZEO 5.1+.
//
// An Encoding must be safe for concurrent use: a Conn encodes in the
// goroutines of its callers and decodes in its read goroutine.
type Encoding interface {
	// Name identifies the encoding: "pickle-py2", "pickle-py3" or "msgpack".
	Name() string

	// AppendMessage appends the encoded form of m to dst and returns the
	// extended slice. It does not keep m or dst.
	AppendMessage(dst []byte, m *Message) ([]byte, error)

	// DecodeMessage decodes one message from a frame payload. Its errors
	// are typed and say what in the payload could not be read, so that a
	// connection can log why it gave up on a peer. The message may alias
	// payload: a Conn hands over each payload (a fresh slice per frame)
	// and never touches it again.
	DecodeMessage(payload []byte) (*Message, error)

	// Adapt returns the encoding to use for sending once the first message
	// the peer sent is known: a pickle encoding switches between the
	// Python 2 and Python 3 dialects according to the payload's protocol
	// header (so a Go server answers a Python 2 client in kind), msgpack
	// returns itself. It must not fail; an unrecognised payload keeps the
	// receiver.
	Adapt(firstPeerPayload []byte) Encoding
}
