package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/internal/conform"
	"github.com/gozeo/gozeo/zeotest"
)

func TestFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "-addr is required"},
		{[]string{"-addr", "localhost:1", "-write"}, 2, "scratch storage"},
		{[]string{"-addr", "localhost:1", "-profile", "z5-py3"}, 2, "exclude each other"},
		{[]string{"-profile", "z9-py4"}, 2, "unknown profile"},
	} {
		var out, errOut bytes.Buffer
		if code := run(c.args, &out, &errOut); code != c.code || !strings.Contains(errOut.String(), c.want) {
			t.Errorf("%v: exit %d, stderr %q; want %d and %q", c.args, code, errOut.String(), c.code, c.want)
		}
	}
}

// One profile as JSON: a document with the report and "passed", exit 0.
func TestProfileJSON(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-profile", "z309-py26", "-write", "-json"}, &out, &errOut); code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut.String(), out.String())
	}
	var doc struct {
		Negotiated string
		Write      bool
		Passed     bool
		Results    []conform.Result
	}
	if err := json.Unmarshal(out.Bytes(), &doc); err != nil {
		t.Fatalf("%v: %s", err, out.String())
	}
	if doc.Negotiated != "Z309" || !doc.Write || !doc.Passed || len(doc.Results) < 15 {
		t.Errorf("report %+v", doc)
	}
	blobs := 0
	for _, r := range doc.Results {
		if strings.HasPrefix(r.Check, "blobs:") && r.Status == conform.Pass {
			blobs++
		}
	}
	if blobs != 2 {
		t.Errorf("%d blob checks passed, want 2: %+v", blobs, doc.Results)
	}
}

// A failing server: exit status 1 and the failure in the table.
func TestFailingServerExitsOne(t *testing.T) {
	srv := zeotest.Start(t, &zeotest.Options{Profile: zeotest.Z4Py27})
	srv.SetFaults(zeotest.Fault{Method: "undoLog", Action: zeotest.CorruptFrame})
	var out, errOut bytes.Buffer
	if code := run([]string{"-addr", srv.Addr()}, &out, &errOut); code != 1 {
		t.Fatalf("exit %d, want 1: %s\n%s", code, errOut.String(), out.String())
	}
	if !strings.Contains(out.String(), "undoLog") || !strings.Contains(out.String(), "expected:") {
		t.Errorf("table:\n%s", out.String())
	}
}

// TestRealServer runs the suite against the ZEO server at ZEO_TEST_ADDR
// (read-only), or with ZEO_TEST_STORAGE naming a scratch storage there,
// the full suite on it. Without the variable it says so, loudly.
func TestRealServer(t *testing.T) {
	addr := os.Getenv("ZEO_TEST_ADDR")
	if addr == "" {
		const msg = "SKIPPED: no real ZEO server to check; set ZEO_TEST_ADDR=host:port (and ZEO_TEST_STORAGE=name of a scratch storage for the write suite) to run zeoconform against one"
		fmt.Fprintln(os.Stderr, "cmd/zeoconform TestRealServer", msg)
		t.Log(msg)
		t.Skip("ZEO_TEST_ADDR is not set")
	}
	args := []string{"-addr", addr}
	if st := os.Getenv("ZEO_TEST_STORAGE"); st != "" {
		args = append(args, "-storage", st, "-write")
	}
	var out, errOut bytes.Buffer
	code := run(args, &out, &errOut)
	t.Log("\n" + out.String())
	if code != 0 {
		t.Fatalf("zeoconform %s: exit %d: %s", strings.Join(args, " "), code, errOut.String())
	}
}
