package pickle

import (
	"math/big"
	"strconv"
	"strings"
)

// Repr formats v roughly as Python's repr would: b'..' for bytes, '..' for
// py2 str, u'..'-less text in quotes, (..) tuples, [..] lists, {..} dicts.
// It is meant for error messages and debugging, and it stops descending
// into very deep or long values.
func Repr(v Value) string {
	var b strings.Builder
	writeRepr(&b, v, 0)
	return b.String()
}

// ReprBytes formats raw bytes the way Python 2 reprs a str: printable ASCII
// as is, the rest as \xNN escapes. Error messages use it to show what
// arrived on the wire.
func ReprBytes(p []byte) string {
	var b strings.Builder
	b.WriteByte('\'')
	writeEscaped(&b, p, '\'')
	b.WriteByte('\'')
	return b.String()
}

const reprMaxDepth = 8
const reprMaxItems = 32

// reprMaxLen bounds the output: a value that shares one tuple many times
// (which a pickle can do in a few bytes through the memo) would otherwise
// take 32^8 steps to print.
const reprMaxLen = 4096

func writeRepr(b *strings.Builder, v Value, depth int) {
	if depth > reprMaxDepth || b.Len() > reprMaxLen {
		b.WriteString("...")
		return
	}
	switch v := v.(type) {
	case nil:
		b.WriteString("<absent>")
	case NoneType:
		b.WriteString("None")
	case bool:
		if v {
			b.WriteString("True")
		} else {
			b.WriteString("False")
		}
	case int64:
		b.WriteString(strconv.FormatInt(v, 10))
	case int:
		b.WriteString(strconv.Itoa(v))
	case *big.Int:
		b.WriteString(v.String())
		b.WriteByte('L')
	case float64:
		b.WriteString(strconv.FormatFloat(v, 'g', -1, 64))
	case string:
		b.WriteString(strconv.Quote(v))
	case Unicode:
		b.WriteString("u" + strconv.Quote(string(v)))
	case ByteString:
		b.WriteString(ReprBytes(v))
	case Bytes:
		b.WriteString("b")
		b.WriteString(ReprBytes(v))
	case ByteArray:
		b.WriteString("bytearray(b")
		b.WriteString(ReprBytes(v))
		b.WriteString(")")
	case Tuple:
		b.WriteByte('(')
		writeItems(b, v, depth)
		if len(v) == 1 {
			b.WriteByte(',')
		}
		b.WriteByte(')')
	case *List:
		b.WriteByte('[')
		if v != nil {
			writeItems(b, *v, depth)
		}
		b.WriteByte(']')
	case *Dict:
		b.WriteByte('{')
		for i, it := range v.Items() {
			if i == reprMaxItems {
				b.WriteString(", ...")
				break
			}
			if i > 0 {
				b.WriteString(", ")
			}
			writeRepr(b, it.Key, depth+1)
			b.WriteString(": ")
			writeRepr(b, it.Value, depth+1)
		}
		b.WriteByte('}')
	case *Set:
		if v.Frozen {
			b.WriteString("frozenset(")
		}
		b.WriteByte('{')
		writeItems(b, v.Items(), depth)
		b.WriteByte('}')
		if v.Frozen {
			b.WriteByte(')')
		}
	case Global:
		b.WriteString(v.String())
	case PersistentRef:
		b.WriteString("persistent(")
		writeRepr(b, v.ID, depth+1)
		b.WriteByte(')')
	case *Exception:
		writeException(b, v, depth)
	case *Object:
		// Exceptions are written within this repr's depth and length
		// limits: calling Error would start over at depth 0, and an
		// exception whose state holds itself would recurse forever.
		if e, ok := AsException(v); ok {
			writeException(b, e, depth)
			return
		}
		writeRepr(b, v.Callable, depth+1)
		b.WriteByte('(')
		writeItems(b, v.Args, depth)
		b.WriteByte(')')
		if v.State != nil {
			b.WriteString(" state=")
			writeRepr(b, v.State, depth+1)
		}
	default:
		b.WriteString("<?>")
	}
}

func writeException(b *strings.Builder, e *Exception, depth int) {
	b.WriteString(e.Class.String())
	writeRepr(b, e.Args, depth+1)
	if e.State.Len() > 0 {
		b.WriteByte(' ')
		writeRepr(b, e.State, depth+1)
	}
}

func writeItems(b *strings.Builder, items []Value, depth int) {
	for i, x := range items {
		if i == reprMaxItems {
			b.WriteString(", ...")
			return
		}
		if i > 0 {
			b.WriteString(", ")
		}
		writeRepr(b, x, depth+1)
	}
}

func writeEscaped(b *strings.Builder, p []byte, quote byte) {
	const hex = "0123456789abcdef"
	for _, c := range p {
		switch {
		case c == '\\' || c == quote:
			b.WriteByte('\\')
			b.WriteByte(c)
		case c == '\n':
			b.WriteString(`\n`)
		case c == '\r':
			b.WriteString(`\r`)
		case c == '\t':
			b.WriteString(`\t`)
		case c < 0x20 || c >= 0x7f:
			b.WriteString(`\x`)
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&15])
		default:
			b.WriteByte(c)
		}
	}
}
