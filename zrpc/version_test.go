package zrpc

import (
	"testing"
)

func TestVersionOrder(t *testing.T) {
	// The byte order every release relies on; Z310 < Z3101 (docs/protocol.md,
	// Generations).
	vs := KnownVersions()
	for i := 1; i < len(vs)-1; i++ {
		if !(vs[i-1] < vs[i]) {
			t.Errorf("%s does not sort before %s", vs[i-1], vs[i])
		}
	}
	vs[0] = "mutated"
	if KnownVersions()[0] != Z200 {
		t.Fatal("KnownVersions exposes the package's table")
	}
}

func TestVersionKnown(t *testing.T) {
	for _, v := range KnownVersions() {
		if !v.Known() {
			t.Errorf("%s not known", v)
		}
	}
	for _, v := range []Version{"", "Z", "Z6", "X5", "Z31", "z5", "ruok", "Z3101 "} {
		if v.Known() {
			t.Errorf("%q known", v)
		}
	}
	if !Version("X5").IsZEO5() || Z4.IsZEO5() || !M5.IsZEO5() {
		t.Error("IsZEO5")
	}
}
