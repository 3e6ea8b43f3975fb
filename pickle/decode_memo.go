package pickle

// memo is the unpickler's memo: the values PUT (or MEMOIZEd) under integer
// keys for later GETs. Picklers number memo entries 0, 1, 2, ... so those
// live in a dense slice; any other key (a hostile LONG_BINPUT 4294967295,
// say) goes to a map, so the memory used is proportional to the number of
// PUT opcodes, and hence to the input length, never to the key values.
type memo struct {
	dense  []slot
	sparse map[uint64]slot
}

// put stores s under key k, replacing any earlier value.
func (m *memo) put(k uint64, s slot) {
	switch n := uint64(len(m.dense)); {
	case k < n:
		m.dense[k] = s
	case k == n:
		m.dense = append(m.dense, s)
		if m.sparse != nil {
			// The dense part has grown over a key stored sparsely;
			// the new value replaces it.
			delete(m.sparse, k)
		}
	default:
		if m.sparse == nil {
			m.sparse = make(map[uint64]slot)
		}
		m.sparse[k] = s
	}
}

// get returns the value stored under k.
func (m *memo) get(k uint64) (slot, bool) {
	if k < uint64(len(m.dense)) {
		return m.dense[k], true
	}
	s, ok := m.sparse[k]
	return s, ok
}

// len returns the number of keys stored, which MEMOIZE uses as its key.
func (m *memo) len() int { return len(m.dense) + len(m.sparse) }

// reset empties the memo, keeping the dense slice's capacity but dropping
// the references it held.
func (m *memo) reset() {
	clear(m.dense)
	m.dense = m.dense[:0]
	m.sparse = nil
}
