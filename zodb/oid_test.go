package zodb

import (
	"errors"
	"testing"
)

func TestOIDForms(t *testing.T) {
	o := OIDFromUint64(0x1f8)
	if got := o.String(); got != "00000000000001f8" {
		t.Errorf("String() = %q", got)
	}
	if got := o.Repr(); got != "0x01f8" {
		t.Errorf("Repr() = %q", got)
	}
	if got := ZeroOID.Repr(); got != "0x00" {
		t.Errorf("ZeroOID.Repr() = %q, want ZODB's 0x00", got)
	}
	if got := OIDFromUint64(0x0f).Repr(); got != "0x0f" {
		t.Errorf("Repr of 0x0f = %q", got)
	}
	if o.Uint64() != 0x1f8 {
		t.Errorf("Uint64() = %#x", o.Uint64())
	}
	if b := o.Bytes(); string(b) != "\x00\x00\x00\x00\x00\x00\x01\xf8" {
		t.Errorf("Bytes() = %q", b)
	}
	for _, s := range []string{"1f8", "0x01f8", "0X1F8", "00000000000001f8"} {
		p, err := ParseOID(s)
		if err != nil || p != o {
			t.Errorf("ParseOID(%q) = %v, %v; want %v", s, p, err, o)
		}
	}
}

func TestOIDFromBytesLength(t *testing.T) {
	for _, n := range []int{0, 7, 9} {
		_, err := OIDFromBytes(make([]byte, n))
		if !errors.Is(err, ErrLength) {
			t.Errorf("OIDFromBytes(%d bytes) error = %v, want ErrLength", n, err)
		}
	}
	o, err := OIDFromBytes([]byte{0, 0, 0, 0, 0, 0, 0, 7})
	if err != nil || o.Uint64() != 7 {
		t.Errorf("OIDFromBytes = %v, %v", o, err)
	}
}

func TestParseRejects(t *testing.T) {
	for _, s := range []string{"", "0x", "xyz", "+1", "1_0", "00000000000000001", "-1", " 1"} {
		if _, err := ParseOID(s); !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseOID(%q) error = %v, want ErrSyntax", s, err)
		}
		if _, err := ParseTID(s); !errors.Is(err, ErrSyntax) {
			t.Errorf("ParseTID(%q) error = %v, want ErrSyntax", s, err)
		}
	}
}

func TestTextMarshaling(t *testing.T) {
	o := OIDFromUint64(42)
	b, _ := o.MarshalText()
	var back OID
	if err := back.UnmarshalText(b); err != nil || back != o {
		t.Errorf("OID text round trip: %v, %v", back, err)
	}
	tid := TIDFromUint64(0x040d40e347ce3111)
	b, _ = tid.MarshalText()
	var tback TID
	if err := tback.UnmarshalText(b); err != nil || tback != tid {
		t.Errorf("TID text round trip: %v, %v", tback, err)
	}
	if err := tback.UnmarshalText([]byte("nope")); err == nil {
		t.Error("UnmarshalText accepted garbage")
	}
}

func TestCompare(t *testing.T) {
	a, b := OIDFromUint64(1), OIDFromUint64(0x100)
	if a.Compare(b) != -1 || b.Compare(a) != 1 || a.Compare(a) != 0 {
		t.Error("OID.Compare does not follow numeric order")
	}
	x, y := TIDFromUint64(0xff), TIDFromUint64(0x0100000000000000)
	if x.Compare(y) != -1 || y.Compare(x) != 1 || x.Compare(x) != 0 {
		t.Error("TID.Compare does not follow numeric order")
	}
}

func FuzzParseOID(f *testing.F) {
	for _, s := range []string{"0x01f8", "00000000000001f8", "", "0x", "zz", "ffffffffffffffff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		o, err := ParseOID(s)
		if err != nil {
			return
		}
		// Whatever parses must survive both printed forms.
		for _, text := range []string{o.String(), o.Repr()} {
			back, err := ParseOID(text)
			if err != nil || back != o {
				t.Fatalf("ParseOID(%q) = %v, %v; want %v", text, back, err, o)
			}
		}
	})
}
