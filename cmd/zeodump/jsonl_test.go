package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/internal/testserver/store"
	"github.com/gozeo/gozeo/internal/zodbtest"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// jsonLine is one line of -json output.
type jsonLine struct {
	OID     zodb.OID        `json:"oid"`
	TID     zodb.TID        `json:"tid"`
	Class   *string         `json:"class"`
	State   json.RawMessage `json:"state"`
	Error   string          `json:"error"`
	Deleted bool            `json:"deleted"`
}

func parseLines(t *testing.T, out string) []jsonLine {
	t.Helper()
	var lines []jsonLine
	sc := bufio.NewScanner(strings.NewReader(out))
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var l jsonLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			t.Fatalf("not a JSON line: %v\n%.200s", err, sc.Text())
		}
		lines = append(lines, l)
	}
	return lines
}

// serveVectors serves a database real ZODB wrote, under its own tids.
func serveVectors(t *testing.T, g zodbtest.Generation) (*testserver.Server, []zodbtest.Record, *zodbtest.Expected) {
	t.Helper()
	recs := zodbtest.MustRecords(t, g.Name)
	want := zodbtest.MustExpected(t, g.Name)
	st := store.New(store.Options{})
	if err := zodbtest.Replay(t.Context(), st, recs); err != nil {
		t.Fatal(err)
	}
	profile := "z5-py3"
	if g.Py2 {
		profile = "z3101-py27"
	}
	return testserver.Start(t, testserver.Options{Profile: profile, Store: st}), recs, want
}

func sameView(t *testing.T, got, want []byte) bool {
	t.Helper()
	a, err1 := zodbtest.Canonical(got)
	b, err2 := zodbtest.Canonical(want)
	if err1 != nil || err2 != nil {
		t.Fatal(err1, err2)
	}
	return a == b
}

// -json prints every record of the databases real ZODB wrote, complete,
// with the class and state Python saw, in each walk.
func TestJSONVectors(t *testing.T) {
	for _, g := range zodbtest.Generations {
		t.Run(g.Name, func(t *testing.T) {
			srv, recs, want := serveVectors(t, g)

			// The transaction walk: every record, in order.
			code, out, errOut := runDump(t, "-addr", srv.Addr(), "-json")
			if code != 0 {
				t.Fatalf("exit %d: %s", code, errOut)
			}
			lines := parseLines(t, out)
			if len(lines) != len(recs) {
				t.Fatalf("%d lines for %d records", len(lines), len(recs))
			}
			stored := make(map[[2]string]bool)
			for _, r := range recs {
				stored[[2]string{r.OID.String(), r.TID.String()}] = true
			}
			for i, l := range lines {
				if !stored[[2]string{l.OID.String(), l.TID.String()}] || l.Class == nil || l.Error != "" {
					t.Fatalf("line %d: oid %v tid %v error %q: no such record", i, l.OID, l.TID, l.Error)
				}
				if i > 0 && l.TID.Compare(lines[i-1].TID) < 0 {
					t.Fatalf("line %d: tid %v after %v", i, l.TID, lines[i-1].TID)
				}
			}
			if !strings.Contains(errOut, "transactions, "+itoa(len(recs))+" records.") {
				t.Errorf("no summary on stderr: %s", errOut)
			}

			// The graph walk: every reachable object, as Python saw it.
			code, out, errOut = runDump(t, "-addr", srv.Addr(), "-json", "-graph")
			if code != 0 {
				t.Fatalf("graph: exit %d: %s", code, errOut)
			}
			lines = parseLines(t, out)
			if len(lines) != len(want.Objects) {
				t.Errorf("graph: %d objects, Python saw %d", len(lines), len(want.Objects))
			}
			for _, l := range lines {
				obj, ok := want.Objects[l.OID]
				if !ok {
					t.Errorf("oid %v is not reachable in Python", l.OID)
					continue
				}
				if *l.Class != obj.Class || !sameView(t, l.State, obj.State) {
					t.Errorf("oid %v: %s %.300s\nPython: %s %.300s", l.OID, *l.Class, l.State, obj.Class, obj.State)
				}
			}

			// One object as of an earlier transaction, through a snapshot.
			for at, states := range want.At {
				for oid, state := range states {
					code, out, errOut = runDump(t, "-addr", srv.Addr(), "-json", "-oid", oid.String(), "-tid", at.String())
					if code != 0 {
						t.Fatalf("-oid -tid: exit %d: %s", code, errOut)
					}
					lines = parseLines(t, out)
					if len(lines) != 1 || lines[0].TID.Compare(at) > 0 {
						t.Fatalf("-oid %v -tid %v: %s", oid, at, out)
					}
					got := lines[0].State
					if *lines[0].Class == "persistent.mapping.PersistentMapping" {
						var m struct {
							Dict [][2]json.RawMessage `json:"dict"`
						}
						json.Unmarshal(got, &m)
						got = m.Dict[0][1] // gen.py's "at" holds the mapping's items
					}
					if !sameView(t, got, state) {
						t.Errorf("oid %v at %v:\n got %.300s\nwant %.300s", oid, at, got, state)
					}
				}
			}
		})
	}
}

// A graph walk with -tid reads through one snapshot: objects changed
// later are shown as they were.
func TestGraphAsOfTID(t *testing.T) {
	srv, _, want := serveVectors(t, zodbtest.Generations[0])
	var at zodb.TID
	for tid := range want.At {
		at = tid
	}
	code, out, errOut := runDump(t, "-addr", srv.Addr(), "-json", "-graph", "-tid", at.String())
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	n := 0
	for _, l := range parseLines(t, out) {
		if l.TID.Compare(at) > 0 {
			t.Errorf("oid %v read at %v, after -tid %v", l.OID, l.TID, at)
		}
		if state, ok := want.At[at][l.OID]; ok && *l.Class != "persistent.mapping.PersistentMapping" {
			n++
			if !sameView(t, l.State, state) {
				t.Errorf("oid %v: %.300s", l.OID, l.State)
			}
		}
	}
	if n == 0 {
		t.Error("the changed object was not reached")
	}
}

func TestJSONUndecodableAndFlags(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{})
	c := dial(t, srv)
	commit(t, c, zeoWrite(zodb.OIDFromUint64(1), []byte("hello, ZEO")))
	code, out, errOut := runDump(t, "-addr", srv.Addr(), "-json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := parseLines(t, out)
	if len(lines) != 1 || lines[0].Error == "" || !strings.Contains(out, `"data":"68656c6c6f2c205a454f"`) {
		t.Errorf("undecodable record: %s", out)
	}
	if code, _, errOut := runDump(t, "-addr", srv.Addr(), "-json", "-raw"); code != 2 || !strings.Contains(errOut, "exclude") {
		t.Errorf("-json -raw: exit %d %s", code, errOut)
	}
}

// Progress goes to stderr, no more often than asked.
func TestProgress(t *testing.T) {
	var b bytes.Buffer
	p := newProgress(&b, time.Nanosecond)
	time.Sleep(time.Millisecond)
	p.tick("%d records", 5)
	p.done()
	if !strings.Contains(b.String(), "zeodump: 5 records") || !strings.Contains(b.String(), "done in") {
		t.Errorf("%q", b.String())
	}
	b.Reset()
	p = newProgress(&b, time.Hour)
	p.tick("%d records", 5)
	p.done()
	if b.Len() != 0 {
		t.Errorf("%q", b.String())
	}
}

func itoa(n int) string { return strconv.Itoa(n) }

func zeoWrite(oid zodb.OID, data []byte) zeo.Write { return zeo.Write{OID: oid, Data: data} }
