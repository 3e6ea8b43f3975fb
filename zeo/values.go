package zeo

import (
	"fmt"
	"math"
	"time"

	"github.com/gozeo/gozeo/pickle"
)

// Helpers reading the values servers send. Each generation spells the same
// thing differently (a py2 str, py3 bytes, msgpack bin; a tuple or a list),
// so every read goes through the pickle accessors, which accept them all.

// shapeError reports a reply whose shape is not what the method returns.
type shapeError struct {
	method string
	want   string
	got    pickle.Value
}

func (e *shapeError) Error() string {
	r := pickle.Repr(e.got)
	if len(r) > 200 {
		r = r[:200] + "..."
	}
	return fmt.Sprintf("%s returned %s, expected %s", e.method, r, e.want)
}

func asID(v pickle.Value) ([8]byte, bool) {
	var id [8]byte
	b, ok := pickle.AsBytes(v)
	if !ok || len(b) != 8 {
		return id, false
	}
	copy(id[:], b)
	return id, true
}

func asOID(v pickle.Value) (OID, bool) {
	id, ok := asID(v)
	return OID(id), ok
}

func asTID(v pickle.Value) (TID, bool) {
	id, ok := asID(v)
	return TID(id), ok
}

// asData returns a data record. Records are opaque; they arrive as py2 str,
// bytes or msgpack bin. The result aliases the decoded message, which
// nobody else holds.
func asData(v pickle.Value) ([]byte, bool) {
	if pickle.IsNone(v) {
		return nil, true
	}
	return pickle.AsBytes(v)
}

// asString returns text or a byte string as a Go string: user names,
// descriptions and storage names arrive as either depending on the server.
func asString(v pickle.Value) string {
	if s, ok := pickle.AsText(v); ok {
		return s
	}
	if b, ok := pickle.AsBytes(v); ok {
		return string(b)
	}
	return ""
}

func asInt(v pickle.Value) int64 {
	i, _ := pickle.AsInt(v)
	return i
}

// asTime converts a Python time.time() float to a time.Time.
func asTime(v pickle.Value) time.Time {
	f, ok := pickle.AsFloat(v)
	if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
		return time.Time{}
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC()
}

// toPython converts an extension value given by the caller to the value
// model: the common Go types map to their Python counterparts, anything
// already a pickle value passes through.
func toPython(v any) (pickle.Value, error) {
	switch v := v.(type) {
	case nil:
		return pickle.None, nil
	case string, bool, int64, float64, pickle.Bytes, pickle.ByteString, pickle.Unicode, pickle.Tuple, *pickle.List, *pickle.Dict, pickle.NoneType:
		return v, nil
	case int:
		return int64(v), nil
	case int32:
		return int64(v), nil
	case uint32:
		return int64(v), nil
	case float32:
		return float64(v), nil
	case []byte:
		return pickle.Bytes(v), nil
	case []string:
		l := make(pickle.List, len(v))
		for i, s := range v {
			l[i] = s
		}
		return &l, nil
	case []any:
		l := make(pickle.List, len(v))
		for i, x := range v {
			p, err := toPython(x)
			if err != nil {
				return nil, err
			}
			l[i] = p
		}
		return &l, nil
	case map[string]any:
		return dictFromMap(v)
	}
	return nil, fmt.Errorf("zeo: cannot send a %T to the server (use string, []byte, bool, int, float64, []any or map[string]any)", v)
}

func dictFromMap(m map[string]any) (*pickle.Dict, error) {
	d := pickle.NewDict(len(m))
	for _, k := range sortedKeys(m) {
		p, err := toPython(m[k])
		if err != nil {
			return nil, fmt.Errorf("%w (key %q)", err, k)
		}
		if err := d.Set(k, p); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// fromPython converts a decoded value to plain Go for callers: text and
// byte strings become string or []byte, containers become []any and
// map[string]any; anything else stays as decoded.
func fromPython(v pickle.Value) any {
	switch v := v.(type) {
	case pickle.NoneType:
		return nil
	case string:
		return v
	case pickle.ByteString:
		return string(v)
	case pickle.Bytes:
		return []byte(v)
	case pickle.Tuple:
		out := make([]any, len(v))
		for i, x := range v {
			out[i] = fromPython(x)
		}
		return out
	case *pickle.List:
		if v == nil {
			return nil
		}
		return fromPython(pickle.Tuple(*v))
	case *pickle.Dict:
		return mapFromDict(v)
	}
	return v
}

// mapFromDict converts a dict with text keys; other keys are shown with
// their repr.
func mapFromDict(d *pickle.Dict) map[string]any {
	m := make(map[string]any, d.Len())
	for _, it := range d.Items() {
		k, ok := pickle.AsText(it.Key)
		if !ok {
			k = pickle.Repr(it.Key)
		}
		m[k] = fromPython(it.Value)
	}
	return m
}
