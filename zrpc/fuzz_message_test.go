package zrpc

import (
	"errors"
	"fmt"
	"math/big"
	"strconv"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/internal/captures"
	"github.com/gozeo/gozeo/pickle"
)

// addMessageSeeds seeds a fuzz target with every message frame of the
// captures whose encoding matches (msgpack or pickle), and the vectors of
// docs/protocol.md.
func addMessageSeeds(f *testing.F, msgpack bool) {
	for _, path := range captures.Names() {
		if strings.Contains(path, "msgpack") != msgpack {
			continue
		}
		seen := map[captures.StreamKey]bool{}
		for _, fr := range captures.MustLoad(f, path) {
			k := captures.StreamKey{Conn: fr.Conn, Dir: fr.Dir}
			if seen[k] {
				f.Add(fr.Payload)
			}
			seen[k] = true
		}
	}
	for _, v := range protocolVectors() {
		if (v.enc.Name() == "msgpack") == msgpack {
			f.Add([]byte(v.bytes))
		}
	}
}

// checkUndecodable holds a decoding failure to its contract: a
// *MessageDecodeError matching ErrUndecodable, with a bounded message.
func checkUndecodable(t *testing.T, p []byte, err error) {
	t.Helper()
	var de *MessageDecodeError
	if !errors.As(err, &de) || !errors.Is(err, ErrUndecodable) {
		t.Fatalf("error %T %v is not a *MessageDecodeError", err, err)
	}
	if de.Size != len(p) || len(de.Head) > maxHeadBytes || de.Hint == "" {
		t.Fatalf("size %d head %d hint %q", de.Size, len(de.Head), de.Hint)
	}
	if n := len(de.Error()); n > 4000 {
		t.Fatalf("error message of %d bytes", n)
	}
}

// Any payload either decodes to a message that re-encodes (when the value
// model can be pickled again) to an equivalent message, or fails with a
// *MessageDecodeError; never a panic or a hang.
func FuzzDecodePickleMessage(f *testing.F) {
	addMessageSeeds(f, false)
	encs := []*PickleEncoding{NewPickleEncoding(Z3101Client.Style()), NewPickleEncoding(ZEO5Client.Style())}
	f.Fuzz(func(t *testing.T, p []byte) {
		_ = DescribePayload(p)
		m, err := encs[0].DecodeMessage(p)
		if err != nil {
			checkUndecodable(t, p, err)
			return
		}
		// Each dialect merges some kinds (py2 has one string type on the
		// wire, py3 one int type), which canonical ignores.
		for _, enc := range encs {
			out, err := enc.AppendMessage(nil, m)
			if err != nil {
				return // e.g. a recursive list, which fast mode cannot write
			}
			back, err := enc.DecodeMessage(out)
			if err != nil {
				t.Fatalf("re-encoded message does not decode: %v\n%s", err, pickle.ReprBytes(out))
			}
			if a, b := canonicalMessage(m), canonicalMessage(back); a != b {
				t.Fatalf("round trip through %s changed the message:\n%s\n%s", enc.Name(), a, b)
			}
		}
	})
}

// Any payload either decodes to a message whose re-encoding decodes to
// the same message and is stable (encoding what it decodes gives the same
// bytes), or fails with a *MessageDecodeError.
func FuzzDecodeMsgpackMessage(f *testing.F) {
	addMessageSeeds(f, true)
	enc := NewMsgpackEncoding()
	f.Fuzz(func(t *testing.T, p []byte) {
		_ = DescribePayload(p)
		m, err := enc.DecodeMessage(p)
		if err != nil {
			checkUndecodable(t, p, err)
			return
		}
		out, err := enc.AppendMessage(nil, m)
		if err != nil {
			t.Fatalf("a decoded message does not encode: %v", err)
		}
		back, err := enc.DecodeMessage(out)
		if err != nil {
			t.Fatalf("re-encoded message does not decode: %v", err)
		}
		if pickle.Repr(back.ID) != pickle.Repr(m.ID) || back.Flags != m.Flags || back.Method != m.Method ||
			pickle.Repr(back.Args) != pickle.Repr(m.Args) {
			t.Fatalf("round trip changed the message")
		}
		again, err := enc.AppendMessage(nil, back)
		if err != nil || string(again) != string(out) {
			t.Fatalf("encoding is not stable: % x vs % x", out, again)
		}
	})
}

// canonicalMessage formats a message for comparison across dialects:
// text, py2 str and bytes alike as their bytes, ints and longs alike as
// their value, lists as tuples.
func canonicalMessage(m *Message) string {
	var b strings.Builder
	canonical(&b, m.ID, 0)
	fmt.Fprintf(&b, " %d %q ", m.Flags, m.Method)
	canonical(&b, m.Args, 0)
	return b.String()
}

func canonical(b *strings.Builder, v pickle.Value, depth int) {
	if depth > 2*pickle.DefaultMaxDepth {
		b.WriteString("<deep>")
		return
	}
	if s, ok := stringish(v); ok {
		b.WriteString(strconv.Quote(s))
		return
	}
	if n, ok := bigOf(v); ok {
		b.WriteString(n.String())
		return
	}
	items := func(open, close string, xs []pickle.Value) {
		b.WriteString(open)
		for _, x := range xs {
			canonical(b, x, depth+1)
			b.WriteByte(',')
		}
		b.WriteString(close)
	}
	switch v := v.(type) {
	case pickle.Tuple:
		items("(", ")", v)
	case *pickle.List:
		items("(", ")", *v)
	case *pickle.Dict:
		b.WriteByte('{')
		for _, it := range v.Items() {
			canonical(b, it.Key, depth+1)
			b.WriteByte(':')
			canonical(b, it.Value, depth+1)
			b.WriteByte(',')
		}
		b.WriteByte('}')
	case *pickle.Set:
		items(fmt.Sprintf("set%v{", v.Frozen), "}", v.Items())
	case *pickle.Object:
		fmt.Fprintf(b, "%v:", v.Kind)
		canonical(b, v.Callable, depth+1)
		items("(", ")", v.Args)
		if v.Kwargs != nil {
			canonical(b, v.Kwargs, depth+1)
		}
		if v.State != nil {
			b.WriteString(" state=")
			canonical(b, v.State, depth+1)
		}
		items(" list=[", "]", v.ListItems)
		if v.DictItems != nil {
			canonical(b, v.DictItems, depth+1)
		}
	case pickle.PersistentRef:
		b.WriteString("persistent:")
		canonical(b, v.ID, depth+1)
	case *big.Int, float64:
		fmt.Fprintf(b, "%v", v)
	default:
		fmt.Fprintf(b, "%T:%s", v, pickle.Repr(v))
	}
}

// bigOf returns an int or long as a *big.Int (Python 3 and msgpack have
// one int type where Python 2 has two).
func bigOf(v pickle.Value) (*big.Int, bool) {
	switch v := v.(type) {
	case *big.Int:
		return v, true
	case int64:
		return big.NewInt(v), true
	}
	return nil, false
}

func stringish(v pickle.Value) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case pickle.Unicode:
		return string(v), true
	case pickle.ByteString:
		return string(v), true
	case pickle.Bytes:
		return string(v), true
	}
	return "", false
}
