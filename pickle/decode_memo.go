package pickle

// memo is the unpickler's memo: the values PUT (or MEMOIZEd) under integer
// keys for later GETs. Picklers number memo entries from 0 or 1 upwards, so
// those live in a dense slice, which may have a few holes; any other key
// (a hostile LONG_BINPUT 4294967295, say) goes to a map. The dense slice
// is never longer than twice the number of values it holds, plus a little,
// so memory follows the number of PUT opcodes, and hence the input's
// length, never the key values.
type memo struct {
	dense  []slot // a hole has a nil value: no pickle value is nil
	count  int    // values stored in dense
	sparse map[uint64]slot
}

// put stores s under key k, replacing any earlier value.
func (m *memo) put(k uint64, s slot) {
	if k == uint64(len(m.dense)) && m.sparse == nil {
		// The next key, as picklers number them.
		m.dense = append(m.dense, s)
		m.count++
		return
	}
	if k >= uint64(len(m.dense)) && k < uint64(2*m.count+16) {
		m.dense = append(m.dense, make([]slot, int(k)+1-len(m.dense))...)
	}
	if k >= uint64(len(m.dense)) {
		if m.sparse == nil {
			m.sparse = make(map[uint64]slot)
		}
		m.sparse[k] = s
		return
	}
	if m.dense[k].v == nil {
		m.count++
		if m.sparse != nil {
			// The dense slice has grown over a key stored sparsely:
			// the new value replaces it.
			delete(m.sparse, k)
		}
	}
	m.dense[k] = s
}

// get returns the value stored under k.
func (m *memo) get(k uint64) (slot, bool) {
	if k < uint64(len(m.dense)) && m.dense[k].v != nil {
		return m.dense[k], true
	}
	s, ok := m.sparse[k]
	return s, ok
}

// len returns the number of keys stored, which MEMOIZE uses as its key.
func (m *memo) len() int { return m.count + len(m.sparse) }

// reset empties the memo, keeping the dense slice's capacity but dropping
// the references it held.
func (m *memo) reset() {
	clear(m.dense)
	m.dense = m.dense[:0]
	m.count = 0
	m.sparse = nil
}
