package pickle

import (
	"hash/maphash"
	"slices"
)

// This file is the decoder's fast path for filling dicts. Dict.Set hashes
// each key into a string, which allocates for every key; but a pickled
// dict almost never repeats a key (Python wrote it from a dict), so the
// decoder only needs to prove that, and can then append the items
// directly. It does so with 64-bit hashes of keys of the common key types,
// sorted to find equal pairs; any equal pair (a repeated key or a hash
// collision), a key of another type, or a dict Dict.Set has already
// indexed, makes it fall back to Dict.Set, which has Python's semantics for
// repeated and equal keys (1 == 1.0 == True).

// fastSetItems appends the key/value pairs of items to dict if it can
// prove that no key is repeated; it reports whether it did.
func (d *Decoder) fastSetItems(dict *Dict, items []slot) bool {
	n := len(items) / 2
	// Rehashing the existing keys is only worth it when they are not
	// many more than the new ones (protocol 0 adds keys one at a time).
	if dict.index != nil || len(dict.items) > max(indexThreshold, 4*n) {
		return false
	}
	if d.seed == (maphash.Seed{}) {
		d.seed = maphash.MakeSeed()
	}
	hs := d.hashes[:0]
	for _, it := range dict.items {
		h, ok := simpleKeyHash(d.seed, it.Key)
		if !ok {
			return false
		}
		hs = append(hs, h)
	}
	for i := 0; i < len(items); i += 2 {
		h, ok := simpleKeyHash(d.seed, items[i].v)
		if !ok {
			return false
		}
		hs = append(hs, h)
	}
	d.hashes = hs
	slices.Sort(hs)
	for i := 1; i < len(hs); i++ {
		if hs[i] == hs[i-1] {
			return false
		}
	}
	dict.items = slices.Grow(dict.items, n)
	for i := 0; i < len(items); i += 2 {
		dict.items = append(dict.items, DictItem{Key: items[i].v, Value: items[i+1].v})
	}
	return true
}

// Tags keep keys that Python considers different (u'a', a non-ASCII py2
// str, b'a', 97) from hashing alike by construction.
const (
	tagByteString uint64 = 0x9e3779b97f4a7c15
	tagBytes      uint64 = 0xc2b2ae3d27d4eb4f
	tagNone       uint64 = 0x165667b19e3779f9
)

// simpleKeyHash hashes keys of the types pickled dicts use as keys, such
// that keys Dict considers equal hash alike: text and ASCII py2 str hash
// the same, and so do an int and the bool of the same value. ok is false
// for other types, which only Dict.Set compares correctly.
func simpleKeyHash(seed maphash.Seed, k Value) (uint64, bool) {
	switch k := k.(type) {
	case string:
		return maphash.String(seed, k), true
	case ByteString:
		if isASCII(k) {
			return maphash.Bytes(seed, k), true
		}
		return maphash.Bytes(seed, k) ^ tagByteString, true
	case Bytes:
		return maphash.Bytes(seed, k) ^ tagBytes, true
	case int64:
		return maphash.Comparable(seed, k), true
	case bool:
		if k {
			return maphash.Comparable(seed, int64(1)), true
		}
		return maphash.Comparable(seed, int64(0)), true
	case NoneType:
		return tagNone, true
	}
	return 0, false
}
