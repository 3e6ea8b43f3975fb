package btree

import (
	"errors"
	"math"
	"math/big"
	"testing"

	"github.com/gozeo/gozeo/pickle"
)

func TestCompare(t *testing.T) {
	big2to64 := new(big.Int).Lsh(big.NewInt(1), 64)
	big2to53p1 := new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), 53), big.NewInt(1))
	for _, tc := range []struct {
		name string
		a, b pickle.Value
		want int
	}{
		{"ints", int64(1), int64(2), -1},
		{"int and float equal", int64(1), 1.0, 0},
		{"float between ints", 1.5, int64(2), -1},
		{"bool is an int", true, int64(1), 0},
		{"long beyond float precision", big2to53p1, float64(1 << 53), 1},
		{"long beyond int64", big2to64, int64(math.MaxInt64), 1},
		{"long against a huge float", big2to64, 1.8e19, 1},
		{"long against infinity", big2to64, math.Inf(1), -1},
		{"negative infinity first", math.Inf(-1), int64(math.MinInt64), -1},
		{"text by code point", "a", "é", -1},
		{"astral text after BMP", "\uffff", "\U00010000", -1},
		{"bytes", pickle.Bytes("a\xff"), pickle.Bytes("b"), -1},
		{"py2 str and py3 bytes are both bytes", pickle.ByteString("b"), pickle.Bytes("a"), 1},
		{"ASCII py2 str against unicode", pickle.ByteString("abc"), "abd", -1},
		{"unicode against ASCII py2 str", "abc", pickle.ByteString("abc"), 0},
		{"tuples item by item", pickle.Tuple{int64(1), "b"}, pickle.Tuple{int64(1), "c"}, -1},
		{"a prefix tuple first", pickle.Tuple{int64(1)}, pickle.Tuple{int64(1), "a"}, -1},
		{"None first", pickle.None, int64(-5), -1},
		{"None equals None", pickle.None, pickle.None, 0},
		{"None before text", "", pickle.None, 1},
		{"None in tuples equal", pickle.Tuple{pickle.None}, pickle.Tuple{pickle.None}, 0},
		{"lists", &pickle.List{int64(2)}, &pickle.List{int64(1), int64(9)}, 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Compare(tc.a, tc.b)
			if err != nil || got != tc.want {
				t.Errorf("Compare(%s, %s) = %d, %v; want %d", pickle.Repr(tc.a), pickle.Repr(tc.b), got, err, tc.want)
			}
			back, err := Compare(tc.b, tc.a)
			if err != nil || back != -tc.want {
				t.Errorf("Compare(%s, %s) = %d, %v; want %d", pickle.Repr(tc.b), pickle.Repr(tc.a), back, err, -tc.want)
			}
		})
	}
}

// Keys Python cannot order, or that this package will not guess an order
// for, are errors, never an answer.
func TestCompareUnorderable(t *testing.T) {
	for _, tc := range []struct {
		name string
		a, b pickle.Value
	}{
		{"text and bytes", "a", pickle.Bytes("a")},
		{"int and text", int64(1), "1"},
		{"NaN", math.NaN(), 1.0},
		{"non-ASCII py2 str and unicode", pickle.ByteString("\xe9"), "é"},
		{"None inside a tuple", pickle.Tuple{pickle.None}, pickle.Tuple{int64(1)}},
		{"tuple and list", pickle.Tuple{}, &pickle.List{}},
		{"persistent objects", pickle.PersistentRef{ID: pickle.Bytes("12345678")}, pickle.PersistentRef{ID: pickle.Bytes("12345679")}},
		{"instances", &pickle.Object{}, &pickle.Object{}},
		{"mixed inside tuples", pickle.Tuple{int64(1), "a"}, pickle.Tuple{int64(1), int64(2)}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := Compare(tc.a, tc.b)
			var ce *CompareError
			if !errors.As(err, &ce) || !errors.Is(err, ErrUnorderable) {
				t.Fatalf("Compare = %v, want a *CompareError", err)
			}
		})
	}
}

// Deeply nested tuple keys end with an error, not a stack overflow.
func TestCompareDeepKeys(t *testing.T) {
	var a, b pickle.Value = int64(1), int64(1)
	for range 10000 {
		a, b = pickle.Tuple{a}, pickle.Tuple{b}
	}
	if _, err := Compare(a, b); !errors.Is(err, ErrUnorderable) {
		t.Fatalf("Compare = %v", err)
	}
}

// dagKey is a tuple key of n levels, each holding the level below twice:
// 2^n leaves from n tuples, as a hostile pickle can make with its memo.
func dagKey(n int) pickle.Value {
	var v pickle.Value = int64(1)
	for range n {
		v = pickle.Tuple{v, v}
	}
	return v
}

// Keys whose walk would double with each level are refused after a
// bounded amount of work, not compared for ever; the same value against
// itself is equal at once.
func TestCompareBoundsWork(t *testing.T) {
	a, b := dagKey(40), dagKey(40) // 2^40 leaves each
	if _, err := Compare(a, b); !errors.Is(err, ErrUnorderable) {
		t.Errorf("Compare of two huge DAG keys = %v, want ErrUnorderable", err)
	}
	if c, err := Compare(a, a); c != 0 || err != nil {
		t.Errorf("Compare of a key with itself = %d, %v", c, err)
	}
	fam, _ := FamilyOf("OO")
	if _, err := fam.Key.coerce(a, "key"); !errors.Is(err, ErrUnorderable) {
		t.Errorf("a huge DAG key offered to a tree = %v, want ErrUnorderable", err)
	}
	// A real composite key is fine.
	if _, err := fam.Key.coerce(pickle.Tuple{pickle.Unicode("a"), pickle.Tuple{int64(1), pickle.None}}, "key"); err != nil {
		t.Errorf("a nested tuple key: %v", err)
	}
}
