package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/zeotest"
)

// The README's first command must work for every server generation.
func TestQuickstartEveryProfile(t *testing.T) {
	for _, p := range zeotest.Profiles() {
		t.Run(string(p), func(t *testing.T) {
			var out, errOut bytes.Buffer
			if code := run([]string{"-profile", string(p)}, &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			for _, want := range []string{"the server announced", "Loaded object", "*zeo.ConflictError", "errors.Is(err, zeo.ErrConflict) = true", "Bob was told"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

func TestQuickstartBadProfile(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-profile", "z9"}, &out, &errOut); code == 0 || !strings.Contains(errOut.String(), "z5-py3") {
		t.Errorf("exit %d, stderr %q", code, errOut.String())
	}
}
