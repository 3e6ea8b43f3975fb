package db

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// Snapshot is the database as of one transaction: every read through it
// returns the revision that was current at that tid, as ZODB's Connection
// reads between two transaction boundaries. It is safe for concurrent
// use; Advance moves it forward, for reads that start afterwards.
type Snapshot struct {
	db *DB
	at atomic.Uint64
}

// Revision is one object as a snapshot read it.
type Revision struct {
	OID zodb.OID
	// Serial is the tid of the transaction that wrote this revision.
	Serial zodb.TID
	// Next is the tid of the transaction that replaced it, when the
	// storage said (a revision older than the newest); zero otherwise.
	Next zodb.TID
	// Data is the record as stored (shared with the client cache: treat
	// it as read-only).
	Data []byte
	// Record is Data taken apart.
	Record *record.Record
}

// DecodeError reports a record that is not a ZODB record.
type DecodeError struct {
	OID    zodb.OID
	Serial zodb.TID
	Err    error
}

func (e *DecodeError) Error() string {
	return fmt.Sprintf("db: oid %v (serial %v): %v", e.OID, e.Serial, e.Err)
}

// Unwrap returns the decoding error.
func (e *DecodeError) Unwrap() error { return e.Err }

// latest is the at of a snapshot of a server that reports no tids (ZEO
// 2.0, which has no lastTransaction): it reads the current revisions.
const latest = ^uint64(0)

// newSnapshot returns a snapshot of d at at (a tid's Uint64, or latest).
func newSnapshot(d *DB, at uint64) *Snapshot {
	s := &Snapshot{db: d}
	s.at.Store(at)
	return s
}

// At returns the tid the snapshot reads as of; zero for a snapshot that
// reads the current revisions (see Latest).
func (s *Snapshot) At() zodb.TID {
	at := s.at.Load()
	if at == latest {
		return zodb.ZeroTID
	}
	return zodb.TIDFromUint64(at)
}

// Latest reports a snapshot that reads the current revision of each
// object, as DB.Snapshot returns on a server that reports no tids (ZEO
// 2.0): its reads are not isolated from commits made between them.
func (s *Snapshot) Latest() bool { return s.at.Load() == latest }

// DB returns the database the snapshot reads.
func (s *Snapshot) DB() *DB { return s.db }

// Advance moves the snapshot to the newest transaction the client knows
// of. Reads already under way finish at the old tid.
func (s *Snapshot) Advance(ctx context.Context) error {
	at, err := s.db.lastTID(ctx)
	if err != nil {
		return err
	}
	for {
		old := s.at.Load()
		if (at != latest && old != latest && at <= old) || s.at.CompareAndSwap(old, at) {
			return nil
		}
	}
}

// before is the LoadBefore bound of a read at tid at: at+1.
func before(at zodb.TID) zodb.TID { return zodb.TIDFromUint64(at.Uint64() + 1) }

// LoadRaw reads object oid's stored revision as of the snapshot without
// decoding it (for tools that show records that do not decode).
func (s *Snapshot) LoadRaw(ctx context.Context, oid zodb.OID) (zeo.Revision, error) {
	return s.revision(ctx, oid)
}

// revision loads oid's raw record as of the snapshot.
func (s *Snapshot) revision(ctx context.Context, oid zodb.OID) (zeo.Revision, error) {
	at := s.at.Load()
	if at == latest {
		rev, err := s.db.c.Load(ctx, oid)
		if err != nil {
			return zeo.Revision{}, fmt.Errorf("db: load oid %v: %w", oid, err)
		}
		return rev, nil
	}
	tid := zodb.TIDFromUint64(at)
	rev, err := s.load(ctx, oid, tid)
	var limit *HistoryLimitError
	if err != nil && !errors.As(err, &limit) {
		return zeo.Revision{}, fmt.Errorf("db: load oid %v at %v: %w", oid, tid, err)
	}
	return rev, err
}

// load reads oid as of at: loadBefore(oid, at+1) where the session has
// it (served by the client cache when it holds that revision), through
// the object's history otherwise (revisionFromHistory).
func (s *Snapshot) load(ctx context.Context, oid zodb.OID, at zodb.TID) (zeo.Revision, error) {
	c := s.db.c
	if c.Supports(zeo.OpLoadBefore) {
		rev, err := c.LoadBefore(ctx, oid, before(at))
		var unsupported *zeo.UnsupportedError
		if !errors.As(err, &unsupported) {
			return rev, err
		}
		// A reconnection to an older server took loadBefore away since
		// Supports said yes.
	}
	return revisionFromHistory(ctx, c, oid, at, s.db.historyLimit)
}

// LoadRevision reads object oid as of the snapshot. A missing object
// matches zeo.ErrNotFound; a record that does not decode is a
// *DecodeError.
func (s *Snapshot) LoadRevision(ctx context.Context, oid zodb.OID) (*Revision, error) {
	rev, err := s.revision(ctx, oid)
	if err != nil {
		return nil, err
	}
	rec, err := record.Decode(rev.Data)
	if err != nil {
		return nil, &DecodeError{OID: oid, Serial: rev.Serial, Err: err}
	}
	return &Revision{OID: oid, Serial: rev.Serial, Next: rev.Next, Data: rev.Data, Record: rec}, nil
}

// Load reads object oid's record as of the snapshot (btree.Loader).
func (s *Snapshot) Load(ctx context.Context, oid zodb.OID) (*record.Record, error) {
	r, err := s.LoadRevision(ctx, oid)
	if err != nil {
		return nil, err
	}
	return r.Record, nil
}

// LoadRevisions reads several objects; result i is oids[i]. The loads run
// concurrently, at most Options.MaxLoadsInFlight at a time, on the one
// multiplexed connection, so n objects the cache lacks cost about one
// round trip per MaxLoadsInFlight objects rather than n. The first error
// ends it.
func (s *Snapshot) LoadRevisions(ctx context.Context, oids []zodb.OID) ([]*Revision, error) {
	out := make([]*Revision, len(oids))
	if len(oids) == 1 {
		r, err := s.LoadRevision(ctx, oids[0])
		if err != nil {
			return nil, err
		}
		out[0] = r
		return out, nil
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(s.db.inFlight)
	for i, oid := range oids {
		g.Go(func() error {
			r, err := s.LoadRevision(gctx, oid)
			out[i] = r
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	return out, nil
}

// LoadMany reads several objects' records as of the snapshot
// (btree.Loader); result i is oids[i].
func (s *Snapshot) LoadMany(ctx context.Context, oids []zodb.OID) ([]*record.Record, error) {
	revs, err := s.LoadRevisions(ctx, oids)
	if err != nil {
		return nil, err
	}
	out := make([]*record.Record, len(revs))
	for i, r := range revs {
		out[i] = r.Record
	}
	return out, nil
}

// Root reads the root object (oid 0).
func (s *Snapshot) Root(ctx context.Context) (*record.Record, error) {
	return s.Load(ctx, RootOID)
}

// Object reads object oid and decodes it with the DB's registry: a
// *record.Mapping, *record.List, *record.Length, record.Blob, what a
// decoder registered for its class returns, or a *record.Object holding
// the class and state of a class without one.
func (s *Snapshot) Object(ctx context.Context, oid zodb.OID) (any, error) {
	r, err := s.LoadRevision(ctx, oid)
	if err != nil {
		return nil, err
	}
	return s.db.registry.Decode(oid, r.Record)
}
