package store

import (
	"context"
	"slices"
	"time"

	"github.com/gozeo/gozeo/zodb"
)

// packOwner marks Pack as the holder of the commit lock (non-empty so every
// allocation is a distinct pointer).
type packOwner struct{ _ byte }

// Pack forgets history older than t, as FileStorage's pack without garbage
// collection does: for every object the newest revision written before t's
// TimeStamp is kept and older ones are dropped; a kept revision without data
// (deleted object, undone creation) is dropped too, and an object left with
// no revision disappears. Transactions before t keep only their surviving
// records, are marked 'p' (UndoLog stops there, Undo refuses them) and
// vanish when none survive. Pack waits for the commit lock like a vote.
// Errors: *ReadOnlyError, ErrInvalidPackTime, ctx's error.
func (st *Store) Pack(ctx context.Context, t time.Time) error {
	if st.opts.ReadOnly {
		return &ReadOnlyError{Op: "pack"}
	}
	packTID := zodb.TIDFromTime(t)
	if packTID == zodb.ZeroTID {
		return ErrInvalidPackTime
	}
	owner := &packOwner{}
	if err := st.acquire(ctx, owner, nil); err != nil {
		return err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	defer st.releaseLocked(owner)

	for oid, obj := range st.objects {
		keep, _ := obj.before(packTID)
		if keep == nil {
			continue
		}
		drop := slices.Index(obj.revs, keep)
		if keep.data == nil {
			drop++
		}
		for _, r := range obj.revs[:drop] {
			r.packed = true
		}
		obj.revs = slices.Delete(obj.revs, 0, drop)
		if len(obj.revs) == 0 {
			delete(st.objects, oid)
		}
	}
	st.txns = slices.DeleteFunc(st.txns, func(m *txnMeta) bool {
		if m.tid.Compare(packTID) >= 0 {
			return false
		}
		m.records = slices.DeleteFunc(m.records, func(r *revision) bool { return r.packed })
		m.status = 'p'
		return len(m.records) == 0
	})
	st.opts.Logger.Debug("store: packed", "before", packTID, "objects", len(st.objects), "transactions", len(st.txns))
	return nil
}
