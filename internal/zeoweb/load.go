package zeoweb

import (
	"context"
	"fmt"

	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// historyScan bounds the revisions read to find the one current at a tid
// on servers without loadBefore (ZODB 3.2 and older).
const historyScan = 1000

// loadAt returns the revision of oid current as of the view's tid: the
// current one for the present, loadBefore(oid, at+1) where the server has
// it, and otherwise the newest revision of its history at or before at.
func (s *Server) loadAt(ctx context.Context, oid zodb.OID, at zodb.TID, hasAt bool) (zeo.Revision, error) {
	if !hasAt {
		return s.client.Load(ctx, oid)
	}
	if s.client.Supports(zeo.OpLoadBefore) {
		return s.client.LoadBefore(ctx, oid, zodb.TIDFromUint64(at.Uint64()+1))
	}
	hist, err := s.client.History(ctx, oid, historyScan)
	if err != nil {
		return zeo.Revision{}, err
	}
	for i, h := range hist { // newest first
		if h.TID.Compare(at) > 0 {
			continue
		}
		data, err := s.client.LoadSerial(ctx, oid, h.TID)
		if err != nil {
			return zeo.Revision{}, err
		}
		rev := zeo.Revision{Data: data, Serial: h.TID}
		if i > 0 {
			rev.Next = hist[i-1].TID
		}
		return rev, nil
	}
	return zeo.Revision{}, &zeo.NotFoundError{OID: oid, Before: zodb.TIDFromUint64(at.Uint64() + 1), Method: "history"}
}

// loader reads decoded objects as of one point in time: btree.Loader's
// shape (docs: the db and btree packages), which db.Snapshot implements.
type loader interface {
	Load(ctx context.Context, oid zodb.OID) (*record.Record, error)
	LoadMany(ctx context.Context, oids []zodb.OID) ([]*record.Record, error)
}

// snapshot reads objects as of one tid, decoded: what the container pages
// walk trees with. It has the shape of btree.Loader (docs: the db and
// btree packages), which db.Snapshot implements.
type snapshot struct {
	s     *Server
	at    zodb.TID
	hasAt bool
}

// snapshotFor fixes the view's tid, or for the present the last
// transaction the client knows of, so that a walk over many objects sees
// one state of the database.
func (s *Server) snapshotFor(v view) *snapshot {
	if v.HasAt {
		return &snapshot{s: s, at: v.At, hasAt: true}
	}
	last := s.client.LastTID()
	return &snapshot{s: s, at: last, hasAt: last != (zodb.TID{})}
}

// Load reads and decodes oid as of the snapshot.
func (sn *snapshot) Load(ctx context.Context, oid zodb.OID) (*record.Record, error) {
	rev, err := sn.s.loadAt(ctx, oid, sn.at, sn.hasAt)
	if err != nil {
		return nil, err
	}
	rec, err := record.Decode(rev.Data)
	if err != nil {
		return nil, fmt.Errorf("oid %s: %w", oid.Repr(), err)
	}
	return rec, nil
}

// LoadMany reads several objects; result i is oids[i].
func (sn *snapshot) LoadMany(ctx context.Context, oids []zodb.OID) ([]*record.Record, error) {
	out := make([]*record.Record, len(oids))
	for i, oid := range oids {
		rec, err := sn.Load(ctx, oid)
		if err != nil {
			return nil, err
		}
		out[i] = rec
	}
	return out, nil
}
