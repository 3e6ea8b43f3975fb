package demodb

import (
	"context"
	"fmt"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// Visit commits a change to the settings (a "visits" counter), so that
// the live feed has something to show; it returns the transaction's tid.
func (d *Demo) Visit(ctx context.Context) (zodb.TID, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.visits++
	tid, err := d.commit(ctx, zeo.TxnMeta{User: "/ demo", Description: fmt.Sprintf("visit %d", d.visits)},
		func(ctx context.Context, tx *memo) error {
			return tx.Store(d.Settings, record.ClassPersistentMapping, d.settings())
		})
	if err != nil {
		d.visits--
	}
	return tid, err
}

// Put commits one object of the given class and state under a new oid,
// and returns the oid (tests use it for hostile content).
func (d *Demo) Put(ctx context.Context, module, name string, state pickle.Value) (zodb.OID, error) {
	oids, err := d.NewOIDs(ctx, 1)
	if err != nil {
		return zodb.OID{}, err
	}
	_, err = d.Write(ctx, "put "+module+"."+name, Object{oids[0], module, name, state})
	return oids[0], err
}

// Object is one record for Write.
type Object struct {
	OID          zodb.OID
	Module, Name string // the class
	State        pickle.Value
}

// NewOIDs allocates n oids, for objects that Write then commits together
// (tests build hostile trees whose objects refer to each other).
func (d *Demo) NewOIDs(ctx context.Context, n int) ([]zodb.OID, error) {
	return d.writer.NewOIDs(ctx, n)
}

// Write commits objs in one transaction described as desc, each against
// its current revision.
func (d *Demo) Write(ctx context.Context, desc string, objs ...Object) (zodb.TID, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.commit(ctx, zeo.TxnMeta{User: "/ test", Description: desc}, func(ctx context.Context, tx *memo) error {
		for _, o := range objs {
			class := o.Name
			if o.Module != "" {
				class = o.Module + "." + o.Name
			}
			if err := tx.Store(o.OID, class, o.State); err != nil {
				return err
			}
		}
		return nil
	})
}
