package demodb

import (
	"context"

	"github.com/gozeo/gozeo/db"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zodb"
)

// memo is a demo transaction: a db.Txn that hands btree back the states
// it stored as they were given, instead of db.Txn's Load decoding the
// stored record again (3000 Sets in key order would otherwise decode the
// tree's growing root node 3000 times: seeding takes about twice as long
// and allocates 3.5 times as much). What is committed is unchanged: the
// records the transaction encoded at each Store.
type memo struct {
	*db.Txn
	stored map[zodb.OID]*record.Record
}

// Store stores the state through the transaction and keeps it.
func (m *memo) Store(oid zodb.OID, class string, state pickle.Value) error {
	if err := m.Txn.Store(oid, class, state); err != nil {
		return err
	}
	m.stored[oid] = &record.Record{Class: class, State: state}
	return nil
}

// Load returns the state kept for oid, else the transaction's Load.
func (m *memo) Load(ctx context.Context, oid zodb.OID) (*record.Record, error) {
	if r, ok := m.stored[oid]; ok {
		return r, nil
	}
	return m.Txn.Load(ctx, oid)
}

// LoadMany is Load for several objects.
func (m *memo) LoadMany(ctx context.Context, oids []zodb.OID) ([]*record.Record, error) {
	out := make([]*record.Record, len(oids))
	for i, oid := range oids {
		r, err := m.Load(ctx, oid)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}
