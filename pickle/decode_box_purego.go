//go:build purego

package pickle

// The portable boxing of values: each conversion to Value allocates (see
// decode_box_unsafe.go for the default).

type boxMem struct{}

type boxChunk struct{}

type smallBoxChunk struct{}

func (b *boxMem) arm(*boxChunk) {}

func (b *boxMem) armSmall(*smallBoxChunk) {}

func (m *pickleMem) boxTuple(t Tuple) Value       { return t }
func (m *pickleMem) boxByteString(b []byte) Value { return ByteString(b) }
func (m *pickleMem) boxBytes(b []byte) Value      { return Bytes(b) }
func (m *pickleMem) boxByteArray(b []byte) Value  { return ByteArray(b) }
func (m *pickleMem) boxString(s string) Value     { return s }
func (m *pickleMem) boxInt(n int64) Value         { return n }
func (m *pickleMem) boxFloat(f float64) Value     { return f }
func (m *pickleMem) boxRef(r PersistentRef) Value { return r }
func (m *pickleMem) boxGlobal(g Global) Value     { return g }
func (m *pickleMem) text(b []byte) string         { return string(b) }
