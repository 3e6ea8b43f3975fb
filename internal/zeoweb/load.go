package zeoweb

import (
	"context"

	"github.com/gozeo/gozeo/db"
	"github.com/gozeo/gozeo/zeo"
)

// snapshotFor returns what the pages read objects through: a snapshot
// at the view's tid or, for the present, at the server's last
// transaction (so that an object another client has just committed shows
// even before its invalidation reaches this client), so that a page that
// reads many objects (a tree walk) sees one state of the database.
// db.Snapshot reads as of its tid on every server generation (through
// loadBefore, or the objects' history where the server has none).
func (s *Server) snapshotFor(ctx context.Context, v view) (*db.Snapshot, error) {
	if v.HasAt {
		return s.db.SnapshotAt(v.At), nil
	}
	if !s.client.Supports(zeo.OpLastTransaction) {
		return s.db.Snapshot(ctx) // ZEO 2.0 reports no tids: the current revisions
	}
	last, err := s.client.LastTransaction(ctx)
	if err != nil {
		return nil, err
	}
	return s.db.SnapshotAt(last), nil
}
