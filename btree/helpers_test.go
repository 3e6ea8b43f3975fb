package btree

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/gozeo/gozeo/internal/zodbtest"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zodb"
)

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
	m := newMemDB()
	for _, r := range zodbtest.MustRecords(t, gen) {
		m.data[r.OID] = r.Data // later revisions replace earlier ones
	}
	return m
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
