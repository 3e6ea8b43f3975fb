package btree

import (
	"context"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zodb"
)

// Loader reads objects as of one point in time. *db.Snapshot implements
// it.
type Loader interface {
	Load(ctx context.Context, oid zodb.OID) (*record.Record, error)
	// LoadMany loads several objects in one go; result i is oids[i].
	LoadMany(ctx context.Context, oids []zodb.OID) ([]*record.Record, error)
}

// Writer takes a BTree write's changed and new objects. *db.Txn
// implements it.
//
// Its Load and LoadMany must return what Store stored for an oid earlier
// in the same transaction (as a record whose Class and State are what
// was stored): a second insert reads the buckets the first one changed.
// The serial a changed object is committed against is the one it was
// loaded at, so BTree writes load every object they change through the
// Writer.
type Writer interface {
	Loader
	NewOID(ctx context.Context) (zodb.OID, error)
	Store(oid zodb.OID, class string, state pickle.Value) error
}
