package pickle

import (
	"fmt"
	"hash/maphash"
	"slices"
)

// This file fills dicts and sets, and bounds the work of hashing their
// keys.
//
// The fast path for filling dicts: Dict.Set hashes
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
	// An open-addressing set of the hashes, at most half full, in a
	// scratch slice the Decoder keeps.
	size := 8
	for size < 2*(len(dict.items)+n) {
		size *= 2
	}
	if cap(d.hashes) < size {
		d.hashes = make([]uint64, size)
	}
	table := d.hashes[:size]
	clear(table)
	for _, it := range dict.items {
		if !insertHash(table, d.seed, it.Key) {
			return false
		}
	}
	for i := 0; i < len(items); i += 2 {
		if !insertHash(table, d.seed, items[i].v) {
			return false
		}
	}
	dict.items = slices.Grow(dict.items, n)
	for i := 0; i < len(items); i += 2 {
		dict.items = append(dict.items, DictItem{Key: items[i].v, Value: items[i+1].v})
	}
	return true
}

// insertHash adds the hash of key k to table, reporting false if k is not
// of a simple key type or its hash is already there (a repeated key, or a
// collision, which the slow path sorts out). Zero marks a free entry, so
// a zero hash is stored as 1.
func insertHash(table []uint64, seed maphash.Seed, k Value) bool {
	h, ok := simpleKeyHash(seed, k)
	if !ok {
		return false
	}
	h = max(h, 1)
	mask := uint64(len(table) - 1)
	for i := h & mask; ; i = (i + 1) & mask {
		switch table[i] {
		case 0:
			table[i] = h
			return true
		case h:
			return false
		}
	}
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

// setDictItems sets the alternating keys and values of items in dict and
// returns their greatest depth.
func (d *Decoder) setDictItems(dict *Dict, items []slot) (int, error) {
	depth := 0
	for i, it := range items {
		depth = max(depth, it.depth)
		if i%2 == 0 {
			if err := d.chargeHash(it.v); err != nil {
				return 0, err
			}
		}
	}
	if d.fastSetItems(dict, items) {
		return depth, nil
	}
	for i := 0; i+1 < len(items); i += 2 {
		k, v := items[i], items[i+1]
		if err := dict.Set(k.v, v.v); err != nil {
			return 0, unhashable("dict key", k.v)
		}
	}
	return depth, nil
}

// addItems adds the values of items to set and returns their greatest
// depth.
func (d *Decoder) addItems(set *Set, items []slot) (int, error) {
	depth := 0
	for _, it := range items {
		if err := d.chargeHash(it.v); err != nil {
			return 0, err
		}
		if err := set.Add(it.v); err != nil {
			return 0, unhashable("set member", it.v)
		}
		depth = max(depth, it.depth)
	}
	return depth, nil
}

// updateDict sets the items of src in dst.
func (d *Decoder) updateDict(dst, src *Dict) error {
	for _, it := range src.Items() {
		if err := d.chargeHash(it.Key); err != nil {
			return err
		}
		if err := dst.Set(it.Key, it.Value); err != nil {
			return unhashable("dict key", it.Key)
		}
	}
	return nil
}

// hashRehashes is how many times a dict may hash a key over its life:
// Dict compares keys by hashing them again while it holds fewer than
// indexThreshold items, then once more to build its index.
const hashRehashes = indexThreshold + 1

// chargeHash accounts for the work of hashing key (as a dict key or set
// member) and fails with ErrTooComplex when the pickle has used up its
// budget, which is proportional to the input's length.
func (d *Decoder) chargeHash(key Value) error {
	cost := hashCost(key, d.hashBudget) * hashRehashes
	if cost > d.hashBudget {
		return fmt.Errorf("%w: hashing a %s key would exceed the work this input justifies", ErrTooComplex, TypeName(key))
	}
	d.hashBudget -= cost
	return nil
}

// hashBudget returns the hashing work, in steps of hashCost, that an
// input justifies: enough for any dict Python writes, not for a key that
// the memo has made exponentially large.
func hashBudget(data []byte) int { return 1<<20 + 64*len(data) }

// hashCost estimates the steps of hashing v, counting every item of
// tuples, frozensets and persistent ids and a step per 64 bytes of
// strings. It stops counting once past limit, so that it costs no more
// than the budget it checks.
func hashCost(v Value, limit int) int {
	switch v := v.(type) {
	case string:
		return 1 + len(v)/64
	case ByteString:
		return 1 + len(v)/64
	case Bytes:
		return 1 + len(v)/64
	case Tuple:
		return 1 + itemsCost(v, limit-1)
	case *Set:
		if v.Frozen {
			return 1 + itemsCost(v.Items(), limit-1)
		}
	case PersistentRef:
		return 1 + hashCost(v.ID, limit-1)
	case Global:
		return 1 + (len(v.Module)+len(v.Name))/64
	}
	return 1
}

func itemsCost(items []Value, limit int) int {
	c := 0
	for _, it := range items {
		if c > limit {
			break
		}
		c += hashCost(it, limit-c)
	}
	return c
}
