package pickle

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"os"
	"strings"
	"testing"

	gopickle "github.com/nlpodyssey/gopickle/pickle"
)

// The benchmarks decode the messages a ZEO client spends its time on, each
// with gozeo and with gopickle on the same input.

// smallReplyP1 is a ZEO 3.x loadBefore reply (msgid 4): (data, tid, None).
const smallReplyP1 = "(K\x04K\x00U\x06.reply(U\x04DATAU\x08\x03\xc5\x8a\x1b\x11\x11\x11\x11Ntt."

// smallReplyP3 is a ZEO 5 loadBefore reply (docs/protocol.md, Test vectors).
const smallReplyP3 = "\x80\x03(K\x08K\x00X\x06\x00\x00\x00.replyC\nrootdata-1C\x08\x03\xc5\x8a\x1b\x11\x11\x11\x11N\x87t."

// loadBeforeReply returns a ZEO 5 loadBefore reply (protocol 3) carrying
// a data record of n bytes: (msgid, 0, '.reply', (data, start, end)).
func loadBeforeReply(n int) []byte {
	var b bytes.Buffer
	b.WriteString("\x80\x03(K\x08K\x00X\x06\x00\x00\x00.reply")
	if n < 256 {
		b.WriteByte('C')
		b.WriteByte(byte(n))
	} else {
		b.WriteByte('B')
		binary.Write(&b, binary.LittleEndian, uint32(n))
	}
	b.Write(bytes.Repeat([]byte{'x'}, n))
	b.WriteString("C\x08\x03\xc5\x8a\x1b\x11\x11\x11\x11C\x08\x03\xc5\x8a\x1c\x00\x00\x00\x00\x87t.")
	return b.Bytes()
}

// record reads a ZODB record (class pickle + state pickle) from
// testdata/records: a PersistentMapping of 50 persistent references, as
// written by Python 3 (protocol 3) or Python 2's cPickle (protocol 1).
func record(tb testing.TB, name string) []byte {
	tb.Helper()
	h, err := os.ReadFile("testdata/records/" + name + ".hex")
	if err != nil {
		tb.Fatal(err)
	}
	b, err := hex.DecodeString(strings.TrimSpace(string(h)))
	if err != nil {
		tb.Fatal(err)
	}
	return b
}

func benchGozeo(b *testing.B, data []byte, pickles int, opts *DecoderOptions) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		d := NewDecoder(data, opts)
		for range pickles {
			if _, err := d.Decode(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// benchGozeoReuse decodes with one Decoder, Reset for each message, as a
// connection does.
func benchGozeoReuse(b *testing.B, data []byte, pickles int, opts *DecoderOptions) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	d := NewDecoder(nil, opts)
	for b.Loop() {
		d.Reset(data)
		for range pickles {
			if _, err := d.Decode(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func benchGopickle(b *testing.B, data []byte, pickles int) {
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		u := gopickle.NewUnpickler(bytes.NewReader(data))
		u.PersistentLoad = func(pid any) (any, error) { return pid, nil }
		for range pickles {
			if _, err := u.Load(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

func benchBoth(b *testing.B, data []byte, pickles int) {
	b.Run("gozeo", func(b *testing.B) { benchGozeo(b, data, pickles, nil) })
	b.Run("gozeo-reuse", func(b *testing.B) { benchGozeoReuse(b, data, pickles, nil) })
	b.Run("gopickle", func(b *testing.B) { benchGopickle(b, data, pickles) })
}

func BenchmarkDecodeSmallReply(b *testing.B) { benchBoth(b, []byte(smallReplyP1), 1) }

func BenchmarkDecodeSmallReplyP3(b *testing.B) { benchBoth(b, []byte(smallReplyP3), 1) }

func BenchmarkDecodeLoadBefore1MiB(b *testing.B) {
	data := loadBeforeReply(1 << 20)
	benchBoth(b, data, 1)
	alias := &DecoderOptions{AliasBytes: true}
	b.Run("gozeo-alias", func(b *testing.B) { benchGozeo(b, data, 1, alias) })
	b.Run("gozeo-alias-reuse", func(b *testing.B) { benchGozeoReuse(b, data, 1, alias) })
}

func BenchmarkDecodeRecordP3(b *testing.B) { benchBoth(b, record(b, "pm50-p3"), 2) }

func BenchmarkDecodeRecordP1(b *testing.B) { benchBoth(b, record(b, "pm50-p1"), 2) }
