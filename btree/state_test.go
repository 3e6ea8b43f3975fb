package btree

import (
	"errors"
	"testing"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zodb"
)

func ref(oid uint64, class string) pickle.PersistentRef {
	return record.RefTo(zodb.OIDFromUint64(oid), class)
}

func TestParseStates(t *testing.T) {
	oo, _ := FamilyOf("OO")
	io, _ := FamilyOf("IO")
	b := ref(2, "BTrees.OOBTree.OOBucket")
	n := ref(3, "BTrees.OOBTree.OOBTree")
	// The forms BTrees writes.
	ts, err := ParseTreeState(oo, KindBTree, pickle.Tuple{pickle.Tuple{b, "m", ref(4, "")}, b})
	if err != nil || len(ts.Children) != 2 || ts.Keys[0] != "m" || ts.FirstBucket != zodb.OIDFromUint64(2) || ts.Children[1].Class != "" {
		t.Errorf("two buckets: %+v, %v", ts, err)
	}
	ts, err = ParseTreeState(oo, KindBTree, pickle.Tuple{pickle.Tuple{pickle.Tuple{pickle.Tuple{"a", int64(1)}}}})
	if err != nil || len(ts.Children) != 1 || ts.Children[0].Inline == nil || ts.Children[0].Inline.Values[0] != int64(1) {
		t.Errorf("inline bucket: %+v, %v", ts, err)
	}
	ts, err = ParseTreeState(oo, KindBTree, pickle.None)
	if err != nil || len(ts.Children) != 0 {
		t.Errorf("empty: %+v, %v", ts, err)
	}
	bs, err := ParseBucketState(io, KindBucket, pickle.Tuple{pickle.Tuple{int64(1), "x", int64(2), "y"}, ref(5, "BTrees.IOBTree.IOBucket")})
	if err != nil || len(bs.Keys) != 2 || !bs.HasNext || bs.Next != zodb.OIDFromUint64(5) {
		t.Errorf("bucket: %+v, %v", bs, err)
	}

	for _, tc := range []struct {
		name  string
		kind  Kind
		fam   Family
		state pickle.Value
	}{
		{"tree: a list", KindBTree, oo, &pickle.List{}},
		{"tree: 3-tuple", KindBTree, oo, pickle.Tuple{pickle.Tuple{b}, b, b}},
		{"tree: items not a tuple", KindBTree, oo, pickle.Tuple{&pickle.List{b}}},
		{"tree: even items", KindBTree, oo, pickle.Tuple{pickle.Tuple{b, "k"}, b}},
		{"tree: no items", KindBTree, oo, pickle.Tuple{pickle.Tuple{}}},
		{"tree: child not a reference", KindBTree, oo, pickle.Tuple{pickle.Tuple{int64(1)}, b}},
		{"tree: child of another family", KindBTree, oo, pickle.Tuple{pickle.Tuple{ref(2, "BTrees.IIBTree.IIBucket")}, b}},
		{"tree: weak child", KindBTree, oo, pickle.Tuple{pickle.Tuple{pickle.PersistentRef{ID: &pickle.List{"w", pickle.Tuple{pickle.Bytes("\x00\x00\x00\x00\x00\x00\x00\x02")}}}}}},
		{"tree: firstbucket a node", KindBTree, oo, pickle.Tuple{pickle.Tuple{n}, n}},
		{"tree: no firstbucket over nodes", KindBTree, oo, pickle.Tuple{pickle.Tuple{n}}},
		{"tree: inline among others", KindBTree, oo, pickle.Tuple{pickle.Tuple{pickle.Tuple{pickle.Tuple{}}, "k", b}, b}},
		{"tree: inline with next", KindBTree, oo, pickle.Tuple{pickle.Tuple{pickle.Tuple{pickle.Tuple{}, b}}}},
		{"tree: wrong key type", KindBTree, io, pickle.Tuple{pickle.Tuple{ref(2, ""), "k", ref(3, "")}, ref(2, "")}},
		{"tree: key out of range", KindBTree, io, pickle.Tuple{pickle.Tuple{ref(2, ""), int64(1) << 40, ref(3, "")}, ref(2, "")}},
		{"bucket: None", KindBucket, oo, pickle.None},
		{"bucket: odd items", KindBucket, oo, pickle.Tuple{pickle.Tuple{"a"}}},
		{"bucket: next not a reference", KindBucket, oo, pickle.Tuple{pickle.Tuple{}, "next"}},
		{"bucket: next a tree", KindBucket, oo, pickle.Tuple{pickle.Tuple{}, n}},
		{"bucket: int value of an IO key", KindBucket, io, pickle.Tuple{pickle.Tuple{"a", "b"}}},
		{"set: key a float", KindSet, io, pickle.Tuple{pickle.Tuple{1.5}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if tc.kind.IsTree() {
				_, err = ParseTreeState(tc.fam, tc.kind, tc.state)
			} else {
				_, err = ParseBucketState(tc.fam, tc.kind, tc.state)
			}
			var se *StateError
			if !errors.As(err, &se) || !errors.Is(err, ErrState) {
				t.Fatalf("error %v, want a *StateError", err)
			}
		})
	}
}

func TestParseClass(t *testing.T) {
	for _, tc := range []struct {
		class  string
		prefix string
		kind   Kind
	}{
		{"BTrees.OOBTree.OOBTree", "OO", KindBTree},
		{"BTrees.IOBTree.IOBucket", "IO", KindBucket},
		{"BTrees.fsBTree.fsTreeSet", "fs", KindTreeSet},
		{"BTrees.QQBTree.QQSet", "QQ", KindSet},
		{"BTrees._LOBTree.LOBTree", "LO", KindBTree},
		{"BTrees.OOBTree.OOBTreePy", "OO", KindBTree},
	} {
		fam, kind, ok := ParseClass(tc.class)
		if !ok || fam.Prefix != tc.prefix || kind != tc.kind || (fam.Class(kind) != tc.class && ok && tc.class[7] != '_' && tc.class[len(tc.class)-2:] != "Py") {
			t.Errorf("ParseClass(%s) = %v %v %v", tc.class, fam.Prefix, kind, ok)
		}
	}
	for _, class := range []string{"BTrees.Length.Length", "BTrees.OOBTree.IOBTree", "BTrees.XXBTree.XXBTree", "persistent.mapping.PersistentMapping", "OOBTree", "BTrees.OOBTree.OOBTreeItems"} {
		if _, _, ok := ParseClass(class); ok {
			t.Errorf("ParseClass(%s) ok", class)
		}
	}
	if n := len(Families()); n != 22 {
		t.Errorf("%d families", n)
	}
}
