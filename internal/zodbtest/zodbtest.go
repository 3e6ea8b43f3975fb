// Package zodbtest reads the databases written by real ZODB that tests
// use as ground truth (record/testdata/zodb, copied from the workspace's
// shared vectors): every stored record, every transaction, and what Python
// saw in each object, in the JSON view of record.JSON.
package zodbtest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/gozeo/gozeo/zodb"
)

// Generation is one database of the vectors and the ZODB that wrote it.
type Generation struct {
	Dir string // the folder under testdata/zodb
	Py2 bool   // written by ZODB on Python 2 (protocol 1)
}

// Generations are the databases of the vectors.
var Generations = []Generation{
	{Dir: "zeo5"},               // ZODB 5.8.1, Python 3.11
	{Dir: "zeo4py2", Py2: true}, // ZODB 4.4.5, Python 2.7
	{Dir: "zeo310", Py2: true},  // ZODB3 3.10.7, Python 2.7
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
	Class string            `json:"class"`
	Len   int               `json:"len"`
	Items []json.RawMessage `json:"items"`
}

// Expected is expected.json.
type Expected struct {
	Objects map[zodb.OID]Object                       `json:"objects"`
	BTrees  map[zodb.OID]BTree                        `json:"btrees"`
	At      map[zodb.TID]map[zodb.OID]json.RawMessage `json:"at"`
	Names   map[string]zodb.OID                       `json:"names"`
	LastTID zodb.TID                                  `json:"last_tid"`
}

// Records reads records.jsonl of dir (a folder holding the generation's
// files), oldest first.
func Records(dir string) ([]Record, error) {
	var out []Record
	err := eachLine(filepath.Join(dir, "records.jsonl"), func(line []byte) error {
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

// Transactions reads transactions.jsonl of dir, oldest first.
func Transactions(dir string) ([]Txn, error) {
	var out []Txn
	err := eachLine(filepath.Join(dir, "transactions.jsonl"), func(line []byte) error {
		var t Txn
		if err := json.Unmarshal(line, &t); err != nil {
			return err
		}
		out = append(out, t)
		return nil
	})
	return out, err
}

// ReadExpected reads expected.json of dir.
func ReadExpected(dir string) (*Expected, error) {
	data, err := os.ReadFile(filepath.Join(dir, "expected.json"))
	if err != nil {
		return nil, err
	}
	var e Expected
	if err := json.Unmarshal(data, &e); err != nil {
		return nil, fmt.Errorf("%s: %w", dir, err)
	}
	return &e, nil
}

func eachLine(path string, f func([]byte) error) error {
	file, err := os.Open(path)
	if err != nil {
		return err
	}
	defer file.Close()
	sc := bufio.NewScanner(file)
	sc.Buffer(nil, 1<<24)
	for n := 1; sc.Scan(); n++ {
		if len(bytes.TrimSpace(sc.Bytes())) == 0 {
			continue
		}
		if err := f(sc.Bytes()); err != nil {
			return fmt.Errorf("%s:%d: %w", path, n, err)
		}
	}
	return sc.Err()
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
