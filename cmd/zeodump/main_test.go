package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

func runDump(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = run(t.Context(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

func wantAll(t *testing.T, out string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// The demo shows what a newcomer should see: classes, keys and persistent
// references, whichever Python wrote the records and whichever way the
// storage is walked. -n 0 walks all of it: the root's creation, the blob's
// upload, the directory (the two trees, the root, the settings, the notes,
// 120 people, 7 people buckets and 99 counters buckets) and Bob's change.
func TestDemo(t *testing.T) {
	for _, tc := range []struct {
		profile string
		quote   string // how the writer's native str keys are shown
		walk    string
	}{
		{"z5-py3", `"`, "4 transactions, 234 records."},
		{"m5-py3", `"`, "4 transactions, 234 records."},
		{"z3101-py27", `'`, "4 transactions, 234 records."},
		{"z308-py24", `'`, "232 objects reachable from the root."}, // no iterator before 3.9
	} {
		t.Run(tc.profile, func(t *testing.T) {
			code, out, errOut := runDump(t, "-demo", "-profile", tc.profile, "-n", "0")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			q := func(s string) string { return tc.quote + s + tc.quote }
			wantAll(t, out,
				"class persistent.mapping.PersistentMapping",
				"class BTrees.OOBTree.OOBTree",
				"class BTrees.OOBTree.OOBucket",
				"class BTrees.IOBTree.IOBTree",
				"class myapp.models.Person",
				q("data")+": {",
				q("people")+": -> oid 0x01 (BTrees.OOBTree.OOBTree)",
				q("counters")+": -> oid 0x02 (BTrees.IOBTree.IOBTree)",
				q("settings")+": -> oid 0x03 (persistent.mapping.PersistentMapping)",
				q("favourite")+": -> weak oid 0x07",
				`in database "archive"`,
				"-> oid 0x06 (myapp.models.Person)",
				q("page_size")+": 50",
				"(2024-03-15 09:30:00)",
				tc.walk,
			)
			if strings.Contains(out, "cannot decode") {
				t.Errorf("a demo record did not decode:\n%s", out)
			}
			if tc.profile != "z308-py24" {
				wantAll(t, out, `user "/ alice"  description "add the team directory"`)
			}
		})
	}
	// By default the walk stops after 100 records, past the root's
	// references.
	code, out, errOut := runDump(t, "-demo")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	wantAll(t, out, `"people": -> oid 0x01 (BTrees.OOBTree.OOBTree)`, "class myapp.models.Person", "stopped after 100 records (-n).")
}

// With -json, stdout holds the records only, the demo's notes included
// going to stderr.
func TestDemoJSON(t *testing.T) {
	code, out, errOut := runDump(t, "-demo", "-json", "-n", "3")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if n := strings.Count(out, "\n"); n != 3 || !strings.HasPrefix(out, `{"oid":`) {
		t.Errorf("stdout is not 3 JSON records:\n%s", out)
	}
	wantAll(t, errOut, "demo: started a test server")
}

func TestDemoOneObjectAndRaw(t *testing.T) {
	code, out, errOut := runDump(t, "-demo", "-oid", "0x07")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	wantAll(t, out, "oid 0x07  serial", `"email": "bob@example.com"`) // the current revision
	if strings.Contains(out, "replaced by") {
		t.Errorf("the current revision is said to be replaced:\n%s", out)
	}

	code, out, errOut = runDump(t, "-demo", "-oid", "7", "-raw")
	if code != 0 {
		t.Fatalf("-raw: exit %d: %s", code, errOut)
	}
	wantAll(t, out, "00000000  80 03 63 6d 79 61 70 70", "|..cmyapp.models.|")
}

// commit writes one transaction and returns its tid.
func commit(t *testing.T, c *zeo.Client, ws ...zeo.Write) zodb.TID {
	t.Helper()
	tid, err := c.Commit(t.Context(), zeo.TxnMeta{User: "test", Description: "test data"}, ws...)
	if err != nil {
		t.Fatal(err)
	}
	return tid
}

func dial(t *testing.T, srv *testserver.Server) *zeo.Client {
	t.Helper()
	c, err := zeo.Dial(t.Context(), srv.Addr(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func noteRecord(t *testing.T, state pickle.Value) []byte {
	t.Helper()
	data, err := record.EncodeObject("myapp.Note", state, record.Py3)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestOIDAsOfTID(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	c := dial(t, srv)
	oid := zodb.OIDFromUint64(7)
	first := commit(t, c, zeo.Write{OID: oid, Data: noteRecord(t, pickle.DictOf("text", "first"))})
	second := commit(t, c, zeo.Write{OID: oid, Serial: first, Data: noteRecord(t, pickle.DictOf("text", "second"))})

	code, out, errOut := runDump(t, "-addr", srv.Addr(), "-oid", "0x07", "-tid", first.String())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	wantAll(t, out, "serial "+first.String(), `"text": "first"`, "replaced by transaction "+second.String())

	code, out, _ = runDump(t, "-addr", srv.Addr(), "-oid", "0x07")
	if code != 0 || !strings.Contains(out, `"text": "second"`) {
		t.Errorf("current revision: exit %d:\n%s", code, out)
	}

	code, _, errOut = runDump(t, "-addr", srv.Addr(), "-oid", "0x99")
	if code != 1 || !strings.Contains(errOut, "0x99") {
		t.Errorf("missing object: exit %d, stderr %s", code, errOut)
	}
}

// A record that is not a pickle is reported, and the dump goes on to the
// next one, in both walks.
func TestUndecodableRecordSkipped(t *testing.T) {
	for _, profile := range []string{"z5-py3", "z308-py27"} {
		t.Run(profile, func(t *testing.T) {
			srv := testserver.Start(t, testserver.Options{Profile: profile})
			c := dial(t, srv)
			bad, good := zodb.OIDFromUint64(1), zodb.OIDFromUint64(2)
			root := noteRecord(t, pickle.DictOf(
				"bad", record.RefTo(bad, "myapp.Note"),
				"good", record.RefTo(good, "myapp.Note"),
			))
			commit(t, c,
				zeo.Write{OID: zodb.ZeroOID, Data: root},
				zeo.Write{OID: bad, Data: []byte("hello, ZEO")},
				zeo.Write{OID: good, Data: noteRecord(t, pickle.DictOf("text", "still shown"))},
			)
			code, out, errOut := runDump(t, "-addr", srv.Addr())
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			wantAll(t, out, "cannot decode the record: class pickle: pickle:", "10 bytes, starting 68656c6c6f2c205a454f", `"text": "still shown"`)
			if i, j := strings.Index(out, "cannot decode"), strings.Index(out, "still shown"); i > j {
				t.Errorf("the good record was not dumped after the bad one:\n%s", out)
			}
		})
	}
}

func TestUnreachable(t *testing.T) {
	code, out, errOut := runDump(t, "-addr", "127.0.0.1:1", "-timeout", "2s")
	if code != 1 || !strings.Contains(errOut, "zeodump: cannot talk to 127.0.0.1:1") {
		t.Errorf("exit %d, stdout %q, stderr %q", code, out, errOut)
	}
}

func TestUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"-h"}, 0, "Usage:"},
		{nil, 2, "-addr is required"},
		{[]string{"-addr", "x:1", "-demo"}, 2, "exclude each other"},
		{[]string{"-addr", "x:1", "-oid", "zz"}, 2, "-oid"},
		{[]string{"-addr", "x:1", "-tid", "0x1234567890abcdef00"}, 2, "-tid"},
		{[]string{"-addr", "x:1", "-profile", "z5-py3"}, 2, "-profile"},
		{[]string{"-demo", "-profile", "z9"}, 2, "unknown -profile"},
		{[]string{"-addr", "x:1", "extra"}, 2, "unexpected argument"},
		{[]string{"-nope"}, 2, "flag provided but not defined"},
	} {
		code, _, errOut := runDump(t, tc.args...)
		if code != tc.code || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit %d and %q", tc.args, code, errOut, tc.code, tc.want)
		}
	}
}

// An interrupted dump (the signal context ends) stops with status 1.
func TestCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	var out, errOut bytes.Buffer
	if code := run(ctx, []string{"-demo"}, &out, &errOut); code != 1 {
		t.Errorf("exit %d: %s", code, errOut.String())
	}
}
