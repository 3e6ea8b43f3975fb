package zeo

import (
	"context"
	"sync"

	"github.com/gozeo/gozeo/pickle"
)

// catchUp finds out, on a new connection, what changed since the last
// transaction the client delivered, and starts the session's
// invalidations with it (docs/protocol.md, Session flow and Invalidations;
// the reconnect, shortgap and longgap captures):
//   - a server whose last transaction is older than that is refused
//     (*StaleServerError);
//   - the same tid: nothing was missed;
//   - getInvalidations(seen) answering (tid, oids) up to the server's
//     last transaction: one catch-up event with the union;
//   - otherwise (None: the server's queue does not reach back that far)
//     a reset event; servers up to ZEO 4 first verify the cache entry by
//     entry, so that what is still current stays cached.
func (c *Client) catchUp(ctx context.Context, s *session) error {
	seen := c.LastTID()
	ltid := s.connectTID
	if !s.caps.LastTransaction && !s.caps.RegisterReturnsTID {
		// ZEO 2.0 gives no tid at all: nothing to compare or ask for. Its
		// invalidations carry no tid either, so the cache never serves
		// current revisions on it (install).
		c.cache.reset(seen)
		c.inval.start(seen)
		return nil
	}
	switch ltid.Compare(seen) {
	case -1:
		return &StaleServerError{Server: s.addr, Version: s.neg.Chosen, ServerTID: ltid, SeenTID: seen}
	case 0:
		c.inval.start(seen)
		return nil
	}
	if s.neg.Chosen.HasMethod("getInvalidations") {
		v, err := c.callOn(ctx, s, op{method: "getInvalidations"}, pickle.Bytes(seen[:]))
		if err != nil {
			return c.stepError("getInvalidations", err)
		}
		if !pickle.IsNone(v) {
			t, ok := pickle.AsTuple(v)
			var latest TID
			if ok && len(t) == 2 {
				latest, ok = asTID(t[0])
			}
			if !ok {
				return c.stepError("getInvalidations", &shapeError{method: "getInvalidations", want: "None or (tid, oids)", got: v})
			}
			// The union must reach the server's last transaction: a
			// queue lagging behind it would leave a gap nobody reports.
			if latest.Compare(ltid) >= 0 {
				oids := parseInvalidatedOIDs(t[1])
				c.cache.invalidateUnion(latest, oids)
				c.inval.startWith(Invalidation{TID: latest, OIDs: oids, Catchup: true})
				c.log.Info("zeo: caught up after reconnecting", "server", s.addr, "since", seen, "to", latest, "changed", len(oids))
				return nil
			}
		}
	}
	var stale []OID
	if s.caps.CacheVerification {
		var err error
		if stale, err = c.verifyCache(ctx, s); err != nil {
			return c.stepError("cache verification", err)
		}
	} else {
		c.cache.reset(ltid)
	}
	c.log.Info("zeo: the server cannot say what changed while disconnected; subscribers get a reset", "server", s.addr, "since", seen, "server_last", ltid)
	c.inval.startWith(Invalidation{TID: ltid, OIDs: stale, Reset: true})
	return nil
}

// verification is a cache verification in progress on a session: the
// handler records the stale oids the server names (invalidateVerify) and
// closes done at endVerify.
type verification struct {
	mu    sync.Mutex
	done  chan struct{}
	stale []OID
}

func (v *verification) begin() <-chan struct{} {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.done, v.stale = make(chan struct{}), nil
	return v.done
}

func (v *verification) add(oid OID) {
	v.mu.Lock()
	v.stale = append(v.stale, oid)
	v.mu.Unlock()
}

func (v *verification) end() {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.done != nil {
		close(v.done)
		v.done = nil
	}
}

func (v *verification) result() []OID {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.stale
}

// verifyCache sends the serial of every cached current revision
// (verify, or zeoVerify for ZEO 2.0) and endZeoVerify, all one-way, and
// waits for the server's endVerify. The handler drops each entry the
// server calls stale as its invalidateVerify arrives.
func (c *Client) verifyCache(ctx context.Context, s *session) ([]OID, error) {
	done := s.verify.begin()
	c.cache.taintInflight()
	// verify came with MVCC (ZODB 3.3); ZODB 3.2 and ZEO 2.0 have only
	// zeoVerify, whose version-API form adds a version serial (None).
	method := "verify"
	if !s.caps.LoadBefore || !s.neg.Chosen.HasMethod(method) {
		method = "zeoVerify"
	}
	entries := c.cache.currentSerials()
	for _, e := range entries {
		oid, serial := pickle.Bytes(e.OID[:]), pickle.Bytes(e.Serial[:])
		args := []any{oid, serial}
		switch {
		case s.caps.VersionsAPI && method == "verify":
			args = []any{oid, "", serial}
		case s.caps.VersionsAPI:
			args = []any{oid, serial, pickle.None}
		}
		if err := c.notifyIn(ctx, s, method, args...); err != nil {
			return nil, err
		}
	}
	if err := c.notifyIn(ctx, s, "endZeoVerify"); err != nil {
		return nil, err
	}
	select {
	case <-done:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.conn.Done():
		return nil, c.mapError(s.conn.Err(), op{method: "endZeoVerify"})
	}
	stale := s.verify.result()
	c.log.Info("zeo: cache verified", "server", s.addr, "checked", len(entries), "stale", len(stale))
	return stale, nil
}
