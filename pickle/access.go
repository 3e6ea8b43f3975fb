package pickle

import (
	"math"
	"math/big"
)

// IsNone reports whether v is Python None.
func IsNone(v Value) bool {
	_, ok := v.(NoneType)
	return ok
}

// AsBytes returns the bytes of a py2 str, py3 bytes or bytearray. It does
// not copy: the result may alias the decoder's input.
func AsBytes(v Value) ([]byte, bool) {
	switch v := v.(type) {
	case ByteString:
		return v, true
	case Bytes:
		return v, true
	case ByteArray:
		return v, true
	}
	return nil, false
}

// AsText returns text, or a py2 str taken as its bytes: the native string of
// either Python (method names, storage names, dict keys).
func AsText(v Value) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case Unicode:
		return string(v), true
	case ByteString:
		return string(v), true
	}
	return "", false
}

// AsInt returns an int, long, or bool as an int64 if it fits.
func AsInt(v Value) (int64, bool) {
	switch v := v.(type) {
	case int64:
		return v, true
	case int:
		return int64(v), true
	case bool:
		if v {
			return 1, true
		}
		return 0, true
	case *big.Int:
		if v.IsInt64() {
			return v.Int64(), true
		}
	}
	return 0, false
}

// AsFloat returns a float, or an int or long converted to float.
func AsFloat(v Value) (float64, bool) {
	switch v := v.(type) {
	case float64:
		return v, true
	case *big.Int:
		f, _ := new(big.Float).SetInt(v).Float64()
		return f, !math.IsInf(f, 0)
	}
	if i, ok := AsInt(v); ok {
		return float64(i), true
	}
	return 0, false
}

// AsBool returns Python's truth value of a bool, int or None.
func AsBool(v Value) (bool, bool) {
	switch v := v.(type) {
	case bool:
		return v, true
	case NoneType:
		return false, true
	}
	if i, ok := AsInt(v); ok {
		return i != 0, true
	}
	return false, false
}

// AsTuple returns the items of a tuple or a list.
func AsTuple(v Value) ([]Value, bool) {
	switch v := v.(type) {
	case Tuple:
		return v, true
	case *List:
		if v == nil {
			return nil, false
		}
		return *v, true
	}
	return nil, false
}

// AsDict returns v as a *Dict.
func AsDict(v Value) (*Dict, bool) {
	d, ok := v.(*Dict)
	return d, ok && d != nil
}
