package pickle

import "unicode/utf8"

// Strings, bytes and tuples have no identity in Go the way lists and
// dicts (pointers) do, yet CPython memoizes them by identity: the same
// object met twice in one pickle is written once and then fetched with a
// GET. ZODB records rely on it (a BTree's firstbucket oid is the very
// bytes object of its first child's reference). The encoder approximates
// identity by memory: a non-empty Bytes, ByteString or Tuple met again
// with the same first element and length is the same object (the decoder
// gives back one value for a GET of it), and in the Python 3 dialect the
// objects CPython keeps one copy of (the empty and one-character strings,
// the empty and one-byte bytes) are the same object whenever equal.

// sliceKey is the memo key of a byte slice by memory.
type sliceKey struct {
	p    *byte
	n    int
	kind uint8
}

// tupleKey is the memo key of a tuple by memory.
type tupleKey struct {
	p *Value
	n int
}

// singletonKey is the memo key of a CPython singleton, by value.
type singletonKey struct {
	s    string
	kind uint8
}

const (
	sharedBytes uint8 = iota + 1
	sharedByteString
	sharedText
)

// sharedKeyOf returns the memo key of v when v has an identity as above.
func (e *Encoder) sharedKeyOf(v Value) (any, bool) {
	if !e.opts.Memo {
		return nil, false
	}
	switch v := v.(type) {
	case Bytes:
		if e.opts.Dialect == Python3 && len(v) <= 1 {
			return singletonKey{string(v), sharedBytes}, true
		}
		if len(v) > 0 {
			return sliceKey{&v[0], len(v), sharedBytes}, true
		}
	case ByteString:
		if len(v) > 0 {
			return sliceKey{&v[0], len(v), sharedByteString}, true
		}
	case string:
		if e.opts.Dialect == Python3 && isLatin1Singleton(v) {
			return singletonKey{v, sharedText}, true
		}
	case Tuple:
		if len(v) > 0 {
			return tupleKey{&v[0], len(v)}, true
		}
	}
	return nil, false
}

// isLatin1Singleton reports an empty or one-character string whose
// character is below U+0100: CPython 3 keeps a single object of each.
func isLatin1Singleton(s string) bool {
	if s == "" {
		return true
	}
	r, n := utf8.DecodeRuneInString(s)
	return n == len(s) && r < 0x100 && r != utf8.RuneError
}

// saveShared writes v, identified by key, as a GET when it was written
// before, else with save and remembers the PUT that save wrote last.
func (e *Encoder) saveShared(key any, v Value, save func() error) error {
	if e.memoGet(key) {
		return nil
	}
	before := e.memoNext
	if err := save(); err != nil {
		return err
	}
	if e.memoNext != before {
		if e.memo == nil {
			e.memo = make(map[any]uint32)
		}
		e.memo[key] = e.memoNext - 1
	}
	return nil
}

// memoSkipsShort reports cPickle's rule of never memoizing a str or
// unicode of fewer than two characters (Python 2 dialect).
func (e *Encoder) memoSkipsShort(n int) bool {
	return e.opts.Dialect == Python2 && n < 2
}

// findSharedTuples notes the tuples v holds more than once. cPickle 2.7
// memoizes only objects whose reference count is two or more: a tuple
// made by __getstate__ or __reduce__, or held by one container only, is
// written without a PUT. Lacking reference counts, the Python 2 dialect
// memoizes a tuple only when the value holds it twice or is the tuple
// itself (lists, dicts and
// other containers are memoized as always: they are usually held by the
// object as well as by its state).
func (e *Encoder) findSharedTuples(v Value) {
	clear(e.sharedTuples)
	seen := make(map[any]bool)
	var walk func(v Value, depth int)
	walk = func(v Value, depth int) {
		if depth > maxEncodeDepth {
			return
		}
		switch v := v.(type) {
		case Tuple:
			if len(v) == 0 {
				return
			}
			k := tupleKey{&v[0], len(v)}
			if seen[k] {
				if e.sharedTuples == nil {
					e.sharedTuples = make(map[tupleKey]bool)
				}
				e.sharedTuples[k] = true
				return
			}
			seen[k] = true
			for _, x := range v {
				walk(x, depth+1)
			}
		case *List:
			if v == nil || seen[v] {
				return
			}
			seen[v] = true
			for _, x := range *v {
				walk(x, depth+1)
			}
		case *Dict:
			if v == nil || seen[v] {
				return
			}
			seen[v] = true
			for _, it := range v.Items() {
				walk(it.Key, depth+1)
				walk(it.Value, depth+1)
			}
		case *Set:
			if v == nil || seen[v] {
				return
			}
			seen[v] = true
			for _, x := range v.Items() {
				walk(x, depth+1)
			}
		case *Object:
			if v == nil || seen[v] {
				return
			}
			seen[v] = true
			walk(v.Callable, depth+1)
			walk(v.Args, depth+1)
			if v.Kwargs != nil {
				walk(v.Kwargs, depth+1)
			}
			walk(v.State, depth+1)
			for _, x := range v.ListItems {
				walk(x, depth+1)
			}
			if v.DictItems != nil {
				walk(v.DictItems, depth+1)
			}
		case PersistentRef:
			walk(v.ID, depth+1)
		}
	}
	walk(v, 0)
	// The value given to dump is also held by the caller (ZODB keeps the
	// state and class metadata in locals), so a tuple there is memoized.
	if t, ok := v.(Tuple); ok && len(t) > 0 {
		if e.sharedTuples == nil {
			e.sharedTuples = make(map[tupleKey]bool)
		}
		e.sharedTuples[tupleKey{&t[0], len(t)}] = true
	}
}
