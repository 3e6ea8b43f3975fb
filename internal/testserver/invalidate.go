package testserver

import (
	"context"

	"github.com/gozeo/gozeo/internal/testserver/store"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
)

// invalidated is one object a commit invalidates for other clients.
type invalidated struct {
	oid    zodb.OID
	undone bool // restored by undo (ZODB 3.8 sends version None for these)
}

// invalidations computes what the voted transaction t invalidates, as the
// imitated server collects it while replaying the stores: objects stored
// with a serial (new ones too from ZEO 5.2.2), objects undone, and objects
// deleted on ZODB 3.9 only (3.10.1 stopped invalidating deleted objects).
// The result is kept on the transaction for broadcast, which runs inside
// the store's Finish.
func (s *session) invalidations(t *txnInfo) []invalidated {
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := make(map[zodb.OID]bool)
	var out []invalidated
	add := func(oid zodb.OID, undone bool) {
		if !seen[oid] {
			seen[oid] = true
			out = append(out, invalidated{oid, undone})
		}
	}
	for _, o := range t.voted.Objects {
		switch o.Kind {
		case store.Stored, store.Resolved:
			if s.prof.InvalidateNewObjects || t.serials[o.OID] {
				add(o.OID, false)
			}
		case store.Undone:
			add(o.OID, true)
		case store.Deleted:
			if s.prof.InvalidateDeleted {
				add(o.OID, false)
			}
		}
	}
	for _, oid := range t.undone {
		add(oid, true)
	}
	t.invalidated = out
	return out
}

// pendingInvalidations returns what the transaction being finished
// invalidates, if this session is finishing one.
func (s *session) pendingInvalidations() ([]invalidated, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.txn == nil || s.txn.voted == nil {
		return nil, false
	}
	return s.txn.invalidated, true
}

// broadcast is the store's commit callback, the server's invalidate: it
// queues the transaction for getInvalidations and sends
// invalidateTransaction to every registered client but the committer.
// ZEO ≤ 4 skip both for a transaction that invalidated nothing; ZEO 5 does
// both for every transaction, with an empty list if need be. It runs
// before the committed state is visible, so a client always gets the
// invalidation before a load reply showing the new data.
func (srv *Server) broadcast(ev store.Commit) {
	sessions := srv.registered()
	var origin *session
	if ev.Origin != nil {
		for _, ss := range sessions {
			if ss.storeSession() == ev.Origin {
				origin = ss
			}
		}
	}
	var inv []invalidated
	if origin != nil {
		inv, _ = origin.pendingInvalidations()
	} else {
		// Seed, or a committer already gone: everything it changed.
		for _, oid := range ev.OIDs {
			inv = append(inv, invalidated{oid: oid})
		}
	}
	if len(inv) == 0 && !srv.prof.caps().EmptyInvalidations {
		return
	}
	srv.invq.push(ev.TID, inv)
	for _, ss := range sessions {
		if ss == origin || (ev.Origin != nil && ss.storeSession() == ev.Origin) {
			continue
		}
		ss.sendInvalidation(ev.TID, inv)
	}
}

// sendInvalidation sends invalidateTransaction(tid, oids).
func (s *session) sendInvalidation(tid zodb.TID, inv []invalidated) {
	s.send("invalidateTransaction", tidValue(tid), s.invalidationList(inv))
}

// invalidationList is a list of invalidated objects in the form this peer
// takes: bare oids, or (oid, version) pairs for version-API peers, with
// version None for what ZODB 3.8's own undo restored.
func (s *session) invalidationList(inv []invalidated) *pickle.List {
	l := make(pickle.List, len(inv))
	for i, x := range inv {
		if s.versionAPI {
			var version pickle.Value = text("")
			if x.undone && !s.adapter {
				version = pickle.None
			}
			l[i] = pickle.Tuple{oidValue(x.oid), version}
		} else {
			l[i] = oidValue(x.oid)
		}
	}
	return &l
}

// send makes a one-way call from outside the session's own goroutines
// (another client's commit, a pack), dropping a client too slow to take
// it.
func (s *session) send(method string, args ...pickle.Value) {
	ctx, cancel := context.WithTimeout(s.ctx, sendTimeout)
	defer cancel()
	if err := s.notify(ctx, method, args...); err != nil {
		if ctx.Err() != nil && s.ctx.Err() == nil {
			s.log.Warn("testserver: client does not read; dropping it", "method", method)
			s.kill(err)
		}
	}
}

// sizeInfo is the argument of info(): the storage's length and size.
func (srv *Server) sizeInfo() *pickle.Dict {
	info := srv.store.Info()
	d := pickle.NewDict(2)
	d.Set("length", int64(info.Length))     //nolint:errcheck
	d.Set("size", srv.prof.size(info.Size)) //nolint:errcheck
	return d
}

// broadcastInfo sends info() to every registered client, as servers do
// after a pack.
func (srv *Server) broadcastInfo() {
	info := srv.sizeInfo()
	for _, ss := range srv.registered() {
		ss.send("info", info)
	}
}
