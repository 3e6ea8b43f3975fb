package db

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// ErrTxnDone reports a use of a Txn after Commit or Abort.
var ErrTxnDone = errors.New("db: the transaction is committed or aborted")

// Txn is a set of changes made on top of a snapshot and committed as one
// ZEO transaction. Reads through it see its own changes; everything else
// as of the snapshot it began at. It is safe for concurrent use.
type Txn struct {
	snap   *Snapshot
	meta   zeo.TxnMeta
	format record.Format

	mu      sync.Mutex
	serials map[zodb.OID]zodb.TID // serial each object was read at through this Txn
	created map[zodb.OID]bool     // oids from NewOID
	changed map[zodb.OID][]byte   // encoded new records
	order   []zodb.OID            // changed oids, in the order first stored
	done    bool
}

// Begin starts a transaction on a snapshot at the newest transaction the
// client knows of.
func (d *DB) Begin(ctx context.Context, meta zeo.TxnMeta) (*Txn, error) {
	s, err := d.Snapshot(ctx)
	if err != nil {
		return nil, err
	}
	return s.Begin(ctx, meta)
}

// Begin starts a transaction on top of the snapshot as it is now (a later
// Advance of s does not move the transaction). Its writes are encoded in
// the DB's record format (see Options.Format).
func (s *Snapshot) Begin(ctx context.Context, meta zeo.TxnMeta) (*Txn, error) {
	snap := newSnapshot(s.db, s.at.Load())
	f, err := s.db.Format(ctx, snap)
	if err != nil {
		return nil, err
	}
	return &Txn{
		snap:    snap,
		meta:    meta,
		format:  f,
		serials: make(map[zodb.OID]zodb.TID),
		created: make(map[zodb.OID]bool),
		changed: make(map[zodb.OID][]byte),
	}, nil
}

// At returns the tid the transaction reads as of.
func (t *Txn) At() zodb.TID { return t.snap.At() }

// Format returns the record format the transaction writes.
func (t *Txn) Format() record.Format { return t.format }

// Load reads object oid: its state as stored in this transaction, or as
// of the snapshot (btree.Loader). The serial read is the one a later
// Store of oid is checked against at commit.
func (t *Txn) Load(ctx context.Context, oid zodb.OID) (*record.Record, error) {
	t.mu.Lock()
	data, ok := t.changed[oid]
	t.mu.Unlock()
	if ok {
		return record.Decode(data)
	}
	r, err := t.snap.LoadRevision(ctx, oid)
	if err != nil {
		return nil, err
	}
	t.noteSerial(oid, r.Serial)
	return r.Record, nil
}

func (t *Txn) noteSerial(oid zodb.OID, serial zodb.TID) {
	t.mu.Lock()
	if _, ok := t.serials[oid]; !ok {
		t.serials[oid] = serial
	}
	t.mu.Unlock()
}

// LoadMany is Load for several objects; result i is oids[i].
func (t *Txn) LoadMany(ctx context.Context, oids []zodb.OID) ([]*record.Record, error) {
	out := make([]*record.Record, len(oids))
	var fetch []zodb.OID
	var at []int
	t.mu.Lock()
	for i, oid := range oids {
		if _, ok := t.changed[oid]; !ok {
			fetch = append(fetch, oid)
			at = append(at, i)
		}
	}
	t.mu.Unlock()
	revs, err := t.snap.LoadRevisions(ctx, fetch)
	if err != nil {
		return nil, err
	}
	for j, r := range revs {
		t.noteSerial(r.OID, r.Serial)
		out[at[j]] = r.Record
	}
	for i, oid := range oids {
		if out[i] == nil {
			if out[i], err = t.Load(ctx, oid); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

// NewOID takes a new oid from the storage's pool for an object this
// transaction creates (btree.Writer).
func (t *Txn) NewOID(ctx context.Context) (zodb.OID, error) {
	oid, err := t.snap.db.c.NewOID(ctx)
	if err != nil {
		return zodb.OID{}, fmt.Errorf("db: new oid: %w", err)
	}
	t.mu.Lock()
	t.created[oid] = true
	t.mu.Unlock()
	return oid, nil
}

// Store sets the state of object oid, of class "module.Name", to be
// written at commit (btree.Writer). The state is encoded now, so a value
// that cannot be pickled fails here; references to other objects are
// record.RefTo values. Storing an object twice keeps the last state.
func (t *Txn) Store(oid zodb.OID, class string, state pickle.Value) error {
	if class == "" {
		return fmt.Errorf("db: store oid %v: no class", oid)
	}
	data, err := record.EncodeObject(class, state, t.format)
	if err != nil {
		return fmt.Errorf("db: store oid %v (%s): %w", oid, class, err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.done {
		return ErrTxnDone
	}
	if _, ok := t.changed[oid]; !ok {
		t.order = append(t.order, oid)
	}
	t.changed[oid] = data
	return nil
}

// Abort drops the transaction's changes. It does nothing after Commit.
func (t *Txn) Abort() {
	t.mu.Lock()
	t.done = true
	t.mu.Unlock()
}

// Commit writes every stored object in one ZEO transaction and returns
// its tid. Each object is checked against the serial it was read at
// through this Txn (or, if it was not read, its serial at the snapshot);
// an object created with NewOID against none. If another transaction
// changed one of them since, the error is a *ConflictError. After Commit,
// successful or not, the Txn is done; read the result through a snapshot
// at the returned tid or later.
func (t *Txn) Commit(ctx context.Context) (zodb.TID, error) {
	t.mu.Lock()
	if t.done {
		t.mu.Unlock()
		return zodb.TID{}, ErrTxnDone
	}
	t.done = true
	order := t.order
	t.mu.Unlock()

	writes := make([]zeo.Write, 0, len(order))
	for _, oid := range order {
		serial, err := t.baseSerial(ctx, oid)
		if err != nil {
			return zodb.TID{}, err
		}
		writes = append(writes, zeo.Write{OID: oid, Serial: serial, Data: t.changed[oid]})
	}
	tid, err := t.snap.db.c.Commit(ctx, t.meta, writes...)
	if err != nil {
		return zodb.TID{}, t.conflict(ctx, writes, err)
	}
	return tid, nil
}

// baseSerial is the serial object oid's store is checked against.
func (t *Txn) baseSerial(ctx context.Context, oid zodb.OID) (zodb.TID, error) {
	t.mu.Lock()
	serial, read := t.serials[oid]
	created := t.created[oid]
	t.mu.Unlock()
	if read || created {
		return serial, nil
	}
	rev, err := t.snap.revision(ctx, oid)
	switch {
	case err == nil:
		return rev.Serial, nil
	case errors.Is(err, zeo.ErrNotFound):
		return zodb.ZeroTID, nil // a new object with an oid of the caller's
	}
	return zodb.TID{}, err
}

// ConflictError reports a commit that another transaction's changes
// prevented: object OID had been changed since this transaction read it.
type ConflictError struct {
	OID zodb.OID
	// Class is the object's class, as this transaction stored it.
	Class string
	// Read is the serial this transaction read the object at (zero for an
	// object it created); Committed the serial the server holds now, when
	// known.
	Read      zodb.TID
	Committed zodb.TID
	// Err is the storage's error (a *zeo.ConflictError).
	Err error
}

func (e *ConflictError) Error() string {
	msg := fmt.Sprintf("db: conflict on oid %v", e.OID)
	if e.Class != "" {
		msg += " (" + e.Class + ")"
	}
	msg += fmt.Sprintf(": read at serial %v", e.Read)
	if e.Committed != zodb.ZeroTID {
		msg += fmt.Sprintf(", serial %v committed since", e.Committed)
	}
	return msg + "; start again from a new snapshot"
}

// Unwrap returns the storage's error, so errors.Is(err, zeo.ErrConflict)
// holds.
func (e *ConflictError) Unwrap() error { return e.Err }

// conflict turns the storage's conflict error into a *ConflictError
// naming the object and both serials; other errors pass through.
func (t *Txn) conflict(ctx context.Context, writes []zeo.Write, err error) error {
	var ze *zeo.ConflictError
	if !errors.As(err, &ze) {
		return fmt.Errorf("db: commit: %w", err)
	}
	ce := &ConflictError{Err: err, Committed: ze.Committed, Read: ze.Read}
	var w *zeo.Write
	for i := range writes {
		if (ze.OIDKnown && writes[i].OID == ze.OID) || (!ze.OIDKnown && len(writes) == 1) {
			w = &writes[i]
		}
	}
	if w == nil {
		if ze.OIDKnown {
			ce.OID = ze.OID
		}
		return ce
	}
	ce.OID, ce.Read = w.OID, w.Serial
	if rec, derr := record.Decode(w.Data); derr == nil {
		ce.Class = rec.Class
	}
	if ce.Committed == zodb.ZeroTID {
		// Older servers do not say; the current serial is what conflicted.
		if rev, lerr := t.snap.db.c.LoadBefore(ctx, w.OID, zodb.MaxTID); lerr == nil {
			ce.Committed = rev.Serial
		}
	}
	return ce
}
