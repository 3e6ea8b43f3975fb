package conform_test

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/gozeo/gozeo/internal/conform"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zeotest"
)

// The test server meets, on every profile, what a real server of its
// generation must: the full suite passes, and a check is skipped only
// where the version lacks the operation (or the store has no root).
func TestEveryProfileConforms(t *testing.T) {
	for _, p := range zeotest.Profiles() {
		t.Run(string(p), func(t *testing.T) {
			t.Parallel()
			srv := zeotest.Start(t, &zeotest.Options{Profile: p})
			if _, err := srv.SeedObject(t.Context(), zeo.OID{}, "persistent.mapping.PersistentMapping", pickle.DictOf("data", pickle.NewDict(0))); err != nil {
				t.Fatal(err)
			}
			rep, err := conform.Run(t.Context(), conform.Options{Addr: srv.Addr(), Write: true})
			if err != nil {
				t.Fatal(err)
			}
			var table bytes.Buffer
			rep.WriteTable(&table)
			if !rep.Passed() {
				t.Fatalf("failures:\n%s", table.String())
			}
			blobs := rep.Negotiated.Capabilities().Blobs
			for _, r := range rep.Results {
				if r.Status == conform.Skip && !strings.Contains(r.Note, "has no") {
					t.Errorf("%s skipped: %s", r.Check, r.Note)
				}
				if !strings.HasPrefix(r.Check, "blobs:") {
					continue
				}
				if blobs && r.Status != conform.Pass {
					t.Errorf("%s: %s %s, want a pass: the server has blobs", r.Check, r.Status, r.Note)
				}
				if !blobs && (r.Status != conform.Skip || !strings.HasPrefix(r.Note, "no blobs")) {
					t.Errorf("%s: %s %q, want skipped for no blobs", r.Check, r.Status, r.Note)
				}
			}
			if p, _, _ := rep.Counts(); p < 10 {
				t.Errorf("only %d checks passed:\n%s", p, table.String())
			}
		})
	}
}

// The read-only suite writes nothing: the storage's last transaction is
// the same afterwards, even with a root object to read.
func TestReadOnlySuiteWritesNothing(t *testing.T) {
	srv := zeotest.Start(t, &zeotest.Options{Profile: zeotest.Z3101Py27})
	if _, err := srv.SeedObject(t.Context(), zeo.OID{}, "persistent.mapping.PersistentMapping", pickle.DictOf("data", pickle.NewDict(0))); err != nil {
		t.Fatal(err)
	}
	c := srv.Client(t, nil)
	before, _ := c.LastTransaction(t.Context())
	rep, err := conform.Run(t.Context(), conform.Options{Addr: srv.Addr()})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Passed() {
		var b bytes.Buffer
		rep.WriteTable(&b)
		t.Fatal(b.String())
	}
	for _, r := range rep.Results {
		if r.Status == conform.Skip {
			t.Errorf("%s skipped: %s", r.Check, r.Note)
		}
	}
	after, _ := c.LastTransaction(t.Context())
	if after != before {
		t.Errorf("last tid moved from %s to %s", before, after)
	}
}

// A server that misbehaves fails the checks it breaks, with what was sent,
// what came back and what was expected; the run goes on after the
// connection is lost.
func TestFailureIsReported(t *testing.T) {
	srv := zeotest.Start(t, &zeotest.Options{Profile: zeotest.Z5Py3})
	srv.SetFaults(zeotest.Fault{Method: "history", Action: zeotest.Close})
	rep, err := conform.Run(t.Context(), conform.Options{Addr: srv.Addr(), CheckTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Passed() {
		t.Fatal("passed with history dropping the connection")
	}
	var failed []conform.Result
	for _, r := range rep.Results {
		if r.Status == conform.Fail {
			failed = append(failed, r)
		}
	}
	if len(failed) != 1 || !strings.HasPrefix(failed[0].Check, "history") || failed[0].Sent == "" || failed[0].Got == "" || failed[0].Want == "" {
		t.Fatalf("failures %+v, want one for history with sent, got and expected", failed)
	}
	var table, js bytes.Buffer
	rep.WriteTable(&table)
	for _, want := range []string{"FAIL", "sent:", "got:", "expected:", "POSKeyError"} {
		if !strings.Contains(table.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, table.String())
		}
	}
	if err := rep.WriteJSON(&js); err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Passed  bool
		Results []conform.Result
	}
	if err := json.Unmarshal(js.Bytes(), &doc); err != nil || doc.Passed || len(doc.Results) != len(rep.Results) {
		t.Fatalf("JSON %s: %v", js.String(), err)
	}
}

// A storage without a blob directory: zeo learns it from get_info's
// interfaces and refuses blob calls before sending them, and the suite
// reports the blob checks as skipped, not failed.
func TestNoBlobsIsASkip(t *testing.T) {
	for _, p := range []zeotest.Profile{zeotest.Z3101Py27, zeotest.Z5Py3} {
		t.Run(string(p), func(t *testing.T) {
			srv := zeotest.Start(t, &zeotest.Options{Profile: p, NoBlobs: true})
			rep, err := conform.Run(t.Context(), conform.Options{Addr: srv.Addr(), Write: true})
			if err != nil {
				t.Fatal(err)
			}
			var table bytes.Buffer
			rep.WriteTable(&table)
			if !rep.Passed() {
				t.Fatalf("failures:\n%s", table.String())
			}
			n := 0
			for _, r := range rep.Results {
				if strings.HasPrefix(r.Check, "blobs:") {
					n++
					if r.Status != conform.Skip || !strings.HasPrefix(r.Note, "no blobs") || !strings.Contains(r.Note, "IBlobStorage") {
						t.Errorf("%s: %s %q, want skipped for no blobs", r.Check, r.Status, r.Note)
					}
				}
			}
			if n != 2 || !strings.Contains(table.String(), "SKIP (no blobs") {
				t.Errorf("%d blob checks; table:\n%s", n, table.String())
			}
		})
	}
}

// A server whose blob transfer breaks fails the blob checks, and only
// them, with what was sent, what came back and what was expected.
func TestBrokenBlobTransferFails(t *testing.T) {
	srv := zeotest.Start(t, &zeotest.Options{Profile: zeotest.Z4Py27})
	srv.SetFaults(zeotest.Fault{Method: "sendBlob", Action: zeotest.Close})
	rep, err := conform.Run(t.Context(), conform.Options{Addr: srv.Addr(), Write: true, CheckTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	var failed []string
	for _, r := range rep.Results {
		if r.Status != conform.Fail {
			continue
		}
		failed = append(failed, r.Check)
		if !strings.HasPrefix(r.Check, "blobs:") || !strings.Contains(r.Sent, "sendBlob") && !strings.Contains(r.Sent, "loads the blob") || r.Got == "" || r.Want == "" {
			t.Errorf("failure %+v", r)
		}
	}
	if len(failed) != 2 {
		t.Errorf("failed %v, want the two blob checks", failed)
	}
}

func TestUnreachable(t *testing.T) {
	srv := zeotest.Start(t, nil)
	addr := srv.Addr()
	srv.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := conform.Run(ctx, conform.Options{Addr: addr, CheckTimeout: time.Second}); err == nil {
		t.Fatal("no error for a closed server")
	}
}
