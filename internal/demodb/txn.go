package demodb

import (
	"context"

	"github.com/gozeo/gozeo/btree"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// txn is one transaction of the demo: a *db.Txn, or the memo over one
// that hands btree back what it stored.
type txn interface {
	btree.Writer
	Format() record.Format
	Commit(ctx context.Context) (zodb.TID, error)
	Abort()
}

// begin starts a transaction described by meta.
func (d *Demo) begin(ctx context.Context, meta zeo.TxnMeta) (txn, error) {
	return d.db.Begin(ctx, meta)
}
