//go:build !purego

package pickle

import "unsafe"

// Putting a string, a slice (Tuple, Bytes, ...), an int64 beyond 255 or a
// PersistentRef into a Value allocates a box for it, one allocation per
// value. This file carves the boxes from the pickle's blocks instead: it
// stores the value in a block and builds the Value from its type and the
// address of that storage, which is what Go's own conversion does with the
// storage it allocates. This relies on the layout of interfaces (a type
// word and a data pointer, used as such by reflect and the runtime since
// Go 1.4), so it is confined to this file; build with -tags purego for the
// portable conversions of decode_box_purego.go. The storage is written once,
// before the Value exists, and never again, as Go requires of boxed values.

// eface is the layout of a Value: the dynamic type and a pointer to the
// value.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

func typeWord(v Value) unsafe.Pointer { return (*eface)(unsafe.Pointer(&v)).typ }

// The type words of the boxed types; computed once, never changed.
var (
	typeTuple      = typeWord(Tuple(nil))
	typeByteString = typeWord(ByteString(nil))
	typeBytes      = typeWord(Bytes(nil))
	typeByteArray  = typeWord(ByteArray(nil))
	typeString     = typeWord("")
	typeInt64      = typeWord(int64(0))
	typeFloat64    = typeWord(float64(0))
	typeRef        = typeWord(PersistentRef{})
	typeGlobal     = typeWord(Global{})
)

// boxAt returns the Value of type typ stored at p.
func boxAt(typ, p unsafe.Pointer) Value {
	var v Value
	*(*eface)(unsafe.Pointer(&v)) = eface{typ: typ, data: p}
	return v
}

// boxMem holds the free storage for boxes. All slice types share one
// kind of storage: their headers have the same layout, a pointer then
// two ints.
type boxMem struct {
	hdrs    []Tuple
	strs    []string
	words   []uint64
	refs    []PersistentRef
	globals []Global
}

// boxChunk is the box storage in a pickle's first block.
type boxChunk struct {
	hdrs    [8]Tuple
	strs    [4]string
	words   [2]uint64
	refs    [1]PersistentRef
	globals [2]Global
}

func (b *boxMem) arm(c *boxChunk) {
	b.hdrs, b.strs, b.words, b.refs, b.globals = c.hdrs[:], c.strs[:], c.words[:], c.refs[:], c.globals[:]
}

// smallBoxChunk is the box storage in a smallChunk: a short message's
// tuples and byte strings, its method name, a tid or two as int64.
type smallBoxChunk struct {
	hdrs    [6]Tuple
	strs    [2]string
	words   [2]uint64
	refs    [1]PersistentRef
	globals [1]Global
}

func (b *boxMem) armSmall(c *smallBoxChunk) {
	b.hdrs, b.strs, b.words, b.refs, b.globals = c.hdrs[:], c.strs[:], c.words[:], c.refs[:], c.globals[:]
}

func (m *pickleMem) hdr() unsafe.Pointer {
	if !m.armed {
		m.arm()
	}
	return unsafe.Pointer(carve(m, &m.box.hdrs, 10, 16, 256))
}

func (m *pickleMem) boxTuple(t Tuple) Value {
	p := m.hdr()
	*(*Tuple)(p) = t
	return boxAt(typeTuple, p)
}

func (m *pickleMem) boxByteString(b []byte) Value {
	p := m.hdr()
	*(*[]byte)(p) = b
	return boxAt(typeByteString, p)
}

func (m *pickleMem) boxBytes(b []byte) Value {
	p := m.hdr()
	*(*[]byte)(p) = b
	return boxAt(typeBytes, p)
}

func (m *pickleMem) boxByteArray(b []byte) Value {
	p := m.hdr()
	*(*[]byte)(p) = b
	return boxAt(typeByteArray, p)
}

func (m *pickleMem) boxString(s string) Value {
	if s == "" {
		return s // Go boxes the empty string without allocating
	}
	if !m.armed {
		m.arm()
	}
	p := carve(m, &m.box.strs, 16, 8, 256)
	*p = s
	return boxAt(typeString, unsafe.Pointer(p))
}

func (m *pickleMem) word() unsafe.Pointer {
	if !m.armed {
		m.arm()
	}
	return unsafe.Pointer(carve(m, &m.box.words, 16, 8, 256))
}

func (m *pickleMem) boxInt(n int64) Value {
	if n >= 0 && n < 256 {
		return n // Go boxes these without allocating
	}
	p := m.word()
	*(*int64)(p) = n
	return boxAt(typeInt64, p)
}

func (m *pickleMem) boxFloat(f float64) Value {
	p := m.word()
	*(*float64)(p) = f
	return boxAt(typeFloat64, p)
}

func (m *pickleMem) boxRef(r PersistentRef) Value {
	if !m.armed {
		m.arm()
	}
	p := carve(m, &m.box.refs, 16, 8, 256)
	*p = r
	return boxAt(typeRef, unsafe.Pointer(p))
}

func (m *pickleMem) boxGlobal(g Global) Value {
	if !m.armed {
		m.arm()
	}
	p := carve(m, &m.box.globals, 64, 2, 16)
	*p = g
	return boxAt(typeGlobal, unsafe.Pointer(p))
}

// text returns b as a string stored in the pickle's pointer-free byte
// blocks; those bytes are never handed out as a []byte, so the string is
// immutable as Go requires.
func (m *pickleMem) text(b []byte) string {
	n := len(b)
	if n == 0 || n > maxArenaBytes {
		return string(b)
	}
	c := m.byteRoom(n)
	copy(c, b)
	return unsafe.String(&c[0], n)
}
