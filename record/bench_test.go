package record

import (
	"bytes"
	"testing"

	gopickle "github.com/nlpodyssey/gopickle/pickle"

	"github.com/gozeo/gozeo/internal/zodbtest"
	"github.com/gozeo/gozeo/zodb"
)

// Typical records of the real-ZODB database written by ZODB 5.8 (zeo5):
// an application object (a Document: a dict of text and a list), a bucket
// of a 3000-key OOBTree (key and value text) and the root mapping (text
// keys, persistent references).
var benchRecords = []struct {
	name string
	oid  uint64
}{
	{"document", 0x1d0},
	{"oobucket", 0x0c},
	{"root", 0x00},
}

func benchRecord(b *testing.B, oid uint64) []byte {
	b.Helper()
	var data []byte
	for _, r := range zodbtest.MustRecords(b, "zeo5") {
		if r.OID == zodb.OIDFromUint64(oid) {
			data = r.Data // the last revision
		}
	}
	if data == nil {
		b.Fatalf("no oid %#x", oid)
	}
	return data
}

// BenchmarkDecode decodes a record with Decode and, as the reference, both
// of its pickles with gopickle (persistent ids kept as they are).
func BenchmarkDecode(b *testing.B) {
	for _, r := range benchRecords {
		data := benchRecord(b, r.oid)
		b.Run(r.name+"/record", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := Decode(data); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run(r.name+"/gopickle", func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				u := gopickle.NewUnpickler(bytes.NewReader(data))
				u.PersistentLoad = func(pid any) (any, error) { return pid, nil }
				for range 2 {
					if _, err := u.Load(); err != nil {
						b.Fatal(err)
					}
				}
			}
		})
	}
}

// BenchmarkEncode writes the decoded records back (Record.Encode).
func BenchmarkEncode(b *testing.B) {
	for _, r := range benchRecords {
		data := benchRecord(b, r.oid)
		rec, err := Decode(data)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(r.name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := rec.Encode(Py3); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkJSON writes the JSON view of the decoded states.
func BenchmarkJSON(b *testing.B) {
	for _, r := range benchRecords {
		rec, err := Decode(benchRecord(b, r.oid))
		if err != nil {
			b.Fatal(err)
		}
		var buf []byte
		b.Run(r.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if buf, err = AppendJSON(buf[:0], rec.State, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
