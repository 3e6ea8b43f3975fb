package record

import (
	"bytes"
	"testing"

	"github.com/gozeo/gozeo/internal/zodbtest"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
)

// EncodeObject writes a new object as the real ZODB of each format wrote
// the same object (records of internal/zodbtest's databases: the
// PersistentList of root['list'], oid 2, in the "scalars" transaction).
func TestEncodeObjectMatchesZODB(t *testing.T) {
	for _, g := range generations {
		t.Run(g.name, func(t *testing.T) {
			var want []byte
			for _, r := range zodbtest.MustRecords(t, g.name) {
				if r.OID == zodb.OIDFromUint64(2) {
					want = r.Data
					break
				}
			}
			var items pickle.List
			for _, s := range []string{"a", "b", "c"} {
				if g.format == Py2 {
					items = append(items, pickle.ByteString(s))
				} else {
					items = append(items, s)
				}
			}
			got, err := EncodeObject("persistent.list.PersistentList", pickle.DictOf("data", &items), g.format)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("\n got %x\nwant %x", got, want)
			}
		})
	}
}

// A reference made by RefTo decodes to the oid and class it names, in
// both formats, and a py2 str oid decoded from an old record is written
// as bytes in Py3.
func TestRefToRoundTrip(t *testing.T) {
	oid := zodb.OIDFromUint64(0x1234)
	for _, f := range []Format{Py3, Py2} {
		state := pickle.DictOf("child", RefTo(oid, "myapp.Folder"),
			"old", pickle.PersistentRef{ID: pickle.Tuple{pickle.ByteString(oid.Bytes()), pickle.Global{Module: "m", Name: "C"}}})
		data, err := EncodeObject("myapp.Folder", state, f)
		if err != nil {
			t.Fatal(err)
		}
		rec, err := Decode(data)
		if err != nil {
			t.Fatal(err)
		}
		if rec.Class != "myapp.Folder" || len(rec.Refs) != 2 {
			t.Fatalf("%v: class %q refs %v", f, rec.Class, rec.Refs)
		}
		if r := rec.Refs[0]; r.OID != oid || r.Class != "myapp.Folder" {
			t.Errorf("%v: ref %v", f, r)
		}
		if f == Py3 {
			id := rec.Refs[1].ID.(pickle.Tuple)
			if _, ok := id[0].(pickle.Bytes); !ok {
				t.Errorf("py3 oid written as %T", id[0])
			}
		}
	}
	if _, err := EncodeObject("m.C", pickle.None, Format(9)); err == nil {
		t.Error("unknown format accepted")
	}
}
