package btree

import (
	"errors"
	"fmt"
	"math"
	"math/big"

	"github.com/gozeo/gozeo/pickle"
)

// ErrType is wrapped by every *TypeError.
var ErrType = errors.New("wrong type for this BTrees family")

// TypeError reports a key or value a family cannot hold: a string for an
// integer key, an integer out of its range, a 3-byte fs key.
type TypeError struct {
	Type  DataType
	Value pickle.Value
	// What is "key" or "value".
	What string
}

func (e *TypeError) Error() string {
	return fmt.Sprintf("btree: %s %s is not a valid %s", e.What, short(e.Value), e.Type)
}

// Unwrap returns ErrType.
func (e *TypeError) Unwrap() error { return ErrType }

var (
	minInt32  = big.NewInt(math.MinInt32)
	maxInt32  = big.NewInt(math.MaxInt32)
	maxUint32 = big.NewInt(math.MaxUint32)
	minInt64  = big.NewInt(math.MinInt64)
	maxInt64  = big.NewInt(math.MaxInt64)
	maxUint64 = new(big.Int).SetUint64(math.MaxUint64)
	zero      = big.NewInt(0)
)

// bounds returns the inclusive range of an integer type.
func (t DataType) bounds() (lo, hi *big.Int) {
	switch t {
	case Int32:
		return minInt32, maxInt32
	case Uint32:
		return zero, maxUint32
	case Int64:
		return minInt64, maxInt64
	case Uint64:
		return zero, maxUint64
	}
	return nil, nil
}

// holdsInt64 reports whether the integer type's range includes v.
func (t DataType) holdsInt64(v int64) bool {
	switch t {
	case Int32:
		return v >= math.MinInt32 && v <= math.MaxInt32
	case Uint32:
		return v >= 0 && v <= math.MaxUint32
	case Int64:
		return true
	case Uint64:
		return v >= 0
	}
	return false
}

// toBig returns an integer Go or pickle value as a big.Int.
func toBig(v any) (*big.Int, bool) {
	switch v := v.(type) {
	case int64:
		return big.NewInt(v), true
	case int:
		return big.NewInt(int64(v)), true
	case int32:
		return big.NewInt(int64(v)), true
	case int16:
		return big.NewInt(int64(v)), true
	case int8:
		return big.NewInt(int64(v)), true
	case uint64:
		return new(big.Int).SetUint64(v), true
	case uint:
		return new(big.Int).SetUint64(uint64(v)), true
	case uint32:
		return big.NewInt(int64(v)), true
	case uint16:
		return big.NewInt(int64(v)), true
	case uint8:
		return big.NewInt(int64(v)), true
	case *big.Int:
		if v != nil {
			return v, true
		}
	}
	return nil, false
}

// coerce converts what a Go caller passes as a key or value into what the
// family stores, as BTrees converts arguments: integers of any Go type
// within the type's range (an int64, or a *big.Int beyond it), a float
// rounded to C float for F values, []byte of the right length for fs.
// Object keys must be orderable (see Compare); object values are taken as
// they are.
func (t DataType) coerce(v any, what string) (pickle.Value, error) {
	c, ok := t.convert(v)
	if !ok {
		return nil, &TypeError{Type: t, Value: v, What: what}
	}
	if t == Object && what == "key" {
		if err := orderable(c); err != nil {
			return nil, fmt.Errorf("btree: key %s: %w", short(v), err)
		}
	}
	return c, nil
}

// convert is coerce without the key check: false for a value the type
// cannot hold.
func (t DataType) convert(v any) (pickle.Value, bool) {
	switch t {
	case Object:
		switch x := v.(type) {
		case nil:
			return nil, false
		case int:
			return int64(x), true
		case []byte:
			return pickle.Bytes(x), true
		}
		return v, true
	case Int32, Uint32, Int64, Uint64:
		switch x := v.(type) { // the common cases, without a big.Int
		case int64:
			return x, t.holdsInt64(x)
		case int:
			return int64(x), t.holdsInt64(int64(x))
		}
		b, ok := toBig(v)
		if !ok {
			return nil, false
		}
		lo, hi := t.bounds()
		if b.Cmp(lo) < 0 || b.Cmp(hi) > 0 {
			return nil, false
		}
		if b.IsInt64() {
			return b.Int64(), true
		}
		return new(big.Int).Set(b), true
	case Float32:
		var f float64
		switch x := v.(type) {
		case float64:
			f = x
		case float32:
			f = float64(x)
		default:
			b, ok := toBig(v)
			if !ok {
				return nil, false
			}
			f, _ = new(big.Float).SetInt(b).Float64()
		}
		return float64(float32(f)), true
	case Bytes2, Bytes6:
		var p []byte
		switch x := v.(type) {
		case []byte:
			p = x
		case pickle.Bytes:
			p = x
		case pickle.ByteString:
			p = x
		default:
			return nil, false
		}
		if len(p) != t.size() {
			return nil, false
		}
		return pickle.Bytes(append([]byte(nil), p...)), true
	}
	return nil, false
}

func (t DataType) size() int {
	if t == Bytes2 {
		return 2
	}
	return 6
}

// check reports whether a decoded value is one the type stores: what
// BTrees' __setstate__ would accept.
func (t DataType) check(v pickle.Value) bool {
	switch t {
	case Object:
		return v != nil
	case Int32, Uint32, Int64, Uint64:
		switch v := v.(type) {
		case bool:
			return true
		case int64: // what decoding gives: no big.Int for the common case
			return t.holdsInt64(v)
		}
		b, ok := toBig(v)
		if !ok {
			return false
		}
		lo, hi := t.bounds()
		return b.Cmp(lo) >= 0 && b.Cmp(hi) <= 0
	case Float32:
		switch v.(type) {
		case float64, int64, *big.Int, bool:
			return true
		}
		return false
	case Bytes2, Bytes6:
		p, ok := pickle.AsBytes(v)
		return ok && len(p) == t.size()
	}
	return false
}

// sameValue is BTrees' VALUE_SAME: setting an integer or float value to the
// one it already has changes nothing. Object and fs values always count as
// changed.
func (t DataType) sameValue(a, b pickle.Value) bool {
	switch t {
	case Object, Bytes2, Bytes6:
		return false
	}
	c, err := compareNumbers(a, b)
	return err == nil && c == 0
}
