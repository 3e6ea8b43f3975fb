package zrpcserver

import (
	"fmt"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zrpc"
)

// ErrorShape is how a server generation sends the exception a call raised
// (docs/protocol.md, Errors). A Go server imitating a release builds its error
// replies with [ErrorReply] in that release's shape; [zrpc.ErrorFromReply]
// reads them all.
type ErrorShape uint8

// The error reply shapes.
const (
	// ShapeClassInstance is the reply of ZEO 2.x – 4.x servers: flags 0,
	// value (Class, instance), the class a pickled global and the instance
	// pickled as the encoding's Variant says (old-style for a Python 2.4
	// server, _recon for ZODB POSErrors on Python 2.5+).
	ShapeClassInstance ErrorShape = iota + 1
	// ShapeClassPair is the quirk of ZODB 3.2 – 3.7 servers on Python
	// 2.5+, which did not take new-style exceptions for instances: value
	// (Class, (Class, instance)).
	ShapeClassPair
	// ShapeNameState is the reply of ZEO 5 / 6 servers, pickle and
	// msgpack alike: flags FlagError, value (qualified class name, state),
	// state being the exception's attributes if it has any, else its args.
	ShapeNameState
)

// String names the shape.
func (s ErrorShape) String() string {
	switch s {
	case ShapeClassInstance:
		return "(Class, instance)"
	case ShapeClassPair:
		return "(Class, (Class, instance))"
	case ShapeNameState:
		return "(name, state)"
	}
	return fmt.Sprintf("ErrorShape(%d)", uint8(s))
}

// ErrorShapeFor returns the shape servers speaking v use: ShapeNameState
// where v's capabilities have ErrorFlag2 (ZEO 5), ShapeClassInstance
// before.
func ErrorShapeFor(v zrpc.Version) ErrorShape {
	if v.Capabilities().ErrorFlag2 {
		return ShapeNameState
	}
	return ShapeClassInstance
}

// ErrorReply builds the reply to the call with msgid id that reports exc,
// in the given shape. exc.Class names the exception class (e.g.
// ZODB.POSException.ConflictError), exc.Args and exc.State are its args and
// attributes, and exc.Recon marks a ZODB POSError, which Python 2.5+
// servers pickle through _recon. Encoded and decoded, the reply gives back
// exc's class, args and state through [zrpc.ErrorFromReply] (the state through
// Args only for ShapeNameState when exc has no attributes, as ZEO 5 sends
// then).
func ErrorReply(id pickle.Value, exc *pickle.Exception, shape ErrorShape) *zrpc.Message {
	m := &zrpc.Message{ID: id, Method: zrpc.ReplyMethod}
	switch shape {
	case ShapeNameState:
		m.Flags = zrpc.FlagError
		m.Args = zrpc.NameState(exc)
	case ShapeClassPair:
		m.Args = pickle.Tuple{exc.Class, pickle.Tuple{exc.Class, exc}}
	default:
		m.Args = pickle.Tuple{exc.Class, exc}
	}
	return m
}

// SerialnosItem builds the item of a ZEO ≤ 4.x serialnos call that
// reports the store of oid failing with exc: (oid, instance), no class
// element (docs/protocol.md, Commit). [zrpc.ExceptionValue] reads the instance back.
func SerialnosItem(oid pickle.Value, exc *pickle.Exception) pickle.Tuple {
	return pickle.Tuple{oid, exc}
}
