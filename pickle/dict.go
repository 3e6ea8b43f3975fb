package pickle

import (
	"errors"
	"fmt"
	"math"
	"math/big"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ErrUnhashable is returned when a list, dict, mutable set or bytearray is
// used as a dict key or set member, which Python refuses too.
var ErrUnhashable = errors.New("pickle: unhashable value")

// DictItem is one key/value pair of a [Dict].
type DictItem struct {
	Key   Value
	Value Value
}

// Dict is a Python dict. It keeps insertion order (the order of the pickle)
// and accepts any hashable key, compared the way Python compares them:
// 1, 1.0 and True are one key, and so are a py2 str and a unicode string
// with the same ASCII text.
type Dict struct {
	items []DictItem
	index map[string]int // hash key -> position in items
}

// NewDict returns an empty dict with room for n items.
func NewDict(n int) *Dict {
	return &Dict{items: make([]DictItem, 0, n)}
}

// DictOf builds a dict from alternating keys and values; it panics on an
// odd count or an unhashable key, so it is meant for literals in code.
func DictOf(kv ...Value) *Dict {
	if len(kv)%2 != 0 {
		panic("pickle.DictOf: odd number of arguments")
	}
	d := NewDict(len(kv) / 2)
	for i := 0; i < len(kv); i += 2 {
		if err := d.Set(kv[i], kv[i+1]); err != nil {
			panic(err)
		}
	}
	return d
}

// Len returns the number of items.
func (d *Dict) Len() int {
	if d == nil {
		return 0
	}
	return len(d.items)
}

// Items returns the items in insertion order. The slice is the dict's own:
// do not modify it.
func (d *Dict) Items() []DictItem {
	if d == nil {
		return nil
	}
	return d.items
}

// Set sets d[k] = v. Like Python, replacing a key keeps its position.
func (d *Dict) Set(k, v Value) error {
	h, err := hashKey(k)
	if err != nil {
		return err
	}
	if i, ok := d.lookup(h); ok {
		d.items[i].Value = v
		return nil
	}
	d.items = append(d.items, DictItem{k, v})
	if d.index != nil {
		d.index[h] = len(d.items) - 1
	}
	return nil
}

// Get returns d[k].
func (d *Dict) Get(k Value) (Value, bool) {
	if d == nil {
		return nil, false
	}
	h, err := hashKey(k)
	if err != nil {
		return nil, false
	}
	i, ok := d.lookup(h)
	if !ok {
		return nil, false
	}
	return d.items[i].Value, true
}

// GetString returns the value under a text key, whether the pickle wrote
// the key as py2 str, unicode or py3 str.
func (d *Dict) GetString(key string) (Value, bool) { return d.Get(key) }

// Delete removes d[k] if present and reports whether it was.
func (d *Dict) Delete(k Value) bool {
	h, err := hashKey(k)
	if err != nil {
		return false
	}
	i, ok := d.lookup(h)
	if !ok {
		return false
	}
	d.items = append(d.items[:i], d.items[i+1:]...)
	d.index = nil // positions moved; rebuilt on demand
	return true
}

// indexThreshold is the size from which lookups use a map instead of a
// linear scan: most dicts on the ZEO wire are small.
const indexThreshold = 8

func (d *Dict) lookup(h string) (int, bool) {
	if d.index == nil && len(d.items) >= indexThreshold {
		d.index = make(map[string]int, len(d.items)*2)
		for i, it := range d.items {
			k, _ := hashKey(it.Key)
			d.index[k] = i
		}
	}
	if d.index != nil {
		i, ok := d.index[h]
		return i, ok
	}
	for i, it := range d.items {
		if k, _ := hashKey(it.Key); k == h {
			return i, true
		}
	}
	return 0, false
}

// Set is a Python set, or a frozenset when Frozen is true. Members keep
// the order in which they were added.
type Set struct {
	Frozen bool
	items  []Value
	index  map[string]struct{}
}

// NewSet returns an empty set (frozen or not) with room for n members.
func NewSet(frozen bool, n int) *Set {
	return &Set{Frozen: frozen, items: make([]Value, 0, n), index: make(map[string]struct{}, n)}
}

// Add adds v to the set; adding a member twice keeps one.
func (s *Set) Add(v Value) error {
	h, err := hashKey(v)
	if err != nil {
		return err
	}
	if s.index == nil {
		s.index = make(map[string]struct{})
	}
	if _, ok := s.index[h]; ok {
		return nil
	}
	s.index[h] = struct{}{}
	s.items = append(s.items, v)
	return nil
}

// Has reports whether v is a member.
func (s *Set) Has(v Value) bool {
	h, err := hashKey(v)
	if err != nil || s == nil {
		return false
	}
	_, ok := s.index[h]
	return ok
}

// Len returns the number of members.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.items)
}

// Items returns the members in insertion order; do not modify the slice.
func (s *Set) Items() []Value {
	if s == nil {
		return nil
	}
	return s.items
}

// hashKey returns a string that is equal for two values exactly when
// Python considers them equal as dict keys, or ErrUnhashable.
func hashKey(v Value) (string, error) {
	var b strings.Builder
	if err := writeHashKey(&b, v); err != nil {
		return "", err
	}
	return b.String(), nil
}

func writeHashKey(b *strings.Builder, v Value) error {
	switch v := v.(type) {
	case nil:
		b.WriteString("\x00nil")
	case NoneType:
		b.WriteString("N")
	case bool:
		if v {
			b.WriteString("i1")
		} else {
			b.WriteString("i0")
		}
	case int64:
		b.WriteString("i")
		b.WriteString(strconv.FormatInt(v, 10))
	case int:
		b.WriteString("i")
		b.WriteString(strconv.Itoa(v))
	case *big.Int:
		b.WriteString("i")
		b.WriteString(v.String())
	case float64:
		if v == math.Trunc(v) && math.Abs(v) < 1<<63 {
			b.WriteString("i")
			b.WriteString(strconv.FormatInt(int64(v), 10))
		} else {
			b.WriteString("f")
			b.WriteString(strconv.FormatUint(math.Float64bits(v), 16))
		}
	case string:
		writeText(b, v)
	case Unicode:
		writeText(b, string(v))
	case ByteString:
		if isASCII(v) {
			writeText(b, string(v)) // py2: 'abc' == u'abc'
		} else {
			b.WriteString("s")
			b.WriteString(strconv.Itoa(len(v)))
			b.WriteByte(':')
			b.Write(v)
		}
	case Bytes:
		b.WriteString("b")
		b.WriteString(strconv.Itoa(len(v)))
		b.WriteByte(':')
		b.Write(v)
	case Tuple:
		b.WriteString("t")
		b.WriteString(strconv.Itoa(len(v)))
		b.WriteByte('(')
		for _, x := range v {
			if err := writeHashKey(b, x); err != nil {
				return err
			}
			b.WriteByte(',')
		}
		b.WriteByte(')')
	case Global:
		b.WriteString("g")
		writeText(b, v.Module+"\n"+v.Name)
	case PersistentRef:
		b.WriteString("p")
		return writeHashKey(b, v.ID)
	case *Set:
		if !v.Frozen {
			return fmt.Errorf("%w: set", ErrUnhashable)
		}
		keys := make([]string, 0, len(v.items))
		for _, x := range v.items {
			k, err := hashKey(x)
			if err != nil {
				return err
			}
			keys = append(keys, k)
		}
		sort.Strings(keys) // frozenset equality ignores order
		b.WriteString("z")
		b.WriteString(strconv.Itoa(len(keys)))
		for _, k := range keys {
			writeText(b, k)
		}
	case *Object:
		fmt.Fprintf(b, "o%p", v) // objects hash by identity
	default:
		return fmt.Errorf("%w: %T", ErrUnhashable, v)
	}
	return nil
}

func writeText(b *strings.Builder, s string) {
	b.WriteString("u")
	b.WriteString(strconv.Itoa(len(s)))
	b.WriteByte(':')
	b.WriteString(s)
}

func isASCII(p []byte) bool {
	for _, c := range p {
		if c >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
