package store

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/gozeo/gozeo/zodb"
)

// Seed commits one transaction setting oid's record to data, without any
// serial check, and returns its tid: a fixture helper for tests. It works on
// read-only stores too, notifies subscribers (Origin nil) and waits for the
// commit lock like a vote.
func (st *Store) Seed(ctx context.Context, oid zodb.OID, data []byte) (zodb.TID, error) {
	return st.SeedMany(ctx, map[zodb.OID][]byte{oid: data})
}

// SeedMany is Seed for several objects in one transaction (written in oid
// order). A nil record deletes the object.
func (st *Store) SeedMany(ctx context.Context, objects map[zodb.OID][]byte) (zodb.TID, error) {
	return st.seed(ctx, zodb.ZeroTID, objects)
}

// SeedAt is SeedMany committing with the given tid, which must be later
// than the store's last: it replays a database's history (records written
// by a real ZODB) under their own tids.
func (st *Store) SeedAt(ctx context.Context, tid zodb.TID, objects map[zodb.OID][]byte) error {
	_, err := st.seed(ctx, tid, objects)
	return err
}

// seed commits objects with tid, or with the next tid when tid is zero.
func (st *Store) seed(ctx context.Context, tid zodb.TID, objects map[zodb.OID][]byte) (zodb.TID, error) {
	t := &txn{id: "seed", meta: TxnMeta{Description: "seed", Status: ' '}, aborted: make(chan struct{})}
	if err := st.acquire(ctx, t, nil); err != nil {
		return zodb.ZeroTID, err
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	t.tid = tid
	if tid == zodb.ZeroTID {
		t.tid = zodb.NextTID(st.lastTID, st.opts.Clock())
	} else if tid.Compare(st.lastTID) <= 0 {
		st.releaseLocked(t)
		return zodb.ZeroTID, fmt.Errorf("store: seed tid %v is not after the last transaction %v", tid, st.lastTID)
	}
	for _, oid := range slices.SortedFunc(maps.Keys(objects), zodb.OID.Compare) {
		var b *blob
		if d := objects[oid]; d != nil {
			b = &blob{data: append(make([]byte, 0, len(d)), d...)}
		}
		t.changes.set(oid, b, false)
	}
	st.commitLocked(t)
	return t.tid, nil
}

// ObjectDump is one object's full history, for test inspection.
type ObjectDump struct {
	OID       zodb.OID
	Revisions []RevisionDump // oldest first
}

// RevisionDump is one revision in a dump.
type RevisionDump struct {
	TID  zodb.TID
	Data []byte // nil: the object did not exist in this revision
}

// Dump returns every object with all its revisions, in oid order.
func (st *Store) Dump() []ObjectDump {
	st.mu.RLock()
	defer st.mu.RUnlock()
	var out []ObjectDump
	for _, oid := range st.sortedOIDsLocked() {
		d := ObjectDump{OID: oid}
		for _, r := range st.objects[oid].revs {
			d.Revisions = append(d.Revisions, RevisionDump{TID: r.tid, Data: r.bytes()})
		}
		out = append(out, d)
	}
	return out
}
