package pickle

import (
	"bytes"
	"encoding/binary"
	"fmt"
)

// The decoder reads its input in place: arguments are subslices of it, and
// every length is checked against the bytes left before anything is
// allocated, so that a corrupt or hostile length field costs nothing.

// take consumes the next n bytes of input.
func (d *Decoder) take(n int) ([]byte, error) {
	if rem := len(d.data) - d.pos; n > rem {
		return nil, truncated(uint64(n), rem)
	}
	b := d.data[d.pos : d.pos+n : d.pos+n]
	d.pos += n
	return b, nil
}

// uint consumes a little-endian unsigned integer of size bytes: 1, 2, 4
// or 8.
func (d *Decoder) uint(size int) (uint64, error) {
	if rem := len(d.data) - d.pos; size > rem {
		return 0, truncated(uint64(size), rem)
	}
	b := d.data[d.pos:]
	d.pos += size
	switch size {
	case 1:
		return uint64(b[0]), nil
	case 2:
		return uint64(binary.LittleEndian.Uint16(b)), nil
	case 4:
		return uint64(binary.LittleEndian.Uint32(b)), nil
	}
	return binary.LittleEndian.Uint64(b), nil
}

// sized consumes a little-endian length of lenSize bytes and then that many
// bytes.
func (d *Decoder) sized(lenSize int) ([]byte, error) {
	n, err := d.uint(lenSize)
	if err != nil {
		return nil, err
	}
	if rem := len(d.data) - d.pos; n > uint64(rem) {
		return nil, truncated(n, rem)
	}
	return d.take(int(n))
}

// line consumes input up to and including the next newline and returns it
// without the newline.
func (d *Decoder) line() ([]byte, error) {
	i := bytes.IndexByte(d.data[d.pos:], '\n')
	if i < 0 {
		return nil, fmt.Errorf("%w: no newline before the end of input", ErrTruncated)
	}
	b := d.data[d.pos : d.pos+i : d.pos+i]
	d.pos += i + 1
	return b, nil
}
