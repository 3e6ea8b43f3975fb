package demodb

import (
	"context"
	"errors"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// plainTxn is the fallback for servers without loadBefore (ZODB 3.2),
// which db's snapshots read through: it keeps the records stored, encoded
// by record.EncodeObject as db.Txn encodes them, and commits them against
// each object's current serial. That is enough for the demo, the only
// writer of its database.
type plainTxn struct {
	c       *zeo.Client
	meta    zeo.TxnMeta
	format  record.Format
	order   []zodb.OID
	changed map[zodb.OID][]byte
}

// plainBegin starts a plainTxn. Its format is the one db chooses for a
// database whose root it wrote itself: the session's dialect.
func (d *Demo) plainBegin(meta zeo.TxnMeta) *plainTxn {
	f := record.Py3
	if d.writer.Session().Encoding == "pickle-py2" {
		f = record.Py2
	}
	return &plainTxn{c: d.writer, meta: meta, format: f, changed: map[zodb.OID][]byte{}}
}

// Format returns the record format the transaction writes.
func (t *plainTxn) Format() record.Format { return t.format }

// Load returns what the transaction stored for oid, else its current
// record.
func (t *plainTxn) Load(ctx context.Context, oid zodb.OID) (*record.Record, error) {
	if data, ok := t.changed[oid]; ok {
		return record.Decode(data)
	}
	rev, err := t.c.Load(ctx, oid)
	if err != nil {
		return nil, err
	}
	return record.Decode(rev.Data)
}

// LoadMany is Load for several objects.
func (t *plainTxn) LoadMany(ctx context.Context, oids []zodb.OID) ([]*record.Record, error) {
	out := make([]*record.Record, len(oids))
	for i, oid := range oids {
		r, err := t.Load(ctx, oid)
		if err != nil {
			return nil, err
		}
		out[i] = r
	}
	return out, nil
}

// NewOID takes a new oid from the storage.
func (t *plainTxn) NewOID(ctx context.Context) (zodb.OID, error) { return t.c.NewOID(ctx) }

// Store encodes the state of object oid, of class "module.Name".
func (t *plainTxn) Store(oid zodb.OID, class string, state pickle.Value) error {
	data, err := record.EncodeObject(class, state, t.format)
	if err != nil {
		return err
	}
	if _, ok := t.changed[oid]; !ok {
		t.order = append(t.order, oid)
	}
	t.changed[oid] = data
	return nil
}

// Abort drops the stored records.
func (t *plainTxn) Abort() { t.order, t.changed = nil, nil }

// Commit writes the stored records in one transaction, each against its
// current serial (zero for a new object).
func (t *plainTxn) Commit(ctx context.Context) (zodb.TID, error) {
	ws := make([]zeo.Write, 0, len(t.order))
	for _, oid := range t.order {
		w := zeo.Write{OID: oid, Data: t.changed[oid]}
		rev, err := t.c.Load(ctx, oid)
		switch {
		case err == nil:
			w.Serial = rev.Serial
		case !errors.Is(err, zeo.ErrNotFound):
			return zodb.TID{}, err
		}
		ws = append(ws, w)
	}
	return t.c.Commit(ctx, t.meta, ws...)
}
