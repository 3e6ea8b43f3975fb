package pickle

// A pickle decodes into many small values: tuples of a few items, short
// byte strings (oids, tids), text, and the interface boxes that hold them
// as Values. Allocating each on its own would dominate decoding time, so
// the values of one pickle are carved from a few blocks instead: the first
// block holds room for a typical ZEO message (firstChunk, or the smaller
// smallChunk when little input is left), and each kind of value gets
// blocks sized from the input left after that. The blocks are dropped when
// the pickle is decoded, never reused, so values stay valid for as long as
// they are referenced; the cost is that keeping one value of a pickle keeps
// the blocks it shares with the others (see Decoder).
//
// Byte strings and text are carved from blocks of their own that hold no
// pointers, so that keeping an oid keeps a few hundred bytes at most, not
// the other values of its pickle.

// pickleMem is the memory the values of the current pickle are carved
// from.
type pickleMem struct {
	// first, when set, is the block to use instead of allocating one
	// (Unmarshal allocates it with its Decoder).
	first *firstChunk
	armed bool
	// pos and end locate the decoder in its input: the blocks after the
	// first are sized from the input left (see refill).
	pos *int
	end int

	vals     []Value
	lists    []List
	dicts    []Dict
	bytes    []byte
	byteSize int

	box boxMem // the interface boxes, see decode_box_*.go
}

// firstChunk is the first block of a pickle's values.
type firstChunk struct {
	vals  [16]Value
	lists [1]List
	dicts [1]Dict
	box   boxChunk
}

// smallPickle is the input left, in bytes, up to which a pickle's first
// block is a smallChunk: most ZEO requests and replies (a loadBefore
// reply is about 45 bytes) need a few tuples and byte strings, and the
// room firstChunk keeps for lists, dicts and more values would be
// allocated for nothing.
const smallPickle = 64

// smallChunk is the first block of a pickle of at most smallPickle bytes.
// A value it has no room for is carved from a block of its own, as after
// a firstChunk.
type smallChunk struct {
	vals [8]Value
	box  smallBoxChunk
}

// arm points the free lists at the pickle's first block.
func (m *pickleMem) arm() {
	m.armed = true
	if m.first == nil && m.left() <= smallPickle {
		c := new(smallChunk)
		m.vals = c.vals[:]
		m.box.armSmall(&c.box)
		return
	}
	c := m.first
	if c == nil {
		c = new(firstChunk)
	}
	m.first = nil
	m.vals, m.lists, m.dicts = c.vals[:], c.lists[:], c.dicts[:]
	m.box.arm(&c.box)
}

// drop forgets the pickle's blocks.
func (m *pickleMem) drop() { *m = pickleMem{} }

// refill returns the number of elements of the block to allocate when a
// kind of value that takes about perValue bytes of input has used up its
// block: as many as the input left can still need, between lo and hi.
// Sizing from the input rather than doubling keeps the waste small.
func (m *pickleMem) refill(perValue, lo, hi int) int {
	return min(max(m.left()/perValue, lo), hi)
}

// left returns the number of input bytes not decoded yet.
func (m *pickleMem) left() int {
	if m.pos == nil {
		return m.end
	}
	return m.end - *m.pos
}

// carve returns the next element of *free, allocating a block (see
// refill) when it is used up.
func carve[T any](m *pickleMem, free *[]T, perValue, lo, hi int) *T {
	if len(*free) == 0 {
		*free = make([]T, m.refill(perValue, lo, hi))
	}
	p := &(*free)[0]
	*free = (*free)[1:]
	return p
}

// maxArenaValues is the longest tuple carved from a block; longer ones
// get their own allocation.
const maxArenaValues = 32

// values returns room for a tuple of n items.
func (m *pickleMem) values(n int) []Value {
	if n > maxArenaValues {
		return make([]Value, n)
	}
	if !m.armed {
		m.arm()
	}
	if n > len(m.vals) {
		m.vals = make([]Value, m.refill(8, 32, 512))
	}
	v := m.vals[:n:n]
	m.vals = m.vals[n:]
	return v
}

// list returns a new empty list.
func (m *pickleMem) list() *List {
	if !m.armed {
		m.arm()
	}
	return carve(m, &m.lists, 64, 2, 16)
}

// dict returns a new empty dict.
func (m *pickleMem) dict() *Dict {
	if !m.armed {
		m.arm()
	}
	return carve(m, &m.dicts, 64, 2, 16)
}

// Byte strings up to maxArenaBytes long are copied into blocks; longer
// ones are copied on their own.
const maxArenaBytes = 64

// copyBytes returns a copy of b. Each copy's capacity ends where it does,
// so appending to one never overwrites another.
func (m *pickleMem) copyBytes(b []byte) []byte {
	n := len(b)
	switch {
	case n == 0:
		return []byte{}
	case n > maxArenaBytes:
		return append([]byte(nil), b...)
	}
	c := m.byteRoom(n)
	copy(c, b)
	return c
}

// byteRoom returns n bytes of a pointer-free block. A block grows with
// the pickle's byte strings but is never larger than n plus the input
// left, which bounds the bytes the rest of the pickle can copy (text
// decoded from protocol 0 can outgrow its input; it then gets another
// block): a short message does not pay for a 256-byte block.
func (m *pickleMem) byteRoom(n int) []byte {
	if n > len(m.bytes) {
		m.byteSize = min(max(2*m.byteSize, 256), 4096)
		m.bytes = make([]byte, min(m.byteSize, n+m.left()))
	}
	c := m.bytes[:n:n]
	m.bytes = m.bytes[n:]
	return c
}
