package demodb

import (
	"context"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zodb"
)

// memo hands btree back the states a transaction stored as they were
// given, instead of the transaction's Load decoding the stored record
// again: 3000 Sets in key order would otherwise decode the tree's growing
// root node 3000 times, which made seeding the demo ten times slower
// under the race detector. What is committed is unchanged: the records
// the transaction encoded at each Store.
type memo struct {
	txn
	stored map[zodb.OID]*record.Record
}

// Store stores the state through the transaction and keeps it.
func (m *memo) Store(oid zodb.OID, class string, state pickle.Value) error {
	if err := m.txn.Store(oid, class, state); err != nil {
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
	return m.txn.Load(ctx, oid)
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
