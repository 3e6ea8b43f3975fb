package btree

import (
	"fmt"
	"strings"
)

// Kind is one of the four classes of a BTrees family.
type Kind uint8

// The classes of every family: two containers that split into many
// objects (BTree, TreeSet) and the one-object containers they are made of
// (Bucket, Set), which applications may also store on their own.
const (
	KindBTree   Kind = iota + 1 // a mapping: interior nodes over Buckets
	KindTreeSet                 // a set: interior nodes over Sets
	KindBucket                  // a mapping in one object
	KindSet                     // a set in one object
)

var kindNames = [...]string{"", "BTree", "TreeSet", "Bucket", "Set"}

// String returns the class suffix: "BTree", "TreeSet", "Bucket" or "Set".
func (k Kind) String() string {
	if k >= KindBTree && k <= KindSet {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// IsSet reports whether the kind holds keys only (TreeSet, Set).
func (k Kind) IsSet() bool { return k == KindTreeSet || k == KindSet }

// IsTree reports whether the kind is made of interior nodes (BTree,
// TreeSet) rather than being a single bucket (Bucket, Set).
func (k Kind) IsTree() bool { return k == KindBTree || k == KindTreeSet }

// leaf returns the bucket kind of a tree kind (BTree: Bucket, TreeSet: Set)
// and a bucket kind itself.
func (k Kind) leaf() Kind {
	switch k {
	case KindBTree:
		return KindBucket
	case KindTreeSet:
		return KindSet
	}
	return k
}

// DataType is the type of a family's keys or values, as BTrees stores it.
type DataType uint8

// The data types of BTrees' families (the letters of their prefixes).
const (
	Object  DataType = iota + 1 // O: any Python object (keys must be orderable)
	Int32                       // I: signed 32-bit integer
	Uint32                      // U: unsigned 32-bit integer
	Int64                       // L: signed 64-bit integer
	Uint64                      // Q: unsigned 64-bit integer
	Float32                     // F: C float (values only)
	Bytes2                      // fs keys: 2-byte strings
	Bytes6                      // fs values: 6-byte strings
)

var dataTypeNames = [...]string{"", "Object", "Int32", "Uint32", "Int64", "Uint64", "Float32", "Bytes2", "Bytes6"}

// String returns the type's name, e.g. "Int64".
func (t DataType) String() string {
	if t >= Object && t <= Bytes6 {
		return dataTypeNames[t]
	}
	return fmt.Sprintf("DataType(%d)", uint8(t))
}

// Family is one module of the BTrees package, such as BTrees.OOBTree: its
// key and value types and the size limits its trees split at.
type Family struct {
	// Prefix is the family's name in its classes: "OO", "IO", "fs", ...
	Prefix string
	Key    DataType
	Value  DataType
	// MaxLeafSize is BTrees' max_leaf_size: a tree's bucket that grows past
	// it is split in two.
	MaxLeafSize int
	// MaxInternalSize is max_internal_size: an interior node with more
	// children is split in two, and the root when it reaches twice as many.
	MaxInternalSize int
}

// families is every module BTrees ships (BTrees 4.x and later; ZODB3's
// BTrees had the OO, OI, OL, IO, II, IF, LO, LL, LF and fs ones, with the
// same sizes). The sizes come from BTrees' data types: object keys make
// nodes of 250 children and buckets of 60 items, integer keys 500 and 120,
// an object value halves the bucket, fs keys make 500 and 500.
var families = []Family{
	{"OO", Object, Object, 30, 250},
	{"OI", Object, Int32, 60, 250},
	{"OU", Object, Uint32, 60, 250},
	{"OL", Object, Int64, 60, 250},
	{"OQ", Object, Uint64, 60, 250},
	{"IO", Int32, Object, 60, 500},
	{"II", Int32, Int32, 120, 500},
	{"IF", Int32, Float32, 120, 500},
	{"IU", Int32, Uint32, 120, 500},
	{"UO", Uint32, Object, 60, 500},
	{"UI", Uint32, Int32, 120, 500},
	{"UF", Uint32, Float32, 120, 500},
	{"UU", Uint32, Uint32, 120, 500},
	{"LO", Int64, Object, 60, 500},
	{"LL", Int64, Int64, 120, 500},
	{"LF", Int64, Float32, 120, 500},
	{"LQ", Int64, Uint64, 120, 500},
	{"QO", Uint64, Object, 60, 500},
	{"QL", Uint64, Int64, 120, 500},
	{"QF", Uint64, Float32, 120, 500},
	{"QQ", Uint64, Uint64, 120, 500},
	{"fs", Bytes2, Bytes6, 500, 500},
}

// Families returns every family BTrees ships, OO first.
func Families() []Family {
	return append([]Family(nil), families...)
}

// FamilyOf returns the family with the given prefix ("OO", "LQ", "fs").
func FamilyOf(prefix string) (Family, bool) {
	for _, f := range families {
		if f.Prefix == prefix {
			return f, true
		}
	}
	return Family{}, false
}

// Module returns the family's module, e.g. "BTrees.OOBTree".
func (f Family) Module() string { return "BTrees." + f.Prefix + "BTree" }

// Class returns the "module.Name" of the family's class of kind k, as
// ZODB records it: "BTrees.OOBTree.OOBucket".
func (f Family) Class(k Kind) string { return f.Module() + "." + f.Prefix + k.String() }

// ParseClass recognises the class name of a BTrees container:
// "BTrees.IOBTree.IOBucket" gives the IO family and KindBucket. The
// C-extension spelling ("BTrees._IOBTree.IOBucket") and the pure-Python
// classes' ("...IOBucketPy") are recognised too.
func ParseClass(class string) (Family, Kind, bool) {
	dot := strings.LastIndexByte(class, '.')
	if dot < 0 {
		return Family{}, 0, false
	}
	module, name := class[:dot], strings.TrimSuffix(class[dot+1:], "Py")
	prefix, ok := strings.CutPrefix(module, "BTrees.")
	if !ok {
		return Family{}, 0, false
	}
	prefix = strings.TrimPrefix(prefix, "_")
	prefix, ok = strings.CutSuffix(prefix, "BTree")
	if !ok {
		return Family{}, 0, false
	}
	fam, ok := FamilyOf(prefix)
	if !ok {
		return Family{}, 0, false
	}
	rest, ok := strings.CutPrefix(name, prefix)
	if !ok {
		return Family{}, 0, false
	}
	for k := KindBTree; k <= KindSet; k++ {
		if rest == k.String() {
			return fam, k, true
		}
	}
	return Family{}, 0, false
}
