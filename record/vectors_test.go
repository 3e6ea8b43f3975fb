package record

import (
	"bufio"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/gozeo/gozeo/zodb"
)

// generations are the real-ZODB databases of testdata/zodb (copied from the
// workspace's shared/vectors/zodb): who wrote them and in which format.
var generations = []struct {
	dir    string
	format Format
}{
	{"zeo5", Py3},    // ZODB 5.8.1, Python 3.11
	{"zeo4py2", Py2}, // ZODB 4.4.5, Python 2.7
	{"zeo310", Py2},  // ZODB3 3.10.7, Python 2.7
}

// storedRecord is one line of records.jsonl.
type storedRecord struct {
	OID  zodb.OID
	TID  zodb.TID
	Data []byte
}

func readRecords(t testing.TB, dir string) []storedRecord {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", "zodb", dir, "records.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out []storedRecord
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		var line struct{ OID, TID, Data string }
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		var r storedRecord
		if r.OID, err = zodb.ParseOID(line.OID); err != nil {
			t.Fatal(err)
		}
		if r.TID, err = zodb.ParseTID(line.TID); err != nil {
			t.Fatal(err)
		}
		if r.Data, err = hex.DecodeString(line.Data); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
