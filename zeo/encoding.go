package zeo

import (
	"errors"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zrpc"
)

// chooseEncoding picks the encoding for a negotiated version (docs/protocol.md,
// What servers can read): msgpack for M5; otherwise pickle, by default in the
// Python 2 dialect at protocol 1, which every server reads (ZEO 5.0/5.1 on
// CPython 2 cannot read protocol 3, and Python 3 servers read ASCII py2 strings
// as text), adapting to Python 3 when the server's first reply starts with
// \x80\x03. The first calls of every session flow (getAuthProtocol(),
// register(name, read_only)) carry only ASCII, so they decode everywhere.
func chooseEncoding(v Version, d Dialect) (enc zrpc.Encoding, adapt bool) {
	if v.Capabilities().Msgpack {
		return zrpc.EncodingFor(v, pickle.Python3, zrpc.ClientSide), false
	}
	switch d {
	case DialectPython2:
		return zrpc.EncodingFor(v, pickle.Python2, zrpc.ClientSide), false
	case DialectPython3:
		return zrpc.EncodingFor(v, pickle.Python3, zrpc.ClientSide), false
	}
	return zrpc.EncodingFor(v, pickle.Python2, zrpc.ClientSide), true
}

// isDecodeFailure reports whether a connection ended because a message
// from the server could not be decoded.
func isDecodeFailure(cause error) bool {
	return errors.Is(cause, zrpc.ErrUndecodable)
}
