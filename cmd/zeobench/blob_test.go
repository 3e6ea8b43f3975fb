package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

func TestBlobWorkload(t *testing.T) {
	for _, p := range []string{"z308-py24", "m5-py3"} {
		t.Run(p, func(t *testing.T) {
			var out, errOut bytes.Buffer
			code := run(context.Background(), []string{"-profile", p, "-blob", "200KiB,1MiB", "-blob-rounds", "2"}, &out, &errOut)
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			for _, want := range []string{"StoreBlob MB/s", "LoadBlob MB/s", "200 KiB", "1 MiB"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-profile", "z5-py3", "-blob", "0"}, &out, &errOut); code != 2 {
		t.Errorf("-blob 0: exit %d", code)
	}
}
