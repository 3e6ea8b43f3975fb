package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/internal/testserver"
)

func TestPutGet(t *testing.T) {
	for _, p := range []string{"z308-py24", "z3101-py27", "z5-py3", "m5-py3"} {
		t.Run(p, func(t *testing.T) {
			srv := testserver.Start(t, testserver.Options{Profile: p})
			dir := t.TempDir()
			in := filepath.Join(dir, "in")
			data := bytes.Repeat([]byte("zeoblob "), 40000)
			os.WriteFile(in, data, 0o600)
			var out, errOut bytes.Buffer
			if code := run(context.Background(), []string{"-addr", srv.Addr(), "-put", in}, &out, &errOut); code != 0 {
				t.Fatalf("-put: exit %d: %s", code, errOut.String())
			}
			ref := strings.TrimSpace(out.String())
			oid, _, _ := strings.Cut(ref, "@")
			for _, arg := range []string{ref, oid} {
				dst := filepath.Join(dir, "out")
				if code := run(context.Background(), []string{"-addr", srv.Addr(), "-o", dst, arg}, &out, &errOut); code != 0 {
					t.Fatalf("get %s: exit %d: %s", arg, code, errOut.String())
				}
				if got, _ := os.ReadFile(dst); !bytes.Equal(got, data) {
					t.Errorf("get %s: %d bytes back, want %d", arg, len(got), len(data))
				}
			}
			out.Reset()
			if code := run(context.Background(), []string{"-addr", srv.Addr(), "-shared", "-blob-dir", srv.BlobDir(), "-o", "-", ref}, &out, &errOut); code != 0 || !bytes.Equal(out.Bytes(), data) {
				t.Errorf("-shared to stdout: exit %d, %d bytes: %s", code, out.Len(), errOut.String())
			}
		})
	}
}

func TestErrors(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Profile: "z303-py24"})
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-addr", srv.Addr(), "-o", "-", "0x1@0x03"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "not supported") {
		t.Errorf("a server without blobs: exit %d: %s", code, errOut.String())
	}
	errOut.Reset()
	if code := run(context.Background(), []string{"-addr", srv.Addr(), "nope"}, &out, &errOut); code != 2 {
		t.Errorf("bad usage: exit %d: %s", code, errOut.String())
	}
}

// -h explains the tool, warns about -put's unreferenced object, and
// exits 0 as the other tools do.
func TestHelp(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run(context.Background(), []string{"-h"}, &out, &errOut); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
	for _, want := range []string{"Usage:", "Examples:", "next pack", "-shared"} {
		if !strings.Contains(errOut.String(), want) {
			t.Errorf("-h does not say %q:\n%s", want, errOut.String())
		}
	}
}
