package db

import (
	"context"
	"errors"
	"fmt"

	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// DefaultHistoryLimit is Options.HistoryLimit's default.
const DefaultHistoryLimit = 1000

// HistoryLimitError reports a read as of a tid, on a server without
// loadBefore, that found no revision at or before the tid among the
// object's Limit newest: the revision it wants, if there is one, is older
// still. It is not a not-found (errors.Is(err, zeo.ErrNotFound) is false).
type HistoryLimitError struct {
	OID zodb.OID
	// At is the snapshot's tid.
	At zodb.TID
	// Limit is the number of revisions scanned (Options.HistoryLimit).
	Limit int
	// Oldest is the oldest revision scanned, still newer than At.
	Oldest zodb.TID
}

func (e *HistoryLimitError) Error() string {
	return fmt.Sprintf("db: oid %s as of %v: the server has no loadBefore, and none of the object's %d newest revisions (back to %v) is at or before that tid; raise Options.HistoryLimit to look further",
		e.OID.Repr(), e.At, e.Limit, e.Oldest)
}

// revisionFromHistory reads oid as of at on a server without loadBefore,
// answering what loadBefore(oid, at+1) would: the revision, Next set when
// a newer one replaced it, a *zeo.NotFoundError (Before at+1) when the
// object did not exist yet.
//
// The current revision comes first, through the client cache: if it was
// written at or before at, and the client had seen every transaction up
// to at before asking, it is the one (nothing replaced it since). Else
// the object's history, newest first, names the revision and loadSerial
// reads it; at most limit revisions are scanned.
func revisionFromHistory(ctx context.Context, c *zeo.Client, oid zodb.OID, at zodb.TID, limit int) (zeo.Revision, error) {
	if seen := c.LastTID(); at.Compare(seen) <= 0 && seen != zodb.ZeroTID {
		rev, err := c.Load(ctx, oid)
		switch {
		case err == nil && rev.Serial.Compare(at) <= 0:
			return rev, nil
		case err != nil && !errors.Is(err, zeo.ErrNotFound):
			return zeo.Revision{}, err
		}
		// Replaced since (or gone now): the history says what it was.
	}
	hist, err := c.History(ctx, oid, limit)
	if err != nil {
		return zeo.Revision{}, err
	}
	for i, h := range hist { // newest first
		if h.TID.Compare(at) > 0 {
			continue
		}
		data, err := c.LoadSerial(ctx, oid, h.TID)
		if err != nil {
			return zeo.Revision{}, err
		}
		rev := zeo.Revision{Data: data, Serial: h.TID}
		if i > 0 {
			rev.Next = hist[i-1].TID
		}
		return rev, nil
	}
	if len(hist) >= limit {
		return zeo.Revision{}, &HistoryLimitError{OID: oid, At: at, Limit: limit, Oldest: hist[len(hist)-1].TID}
	}
	s := c.Session()
	return zeo.Revision{}, &zeo.NotFoundError{OID: oid, Before: before(at), Method: "history", Server: c.Addr(), Version: s.Negotiated}
}
