// Package zodbtest gives tests the databases written by real ZODB that
// they use as ground truth (testdata/README.md says what each holds):
// every stored record, every transaction, and what Python saw in each
// object, in the JSON view of record.JSON. It keeps one copy of the
// files, embedded, and one reader. A file a test asks for that is missing
// is a test failure, never a skip; the files are compiled in, so a
// checkout without them does not build.
package zodbtest

import (
	"bufio"
	"bytes"
	"context"
	"embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sort"
	"testing"

	"github.com/gozeo/gozeo/zodb"
)

//go:embed testdata/zodb/*/*.jsonl testdata/zodb/*/*.json
var files embed.FS

// Generation is one database and the ZODB that wrote it.
type Generation struct {
	Name string // the name the readers take, e.g. "zeo5"
	Py2  bool   // written by ZODB on Python 2 (protocol 1)
}

// Generations are the databases, newest ZODB first.
var Generations = []Generation{
	{Name: "zeo5"},               // ZODB 5.8.1, Python 3.11
	{Name: "zeo4py2", Py2: true}, // ZODB 4.4.5, Python 2.7
	{Name: "zeo310", Py2: true},  // ZODB3 3.10.7, Python 2.7
}

// Record is one stored data record.
type Record struct {
	OID  zodb.OID
	TID  zodb.TID
	Data []byte
}

// Txn is one transaction's metadata, in the JSON view.
type Txn struct {
	TID         zodb.TID        `json:"tid"`
	User        json.RawMessage `json:"user"`
	Description json.RawMessage `json:"description"`
	Extension   json.RawMessage `json:"extension"`
}

// Object is what Python saw in one object.
type Object struct {
	Class string          `json:"class"`
	State json.RawMessage `json:"state"`
}

// BTree is what Python iterated in one BTree, bucket, set or tree set.
type BTree struct {
	Class string `json:"class"`
	Len   int    `json:"len"`
	// Items are [key, value] pairs in Python's order; value is null for
	// sets.
	Items []json.RawMessage `json:"items"`
}

// Expected is expected.json: what Python saw in the database.
type Expected struct {
	// Objects are the current revision of every object reachable from
	// the root.
	Objects map[zodb.OID]Object `json:"objects"`
	// BTrees are every BTree, bucket, set and tree set.
	BTrees map[zodb.OID]BTree `json:"btrees"`
	// At is what some objects held at earlier tids.
	At map[zodb.TID]map[zodb.OID]json.RawMessage `json:"at"`
	// Names are the oids of the root's entries.
	Names   map[string]zodb.OID `json:"names"`
	LastTID zodb.TID            `json:"last_tid"`
}

// readFile returns the file name of the generation gen.
func readFile(gen, name string) ([]byte, error) {
	data, err := files.ReadFile("testdata/zodb/" + gen + "/" + name)
	if err != nil {
		return nil, fmt.Errorf("zodbtest: no %s in generation %q: %w", name, gen, err)
	}
	return data, nil
}

// Records reads the records of the generation gen (a Generation's Name),
// oldest first.
func Records(gen string) ([]Record, error) {
	var out []Record
	err := eachLine(gen, "records.jsonl", func(line []byte) error {
		var l struct {
			OID  zodb.OID `json:"oid"`
			TID  zodb.TID `json:"tid"`
			Data string   `json:"data"`
		}
		if err := json.Unmarshal(line, &l); err != nil {
			return err
		}
		data, err := hex.DecodeString(l.Data)
		if err != nil {
			return err
		}
		out = append(out, Record{OID: l.OID, TID: l.TID, Data: data})
		return nil
	})
	return out, err
}

// MustRecords is Records failing tb on error.
func MustRecords(tb testing.TB, gen string) []Record {
	tb.Helper()
	recs, err := Records(gen)
	if err != nil {
		tb.Fatal(err)
	}
	return recs
}

// Transactions reads the transactions of the generation gen, oldest
// first.
func Transactions(gen string) ([]Txn, error) {
	var out []Txn
	err := eachLine(gen, "transactions.jsonl", func(line []byte) error {
		var t Txn
		if err := json.Unmarshal(line, &t); err != nil {
			return err
		}
		out = append(out, t)
		return nil
	})
	return out, err
}

// ReadExpected reads what Python saw in the generation gen.
func ReadExpected(gen string) (*Expected, error) {
	data, err := readFile(gen, "expected.json")
	if err != nil {
		return nil, err
	}
	var e Expected
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("zodbtest: %s/expected.json: %w", gen, err)
	}
	return &e, nil
}

// MustExpected is ReadExpected failing tb on error.
func MustExpected(tb testing.TB, gen string) *Expected {
	tb.Helper()
	e, err := ReadExpected(gen)
	if err != nil {
		tb.Fatal(err)
	}
	return e
}

// eachLine calls f on each non-blank line of the file name of gen.
func eachLine(gen, name string, f func([]byte) error) error {
	data, err := readFile(gen, name)
	if err != nil {
		return err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, 1<<24)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := f(sc.Bytes()); err != nil {
			return fmt.Errorf("zodbtest: %s/%s:%d: %w", gen, name, n, err)
		}
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("zodbtest: %s/%s: %w", gen, name, err)
	}
	return nil
}

// Latest returns the newest revision of each oid at or before tid.
func Latest(recs []Record, tid zodb.TID) map[zodb.OID]Record {
	out := make(map[zodb.OID]Record)
	for _, r := range recs {
		if r.TID.Compare(tid) <= 0 {
			if old, ok := out[r.OID]; !ok || old.TID.Compare(r.TID) < 0 {
				out[r.OID] = r
			}
		}
	}
	return out
}

// Canonical returns a JSON view with the items of every dict and set
// sorted by their JSON text, so that two views of one value compare equal
// whatever order each kept (expected.json sorts by Python repr; the order
// carries no meaning).
func Canonical(view []byte) (string, error) {
	var v any
	dec := json.NewDecoder(bytes.NewReader(view))
	dec.UseNumber()
	if err := dec.Decode(&v); err != nil {
		return "", err
	}
	out, err := json.Marshal(canonical(v))
	return string(out), err
}

func canonical(v any) any {
	switch v := v.(type) {
	case []any:
		for i := range v {
			v[i] = canonical(v[i])
		}
		return v
	case map[string]any:
		for k, x := range v {
			v[k] = canonical(x)
		}
		for _, tag := range []string{"dict", "set"} {
			if items, ok := v[tag].([]any); ok && len(v) == 1 {
				sortByJSON(items)
			}
		}
		return v
	}
	return v
}

func sortByJSON(items []any) {
	keys := make([]string, len(items))
	for i, x := range items {
		b, _ := json.Marshal(x)
		keys[i] = string(b)
	}
	idx := make([]int, len(items))
	for i := range idx {
		idx[i] = i
	}
	sort.SliceStable(idx, func(a, b int) bool { return keys[idx[a]] < keys[idx[b]] })
	sorted := make([]any, len(items))
	for i, j := range idx {
		sorted[i] = items[j]
	}
	copy(items, sorted)
}

// Seeder is the part of the test server's store Replay needs
// (*store.Store).
type Seeder interface {
	SeedAt(ctx context.Context, tid zodb.TID, objects map[zodb.OID][]byte) error
}

// Replay seeds st with recs under their own tids, one transaction per tid,
// so that a test server serves the database as the real ZODB wrote it.
func Replay(ctx context.Context, st Seeder, recs []Record) error {
	byTID := make(map[zodb.TID]map[zodb.OID][]byte)
	var tids []zodb.TID
	for _, r := range recs {
		if byTID[r.TID] == nil {
			byTID[r.TID] = make(map[zodb.OID][]byte)
			tids = append(tids, r.TID)
		}
		byTID[r.TID][r.OID] = r.Data
	}
	sort.Slice(tids, func(i, j int) bool { return tids[i].Compare(tids[j]) < 0 })
	for _, tid := range tids {
		if err := st.SeedAt(ctx, tid, byTID[tid]); err != nil {
			return err
		}
	}
	return nil
}
