package record

import (
	"bytes"
	"testing"
)

func TestReencodeVectors(t *testing.T) {
	for _, g := range generations {
		t.Run(g.dir, func(t *testing.T) {
			n, bad := 0, 0
			for _, r := range readRecords(t, g.dir) {
				rec, err := Decode(r.Data)
				if err != nil {
					t.Fatalf("oid %v tid %v: %v", r.OID, r.TID, err)
				}
				got, err := rec.Encode(g.format)
				if err != nil {
					t.Fatalf("oid %v: %v", r.OID, err)
				}
				n++
				if !bytes.Equal(got, r.Data) {
					bad++
					if bad <= 5 {
						t.Logf("oid %v class %s:\n got %x\nwant %x", r.OID, rec.Class, got, r.Data)
					}
				}
			}
			t.Logf("%d records, %d differ", n, bad)
		})
	}
}
