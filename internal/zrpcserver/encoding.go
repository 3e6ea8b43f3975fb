package zrpcserver

import (
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zrpc"
)

// The message styles of servers that zrpc's EncodingFor does not pick
// (docs/protocol.md, Encodings).
var (
	// ZEO2Server is ZEO 2.0 and ZODB 3.2 servers: protocol 0, int flags,
	// exceptions pickled old-style (they ran on Python 2.1 – 2.4).
	ZEO2Server = zrpc.PickleStyle{Protocol: 0, Dialect: pickle.Python2, Variant: pickle.OldStyle}
	// ZEO24Server is ZODB 3.3 – 3.9 servers on Python 2.4: protocol 1,
	// int flags, exceptions pickled old-style.
	ZEO24Server = zrpc.PickleStyle{Protocol: 1, Dialect: pickle.Python2, Variant: pickle.OldStyle}
)

// ServerEncoding returns the encoding a server of generation g sends with
// once the client's version v is negotiated, in dialect d (Python3 only
// existed from ZEO 4 on): protocol 0 for ZEO 2.0 and ZODB 3.2, otherwise
// what zrpc.EncodingFor gives a server speaking v (protocol 1 for the
// Python 2 releases, 3 for Python 3, msgpack for M5). Exceptions are
// written new-style (Python 2.5+); use [ZEO24Server] for a Python 2.4
// server.
func ServerEncoding(g Generation, v zrpc.Version, d pickle.Dialect) zrpc.Encoding {
	if g == GenZ200 || g == GenZ201 {
		return zrpc.NewPickleEncoding(ZEO2Server)
	}
	return zrpc.EncodingFor(v, d, zrpc.ServerSide)
}
