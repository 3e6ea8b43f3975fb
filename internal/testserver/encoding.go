package testserver

import (
	"errors"
	"fmt"
	"slices"

	"github.com/gozeo/gozeo/internal/zrpcserver"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zrpc"
)

// errUnreadable wraps the reasons a real server of the profile could not
// have unpickled a message; like the real server, the connection then
// drops the client ("can't decode message").
var errUnreadable = errors.New("testserver: the imitated server cannot decode this message")

// rawFrame is a pseudo method: a message with this name is sent as the raw
// payload in its Args (pickle.Bytes), for the corrupt-frame fault.
const rawFrame = "\x00raw-frame"

// serverEncoding is the zrpc encoding of a connection plus what the
// imitated server's unpickler refuses: Python 2 cPickle reads nothing above
// protocol 2, Python 3 servers read py2 strings as ASCII text, and every
// release admits only a few globals (docs/protocol.md, What servers can
// read; internal/captures/testdata/server-decode-probe.txt).
type serverEncoding struct {
	zrpc.Encoding
	prof   Profile
	pickle bool
}

func newServerEncoding(p Profile, v zrpc.Version) *serverEncoding {
	var inner zrpc.Encoding
	if p.OldStyleExceptions && p.PickleProtocol == 1 {
		inner = zrpc.NewPickleEncoding(zrpcserver.ZEO24Server)
	} else {
		// Includes ZEO 2 / ZODB 3.2: protocol 0 with classic exceptions.
		inner = zrpcserver.ServerEncoding(p.Generation, v, p.dialect())
	}
	return &serverEncoding{Encoding: inner, prof: p, pickle: inner.Name() != "msgpack"}
}

// dialect is the pickle dialect of the profile's Python.
func (p Profile) dialect() pickle.Dialect {
	if p.Python == 2 {
		return pickle.Python2
	}
	return pickle.Python3
}

// AppendMessage encodes m, or copies the payload of a rawFrame message.
func (e *serverEncoding) AppendMessage(dst []byte, m *zrpc.Message) ([]byte, error) {
	if m.Method == rawFrame {
		raw, _ := m.Args.(pickle.Bytes)
		return append(dst, raw...), nil
	}
	return e.Encoding.AppendMessage(dst, m)
}

// DecodeMessage refuses what the imitated server could not read, then
// decodes, then refuses a reply the imitated server would not take
// (checkClientReply).
func (e *serverEncoding) DecodeMessage(payload []byte) (*zrpc.Message, error) {
	if e.pickle {
		if err := e.prof.checkReadable(payload); err != nil {
			return nil, err
		}
	}
	m, err := e.Encoding.DecodeMessage(payload)
	if err != nil {
		return nil, err
	}
	if m.IsReply() {
		if err := e.prof.checkClientReply(m); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Adapt keeps the server's own encoding: a server writes in its Python's
// dialect whatever the client speaks.
func (e *serverEncoding) Adapt([]byte) zrpc.Encoding { return e }

// checkReadable applies the profile's unpickler limits to a payload.
func (p Profile) checkReadable(payload []byte) error {
	if p.Python == 2 && len(payload) >= 2 && payload[0] == 0x80 && payload[1] > 2 {
		return fmt.Errorf("%w: Python 2's cPickle reads protocols 0 to 2, not %d", errUnreadable, payload[1])
	}
	allowed := p.allowedGlobal
	d := pickle.NewDecoder(payload, &pickle.DecoderOptions{
		AliasBytes: true,
		FindGlobal: func(module, name string) (pickle.Value, error) {
			if !allowed(module, name) {
				return nil, fmt.Errorf("unsafe global %s.%s", module, name)
			}
			return nil, nil
		},
	})
	v, err := d.Decode()
	if err != nil {
		if p.Python == 2 && errors.Is(err, pickle.ErrUnknownOpcode) {
			return fmt.Errorf("%w: %w", errUnreadable, err)
		}
		if errors.Is(err, pickle.ErrGlobalRefused) {
			return fmt.Errorf("%w: %w", errUnreadable, err)
		}
		return nil // let the connection's decoder report it in full
	}
	if p.Python == 3 {
		if s, ok := findNonASCII(v, 0); ok {
			return fmt.Errorf("%w: Python 3 reads py2 strings as ASCII text and %s is not ASCII; send binary values as bytes", errUnreadable, pickle.Repr(s))
		}
	}
	return nil
}

// allowedGlobal is the server's find_global: which globals a client may
// name in a message (docs/protocol.md, What servers can read).
func (p Profile) allowedGlobal(module, name string) bool {
	if module == "ZopeUndo.Prefix" {
		return true
	}
	return slices.Contains(p.FindGlobal, module) || slices.Contains(p.FindGlobal, module+"."+name)
}

// findNonASCII returns the first py2 string holding a byte ≥ 0x80 in v.
func findNonASCII(v pickle.Value, depth int) (pickle.ByteString, bool) {
	if depth > pickle.DefaultMaxDepth {
		return nil, false
	}
	switch v := v.(type) {
	case pickle.ByteString:
		for _, c := range v {
			if c >= 0x80 {
				return v, true
			}
		}
	case pickle.Tuple:
		for _, x := range v {
			if s, ok := findNonASCII(x, depth+1); ok {
				return s, true
			}
		}
	case *pickle.List:
		if v != nil {
			for _, x := range *v {
				if s, ok := findNonASCII(x, depth+1); ok {
					return s, true
				}
			}
		}
	case *pickle.Dict:
		for _, it := range v.Items() {
			if s, ok := findNonASCII(it.Key, depth+1); ok {
				return s, true
			}
			if s, ok := findNonASCII(it.Value, depth+1); ok {
				return s, true
			}
		}
	case *pickle.Object:
		if s, ok := findNonASCII(v.Args, depth+1); ok {
			return s, true
		}
		return findNonASCII(v.State, depth+1)
	}
	return nil, false
}
