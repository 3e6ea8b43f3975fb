package pickle

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"testing"
)

// Encoder benchmarks: the ZEO messages a client sends most (a 1 MiB
// storea, a small loadBefore call) through Append into a reused buffer,
// Marshal into a fresh slice, and a naive encoder (bytes.Buffer,
// binary.Write and fmt per opcode) as the reference: there is no Go
// pickle encoder among the dependencies to compare with.
//
//	go test -run='^$' -bench Encode -benchmem ./pickle/

func loadBeforeMessage() Value {
	return Tuple{int64(7), false, "loadBefore", Tuple{
		Bytes("\x00\x00\x00\x00\x00\x00\x00\x2a"), Bytes("\x7f\xff\xff\xff\xff\xff\xff\xff")}}
}

func BenchmarkEncode(b *testing.B) {
	msgs := []struct {
		name string
		v    Value
	}{
		{"storea1MiB", storeaMessage()},
		{"loadBefore", loadBeforeMessage()},
	}
	for _, m := range msgs {
		for _, o := range []EncoderOptions{{Protocol: 3}, {Protocol: 1, Dialect: Python2}} {
			prefix := fmt.Sprintf("%s/%v-p%d", m.name, o.Dialect, o.Protocol)
			size := len(mustMarshalB(b, m.v, o))
			b.Run(prefix+"/Append", func(b *testing.B) {
				e := NewEncoder(o)
				dst := make([]byte, 0, size)
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					var err error
					if dst, err = e.Append(dst[:0], m.v); err != nil {
						b.Fatal(err)
					}
				}
			})
			b.Run(prefix+"/Marshal", func(b *testing.B) {
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					if _, err := Marshal(m.v, o); err != nil {
						b.Fatal(err)
					}
				}
			})
			if o.Protocol != 3 {
				continue // the naive encoder only writes protocol 3
			}
			b.Run(prefix+"/Naive", func(b *testing.B) {
				want := mustMarshalB(b, m.v, o)
				if got := naiveMarshal(m.v); !bytes.Equal(got, want) {
					b.Fatalf("naive encoder disagrees:\n%q\n%q", got, want)
				}
				b.SetBytes(int64(size))
				b.ReportAllocs()
				for b.Loop() {
					naiveMarshal(m.v)
				}
			})
		}
	}
}

func mustMarshalB(b *testing.B, v Value, o EncoderOptions) []byte {
	out, err := Marshal(v, o)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// naiveMarshal is the straightforward encoder one would write first:
// protocol 3, Python 3 dialect, for ints, bools, text, bytes and tuples,
// each opcode written through bytes.Buffer with binary.Write or fmt.
func naiveMarshal(v Value) []byte {
	var buf bytes.Buffer
	buf.Write([]byte{opProto, 3})
	naiveSave(&buf, v)
	buf.WriteByte(opStop)
	return buf.Bytes()
}

func naiveSave(buf *bytes.Buffer, v Value) {
	switch v := v.(type) {
	case bool:
		if v {
			buf.WriteByte(opNewTrue)
		} else {
			buf.WriteByte(opNewFalse)
		}
	case int64:
		switch {
		case v >= 0 && v < 256:
			buf.WriteByte(opBinInt1)
			_ = binary.Write(buf, binary.LittleEndian, uint8(v))
		case v >= 0 && v < 65536:
			buf.WriteByte(opBinInt2)
			_ = binary.Write(buf, binary.LittleEndian, uint16(v))
		default:
			buf.WriteByte(opBinInt)
			_ = binary.Write(buf, binary.LittleEndian, int32(v))
		}
	case string:
		buf.WriteByte(opBinUnicode)
		_ = binary.Write(buf, binary.LittleEndian, uint32(len(v)))
		fmt.Fprint(buf, v)
	case Bytes:
		if len(v) < 256 {
			buf.WriteByte(opShortBinBytes)
			_ = binary.Write(buf, binary.LittleEndian, uint8(len(v)))
		} else {
			buf.WriteByte(opBinBytes)
			_ = binary.Write(buf, binary.LittleEndian, uint32(len(v)))
		}
		buf.Write(v)
	case Tuple:
		if len(v) == 0 {
			buf.WriteByte(opEmptyTuple)
			return
		}
		if len(v) > 3 {
			buf.WriteByte(opMark)
		}
		for _, x := range v {
			naiveSave(buf, x)
		}
		if len(v) <= 3 {
			buf.WriteByte(opTuple1 + byte(len(v)-1))
		} else {
			buf.WriteByte(opTuple)
		}
	default:
		panic(fmt.Sprintf("naiveSave: %T", v))
	}
}
