package zrpc

import (
	"fmt"
	"sync"

	"github.com/gozeo/gozeo/pickle"
)

// PickleEncoding encodes messages as pickles in one [PickleStyle] and
// decodes pickles of every protocol and dialect. It is safe for concurrent
// use.
type PickleEncoding struct {
	style PickleStyle
	opts  pickle.EncoderOptions

	// Encoders and decoders keep scratch state (the decoder caches method
	// names and globals), so they are pooled rather than shared.
	encoders *sync.Pool
	decoders *sync.Pool
}

// pickleDecoderOptions decode a message: symbolically (globals such as
// exception classes stay pickle.Global, nothing is refused), aliasing the
// payload (a Conn hands each message its own payload), with the default
// nesting bound against hostile input.
var pickleDecoderOptions = pickle.DecoderOptions{
	MaxDepth:   pickle.DefaultMaxDepth,
	AliasBytes: true,
}

// NewPickleEncoding returns a pickle encoding writing in style s, e.g.
// NewPickleEncoding(ZEO5Client.Style()).
func NewPickleEncoding(s PickleStyle) *PickleEncoding {
	opts := pickle.EncoderOptions{Protocol: s.Protocol, Dialect: s.Dialect, Variant: s.Variant}
	return &PickleEncoding{
		style:    s,
		opts:     opts,
		encoders: &sync.Pool{New: func() any { return pickle.NewEncoder(opts) }},
		decoders: &sync.Pool{New: func() any { return pickle.NewDecoder(nil, &pickleDecoderOptions) }},
	}
}

// Style returns the style the encoding writes in.
func (e *PickleEncoding) Style() PickleStyle { return e.style }

// Name returns "pickle-py2" or "pickle-py3", after the dialect written.
func (e *PickleEncoding) Name() string {
	if e.style.Dialect == pickle.Python2 {
		return "pickle-py2"
	}
	return "pickle-py3"
}

// String describes the encoding with its protocol, for logs.
func (e *PickleEncoding) String() string {
	return fmt.Sprintf("%s (protocol %d)", e.Name(), e.style.Protocol)
}

// AppendMessage appends m pickled as the tuple (msgid, flags, method,
// args), in fast mode (no memo) as every ZEO release does.
func (e *PickleEncoding) AppendMessage(dst []byte, m *Message) ([]byte, error) {
	if m.ID == nil || m.Args == nil {
		return dst, fmt.Errorf("zrpc: message %q has no %s (use pickle.None for None)", m.Method, missingField(m))
	}
	enc := e.encoders.Get().(*pickle.Encoder)
	out, err := enc.Append(dst, pickle.Tuple{m.ID, e.style.Flags.flagsValue(m), m.Method, m.Args})
	e.encoders.Put(enc)
	return out, err
}

func missingField(m *Message) string {
	if m.ID == nil {
		return "ID"
	}
	return "Args"
}

// DecodeMessage decodes a pickled message. The message aliases payload.
// Errors are *MessageDecodeError, matching ErrUndecodable.
func (e *PickleEncoding) DecodeMessage(payload []byte) (*Message, error) {
	d := e.decoders.Get().(*pickle.Decoder)
	d.Reset(payload)
	v, err := d.Decode()
	d.Reset(nil) // drop references to the payload before pooling
	e.decoders.Put(d)
	if err != nil {
		return nil, diagnose(e, payload, err)
	}
	m, err := messageFromValue(v)
	if err != nil {
		return nil, diagnose(e, payload, err)
	}
	return m, nil
}

// Adapt returns the encoding that answers a peer whose first message is
// firstPeerPayload: the same flag style and exception variant, in the
// peer's dialect ([SniffDialect]) with that dialect's usual protocol (3 for
// Python 3, 1 for Python 2). The receiver is kept when the dialect already
// matches or the payload is not recognizably a pickle.
func (e *PickleEncoding) Adapt(firstPeerPayload []byte) Encoding {
	d, ok := SniffDialect(firstPeerPayload)
	if !ok || d == e.style.Dialect {
		return e
	}
	return NewPickleEncoding(withDialect(e.style, d))
}

// SniffDialect tells the dialect of a pickled message from its first
// bytes: protocol 3 and above (`\x80\x03`, written by Python 3 and by
// zodbpickle on ZEO 5.2+) means Python3; a message without PROTO (`(`,
// protocols 0 and 1) or at protocol 2 means Python2 (docs/protocol.md,
// Encodings).
// It reports false for anything else, msgpack included. A client uses it
// on the first reply to pick the dialect to send in.
func SniffDialect(payload []byte) (pickle.Dialect, bool) {
	switch {
	case len(payload) >= 2 && payload[0] == pickleProto && payload[1] >= 3 && payload[1] <= 5:
		return pickle.Python3, true
	case len(payload) >= 2 && payload[0] == pickleProto && payload[1] == 2:
		return pickle.Python2, true
	case len(payload) >= 1 && payload[0] == pickleMark:
		return pickle.Python2, true
	}
	return 0, false
}

// Pickle opcodes the message layer looks at.
const (
	pickleProto = 0x80
	pickleMark  = '('
)
