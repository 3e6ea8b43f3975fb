package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// -tid reads as of a transaction on the oldest servers too: ZODB 3.3 –
// 3.7 (loadBefore) and ZODB 3.2 (which has none: the objects' history),
// for one object (-oid) and for a walk from the root (-graph).
func TestAsOfTIDOnOldServers(t *testing.T) {
	for _, profile := range []string{"z303-py24", "z201-py24"} {
		t.Run(profile, func(t *testing.T) {
			srv := testserver.Start(t, testserver.Options{Profile: profile})
			c := dial(t, srv)
			note := func(text string) []byte {
				data, err := record.EncodeObject("myapp.Note", pickle.DictOf("text", pickle.Unicode(text)), record.Py2)
				if err != nil {
					t.Fatal(err)
				}
				return data
			}
			root := func(refs ...zodb.OID) []byte {
				m := record.NewMapping()
				for i, oid := range refs {
					m.Data.Set(pickle.Unicode(fmt.Sprint("note", i)), record.RefTo(oid, "myapp.Note"))
				}
				data, err := record.EncodeObject(record.ClassPersistentMapping, m.State(), record.Py2)
				if err != nil {
					t.Fatal(err)
				}
				return data
			}
			a, b := zodb.OIDFromUint64(1), zodb.OIDFromUint64(2)
			first := commit(t, c, zeo.Write{OID: zodb.ZeroOID, Data: root(a)}, zeo.Write{OID: a, Data: note("first")})
			second := commit(t, c, zeo.Write{OID: zodb.ZeroOID, Serial: first, Data: root(a, b)},
				zeo.Write{OID: a, Serial: first, Data: note("second")}, zeo.Write{OID: b, Data: note("added")})

			code, out, errOut := runDump(t, "-addr", srv.Addr(), "-oid", "0x01", "-tid", first.String())
			if code != 0 {
				t.Fatalf("-oid -tid: exit %d: %s", code, errOut)
			}
			wantAll(t, out, "serial "+first.String(), "first", "replaced by transaction "+second.String())
			if strings.Contains(out, "second") {
				t.Errorf("-oid -tid shows the newer revision:\n%s", out)
			}

			code, out, errOut = runDump(t, "-addr", srv.Addr(), "-oid", "0x02", "-tid", first.String())
			if code != 1 || !strings.Contains(errOut, "0x02") {
				t.Errorf("an object created later: exit %d, stderr %s", code, errOut)
			}

			code, out, errOut = runDump(t, "-addr", srv.Addr(), "-graph", "-tid", first.String())
			if code != 0 {
				t.Fatalf("-graph -tid: exit %d: %s", code, errOut)
			}
			wantAll(t, out, "first", "2 objects reachable from the root.")
			if strings.Contains(out, "second") || strings.Contains(out, "added") {
				t.Errorf("-graph -tid shows newer revisions:\n%s", out)
			}
		})
	}
}
