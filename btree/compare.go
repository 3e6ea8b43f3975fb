package btree

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/gozeo/gozeo/pickle"
)

// ErrUnorderable is wrapped by every *CompareError: two keys that Python
// could not order, or that this package does not order the way Python
// would, so that no answer is given rather than a wrong one.
var ErrUnorderable = errors.New("keys cannot be ordered")

// CompareError reports two keys that cannot be ordered (see Compare).
type CompareError struct {
	A, B   pickle.Value
	Reason string
}

func (e *CompareError) Error() string {
	return fmt.Sprintf("btree: cannot order %s and %s: %s", short(e.A), short(e.B), e.Reason)
}

// Unwrap returns ErrUnorderable.
func (e *CompareError) Unwrap() error { return ErrUnorderable }

// short is the repr of a key, cut to a length that keeps errors readable.
func short(v pickle.Value) string {
	s := pickle.Repr(v)
	if len(s) > 60 {
		s = s[:57] + "..."
	}
	return s
}

// keyClass groups the values that Python orders among themselves.
type keyClass uint8

const (
	classOther keyClass = iota
	classNone
	classNumber // bool, int, long, float
	classText   // py3 str, py2 unicode
	classBytes  // py3 bytes, py2 str (bytearray too)
	classTuple
	classList
)

func classify(v pickle.Value) keyClass {
	switch v.(type) {
	case pickle.NoneType:
		return classNone
	case bool, int64, int, *big.Int, float64:
		return classNumber
	case string, pickle.Unicode:
		return classText
	case pickle.ByteString, pickle.Bytes, pickle.ByteArray:
		return classBytes
	case pickle.Tuple:
		return classTuple
	case *pickle.List:
		return classList
	}
	return classOther
}

// Compare orders two keys as BTrees does under Python, and returns -1, 0
// or +1. BTrees compares object keys with Python's < and ==, except that
// None sorts before every other key. What is supported:
//
//   - numbers: bool, int, long (any size) and float compare by value,
//     exactly, as Python does (2**64 > 1.8e19, 1 == 1.0); a NaN is
//     unorderable;
//   - text (py3 str, py2 unicode) by code point;
//   - bytes (py3 bytes, py2 str) byte by byte;
//   - a py2 str against text as Python 2 does: the str is decoded as
//     ASCII; a non-ASCII py2 str against text is unorderable (Python 2
//     raises UnicodeDecodeError);
//   - tuples (and lists) item by item, the shorter first when one is a
//     prefix of the other;
//   - None: before everything at the top level; inside a tuple only equal
//     to None (Python 3 raises TypeError for None < 1).
//
// Anything else is a *CompareError wrapping ErrUnorderable: text against
// py3 bytes (a TypeError in Python 3), numbers against strings, and every
// other mix that Python 2 ordered by type name (deliberately not
// imitated: such trees are rare and the rule was an accident of CPython
// 2), and objects (persistent objects, instances) whose order is
// defined by their own classes.
func Compare(a, b pickle.Value) (int, error) {
	// The keys of most trees: ints, and text, of one type on both sides.
	switch a := a.(type) {
	case int64:
		if b, ok := b.(int64); ok {
			return cmp.Compare(a, b), nil
		}
	case pickle.Unicode:
		if b, ok := b.(pickle.Unicode); ok {
			return strings.Compare(string(a), string(b)), nil
		}
	}
	ca, cb := classify(a), classify(b)
	if ca == classNone || cb == classNone {
		switch {
		case ca == cb:
			return 0, nil
		case ca == classNone:
			return -1, nil
		}
		return 1, nil
	}
	budget := maxCompareItems
	return compareInner(a, b, ca, cb, 0, &budget)
}

// maxCompareItems bounds the items one comparison visits. Keys are small;
// a hostile key of tuples sharing their items (a few hundred bytes of
// pickle can make a DAG whose walk doubles with each level) would
// otherwise keep a CPU busy indefinitely.
const maxCompareItems = 1 << 16

// tooComplex is the reason a comparison over its budget gives.
const tooComplex = "keys too complex to compare (more than 65536 items)"

// sameSeq reports whether two tuples or lists are one and the same value
// (a decoded pickle shares what its memo shares): equal, as Python finds
// identical items equal, without walking them.
func sameSeq(a, b []pickle.Value) bool {
	return len(a) == len(b) && (len(a) == 0 || &a[0] == &b[0])
}

// maxKeyDepth bounds the nesting of tuple keys, so a hostile state cannot
// exhaust the stack.
const maxKeyDepth = 100

func compareInner(a, b pickle.Value, ca, cb keyClass, depth int, budget *int) (int, error) {
	if *budget--; *budget < 0 {
		return 0, &CompareError{A: a, B: b, Reason: tooComplex}
	}
	if ca != cb {
		return compareMixed(a, b, ca, cb)
	}
	switch ca {
	case classNone:
		return 0, nil
	case classNumber:
		return compareNumbers(a, b)
	case classText:
		as, _ := pickle.AsText(a)
		bs, _ := pickle.AsText(b)
		// UTF-8 byte order is code point order.
		return strings.Compare(as, bs), nil
	case classBytes:
		ab, _ := pickle.AsBytes(a)
		bb, _ := pickle.AsBytes(b)
		return bytes.Compare(ab, bb), nil
	case classTuple, classList:
		if depth >= maxKeyDepth {
			return 0, &CompareError{A: a, B: b, Reason: "keys nested too deeply"}
		}
		at, _ := pickle.AsTuple(a)
		bt, _ := pickle.AsTuple(b)
		if sameSeq(at, bt) {
			return 0, nil
		}
		for i := 0; i < len(at) && i < len(bt); i++ {
			c, err := compareInner(at[i], bt[i], classify(at[i]), classify(bt[i]), depth+1, budget)
			if err != nil {
				return 0, err
			}
			if c != 0 {
				return c, nil
			}
		}
		return cmp.Compare(len(at), len(bt)), nil
	}
	return 0, &CompareError{A: a, B: b, Reason: "objects order by their own classes, unknown here"}
}

// compareMixed orders keys of different classes: only a py2 str against
// text has an order (Python 2's ASCII coercion).
func compareMixed(a, b pickle.Value, ca, cb keyClass) (int, error) {
	if ca == classBytes && cb == classText {
		c, err := compareMixed(b, a, cb, ca)
		return -c, err
	}
	if ca == classText && cb == classBytes {
		if bs, ok := b.(pickle.ByteString); ok {
			if !isASCII(bs) {
				return 0, &CompareError{A: a, B: b, Reason: "a non-ASCII py2 str and unicode (Python 2 raises UnicodeDecodeError)"}
			}
			as, _ := pickle.AsText(a)
			return strings.Compare(as, string(bs)), nil
		}
		return 0, &CompareError{A: a, B: b, Reason: "text and bytes (Python 3 raises TypeError)"}
	}
	if ca == classNone || cb == classNone {
		return 0, &CompareError{A: a, B: b, Reason: "None inside a key orders only against None"}
	}
	return 0, &CompareError{A: a, B: b, Reason: "different types"}
}

func isASCII(p []byte) bool {
	for _, c := range p {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// compareNumbers compares two Python numbers exactly: an int against a
// float is not rounded to float first (Python compares 2**53+1 > 2.0**53).
func compareNumbers(a, b pickle.Value) (int, error) {
	if ai, ok := smallInt(a); ok {
		if bi, ok := smallInt(b); ok {
			return cmp.Compare(ai, bi), nil
		}
	}
	af, aIsFloat := a.(float64)
	bf, bIsFloat := b.(float64)
	if (aIsFloat && math.IsNaN(af)) || (bIsFloat && math.IsNaN(bf)) {
		return 0, &CompareError{A: a, B: b, Reason: "NaN has no order"}
	}
	if aIsFloat && bIsFloat {
		switch {
		case af < bf:
			return -1, nil
		case af > bf:
			return 1, nil
		}
		return 0, nil
	}
	return exact(a).Cmp(exact(b)), nil
}

// smallInt returns an int-like number (bool, int, a long that fits) as int64.
func smallInt(v pickle.Value) (int64, bool) {
	if _, ok := v.(float64); ok {
		return 0, false
	}
	return pickle.AsInt(v)
}

// exact returns a number as a big.Float with enough precision to hold it
// exactly (float64 and every int; ±Inf stays infinite).
func exact(v pickle.Value) *big.Float {
	switch v := v.(type) {
	case float64:
		return new(big.Float).SetFloat64(v)
	case *big.Int:
		return new(big.Float).SetInt(v)
	}
	i, _ := pickle.AsInt(v)
	return new(big.Float).SetInt64(i)
}

// orderable reports, as a *CompareError, a key that no comparison could
// order: an object of an unknown class, NaN, or more than
// maxCompareItems items. It is what a key passed to a write is
// checked with, before it reaches a tree.
func orderable(v pickle.Value) error {
	budget := maxCompareItems
	return orderableInner(v, 0, &budget)
}

func orderableInner(v pickle.Value, depth int, budget *int) error {
	if *budget--; *budget < 0 {
		return &CompareError{A: v, B: v, Reason: tooComplex}
	}
	switch c := classify(v); c {
	case classTuple, classList:
		if depth >= maxKeyDepth {
			return &CompareError{A: v, B: v, Reason: "keys nested too deeply"}
		}
		items, _ := pickle.AsTuple(v)
		for _, it := range items {
			if err := orderableInner(it, depth+1, budget); err != nil {
				return err
			}
		}
		return nil
	case classOther:
		return &CompareError{A: v, B: v, Reason: "objects order by their own classes, unknown here"}
	default:
		_, err := compareInner(v, v, c, c, depth, budget)
		return err
	}
}
