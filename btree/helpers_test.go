package btree

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/big"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zodb"
)

// vectorDir finds the real-ZODB databases: the record package's copy of
// the workspace's shared/vectors/zodb, or this package's own while that
// copy has not landed.
func vectorDir(t testing.TB, gen string) string {
	t.Helper()
	for _, dir := range []string{"../record/testdata/zodb", "testdata/zodb"} {
		p := filepath.Join(dir, gen)
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	t.Fatalf("no testdata for %s", gen)
	return ""
}

// generations are the databases written by real ZODB.
var generations = []string{"zeo5", "zeo4py2", "zeo310"}

// memDB is a Loader and Writer over records in memory: the current
// revision of each object, decoded on each load as a storage's client
// would. It counts calls so that tests and benchmarks can tell how many
// round trips a walk would take.
type memDB struct {
	mu      sync.Mutex
	data    map[zodb.OID][]byte         // encoded records (from a database)
	stored  map[zodb.OID]*record.Record // what Store stored (read your writes)
	nextOID uint64
	// encode, when set, makes Store write the record as bytes in these
	// pickle options (as a storage would keep it) instead of keeping the
	// state as given.
	encode *pickle.EncoderOptions

	loads, loadManys, objects int
}

func newMemDB() *memDB {
	return &memDB{data: map[zodb.OID][]byte{}, stored: map[zodb.OID]*record.Record{}, nextOID: 1}
}

func (m *memDB) Load(ctx context.Context, oid zodb.OID) (*record.Record, error) {
	m.mu.Lock()
	m.loads++
	m.objects++
	m.mu.Unlock()
	return m.get(oid)
}

func (m *memDB) LoadMany(ctx context.Context, oids []zodb.OID) ([]*record.Record, error) {
	m.mu.Lock()
	m.loadManys++
	m.objects += len(oids)
	m.mu.Unlock()
	out := make([]*record.Record, len(oids))
	for i, oid := range oids {
		r, err := m.get(oid)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

func (m *memDB) get(oid zodb.OID) (*record.Record, error) {
	m.mu.Lock()
	r, ok := m.stored[oid]
	data, ok2 := m.data[oid]
	m.mu.Unlock()
	if ok {
		return r, nil
	}
	if !ok2 {
		return nil, fmt.Errorf("memDB: no object %s", oid)
	}
	return record.Decode(data)
}

func (m *memDB) NewOID(ctx context.Context) (zodb.OID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for {
		oid := zodb.OIDFromUint64(m.nextOID)
		m.nextOID++
		if _, used := m.data[oid]; !used {
			if _, used := m.stored[oid]; !used {
				return oid, nil
			}
		}
	}
}

func (m *memDB) Store(oid zodb.OID, class string, state pickle.Value) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.encode != nil {
		dot := strings.LastIndexByte(class, '.')
		meta := pickle.Global{Module: class[:dot], Name: class[dot+1:]}
		data, err := record.Encode(meta, state, *m.encode)
		if err != nil {
			return err
		}
		m.data[oid] = data
		delete(m.stored, oid)
		return nil
	}
	m.stored[oid] = &record.Record{Class: class, State: state}
	return nil
}

func (m *memDB) resetCounts() {
	m.mu.Lock()
	m.loads, m.loadManys, m.objects = 0, 0, 0
	m.mu.Unlock()
}

// loadVectors reads the current revision of every object of a real-ZODB
// database.
func loadVectors(t testing.TB, gen string) *memDB {
	t.Helper()
	f, err := os.Open(filepath.Join(vectorDir(t, gen), "records.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := newMemDB()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<22)
	for sc.Scan() {
		var line struct{ OID, Data string }
		if err := json.Unmarshal(sc.Bytes(), &line); err != nil {
			t.Fatal(err)
		}
		oid, err := zodb.ParseOID(line.OID)
		if err != nil {
			t.Fatal(err)
		}
		data, err := hex.DecodeString(line.Data)
		if err != nil {
			t.Fatal(err)
		}
		m.data[oid] = data // later revisions replace earlier ones
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// expectedTree is one entry of expected.json's btrees: what Python saw.
type expectedTree struct {
	Class string               `json:"class"`
	Len   int                  `json:"len"`
	Items [][2]json.RawMessage `json:"items"`
}

func loadExpected(t testing.TB, gen string) (btrees map[string]expectedTree, names map[string]string) {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(vectorDir(t, gen), "expected.json"))
	if err != nil {
		t.Fatal(err)
	}
	var e struct {
		BTrees map[string]expectedTree `json:"btrees"`
		Names  map[string]string       `json:"names"`
	}
	if err := json.Unmarshal(data, &e); err != nil {
		t.Fatal(err)
	}
	return e.BTrees, e.Names
}

// jsonView writes a value in the JSON view of the vectors' README, enough
// of it for BTree keys and values.
func jsonView(v pickle.Value) any {
	switch v := v.(type) {
	case nil, pickle.NoneType:
		return nil
	case bool:
		return v
	case int64:
		if v > 1<<53 || v < -(1<<53) {
			return map[string]any{"int": strconv.FormatInt(v, 10)}
		}
		return v
	case *big.Int:
		if v.IsInt64() {
			return jsonView(v.Int64())
		}
		return map[string]any{"int": v.String()}
	case float64:
		return map[string]any{"f": strconv.FormatFloat(v, 'g', -1, 64)}
	case string:
		return map[string]any{"u": v}
	case pickle.ByteString:
		if isASCII(v) {
			return map[string]any{"s": string(v)}
		}
		return map[string]any{"b": hex.EncodeToString(v)}
	case pickle.Bytes:
		return map[string]any{"b": hex.EncodeToString(v)}
	case pickle.Tuple:
		out := []any{}
		for _, x := range v {
			out = append(out, jsonView(x))
		}
		return map[string]any{"tuple": out}
	case pickle.PersistentRef:
		r := record.ParseRef(v.ID)
		return map[string]any{"ref": r.OID.String(), "class": r.Class}
	}
	return map[string]any{"repr": pickle.Repr(v)}
}

// canon re-encodes JSON so that equal views compare equal as strings.
func canon(t testing.TB, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var x any
	if err := json.Unmarshal(data, &x); err != nil {
		t.Fatal(err)
	}
	data, _ = json.Marshal(x)
	return string(data)
}

// depth returns the number of levels of a tree: 1 for a lone bucket or a
// tree of one bucket, 2 for a root over buckets, ...
func depth(t testing.TB, tr *Tree) int {
	t.Helper()
	ctx := context.Background()
	o, err := tr.load(ctx, tr.oid)
	if err != nil {
		t.Fatal(err)
	}
	d := 1
	for o.node != nil && len(o.node.Children) > 0 && o.node.Children[0].Inline == nil {
		if o, err = tr.load(ctx, o.node.Children[0].OID); err != nil {
			t.Fatal(err)
		}
		d++
	}
	return d
}
