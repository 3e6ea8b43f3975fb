package db

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// RootOID is the oid of the root object, the PersistentMapping every
// database starts from. It is a variable only because Go has no array
// constants: never assign to it.
var RootOID = zodb.ZeroOID

// Options configure a DB. The zero value (or nil) is usable.
type Options struct {
	// Format forces the record format writes use. Nil detects it: the
	// format of the root record (a protocol-3 root means Python 3
	// clients), or, for a database without one, the session's pickle
	// dialect.
	Format *record.Format
	// Registry decodes objects for Snapshot.Object; nil uses
	// record.NewRegistry() (the common classes only).
	Registry *record.Registry
	// MaxLoadsInFlight bounds the LoadBefore calls LoadMany keeps in
	// flight on the connection; default 16.
	MaxLoadsInFlight int
	// HistoryLimit bounds the revisions of one object a snapshot scans
	// to read it as of its tid on a server without loadBefore (ZODB 3.2
	// and older), where it reads through the object's history; default
	// DefaultHistoryLimit. An object with more revisions after the
	// snapshot's tid than that reads as a *HistoryLimitError.
	HistoryLimit int
}

// DB is the object layer over one zeo.Client. It is safe for concurrent
// use; it does not own the client (Close the client yourself).
type DB struct {
	c            *zeo.Client
	registry     *record.Registry
	inFlight     int
	historyLimit int

	formatMu sync.Mutex
	format   *record.Format
}

// New returns the object layer over c.
func New(c *zeo.Client, opts *Options) *DB {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Registry == nil {
		o.Registry = record.NewRegistry()
	}
	if o.MaxLoadsInFlight <= 0 {
		o.MaxLoadsInFlight = 16
	}
	if o.HistoryLimit <= 0 {
		o.HistoryLimit = DefaultHistoryLimit
	}
	d := &DB{c: c, registry: o.Registry, inFlight: o.MaxLoadsInFlight, historyLimit: o.HistoryLimit}
	if o.Format != nil {
		f := *o.Format
		d.format = &f
	}
	return d
}

// Client returns the storage client the DB reads and writes through.
func (d *DB) Client() *zeo.Client { return d.c }

// Registry returns the registry Snapshot.Object decodes with.
func (d *DB) Registry() *record.Registry { return d.registry }

// Snapshot returns a snapshot at the newest transaction the client knows
// of (the last one whose invalidations it has processed), or, for a
// client that has seen none yet, the server's last transaction. On a
// server that reports no tids at all (ZEO 2.0, without lastTransaction)
// the snapshot reads the current revisions (Snapshot.Latest).
func (d *DB) Snapshot(ctx context.Context) (*Snapshot, error) {
	at, err := d.lastTID(ctx)
	if err != nil {
		return nil, err
	}
	return newSnapshot(d, at), nil
}

// SnapshotAt returns a snapshot of the database as of transaction at:
// it sees every transaction up to and including at, and none after.
func (d *DB) SnapshotAt(at zodb.TID) *Snapshot {
	return newSnapshot(d, at.Uint64())
}

// lastTID is the client's last known tid, or the server's for a client
// that has seen none yet, as a Snapshot's at: latest for a server that
// reports none.
func (d *DB) lastTID(ctx context.Context) (uint64, error) {
	if at := d.c.LastTID(); at != zodb.ZeroTID {
		return at.Uint64(), nil
	}
	if !d.c.Supports(zeo.OpLastTransaction) {
		return latest, nil
	}
	at, err := d.c.LastTransaction(ctx)
	if err != nil {
		return 0, fmt.Errorf("db: last transaction: %w", err)
	}
	return at.Uint64(), nil
}

// Format returns the record format writes use: Options.Format, else the
// root record's (read through snap), else the session's dialect.
func (d *DB) Format(ctx context.Context, snap *Snapshot) (record.Format, error) {
	d.formatMu.Lock()
	defer d.formatMu.Unlock()
	if d.format != nil {
		return *d.format, nil
	}
	f, err := d.detectFormat(ctx, snap)
	if err != nil {
		return 0, err
	}
	d.format = &f
	return f, nil
}

func (d *DB) detectFormat(ctx context.Context, snap *Snapshot) (record.Format, error) {
	rev, err := snap.revision(ctx, RootOID)
	switch {
	case err == nil:
		if f, ok := record.FormatOf(rev.Data); ok {
			return f, nil
		}
	case !errors.Is(err, zeo.ErrNotFound):
		return 0, err
	}
	if d.c.Session().Encoding == "pickle-py2" {
		return record.Py2, nil
	}
	return record.Py3, nil
}
