package zrpc

import (
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/gozeo/gozeo/pickle"
)

// ErrUndecodable matches every error of Encoding.DecodeMessage: the peer
// sent a message this side cannot read, after which a connection cannot
// know the peer's state and must be dropped (as ZEO's own "can't decode
// message" drops it).
var ErrUndecodable = errors.New("undecodable message")

// MessageDecodeError says what arrived when a message could not be
// decoded: what the payload looks like, as much of the message as could be
// read, where decoding failed, and what that most likely means. It matches
// ErrUndecodable; Err is the underlying *pickle.DecodeError,
// *MsgpackSyntaxError or ErrMessageShape error.
type MessageDecodeError struct {
	// Encoding is the name of the connection's encoding ("pickle-py2",
	// "pickle-py3", "msgpack").
	Encoding string
	// Size is the payload's length.
	Size int
	// Head holds the payload's first bytes (at most maxHeadBytes).
	Head []byte
	// Format says what the payload looks like from its first bytes, e.g.
	// "pickle protocol 3" or "msgpack".
	Format string
	// Fields counts the leading fields that could be read: 1 for ID, 2
	// for ID and Flags, 3 for ID, Flags and Method.
	Fields int
	// ID is the message id, when Fields >= 1.
	ID pickle.Value
	// Flags is the flags field as it arrived, when Fields >= 2.
	Flags pickle.Value
	// Method is the method name, when Fields >= 3.
	Method string
	// Offset is where in the payload decoding failed, or -1 when the
	// payload decoded but is not a message.
	Offset int
	// Hint is the most likely meaning, and what to do about it.
	Hint string
	// Err is the underlying error.
	Err error
}

// maxHeadBytes bounds the bytes of a payload kept and shown by a
// MessageDecodeError.
const maxHeadBytes = 60

// Error says what arrived, where decoding failed, and what that likely
// means, e.g.:
//
//	zrpc: undecodable message on a pickle-py2 connection: 30 bytes of pickle
//	protocol 3, msgid 1, flags 0, method ".reply": <cause>; payload
//	'\x80\x03(K\x01K\x00X\x06...'; likely <hint>
func (e *MessageDecodeError) Error() string {
	var b strings.Builder
	b.WriteString("zrpc: undecodable message")
	if e.Encoding != "" {
		b.WriteString(" on a ")
		b.WriteString(e.Encoding)
		b.WriteString(" connection")
	}
	fmt.Fprintf(&b, ": %d bytes of %s", e.Size, e.Format)
	writeFields(&b, e.Fields, e.ID, e.Flags, e.Method)
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	b.WriteString("; payload ")
	b.WriteString(pickle.ReprBytes(e.Head))
	if e.Size > len(e.Head) {
		b.WriteString("...")
	}
	if e.Hint != "" {
		b.WriteString("; likely ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Unwrap returns Err.
func (e *MessageDecodeError) Unwrap() error { return e.Err }

// Is reports whether target is ErrUndecodable.
func (e *MessageDecodeError) Is(target error) bool { return target == ErrUndecodable }

func writeFields(b *strings.Builder, n int, id, flags pickle.Value, method string) {
	if n >= 1 {
		b.WriteString(", msgid ")
		b.WriteString(clip(pickle.Repr(id)))
	}
	if n >= 2 {
		b.WriteString(", flags ")
		b.WriteString(pickle.Repr(flags))
	}
	if n >= 3 {
		b.WriteString(", method ")
		b.WriteString(strconv.Quote(method))
	}
}

// DescribePayload summarizes a frame payload for logs without decoding it
// all: its size and format, the msgid, flags and method when they can be
// read, and its first bytes, e.g.
//
//	312 bytes of pickle protocol 1, msgid 17, flags 1, method "serialnos"; payload '(K\x11K\x01U\tserialnos(]((U\x08...'
func DescribePayload(p []byte) string {
	var b strings.Builder
	k := sniffPayload(p)
	fmt.Fprintf(&b, "%d bytes of %s", len(p), k.format)
	var f messageFields
	switch k.kind {
	case kindPickle:
		f = pickleFields(p)
	case kindMsgpack:
		f = msgpackPrefixFields(p)
	}
	writeFields(&b, f.n, f.id, f.flags, fieldMethod(f))
	b.WriteString("; payload ")
	b.WriteString(pickle.ReprBytes(p[:min(len(p), maxHeadBytes)]))
	if len(p) > maxHeadBytes {
		b.WriteString("...")
	}
	return b.String()
}

// fieldMethod returns the method of f as text, or its repr when it is not
// text (a bytes method name, say).
func fieldMethod(f messageFields) string {
	if f.n < 3 {
		return ""
	}
	if s, ok := pickle.AsText(f.method); ok {
		return s
	}
	return pickle.Repr(f.method)
}

// payloadKind is what a payload looks like from its first bytes.
type payloadKind uint8

const (
	kindUnknown payloadKind = iota
	kindEmpty
	kindPickle
	kindMsgpack
	kindVersion
)

type payloadSniff struct {
	kind     payloadKind
	protocol int // pickle protocol from the PROTO opcode; -1 without one
	format   string
}

// sniffPayload classifies a payload by its first bytes.
func sniffPayload(p []byte) payloadSniff {
	switch {
	case len(p) == 0:
		return payloadSniff{kind: kindEmpty, format: "nothing (an empty frame)"}
	case len(p) >= 2 && p[0] == pickleProto && p[1] <= 5:
		return payloadSniff{kind: kindPickle, protocol: int(p[1]), format: "pickle protocol " + strconv.Itoa(int(p[1]))}
	case p[0] == pickleMark:
		s := payloadSniff{kind: kindPickle, protocol: -1, format: "pickle protocol 0 or 1 (no PROTO opcode)"}
		if len(p) > 1 && strings.IndexByte("KJM)U", p[1]) >= 0 {
			s.format = "pickle protocol 1"
		}
		return s
	case p[0] == 0x94:
		return payloadSniff{kind: kindMsgpack, format: "msgpack (an array of 4)"}
	case p[0] >= 0x90 && p[0] <= 0x9f || p[0] == 0xdc || p[0] == 0xdd:
		return payloadSniff{kind: kindMsgpack, format: "msgpack (an array)"}
	case p[0] >= 0x81 && p[0] <= 0x8f || p[0] == 0xde || p[0] == 0xdf:
		// 0x80 is PROTO, or an empty map: taken as a pickle above when a
		// protocol number follows.
		return payloadSniff{kind: kindMsgpack, format: "msgpack (a map)"}
	case looksLikeVersion(p):
		return payloadSniff{kind: kindVersion, format: "a protocol version string " + pickle.ReprBytes(p)}
	}
	return payloadSniff{kind: kindUnknown, format: "unknown data (neither pickle nor msgpack)"}
}

// looksLikeVersion reports whether p is shaped like a ZEO version string
// (an upper-case letter and 1 to 4 digits), which is what the first frame
// of each side holds.
func looksLikeVersion(p []byte) bool {
	if len(p) < 2 || len(p) > 5 || p[0] < 'A' || p[0] > 'Z' {
		return false
	}
	for _, c := range p[1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// diagnose builds the MessageDecodeError of a pickle payload that failed
// with err.
func diagnose(e *PickleEncoding, p []byte, err error) error {
	var f messageFields
	if sniffPayload(p).kind == kindPickle {
		f = pickleFields(p)
	}
	return newDecodeError(e.Name(), e.style.Dialect, true, p, err, f)
}

// newDecodeError describes the failure err of decoding p on a connection
// using encoding enc (pickleConn tells its kind, dialect the pickle dialect
// it sends); f holds the fields already read. Nothing in it aliases p.
func newDecodeError(enc string, dialect pickle.Dialect, pickleConn bool, p []byte, err error, f messageFields) *MessageDecodeError {
	s := sniffPayload(p)
	de := &MessageDecodeError{
		Encoding: enc,
		Size:     len(p),
		Head:     append([]byte(nil), p[:min(len(p), maxHeadBytes)]...),
		Format:   s.format,
		Offset:   -1,
		Err:      err,
	}
	var pe *pickle.DecodeError
	var me *MsgpackSyntaxError
	switch {
	case errors.As(err, &pe):
		de.Offset = pe.Offset
	case errors.As(err, &me):
		de.Offset = me.Offset
	}
	// The other encoding may read what this one could not.
	if pickleConn && s.kind == kindMsgpack {
		if g := msgpackPrefixFields(p); g.n > f.n {
			f = g
		}
	} else if !pickleConn && s.kind == kindPickle {
		if g := pickleFields(p); g.n > f.n {
			f = g
		}
	}
	de.Fields, de.ID, de.Flags = f.n, f.id, f.flags
	de.Method = fieldMethod(f)
	de.Hint = hint(s, dialect, pickleConn, p, err, f)
	return de
}

// hint says what a decoding failure most likely means.
func hint(s payloadSniff, dialect pickle.Dialect, pickleConn bool, p []byte, err error, f messageFields) string {
	switch s.kind {
	case kindEmpty:
		return "an out-of-step stream: no ZEO peer sends an empty message (a framing or MAC-mode mismatch?)"
	case kindVersion:
		return "a handshake frame where a message was expected: the peer restarted the handshake, or this side skipped it"
	case kindMsgpack:
		if pickleConn {
			return "msgpack data on a pickle connection: the peer speaks msgpack, as ZEO 5.1+ servers do once M5 is negotiated (the server announced M5?); speak M5 with NewMsgpackEncoding, or turn msgpack off on the server"
		}
	case kindPickle:
		if !pickleConn {
			return "a pickle on a msgpack connection: the peer speaks pickle (version Z5 or older) although this connection negotiated M5; check the version both sides settled on"
		}
	case kindUnknown:
		if pickleConn {
			return "data that is neither a pickle nor msgpack: the peer is not a ZEO server, or the stream is out of step (a framing or MAC-mode mismatch)"
		}
	}
	if h := methodHint(f); h != "" {
		return h
	}
	if errors.Is(err, ErrMessageShape) {
		return "a well-formed value that is not a ZEO message (msgid, flags, method, args): the peer speaks something else on this port"
	}
	if pickleConn {
		return pickleHint(s, dialect, p, err)
	}
	return msgpackHint(err)
}

// methodHint explains a method name of the wrong type.
func methodHint(f messageFields) string {
	if f.n < 3 {
		return ""
	}
	switch f.method.(type) {
	case string, pickle.ByteString:
		return ""
	case pickle.Bytes:
		return "a method name sent as bytes: a Python 3 peer pickled it as bytes (C/B opcodes), which no ZEO release does; ZEO method names are text"
	}
	return "a method name that is not a string: the peer does not speak ZEO's RPC"
}

// pickleHint explains a pickle decoding failure.
func pickleHint(s payloadSniff, dialect pickle.Dialect, p []byte, err error) string {
	var pe *pickle.DecodeError
	op := byte(0)
	if errors.As(err, &pe) {
		op = pe.Opcode
	}
	var h string
	switch {
	case s.protocol >= 4:
		h = fmt.Sprintf("a protocol-%d pickle, which no ZEO release writes: the peer is not a ZEO server, or a Python 3 program pickling with its default protocol", s.protocol)
	case errors.Is(err, pickle.ErrTooDeep):
		h = "nesting deeper than any ZEO message needs: corrupt or hostile data"
	case errors.Is(err, pickle.ErrOutOfBandBuffer):
		h = "protocol 5 out-of-band buffers, which ZEO never uses: the peer is not a ZEO server"
	case op == 'o' || op == 'i' || (op == 'b' && oldStyleBefore(p, pe.Offset)):
		h = "an exception pickled old-style (MARK class OBJ, then its __dict__ by BUILD), as a Python 2.4 server pickles exceptions, and malformed here"
	case op == 'R' && strings.Contains(string(p[:min(len(p), pe.Offset)]), "_recon"):
		h = "a ZODB exception pickled through ZODB.POSException._recon (by a Python 2.5+ server), malformed here"
	case errors.Is(err, pickle.ErrUnknownOpcode) && pe != nil && pe.Offset <= 2:
		h = "data that does not start like a pickle: the peer is not a ZEO server, or the stream is out of step (a framing or MAC-mode mismatch)"
	case errors.Is(err, pickle.ErrTruncated):
		h = "a pickle cut short: the frame holds only part of a message (the peer's framing or MAC mode disagrees with this connection's?)"
	case errors.Is(err, pickle.ErrMemo):
		h = "a reference to a memo entry that was never stored: ZEO pickles messages without a memo, so the data is corrupt or not from ZEO"
	default:
		h = "a malformed pickle: corrupt data, or a pickler this decoder does not know"
	}
	if n := dialectNote(s, dialect); n != "" {
		h += "; note: " + n
	}
	return h
}

// oldStyleBefore reports whether an OBJ or INST opcode appears shortly
// before off, as in an old-style instance whose BUILD failed. It looks at
// bytes, not opcodes, so it only sharpens a hint.
func oldStyleBefore(p []byte, off int) bool {
	if off > len(p) {
		off = len(p)
	}
	lo := max(0, off-512)
	return strings.Contains(string(p[lo:off]), "\no}") || strings.Contains(string(p[lo:off]), "\no(")
}

// dialectNote notes a peer writing the other Python's dialect: harmless
// for decoding, which reads both, but what this side sends may be
// unreadable to that peer (docs/protocol.md, What servers can read).
func dialectNote(s payloadSniff, dialect pickle.Dialect) string {
	switch {
	case s.protocol >= 3 && dialect == pickle.Python2:
		return fmt.Sprintf("a protocol-%d pickle from a Python 3 server while this connection uses the Python 2 dialect: send in the Python 3 dialect (see SniffDialect)", s.protocol)
	case s.protocol < 3 && dialect == pickle.Python3:
		return "a Python 2 pickle (protocol 0-2) while this connection uses the Python 3 dialect, which a Python 2 server cannot read: send in the Python 2 dialect (see SniffDialect)"
	}
	return ""
}

// msgpackHint explains a msgpack decoding failure.
func msgpackHint(err error) string {
	var me *MsgpackSyntaxError
	errors.As(err, &me)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		return "msgpack data cut short: the frame holds only part of a message (a framing mismatch?)"
	case me != nil && (me.Code >= 0xd4 && me.Code <= 0xd8 || me.Code >= 0xc7 && me.Code <= 0xc9):
		return "a msgpack ext type, which ZEO 5 never sends: the peer is not a ZEO server, or packs custom types"
	case errors.Is(err, errStrNotUTF8):
		return "bytes packed as str: the peer's msgpack packer has use_bin_type off, where ZEO 5 packs bytes as bin and text as UTF-8 str"
	case me != nil && me.Code == 0xc1:
		return "a byte that is no msgpack type: corrupt data, or the peer is not a ZEO server"
	}
	return "malformed msgpack data: corrupt, or the peer is not a ZEO server"
}

// msgpackPrefixFields reads what it can of the leading fields of a
// msgpack message. The fields do not alias p.
func msgpackPrefixFields(p []byte) messageFields {
	r := NewMsgpackEncoding().readers.New().(*msgpackReader)
	r.copyBytes = true
	r.reset(p)
	_, f, _ := r.message()
	return f
}

// maxPrefixScan bounds how far into a pickle picklePrefixFields looks for
// the end of the method name.
const maxPrefixScan = 512

// prefixSentinel starts the synthetic pickles of picklePrefixFields: a
// MARK and a text value no message holds.
const (
	sentinelText   = "zrpc\x00prefix\x00sentinel"
	prefixSentinel = "(X\x14\x00\x00\x00" + sentinelText // BINUNICODE, 20 bytes
)

// pickleFields reads the msgid, flags and method of a pickled message
// whatever is wrong with the rest: from the decoded value when the payload
// decodes to a tuple, else with picklePrefixFields.
func pickleFields(p []byte) messageFields {
	d := pickle.NewDecoder(p, &pickle.DecoderOptions{MaxDepth: pickle.DefaultMaxDepth})
	v, err := d.Decode()
	if err == nil {
		return valueFields(v)
	}
	upTo := len(p)
	var pe *pickle.DecodeError
	if errors.As(err, &pe) {
		upTo = pe.Offset
	}
	return picklePrefixFields(p, upTo)
}

// valueFields takes the leading fields of a decoded message tuple, when v
// is a tuple of at least three items.
func valueFields(v pickle.Value) messageFields {
	t, ok := v.(pickle.Tuple)
	if !ok || len(t) < 3 {
		return messageFields{}
	}
	return messageFields{n: 3, id: t[0], flags: t[1], method: t[2]}
}

// picklePrefixFields reads the msgid, flags and method of a pickled
// message whose whole cannot be decoded (the args are damaged, say), from
// its first upTo bytes. A message is MARK msgid flags method args TUPLE;
// for a cut point after the MARK, the synthetic pickle "MARK sentinel
// <bytes up to the cut> TUPLE STOP" decodes to the sentinel followed by the
// values complete at the cut, when the cut falls between opcodes outside
// any inner MARK; other cuts fail, or end on another value (the sentinel
// tells an inner tuple closed by the same TUPLE apart). Values complete at
// one cut may still be combined at a later one (TUPLE2 makes the (oid,
// tid) msgid of ZEO 5 from two values), so the fields are taken from the
// last good cut, scanning backwards from upTo, and only when it holds
// three values or more: by then the msgid, flags and method are final.
func picklePrefixFields(p []byte, upTo int) messageFields {
	start := 0
	if len(p) >= 2 && p[0] == pickleProto {
		start = 2
	}
	if len(p) <= start || p[start] != pickleMark {
		return messageFields{}
	}
	body := p[start+1:]
	limit := min(len(body), maxPrefixScan, max(0, upTo-start-1))
	buf := make([]byte, 0, start+len(prefixSentinel)+limit+2)
	d := pickle.NewDecoder(nil, &pickle.DecoderOptions{MaxDepth: pickle.DefaultMaxDepth})
	for end := limit; end >= 1; end-- {
		buf = append(buf[:0], p[:start]...)
		buf = append(buf, prefixSentinel...)
		buf = append(buf, body[:end]...)
		buf = append(buf, 't', '.')
		d.Reset(buf)
		v, err := d.Decode()
		if err != nil {
			continue
		}
		t, ok := v.(pickle.Tuple)
		if !ok || len(t) < 1 || t[0] != any(sentinelText) {
			continue
		}
		return valueFields(t[1:])
	}
	return messageFields{}
}
