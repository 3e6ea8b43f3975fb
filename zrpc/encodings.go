package zrpc

import (
	"errors"
	"fmt"
	"math/big"

	"github.com/gozeo/gozeo/pickle"
)

// FlagStyle says how a peer spells the flags of the calls it makes: as a
// Python int (0, 1) or bool (False, True). Every ZEO server tests the flags
// for truth, so either spelling works everywhere; the style matters only to
// imitate a given release byte for byte. Replies always carry an int: 0, or
// 2 for a ZEO 5 error reply.
type FlagStyle struct {
	// SyncBool spells the flags of a call that expects a reply False
	// instead of 0.
	SyncBool bool
	// OneWayBool spells the flags of a one-way call True instead of 1.
	OneWayBool bool
}

// flagsValue returns the value written in the flags field of m.
func (s FlagStyle) flagsValue(m *Message) pickle.Value {
	if !m.IsReply() {
		switch {
		case m.Flags == 0 && s.SyncBool:
			return false
		case m.Flags == FlagAsync && s.OneWayBool:
			return true
		}
	}
	return int64(m.Flags)
}

// PickleStyle is how one ZEO release writes its messages as pickles: the
// protocol, the Python dialect of its pickler, how it spells flags, and how
// its Python pickles exception instances. A style only shapes what is sent;
// decoding accepts every protocol and dialect.
type PickleStyle struct {
	// Protocol is the pickle protocol, 0 to 3.
	Protocol int
	// Dialect is the Python whose pickler is imitated: Python2 writes
	// method names and all byte strings as py2 str, Python3 writes text
	// and bytes apart (docs/protocol.md, What servers write).
	Dialect pickle.Dialect
	// Flags is how calls spell their flags.
	Flags FlagStyle
	// Variant is how exception instances in error replies are written:
	// pickle.OldStyle for a Python 2.4 server, NewStyle otherwise.
	Variant pickle.Variant
}

// String describes the style, e.g. "protocol 1, Python2 dialect".
func (s PickleStyle) String() string {
	return fmt.Sprintf("protocol %d, %v dialect", s.Protocol, s.Dialect)
}

// Preset names the message style of a ZEO release's client, as captured
// from real clients (docs/protocol.md, Encodings).
type Preset uint8

// The clients whose message styles are known.
const (
	// Z308Client: ZODB 3.3 – 3.9 clients (and the Go client's choice for
	// servers before Z310): protocol 1, int flags.
	Z308Client Preset = iota + 1
	// Z3101Client: ZODB 3.10 and ZEO 4 clients on Python 2: protocol 1,
	// False for a call expecting a reply, int 1 for a one-way call.
	Z3101Client
	// ZEO5Client: ZEO 5 / 6 clients on Python 3: protocol 3, bools.
	ZEO5Client
)

var presetNames = [...]string{"", "Z308Client", "Z3101Client", "ZEO5Client"}

// presetStyles is the table behind Preset.Style.
var presetStyles = [...]PickleStyle{
	Z308Client:  {Protocol: 1, Dialect: pickle.Python2},
	Z3101Client: {Protocol: 1, Dialect: pickle.Python2, Flags: FlagStyle{SyncBool: true}},
	ZEO5Client:  {Protocol: 3, Dialect: pickle.Python3, Flags: FlagStyle{SyncBool: true, OneWayBool: true}},
}

// The styles of the servers a Go peer answers as (EncodingFor's
// ServerSide): ZODB 3.3 – 3.10 and ZEO 4 servers on Python 2.5+, and ZEO
// 5 / 6 servers on Python 3, which send True for the one-way calls they
// make (info, invalidateTransaction) and int replies.
var (
	zeo3ServerStyle = PickleStyle{Protocol: 1, Dialect: pickle.Python2}
	zeo5ServerStyle = PickleStyle{Protocol: 3, Dialect: pickle.Python3, Flags: FlagStyle{SyncBool: true, OneWayBool: true}}
)

// Style returns the preset's pickle style; the zero style (protocol 0,
// Python 3 dialect, int flags) for an unknown preset.
func (p Preset) Style() PickleStyle {
	if int(p) < len(presetStyles) {
		return presetStyles[p]
	}
	return PickleStyle{}
}

// String returns the preset's name.
func (p Preset) String() string {
	if p != 0 && int(p) < len(presetNames) {
		return presetNames[p]
	}
	return fmt.Sprintf("Preset(%d)", uint8(p))
}

// Side says which end of a connection an encoding writes for.
type Side uint8

// The two ends of a connection.
const (
	ClientSide Side = iota + 1
	ServerSide
)

// String returns "client" or "server".
func (s Side) String() string {
	switch s {
	case ClientSide:
		return "client"
	case ServerSide:
		return "server"
	}
	return fmt.Sprintf("Side(%d)", uint8(s))
}

// EncodingFor returns the encoding a connection speaking version v uses on
// the given side: msgpack for M5, otherwise pickle in dialect d, with the
// flag style of the releases that speak v. The pickle protocol follows the
// dialect: 3 for Python3 (ZEO 4 on Python 3, ZEO 5.2+), 1 for Python2 (every
// Python 2 release since ZODB 3.3; protocol 1 is also readable by the ZEO
// 2.0 and ZODB 3.2 servers, which write protocol 0 themselves). A client
// that does not know the server's Python can start in Python2 with a first
// call whose arguments are ASCII (every server reads that) and switch to
// the dialect of the first reply ([SniffDialect], docs/protocol.md,
// Encodings).
func EncodingFor(v Version, d pickle.Dialect, side Side) Encoding {
	if v == M5 {
		return NewMsgpackEncoding()
	}
	var s PickleStyle
	switch {
	case v.IsZEO5() && side == ServerSide:
		s = zeo5ServerStyle
	case v.IsZEO5():
		s = ZEO5Client.Style()
	case side == ServerSide:
		s = zeo3ServerStyle
	case v >= Z310: // Z310, Z3101, Z4 (and unknown later strings)
		s = Z3101Client.Style()
	default:
		s = Z308Client.Style()
	}
	return NewPickleEncoding(withDialect(s, d))
}

// withDialect returns s in dialect d, with the protocol that dialect's ZEO
// releases use (1 for Python 2, 3 for Python 3) unless s already is in d.
func withDialect(s PickleStyle, d pickle.Dialect) PickleStyle {
	if s.Dialect == d {
		return s
	}
	s.Dialect = d
	s.Protocol = 1
	if d == pickle.Python3 {
		s.Protocol = 3
	}
	return s
}

// ErrMessageShape is wrapped by the decode errors of a payload that is a
// valid pickle or msgpack value but not a ZEO message: a (msgid, flags,
// method, args) tuple with int or bool flags and a text method name.
var ErrMessageShape = errors.New("not a ZEO message (msgid, flags, method, args)")

// messageFields is what could be read of a message's leading fields: n of
// ID, flags and method (in that order) are set.
type messageFields struct {
	n                 int
	id, flags, method pickle.Value
}

// messageFromValue checks that v is a message tuple and returns it.
func messageFromValue(v pickle.Value) (*Message, error) {
	t, ok := v.(pickle.Tuple)
	if !ok {
		return nil, fmt.Errorf("%w: the payload holds %s", ErrMessageShape, describeValue(v))
	}
	if len(t) != 4 {
		return nil, fmt.Errorf("%w: the payload holds a tuple of %d items", ErrMessageShape, len(t))
	}
	return messageFromParts(t[0], t[1], t[2], t[3])
}

// messageFromParts checks the fields of a message.
func messageFromParts(id, flags, method, args pickle.Value) (*Message, error) {
	f, err := flagsFromValue(flags)
	if err != nil {
		return nil, err
	}
	name, err := methodFromValue(method)
	if err != nil {
		return nil, err
	}
	return &Message{ID: id, Flags: f, Method: name, Args: args}, nil
}

// flagsFromValue reads the flags field: a bool (ZEO 3.10+ and 5 clients)
// or an int from 0 to 255.
func flagsFromValue(v pickle.Value) (Flags, error) {
	switch v := v.(type) {
	case bool:
		if v {
			return 1, nil
		}
		return 0, nil
	case int64:
		if v >= 0 && v <= 0xff {
			return Flags(v), nil
		}
	}
	return 0, fmt.Errorf("%w: the flags field is %s, not a bool or a small int", ErrMessageShape, describeValue(v))
}

// methodFromValue reads the method name: text, or a py2 str (the native
// string of Python 2 peers). Python 3 bytes are refused, as ZEO 5 servers
// refuse them (they look the name up as text).
func methodFromValue(v pickle.Value) (string, error) {
	switch v := v.(type) {
	case string:
		return v, nil
	case pickle.ByteString:
		return string(v), nil
	}
	return "", fmt.Errorf("%w: the method name is %s, not text", ErrMessageShape, describeValue(v))
}

// describeValue names a value's type and shows it briefly, for errors.
func describeValue(v pickle.Value) string {
	r := pickle.Repr(v)
	if len(r) > 60 {
		r = r[:60] + "..."
	}
	return pythonType(v) + " " + r
}

// pythonType names the Python type of a decoded value.
func pythonType(v pickle.Value) string {
	switch v.(type) {
	case pickle.NoneType:
		return "None"
	case bool:
		return "bool"
	case int64, int:
		return "int"
	case *big.Int:
		return "long"
	case float64:
		return "float"
	case pickle.ByteString:
		return "py2 str"
	case pickle.Bytes:
		return "bytes"
	case string, pickle.Unicode:
		return "text"
	case pickle.ByteArray:
		return "bytearray"
	case pickle.Tuple:
		return "tuple"
	case *pickle.List:
		return "list"
	case *pickle.Dict:
		return "dict"
	case *pickle.Set:
		return "set"
	case pickle.Global:
		return "global"
	case *pickle.Object:
		return "object"
	case pickle.PersistentRef:
		return "persistent reference"
	case nil:
		return "nothing"
	}
	return fmt.Sprintf("%T", v)
}
