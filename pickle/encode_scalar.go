package pickle

import (
	"encoding/binary"
	"math"
	"math/big"
	"strconv"
	"unicode/utf8"
)

// This file writes scalars: bools, ints, longs, floats, text and byte
// strings, and the memo opcodes.

func (e *Encoder) saveBool(v bool) {
	if e.opts.Protocol >= 2 {
		if v {
			e.buf = append(e.buf, opNewTrue)
		} else {
			e.buf = append(e.buf, opNewFalse)
		}
		return
	}
	// Both Pythons spell bools this way below protocol 2; the "0" makes
	// them differ from the ints 1 and 0.
	if v {
		e.buf = append(e.buf, "I01\n"...)
	} else {
		e.buf = append(e.buf, "I00\n"...)
	}
}

// saveInt writes an int. Within 32 bits, protocols 1+ use BININT1, BININT2
// or BININT. Beyond, Python 2 (whose int is 64-bit) writes INT text at
// every protocol, while Python 3 (one int type) writes a long: LONG1 from
// protocol 2, "L…L" text below.
func (e *Encoder) saveInt(v int64) {
	fits32 := v >= math.MinInt32 && v <= math.MaxInt32
	if e.opts.Protocol >= 1 && fits32 {
		switch {
		case v >= 0 && v <= 0xff:
			e.buf = append(e.buf, opBinInt1, byte(v))
		case v >= 0 && v <= 0xffff:
			e.buf = append(e.buf, opBinInt2, byte(v), byte(v>>8))
		default:
			e.buf = append(e.buf, opBinInt)
			e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(int32(v)))
		}
		return
	}
	if fits32 || e.opts.Dialect == Python2 {
		e.buf = append(e.buf, opInt)
		e.buf = strconv.AppendInt(e.buf, v, 10)
		e.buf = append(e.buf, '\n')
		return
	}
	if e.opts.Protocol >= 2 {
		e.appendLong1Int64(v)
		return
	}
	e.buf = append(e.buf, opLong)
	e.buf = strconv.AppendInt(e.buf, v, 10)
	e.buf = append(e.buf, 'L', '\n')
}

// appendLong1Int64 writes LONG1 with v as little-endian two's complement
// in the fewest bytes (none for 0), as both Pythons do, without a big.Int.
func (e *Encoder) appendLong1Int64(v int64) {
	n := 0
	if v != 0 {
		n = 8
		for n > 1 {
			// Drop the top byte while the rest still sign-extends to v.
			s := uint(8*(n-1) - 1)
			if v>>s == 0 || v>>s == -1 {
				n--
				continue
			}
			break
		}
	}
	e.buf = append(e.buf, opLong1, byte(n))
	for i := 0; i < n; i++ {
		e.buf = append(e.buf, byte(v>>(8*i)))
	}
}

// saveBig writes a *big.Int. In the Python 2 dialect it is a long at any
// size (LONG1/LONG4 from protocol 2, "L…L" below). Python 3 has no long,
// so there a value that fits int64 is written as saveInt writes an int.
func (e *Encoder) saveBig(v *big.Int) {
	if e.opts.Dialect == Python3 && v.IsInt64() {
		e.saveInt(v.Int64())
		return
	}
	if e.opts.Protocol < 2 {
		e.buf = append(e.buf, opLong)
		e.buf = v.Append(e.buf, 10)
		e.buf = append(e.buf, 'L', '\n')
		return
	}
	b := longBytes(v)
	if len(b) <= 0xff {
		e.buf = append(e.buf, opLong1, byte(len(b)))
	} else {
		e.buf = append(e.buf, opLong4)
		e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(len(b)))
	}
	e.buf = append(e.buf, b...)
}

// longBytes returns v in little-endian two's complement, in the fewest
// bytes that hold its sign (none for 0).
func longBytes(v *big.Int) []byte {
	if v.Sign() == 0 {
		return nil
	}
	// n bytes hold [-2^(8n-1), 2^(8n-1)).
	n := v.BitLen()/8 + 1
	if v.Sign() < 0 {
		// -2^(8(n-1)-1) itself fits one byte shorter.
		m := new(big.Int).Neg(v)
		m.Sub(m, big.NewInt(1))
		n = m.BitLen()/8 + 1
	}
	t := new(big.Int).Set(v)
	if v.Sign() < 0 {
		t.Add(t, new(big.Int).Lsh(big.NewInt(1), uint(8*n)))
	}
	be := t.FillBytes(make([]byte, n))
	for i, j := 0, len(be)-1; i < j; i, j = i+1, j-1 {
		be[i], be[j] = be[j], be[i]
	}
	return be
}

// saveFloat writes BINFLOAT from protocol 1 and FLOAT text at protocol 0:
// Python 3 writes repr(x), cPickle 2.7 writes "%.17g".
func (e *Encoder) saveFloat(v float64) {
	if e.opts.Protocol >= 1 {
		e.buf = append(e.buf, opBinFloat)
		e.buf = binary.BigEndian.AppendUint64(e.buf, math.Float64bits(v))
		return
	}
	e.buf = append(e.buf, opFloat)
	switch {
	case math.IsInf(v, 1):
		e.buf = append(e.buf, "inf"...)
	case math.IsInf(v, -1):
		e.buf = append(e.buf, "-inf"...)
	case math.IsNaN(v):
		e.buf = append(e.buf, "nan"...)
	case e.opts.Dialect == Python2:
		// Go's %g with a precision drops trailing zeros and writes a
		// two-digit exponent, exactly like C's %.17g.
		e.buf = strconv.AppendFloat(e.buf, v, 'g', 17, 64)
	default:
		e.buf = appendFloatRepr(e.buf, v)
	}
	e.buf = append(e.buf, '\n')
}

// appendFloatRepr appends Python 3's repr of a finite float: the shortest
// digits that read back the same, in positional notation with at least one
// decimal ("1.0", "0.0001", "1000000000000000.0") when the decimal exponent
// is in [-4, 16), else as d.ddde±XX ("1e+16", "1e-05", "1.5e+300").
func appendFloatRepr(dst []byte, v float64) []byte {
	var tmp [32]byte
	s := strconv.AppendFloat(tmp[:0], v, 'e', -1, 64) // [-]d[.ddd]e±XX
	neg := s[0] == '-'
	if neg {
		s = s[1:]
	}
	epos := 0
	for s[epos] != 'e' {
		epos++
	}
	mant, exps := s[:epos], s[epos+1:]
	exp := 0
	for _, c := range exps[1:] {
		exp = exp*10 + int(c-'0')
	}
	if exps[0] == '-' {
		exp = -exp
	}
	var digits [24]byte
	nd := 0
	for _, c := range mant {
		if c != '.' {
			digits[nd] = c
			nd++
		}
	}
	if neg {
		dst = append(dst, '-')
	}
	if exp < -4 || exp >= 16 {
		dst = append(dst, digits[0])
		if nd > 1 {
			dst = append(dst, '.')
			dst = append(dst, digits[1:nd]...)
		}
		dst = append(dst, 'e')
		if exp < 0 {
			dst = append(dst, '-')
			exp = -exp
		} else {
			dst = append(dst, '+')
		}
		if exp < 10 {
			dst = append(dst, '0')
		}
		return strconv.AppendInt(dst, int64(exp), 10)
	}
	if exp < 0 {
		dst = append(dst, '0', '.')
		for i := 0; i < -exp-1; i++ {
			dst = append(dst, '0')
		}
		return append(dst, digits[:nd]...)
	}
	// exp >= 0: exp+1 digits before the point.
	if nd <= exp+1 {
		dst = append(dst, digits[:nd]...)
		for i := nd; i < exp+1; i++ {
			dst = append(dst, '0')
		}
		return append(dst, '.', '0')
	}
	dst = append(dst, digits[:exp+1]...)
	dst = append(dst, '.')
	return append(dst, digits[exp+1:nd]...)
}

// saveByteString writes a py2 str: STRING (repr form) at protocol 0,
// SHORT_BINSTRING or BINSTRING above. typ names the Go type for errors
// (the value itself is not passed: boxing it would allocate).
func saveByteString[S ~string | ~[]byte](e *Encoder, s S, typ string) error {
	if e.opts.Protocol == 0 {
		e.buf = append(e.buf, opString)
		e.buf = appendPy2StrRepr(e.buf, s)
		e.buf = append(e.buf, '\n')
		e.memoPut()
		return nil
	}
	switch n := len(s); {
	case n <= 0xff:
		e.buf = append(e.buf, opShortBinString, byte(n))
	case n <= math.MaxInt32: // cPickle reads the length as signed
		e.buf = append(e.buf, opBinString)
		e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(n))
	default:
		return e.failType(typ, "a byte string of %d bytes is over the 2 GiB a BINSTRING holds", n)
	}
	e.buf = append(e.buf, s...)
	if !e.memoSkipsShort(len(s)) {
		e.memoPut()
	}
	return nil
}

// appendPy2StrRepr appends Python 2's repr of a str: single quotes unless
// the string holds a ' and no ", backslash escapes for the quote, \\, \t,
// \n, \r, and \xNN for other bytes outside printable ASCII.
func appendPy2StrRepr[S ~string | ~[]byte](dst []byte, s S) []byte {
	quote := byte('\'')
	hasSingle, hasDouble := false, false
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\'':
			hasSingle = true
		case '"':
			hasDouble = true
		}
	}
	if hasSingle && !hasDouble {
		quote = '"'
	}
	const hexdig = "0123456789abcdef"
	dst = append(dst, quote)
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == quote || c == '\\':
			dst = append(dst, '\\', c)
		case c == '\t':
			dst = append(dst, '\\', 't')
		case c == '\n':
			dst = append(dst, '\\', 'n')
		case c == '\r':
			dst = append(dst, '\\', 'r')
		case c < ' ' || c >= 0x7f:
			dst = append(dst, '\\', 'x', hexdig[c>>4], hexdig[c&15])
		default:
			dst = append(dst, c)
		}
	}
	return append(dst, quote)
}

// saveText writes text: UNICODE (raw-unicode-escape) at protocol 0,
// BINUNICODE (UTF-8) above. typ names the Go type for errors.
func (e *Encoder) saveText(s string, typ string) error {
	if e.opts.Protocol == 0 {
		e.buf = append(e.buf, opUnicode)
		var ok bool
		if e.buf, ok = e.appendRawUnicodeEscape(e.buf, s); !ok {
			return e.failType(typ, "text is not UTF-8: %q", truncateForError(s))
		}
		e.buf = append(e.buf, '\n')
		e.memoPut()
		return nil
	}
	if !validPyText(s) {
		return e.failType(typ, "text is not UTF-8: %q", truncateForError(s))
	}
	if uint64(len(s)) > math.MaxUint32 {
		return e.failType(typ, "text of %d bytes is over the 4 GiB a BINUNICODE holds", len(s))
	}
	e.buf = append(e.buf, opBinUnicode)
	e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(len(s)))
	e.buf = append(e.buf, s...)
	if !e.memoSkipsShort(utf8.RuneCountInString(s)) {
		e.memoPut()
	}
	return nil
}

func truncateForError(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// appendRawUnicodeEscape appends s in the raw-unicode-escape form of a
// protocol 0 UNICODE opcode: code points below 256 as one byte (Latin-1),
// \uXXXX and \UXXXXXXXX above. Backslash and newline are escaped too (the
// line would end or the escape be misread otherwise), and Python 3 also
// escapes NUL, CR and ^Z; cPickle 2.7 leaves those raw.
func (e *Encoder) appendRawUnicodeEscape(dst []byte, s string) ([]byte, bool) {
	py3 := e.opts.Dialect == Python3
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c == '\\' || c == '\n' || (py3 && (c == 0 || c == '\r' || c == 0x1a)) {
				dst = appendUEscape(dst, 'u', rune(c), 4)
			} else {
				dst = append(dst, c)
			}
			i++
			continue
		}
		r, size := decodePyRune(s[i:])
		if r < 0 {
			return dst, false
		}
		switch {
		case r >= 0x10000:
			dst = appendUEscape(dst, 'U', r, 8)
		case r >= 0x100:
			dst = appendUEscape(dst, 'u', r, 4)
		default:
			dst = append(dst, byte(r))
		}
		i += size
	}
	return dst, true
}

// appendLatin1RawUnicodeEscape appends raw-unicode-escape of the text
// whose code points are the bytes of b (Latin-1 decoding), as the protocol
// 0 argument of _codecs.encode(text, 'latin1') and bytearray(text,
// 'latin-1').
func (e *Encoder) appendLatin1RawUnicodeEscape(dst []byte, b []byte) []byte {
	py3 := e.opts.Dialect == Python3
	for _, c := range b {
		if c == '\\' || c == '\n' || (py3 && (c == 0 || c == '\r' || c == 0x1a)) {
			dst = appendUEscape(dst, 'u', rune(c), 4)
		} else {
			dst = append(dst, c)
		}
	}
	return dst
}

func appendUEscape(dst []byte, kind byte, r rune, width int) []byte {
	const hexdig = "0123456789abcdef"
	dst = append(dst, '\\', kind)
	for i := width - 1; i >= 0; i-- {
		dst = append(dst, hexdig[(r>>(4*i))&15])
	}
	return dst
}

// decodePyRune decodes one code point of s as UTF-8, also accepting the
// 3-byte encoding of a lone surrogate (U+D800–U+DFFF), which Python's
// pickles carry ("surrogatepass") and which Go's decoder rejects. It
// returns -1 for any other invalid sequence.
func decodePyRune(s string) (rune, int) {
	r, size := utf8.DecodeRuneInString(s)
	if r != utf8.RuneError || size != 1 {
		return r, size
	}
	if len(s) >= 3 && s[0] == 0xed && s[1] >= 0xa0 && s[1] <= 0xbf && s[2] >= 0x80 && s[2] <= 0xbf {
		return 0xd000 | rune(s[1]&0x3f)<<6 | rune(s[2]&0x3f), 3
	}
	return -1, 1
}

// validPyText reports whether s is UTF-8, lone surrogates allowed.
func validPyText(s string) bool {
	if utf8.ValidString(s) {
		return true
	}
	for i := 0; i < len(s); {
		r, size := decodePyRune(s[i:])
		if r < 0 {
			return false
		}
		i += size
	}
	return true
}

// saveBytes writes Python 3 bytes: SHORT_BINBYTES/BINBYTES at protocol 3;
// below, as CPython 3 does, _codecs.encode(text, 'latin1') by REDUCE, or
// bytes() for an empty value.
func (e *Encoder) saveBytes(b Bytes) error {
	if e.opts.Protocol >= 3 {
		if len(b) <= 0xff {
			e.buf = append(e.buf, opShortBinBytes, byte(len(b)))
		} else if uint64(len(b)) <= math.MaxUint32 {
			e.buf = append(e.buf, opBinBytes)
			e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(len(b)))
		} else {
			return e.fail(b, "bytes of %d bytes are over the 4 GiB a BINBYTES holds", len(b))
		}
		e.buf = append(e.buf, b...)
		e.memoPut()
		return nil
	}
	if len(b) == 0 {
		if err := e.saveGlobal(Global{"builtins", "bytes"}); err != nil {
			return err
		}
		e.appendEmptyTuple()
	} else {
		if err := e.saveGlobal(Global{"_codecs", "encode"}); err != nil {
			return err
		}
		e.beginTuple(2)
		if err := e.saveLatin1Text(b); err != nil {
			return err
		}
		if err := e.saveText("latin1", "string"); err != nil {
			return err
		}
		e.endTuple(2)
	}
	e.buf = append(e.buf, opReduce)
	e.memoPut()
	return nil
}

// saveLatin1Text writes the text whose code points are the bytes of b, so
// that text.encode('latin-1') gives b back.
func (e *Encoder) saveLatin1Text(b []byte) error {
	if e.opts.Protocol == 0 {
		e.buf = append(e.buf, opUnicode)
		e.buf = e.appendLatin1RawUnicodeEscape(e.buf, b)
		e.buf = append(e.buf, '\n')
		e.memoPut()
		return nil
	}
	n := len(b)
	for _, c := range b {
		if c >= 0x80 {
			n++ // two UTF-8 bytes
		}
	}
	if uint64(n) > math.MaxUint32 {
		return e.fail(Bytes(b), "bytes of %d bytes are over the 4 GiB a BINUNICODE holds", len(b))
	}
	e.buf = append(e.buf, opBinUnicode)
	e.buf = binary.LittleEndian.AppendUint32(e.buf, uint32(n))
	for _, c := range b {
		if c < 0x80 {
			e.buf = append(e.buf, c)
		} else {
			e.buf = append(e.buf, 0xc0|c>>6, 0x80|c&0x3f)
		}
	}
	e.memoPut()
	return nil
}

// memoPut writes a PUT for the value just written, in Memo mode, taking
// the next index. Values without an identity in Go (strings, tuples) get
// a PUT but never a GET: that keeps the numbering of CPython's memo.
func (e *Encoder) memoPut() {
	if !e.opts.Memo {
		return
	}
	e.appendMemoIndex(opPut, opBinPut, opLongBinPut, e.nextMemoIndex())
}

// nextMemoIndex takes the next memo index. cPickle 2.7 numbers its memo
// from 1, CPython 3 from 0.
func (e *Encoder) nextMemoIndex() uint32 {
	if e.memoNext == 0 && e.opts.Dialect == Python2 {
		e.memoNext = 1
	}
	i := e.memoNext
	e.memoNext++
	return i
}

// memoize is memoPut for a value with an identity: key (a pointer or a
// Global) is remembered so that the value met again is written as a GET.
func (e *Encoder) memoize(key any) {
	if !e.opts.Memo {
		return
	}
	if e.memo == nil {
		e.memo = make(map[any]uint32)
	}
	i := e.nextMemoIndex()
	e.memo[key] = i
	e.appendMemoIndex(opPut, opBinPut, opLongBinPut, i)
}

// memoGet writes a GET and reports true when key is in the memo.
func (e *Encoder) memoGet(key any) bool {
	if !e.opts.Memo || e.memo == nil {
		return false
	}
	i, ok := e.memo[key]
	if !ok {
		return false
	}
	e.appendMemoIndex(opGet, opBinGet, opLongBinGet, i)
	return true
}

// appendMemoIndex writes a GET or PUT of memo index i: the text opcode at
// protocol 0, else the one-byte form when i fits, else the four-byte one.
func (e *Encoder) appendMemoIndex(text, short, long byte, i uint32) {
	switch {
	case e.opts.Protocol == 0:
		e.buf = append(e.buf, text)
		e.buf = strconv.AppendUint(e.buf, uint64(i), 10)
		e.buf = append(e.buf, '\n')
	case i <= 0xff:
		e.buf = append(e.buf, short, byte(i))
	default:
		e.buf = append(e.buf, long)
		e.buf = binary.LittleEndian.AppendUint32(e.buf, i)
	}
}

// AppendFloatRepr appends Python 3's repr of v: "3.25", "1e+16", "inf",
// "-inf", "nan". It is the float of the JSON view of ZODB data, which
// names a float by its repr so that any reader gets the same double back.
func AppendFloatRepr(dst []byte, v float64) []byte {
	switch {
	case math.IsNaN(v):
		return append(dst, "nan"...)
	case math.IsInf(v, 1):
		return append(dst, "inf"...)
	case math.IsInf(v, -1):
		return append(dst, "-inf"...)
	case v == 0 && math.Signbit(v):
		return append(dst, "-0.0"...)
	}
	return appendFloatRepr(dst, v)
}
