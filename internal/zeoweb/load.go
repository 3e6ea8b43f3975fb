package zeoweb

import (
	"context"
	"fmt"

	"github.com/gozeo/gozeo/btree"
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

// snapshotFor returns what the container pages walk trees with: the
// objects as of the view's tid or, for the present, as of the last
// transaction the client knows of, so that a walk over many objects sees
// one state of the database. Where the server has loadBefore that is a
// db.Snapshot (which loads many objects at once); older servers are read
// through their history (loadAt).
func (s *Server) snapshotFor(v view) btree.Loader {
	at, hasAt := v.At, v.HasAt
	if !hasAt {
		at = s.client.LastTID()
		hasAt = at != (zodb.TID{})
	}
	if hasAt && s.client.Supports(zeo.OpLoadBefore) {
		return s.db.SnapshotAt(at)
	}
	return &historySnapshot{s: s, at: at, hasAt: hasAt}
}

// historySnapshot reads objects as of one tid through loadAt, for servers
// without loadBefore: a btree.Loader.
type historySnapshot struct {
	s     *Server
	at    zodb.TID
	hasAt bool
}

// Load reads and decodes oid as of the snapshot.
func (sn *historySnapshot) Load(ctx context.Context, oid zodb.OID) (*record.Record, error) {
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

// LoadMany reads several objects, one after the other; result i is
// oids[i].
func (sn *historySnapshot) LoadMany(ctx context.Context, oids []zodb.OID) ([]*record.Record, error) {
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
