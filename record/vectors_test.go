package record

import (
	"testing"

	"github.com/gozeo/gozeo/internal/zodbtest"
	"github.com/gozeo/gozeo/zodb"
)

// generations are the real-ZODB databases of internal/zodbtest and the
// format each was written in.
var generations = func() (out []struct {
	name   string
	format Format
}) {
	for _, g := range zodbtest.Generations {
		f := Py3
		if g.Py2 {
			f = Py2
		}
		out = append(out, struct {
			name   string
			format Format
		}{g.Name, f})
	}
	return out
}()

// classesOf decodes the class of every record at tid.
func classesOf(t testing.TB, recs map[zodb.OID]zodbtest.Record) map[zodb.OID]string {
	t.Helper()
	out := make(map[zodb.OID]string, len(recs))
	for oid, r := range recs {
		rec, err := Decode(r.Data)
		if err != nil {
			t.Fatalf("oid %v: %v", oid, err)
		}
		out[oid] = rec.Class
	}
	return out
}

// Every object Python saw has the class and state the Go view gives.
func TestVectorsMatchPython(t *testing.T) {
	for _, g := range generations {
		t.Run(g.name, func(t *testing.T) {
			recs := zodbtest.MustRecords(t, g.name)
			want := zodbtest.MustExpected(t, g.name)
			check := func(at zodb.TID, states map[zodb.OID]zodbtest.Object) {
				latest := zodbtest.Latest(recs, at)
				classes := classesOf(t, latest)
				opts := &JSONOptions{RefClass: func(oid zodb.OID) string { return classes[oid] }}
				for oid, obj := range states {
					r, ok := latest[oid]
					if !ok {
						t.Errorf("at %v: oid %v has no record", at, oid)
						continue
					}
					rec, err := Decode(r.Data)
					if err != nil {
						t.Fatalf("oid %v: %v", oid, err)
					}
					if obj.Class != "" && rec.Class != obj.Class {
						t.Errorf("oid %v: class %q, Python saw %q", oid, rec.Class, obj.Class)
					}
					state := rec.State
					if obj.Class == "" && rec.Class == ClassPersistentMapping {
						// gen.py's "at" holds a mapping's items.
						m, err := DecodeMapping(state)
						if err != nil {
							t.Fatal(err)
						}
						state = m.Data
					}
					view, err := AppendJSON(nil, state, opts)
					if err != nil {
						t.Fatalf("oid %v: %v", oid, err)
					}
					got, err1 := zodbtest.Canonical(view)
					exp, err2 := zodbtest.Canonical(obj.State)
					if err1 != nil || err2 != nil {
						t.Fatal(err1, err2)
					}
					if got != exp {
						t.Errorf("at %v oid %v (%s):\n got %.600s\nwant %.600s", at, oid, rec.Class, got, exp)
					}
				}
			}
			check(want.LastTID, want.Objects)
			for at, states := range want.At {
				objs := make(map[zodb.OID]zodbtest.Object, len(states))
				for oid, s := range states {
					objs[oid] = zodbtest.Object{State: s}
				}
				check(at, objs)
			}
			if len(want.Objects) < 600 || len(want.At) == 0 {
				t.Errorf("only %d objects, %d earlier tids", len(want.Objects), len(want.At))
			}
		})
	}
}
