package pickle

import (
	"bytes"
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
	"unicode/utf8"
)

// This file parses the text arguments of the protocol-0 opcodes: INT, LONG,
// FLOAT, STRING (Python string-escape syntax), UNICODE (raw-unicode-escape)
// and the decimal memo keys of GET and PUT.

// maxDecimalDigits bounds INT and LONG text. Converting decimal text to a
// big integer costs time quadratic in its length, so a hostile pickle could
// otherwise make the decoder spin; Python 3 refuses more than 4300 digits
// for the same reason (sys.int_info.default_max_str_digits).
const maxDecimalDigits = 4300

// trimSpace strips the ASCII whitespace Python's int() and float() ignore.
func trimSpace(b []byte) []byte {
	return bytes.TrimSpace(b)
}

// parseInt parses the argument of INT the way CPython does (C strtol with
// base 0, falling back to a Python int): an int64 when it fits, else a
// *big.Int.
func parseInt(line []byte) (Value, error) {
	s := trimSpace(line)
	if len(s) > maxDecimalDigits {
		return nil, badValue("integer of %d digits exceeds the limit of %d", len(s), maxDecimalDigits)
	}
	if n, err := strconv.ParseInt(string(s), 0, 64); err == nil {
		return n, nil
	}
	b, ok := new(big.Int).SetString(string(s), 0)
	if !ok {
		return nil, badValue("invalid integer %s", ReprBytes(line))
	}
	return b, nil
}

// parseLong parses the argument of LONG: an integer with an optional
// trailing 'L' (Python 2 writes one, Python 3 does not).
func parseLong(line []byte) (*big.Int, error) {
	s := trimSpace(line)
	if n := len(s); n > 0 && s[n-1] == 'L' {
		s = s[:n-1]
	}
	if len(s) > maxDecimalDigits {
		return nil, badValue("integer of %d digits exceeds the limit of %d", len(s), maxDecimalDigits)
	}
	b, ok := new(big.Int).SetString(string(s), 0)
	if !ok {
		return nil, badValue("invalid long %s", ReprBytes(line))
	}
	return b, nil
}

// parseFloat parses the argument of FLOAT, which Python writes with repr()
// (so also "inf", "-inf" and "nan").
func parseFloat(line []byte) (float64, error) {
	s := trimSpace(line)
	f, err := strconv.ParseFloat(string(s), 64)
	if err != nil {
		// ParseFloat reports overflow as an error but returns ±Inf,
		// which is what Python's float() yields for "1e999".
		if ne, ok := err.(*strconv.NumError); ok && ne.Err == strconv.ErrRange {
			return f, nil
		}
		return 0, badValue("invalid float %s", ReprBytes(line))
	}
	return f, nil
}

// parseMemoKey parses the decimal key of GET and PUT.
func parseMemoKey(line []byte) (uint64, bool) {
	s := trimSpace(line)
	if len(s) > 0 && s[0] == '+' {
		s = s[1:]
	}
	n, err := strconv.ParseUint(string(s), 10, 64)
	return n, err == nil
}

// unquoteString decodes the argument of STRING: a quoted literal ('..' or
// "..") with the escapes of Python's string-escape codec. The result is a
// new slice.
func unquoteString(line []byte) ([]byte, error) {
	if n := len(line); n < 2 || line[0] != line[n-1] || (line[0] != '\'' && line[0] != '"') {
		return nil, badValue("STRING argument %s is not quoted", ReprBytes(line))
	}
	return stringEscapeDecode(line[1 : len(line)-1])
}

// stringEscapeDecode implements Python's codecs.escape_decode: \\ \' \"
// \a \b \f \n \r \t \v, \ooo (1-3 octal digits, modulo 256), \xhh (exactly
// two hex digits), backslash-newline (a line continuation, dropped); any
// other escape is kept as written, backslash included.
func stringEscapeDecode(s []byte) ([]byte, error) {
	if bytes.IndexByte(s, '\\') < 0 {
		out := make([]byte, len(s))
		copy(out, s)
		return out, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i == len(s) {
			return nil, badValue("trailing \\ in STRING argument")
		}
		switch c = s[i]; c {
		case '\n':
		case '\\', '\'', '"':
			out = append(out, c)
		case 'a':
			out = append(out, '\a')
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, '\v')
		case '0', '1', '2', '3', '4', '5', '6', '7':
			v := int(c - '0')
			for k := 0; k < 2 && i+1 < len(s) && s[i+1] >= '0' && s[i+1] <= '7'; k++ {
				i++
				v = v<<3 | int(s[i]-'0')
			}
			out = append(out, byte(v))
		case 'x':
			if i+2 >= len(s) {
				return nil, badValue("invalid \\x escape in STRING argument")
			}
			hi, ok1 := unhex(s[i+1])
			lo, ok2 := unhex(s[i+2])
			if !ok1 || !ok2 {
				return nil, badValue("invalid \\x escape in STRING argument")
			}
			out = append(out, hi<<4|lo)
			i += 2
		default:
			out = append(out, '\\', c)
		}
	}
	return out, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// rawUnicodeEscapeDecode implements Python's raw-unicode-escape decoding
// of the UNICODE argument: bytes are Latin-1 characters, except \uXXXX and
// \UXXXXXXXX escapes (a backslash that itself follows a backslash escapes
// nothing, so "\\u" stays as written).
//
// Go strings hold UTF-8, which cannot encode a surrogate: a high surrogate
// escape followed by a low one (how Python 2 narrow builds wrote characters
// beyond U+FFFF) becomes the character they encode, and a lone surrogate
// is kept in the 3-byte form Python's "surrogatepass" handler uses, which
// is also what BINUNICODE carries for such a string.
func rawUnicodeEscapeDecode(s []byte) (string, error) {
	if isASCII(s) && bytes.IndexByte(s, '\\') < 0 {
		return string(s), nil
	}
	out := make([]byte, 0, len(s)+len(s)/2)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '\\' || i+1 == len(s) || (s[i+1] != 'u' && s[i+1] != 'U') {
			out = utf8.AppendRune(out, rune(c))
			if c == '\\' && i+1 < len(s) {
				// A backslash not starting an escape is literal,
				// and so is the character after it.
				i++
				out = utf8.AppendRune(out, rune(s[i]))
			}
			continue
		}
		r, n, err := hexRune(s[i+2:], s[i+1])
		if err != nil {
			return "", err
		}
		i += 1 + n
		if r >= 0xd800 && r < 0xdc00 && i+6 < len(s) && s[i+1] == '\\' && s[i+2] == 'u' {
			if lo, n2, err := hexRune(s[i+3:], 'u'); err == nil && lo >= 0xdc00 && lo < 0xe000 {
				r = 0x10000 + (r-0xd800)<<10 + (lo - 0xdc00)
				i += 2 + n2
			}
		}
		out = appendWTF8(out, r)
	}
	return string(out), nil
}

// hexRune parses the 4 (\u) or 8 (\U) hex digits of an escape.
func hexRune(s []byte, kind byte) (rune, int, error) {
	n := 4
	if kind == 'U' {
		n = 8
	}
	if len(s) < n {
		return 0, 0, badValue("truncated \\%cXXXX escape in UNICODE argument", kind)
	}
	var r uint32
	for _, c := range s[:n] {
		h, ok := unhex(c)
		if !ok {
			return 0, 0, badValue("invalid \\%c escape in UNICODE argument", kind)
		}
		r = r<<4 | uint32(h)
	}
	if r > utf8.MaxRune {
		return 0, 0, badValue("\\U%08x out of range in UNICODE argument", r)
	}
	return rune(r), n, nil
}

// appendWTF8 appends r as UTF-8, or a surrogate in the generalized UTF-8
// form (ED A0 80 ... ED BF BF) that utf8.AppendRune would replace.
func appendWTF8(out []byte, r rune) []byte {
	if r >= 0xd800 && r < 0xe000 {
		return append(out, 0xed, byte(0x80|(r>>6)&0x3f), byte(0x80|r&0x3f))
	}
	return utf8.AppendRune(out, r)
}

// float64FromBits decodes BINFLOAT's big-endian IEEE 754 double.
func float64FromBits(b []byte) float64 {
	return math.Float64frombits(binary.BigEndian.Uint64(b))
}

// longFromBytes decodes LONG1/LONG4's little-endian two's-complement
// integer.
func longFromBytes(b []byte) *big.Int {
	n := len(b)
	be := make([]byte, n)
	for i, c := range b {
		be[n-1-i] = c
	}
	v := new(big.Int).SetBytes(be)
	if n > 0 && b[n-1]&0x80 != 0 {
		v.Sub(v, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
	}
	return v
}
