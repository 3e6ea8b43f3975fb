package main

import (
	"bytes"
	"context"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
)

func runBench(t *testing.T, ctx context.Context, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(ctx, args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// checkReport asserts the report's structure, not its figures, and
// returns the count of each operation.
func checkReport(t *testing.T, out string) map[string]int {
	t.Helper()
	for _, want := range []string{
		"op           count      ops/s      MB/s       p50       p90       p99       max",
		"\nall ", "\nconflicts ", "\nerrors    0\n", "measured for ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
	// A row: name, count, ops/s, MB/s and the four latencies ("-" when
	// nothing was measured).
	rowRE := regexp.MustCompile(`(?m)^(load|commit) +(\d+) +[\d.]+ +[\d.]+ +(-|\S+s) +(-|\S+s) +(-|\S+s) +(-|\S+s)$`)
	counts := map[string]int{}
	for _, m := range rowRE.FindAllStringSubmatch(out, -1) {
		counts[m[1]], _ = strconv.Atoi(m[2])
	}
	if len(counts) != 2 {
		t.Errorf("want a load and a commit row:\n%s", out)
	}
	return counts
}

func TestBenchEmbedded(t *testing.T) {
	code, out, errOut := runBench(t, t.Context(), "-profile", "z5-py3", "-d", "200ms", "-c", "4", "-objects", "20", "-size", "100")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	checkReport(t, out)
	for _, want := range []string{"embedded test server imitating z5-py3", "protocol Z5 (pickle-py3)", "4 workers on 1 connection(s), 20 objects of 100 bytes", "created them in 1 transactions"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// Against a server given by address, over several connections, with a
// Python 2 server's record dialect.
func TestBenchAddr(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Profile: "z3101-py27"})
	code, out, errOut := runBench(t, t.Context(), "-addr", srv.Addr(), "-d", "200ms", "-c", "4", "-conns", "2", "-objects", "250", "-commit-ratio", "0.5")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	checkReport(t, out)
	for _, want := range []string{"protocol Z3101 (pickle-py2)", "on 2 connection(s)", "created them in 3 transactions"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// -ops bounds the run by count: every turn is one load.
func TestBenchOpsBound(t *testing.T) {
	code, out, errOut := runBench(t, t.Context(), "-profile", "m5-py3", "-d", "10m", "-ops", "50", "-c", "3", "-objects", "5", "-commit-ratio", "0.3")
	if code != 0 {
		t.Fatalf("exit %d: %s\n%s", code, errOut, out)
	}
	if counts := checkReport(t, out); counts["load"] != 50 {
		t.Errorf("%d loads, want 50:\n%s", counts["load"], out)
	}
}

func TestPayloadRecord(t *testing.T) {
	for _, f := range []record.Format{record.Py3, record.Py2} {
		for _, size := range []int{0, 10, 100, 255, 300, 1024, 70000} {
			rec, err := payloadRecord(f, size, 7)
			if err != nil {
				t.Fatal(err)
			}
			smallest, _ := payloadRecord(f, 0, 7)
			if size >= len(smallest) && (len(rec) < size-3 || len(rec) > size) {
				t.Errorf("%v, -size %d: record of %d bytes", f, size, len(rec))
			}
			// A ZODB record: class pickle, then the state with the payload.
			r, err := record.Decode(rec)
			if err != nil {
				t.Fatal(err)
			}
			d, _ := pickle.AsDict(r.State)
			payload, _ := d.GetString("payload")
			b, ok := pickle.AsBytes(payload)
			if r.Class != "zeobench.Payload" || !ok || r.Trailing != 0 {
				t.Errorf("%v, -size %d: class %s, state %s", f, size, r.Class, pickle.Repr(r.State))
			}
			if got, _ := record.FormatOf(rec); got != f {
				t.Errorf("written as %v, want %v", got, f)
			}
			if len(b) >= 8 && b[7] != 7 {
				t.Errorf("payload not stamped: % x", b[:8])
			}
		}
	}
}

func TestBenchReadOnly(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{ReadOnly: true})
	code, _, errOut := runBench(t, t.Context(), "-addr", srv.Addr(), "-d", "100ms")
	if code != 1 || !strings.Contains(errOut, "writable scratch storage") {
		t.Errorf("exit %d, stderr %s", code, errOut)
	}
}

// A lost connection ends the run at once with status 1, after printing
// what was measured. The cache is off (explicitly, whatever the default):
// with it, the repeated loads of 20 objects would not reach the server
// that drops the connection.
func TestBenchDisconnect(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Faults: testserver.Faults{Rules: []testserver.FaultRule{
		{Method: "loadBefore", AfterFrames: 100, Action: testserver.FaultClose},
	}}})
	code, out, errOut := runBench(t, t.Context(), "-addr", srv.Addr(), "-d", "10m", "-objects", "20", "-commit-ratio", "0", "-cache", "off")
	if code != 1 || !strings.Contains(errOut, "connection to the server was lost") {
		t.Errorf("exit %d, stderr %s", code, errOut)
	}
	if !strings.Contains(out, "errors    ") || !strings.Contains(out, "p99") {
		t.Errorf("no report:\n%s", out)
	}
}

func TestBenchInterrupted(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if code, _, errOut := runBench(t, ctx, "-profile", "z5-py3", "-d", "1m"); code != 1 {
		t.Errorf("exit %d: %s", code, errOut)
	}
}

func TestBenchUnreachable(t *testing.T) {
	code, _, errOut := runBench(t, t.Context(), "-addr", "127.0.0.1:1", "-timeout", "2s")
	if code != 1 || !strings.Contains(errOut, "zeobench: cannot talk to 127.0.0.1:1") {
		t.Errorf("exit %d, stderr %s", code, errOut)
	}
}

func TestBenchUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-h"}, 0, "Usage:"},
		{nil, 2, "-addr is required"},
		{[]string{"-addr", "x:1", "-profile", "z5-py3"}, 2, "exclude each other"},
		{[]string{"-profile", "z9"}, 2, "unknown -profile"},
		{[]string{"-profile", "z5-py3", "-commit-ratio", "1.5"}, 2, "-commit-ratio"},
		{[]string{"-profile", "z5-py3", "-commit-ratio", "NaN"}, 2, "-commit-ratio"},
		{[]string{"-profile", "z5-py3", "-c", "0"}, 2, "at least 1"},
		{[]string{"-profile", "z5-py3", "-d", "0s"}, 2, "-d must be positive"},
		{[]string{"-profile", "z5-py3", "-objects", "1000000", "-size", "1000000"}, 2, "GiB"},
		{[]string{"-profile", "z5-py3", "extra"}, 2, "unexpected argument"},
		{[]string{"-profile", "z5-py3", "-dist", "pareto"}, 2, "unknown -dist"},
		{[]string{"-profile", "z5-py3", "-dist", "zipf", "-zipf-s", "1"}, 2, "-zipf-s must be a number over 1"},
		{[]string{"-profile", "z5-py3", "-dist", "zipf", "-zipf-s", "NaN"}, 2, "-zipf-s must be a number over 1"},
		{[]string{"-profile", "z5-py3", "-dist", "zipf", "-zipf-s", "+Inf"}, 2, "-zipf-s must be a number over 1"},
		{[]string{"-profile", "z5-py3", "-zipf-s", "1.1"}, 2, "-zipf-s applies to -dist zipf only"},
	} {
		code, _, errOut := runBench(t, t.Context(), tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}
