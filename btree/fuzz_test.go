package btree

import (
	"context"
	"encoding/hex"
	"testing"

	"github.com/gozeo/gozeo/internal/zodbtest"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zodb"
)

// seedRecords adds records of real ZODB's BTrees (a bucket, a set, a tree
// of several buckets, an inline one, from each generation) to a corpus.
func seedRecords(f *testing.F) {
	for _, g := range zodbtest.Generations {
		db := loadVectors(f, g.Name)
		names := zodbtest.MustExpected(f, g.Name).Names
		for _, name := range []string{"oobtree", "iibtree_small", "treeset", "bucket", "ooset", "iobtree", "lobtree", "oibtree"} {
			oid, ok := names[name]
			if !ok {
				continue
			}
			f.Add(db.data[oid])
		}
		for _, oid := range []uint64{0x0c, 0x3a, 0x50, 0x1f0} {
			if data, ok := db.data[zodb.OIDFromUint64(oid)]; ok {
				f.Add(data)
			}
		}
	}
	// Hand-made states of the shapes BTrees' readers must refuse or take
	// apart with care, in both record formats.
	ref := func(oid uint64, class string) pickle.Value { return record.RefTo(zodb.OIDFromUint64(oid), class) }
	bare := func(oid uint64) pickle.Value { return record.RefTo(zodb.OIDFromUint64(oid), "") }
	const tree, bucket = "BTrees.OOBTree.OOBTree", "BTrees.OOBTree.OOBucket"
	for _, s := range []struct {
		class string
		state pickle.Value
	}{
		{tree, pickle.Tuple{pickle.Tuple{pickle.Tuple{"a", int64(1)}}}},                               // an inline bucket one tuple short
		{tree, pickle.Tuple{pickle.Tuple{pickle.Tuple{pickle.Tuple{"a", int64(1)}, ref(2, bucket)}}}}, // an inline bucket with a next link
		{tree, pickle.Tuple{pickle.Tuple{bare(2), "m", bare(3)}, bare(2)}},                            // children without their class
		{tree, pickle.Tuple{pickle.Tuple{ref(2, bucket), "m"}, ref(2, bucket)}},                       // even items
		{tree, pickle.Tuple{pickle.Tuple{ref(1, tree), "m", ref(1, tree)}, ref(1, bucket)}},           // a node that is its own child
		{bucket, pickle.Tuple{pickle.Tuple{"b", int64(1), "a", int64(2)}, ref(1, bucket)}},            // keys out of order, next is itself
		{bucket, pickle.Tuple{pickle.Tuple{"a", int64(1), "b"}}},                                      // odd items
		{"BTrees.IIBTree.IIBucket", pickle.Tuple{pickle.Tuple{int64(1 << 40), int64(1)}}},             // a key out of the family's range
		{"BTrees.fsBTree.fsBucket", pickle.Tuple{pickle.Tuple{pickle.Bytes("ab"), pickle.Bytes("123456")}}},
	} {
		for _, format := range []record.Format{record.Py3, record.Py2} {
			data, err := record.EncodeObject(s.class, s.state, format)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	for _, h := range []string{
		"8003636275696c74696e730a6f626a6563740a2e4e2e", // class then None
		"80035d2e29",
	} {
		data, _ := hex.DecodeString(h)
		f.Add(data)
	}
}

// FuzzParseRecord decodes a record and parses its state as the BTrees
// class it names (or as an OOBTree and an OOBucket when it names none): a
// malformed state is a *StateError, never a panic. A state that parses
// is written back as BTrees writes it and parses to the same items.
func FuzzParseRecord(f *testing.F) {
	seedRecords(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := record.Decode(data)
		if err != nil {
			return
		}
		fam, kind, ok := ParseClass(rec.Class)
		kinds := []Kind{kind}
		if !ok {
			fam, kinds = families[0], []Kind{KindBTree, KindBucket, KindSet, KindTreeSet}
		}
		for _, kind := range kinds {
			tr := &Tree{oid: zodb.OIDFromUint64(1), fam: fam, kind: kind}
			m := &mutation{t: tr, objs: map[zodb.OID]*object{}, isSet: kind.IsSet()}
			o := &object{oid: tr.oid}
			if kind.IsTree() {
				if o.node, err = ParseTreeState(fam, kind, rec.State); err != nil {
					continue
				}
				if !childrenClassed(o.node) {
					continue // encode would load children to learn their class
				}
			} else if o.bucket, err = ParseBucketState(fam, kind, rec.State); err != nil {
				continue
			}
			_, state, err := m.encode(o)
			if err != nil {
				t.Fatal(err)
			}
			if kind.IsTree() {
				again, err := ParseTreeState(fam, kind, state)
				if err != nil || len(again.Children) != len(o.node.Children) || len(again.Keys) != len(o.node.Keys) {
					t.Fatalf("re-parse: %v", err)
				}
			} else {
				again, err := ParseBucketState(fam, kind, state)
				if err != nil || len(again.Keys) != len(o.bucket.Keys) || again.Next != o.bucket.Next {
					t.Fatalf("re-parse: %v", err)
				}
			}
		}
	})
}

func childrenClassed(n *TreeState) bool {
	for _, c := range n.Children {
		if c.Inline == nil && c.Class == "" {
			return false
		}
	}
	return true
}

// FuzzTree serves fuzzed records as the objects of a tree and reads it
// every way: no panic, no hang (a walk ends), only errors.
func FuzzTree(f *testing.F) {
	seedRecords(f)
	f.Fuzz(func(t *testing.T, data []byte) {
		ctx := context.Background()
		db := newMemDB()
		// The same record is every object: a tree whose children all
		// refer to it is as good a trap for cycles as any.
		for oid := range uint64(4) {
			db.data[zodb.OIDFromUint64(oid)] = data
		}
		if rec, err := record.Decode(data); err == nil {
			for _, r := range rec.Refs {
				if r.HasOID {
					db.data[r.OID] = data
				}
			}
		}
		tr, err := Open(ctx, db, zodb.OIDFromUint64(1))
		if err != nil {
			return
		}
		tr.Check(ctx)
		tr.Len(ctx)
		for range tr.Range(ctx, "a", "z") {
		}
		for range tr.All(ctx) {
		}
		tr.Get(ctx, int64(1))
		tr.Get(ctx, "k")
		tr.Set(ctx, pickle.Bytes("k"), int64(1))
		tr.Insert(ctx, "k")
		tr.Delete(ctx, "k")
	})
}

// FuzzCompare checks that Compare is antisymmetric on keys decoded from
// pickles.
func FuzzCompare(f *testing.F) {
	for _, pair := range [][2]pickle.Value{
		{int64(1), 1.5}, {"a", pickle.ByteString("a")}, {pickle.Tuple{int64(1), "x"}, pickle.Tuple{int64(1)}},
		{pickle.None, int64(0)}, {pickle.Long(1 << 62), 4.6e18},
	} {
		a, _ := pickle.Marshal(pair[0], pickle.EncoderOptions{Protocol: 2})
		b, _ := pickle.Marshal(pair[1], pickle.EncoderOptions{Protocol: 1, Dialect: pickle.Python2})
		f.Add(a, b)
	}
	f.Fuzz(func(t *testing.T, pa, pb []byte) {
		a, err := pickle.Unmarshal(pa)
		if err != nil {
			return
		}
		b, err := pickle.Unmarshal(pb)
		if err != nil {
			return
		}
		ab, err1 := Compare(a, b)
		ba, err2 := Compare(b, a)
		if (err1 == nil) != (err2 == nil) || ab != -ba {
			t.Fatalf("Compare(a, b) = %d, %v; Compare(b, a) = %d, %v", ab, err1, ba, err2)
		}
	})
}
