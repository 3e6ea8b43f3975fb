package zeo

import (
	"context"
	"fmt"

	"golang.org/x/sync/errgroup"

	"github.com/gozeo/gozeo/pickle"
)

// Revision is one stored revision of an object.
type Revision struct {
	// Data is the ZODB record: the class pickle followed by the state
	// pickle, opaque to ZEO. It is shared with the client cache and with
	// other callers that loaded the same revision: treat it as read-only.
	Data []byte
	// Serial is the tid of the transaction that wrote this revision.
	Serial TID
	// Next is the tid of the transaction that replaced it, when known
	// (LoadBefore of a non-current revision); zero for the current one.
	Next TID
}

// Load returns the current revision of oid: from the client cache when it
// holds it, otherwise loadEx(oid, "") for Z308, loadEx(oid) for Z309 – Z4,
// loadBefore(oid, maxtid) for ZEO 5 (and load(oid, "") for ZODB 3.2 and
// older). A missing object is a *NotFoundError. Concurrent loads of the
// same oid, with no invalidation received in between, share one request.
// While the client is reconnecting, Load waits for the connection (see
// Options.WaitTimeout) and a load cut off by a lost connection is sent
// again on the next one.
func (c *Client) Load(ctx context.Context, oid OID) (Revision, error) {
	if rev, ok := c.cache.current(oid); ok {
		return rev, nil
	}
	return c.coalesce(ctx, loadKey{oid: oid, at: c.LastTID(), kind: loadCurrentKind})
}

// fetchCurrent asks the server for the current revision of oid and
// offers the reply to the cache.
func (c *Client) fetchCurrent(ctx context.Context, oid OID) (Revision, error) {
	token := c.cache.beginLoad(oid)
	v, s, err := c.callArgs(ctx, op{operation: OpLoad, oid: oid, oidKnown: true, idempotent: true}, func(s *session, method string) []any {
		switch {
		case method == "loadBefore":
			return []any{pickle.Bytes(oid[:]), c.maxTIDArg}
		case s.caps.VersionsAPI: // ≤ Z308: every read names the (empty) version
			return []any{pickle.Bytes(oid[:]), ""}
		}
		return []any{pickle.Bytes(oid[:])}
	})
	var rev Revision
	if err == nil {
		rev, err = c.parseLoad(s, oid, v)
	}
	c.cache.endLoad(oid, token, rev, err == nil)
	return rev, err
}

// parseLoad reads the reply to the current-revision load of session s.
func (c *Client) parseLoad(s *session, oid OID, v any) (Revision, error) {
	method, _ := s.method(OpLoad)
	if method == "loadBefore" {
		if pickle.IsNone(v) {
			// No revision before maxtid: the object has none at all.
			return Revision{}, &NotFoundError{OID: oid, Method: method, Server: s.addr, Version: s.neg.Chosen}
		}
		return c.parseLoadBefore(method, v)
	}
	// (data, tid) or (data, tid, version).
	t, ok := pickle.AsTuple(v)
	if !ok || len(t) < 2 {
		return Revision{}, c.shape(method, "(data, tid[, version])", v)
	}
	data, ok1 := asData(t[0])
	serial, ok2 := asTID(t[1])
	if !ok1 || !ok2 {
		return Revision{}, c.shape(method, "(data, tid[, version])", v)
	}
	return Revision{Data: data, Serial: serial}, nil
}

func (c *Client) parseLoadBefore(method string, v any) (Revision, error) {
	t, ok := pickle.AsTuple(v)
	if !ok || len(t) != 3 {
		return Revision{}, c.shape(method, "None or (data, start_tid, end_tid)", v)
	}
	data, ok1 := asData(t[0])
	start, ok2 := asTID(t[1])
	if !ok1 || !ok2 {
		return Revision{}, c.shape(method, "None or (data, start_tid, end_tid)", v)
	}
	r := Revision{Data: data, Serial: start}
	if !pickle.IsNone(t[2]) {
		end, ok := asTID(t[2])
		if !ok {
			return Revision{}, c.shape(method, "None or (data, start_tid, end_tid)", v)
		}
		r.Next = end
	}
	return r, nil
}

// shape reports a reply of an unexpected shape as a *ServerError-like
// protocol error.
func (c *Client) shape(method, want string, got any) error {
	return fmt.Errorf("zeo: %s: unexpected reply%s: %w", method, where(c.server(), c.version()), &shapeError{method: method, want: want, got: got})
}

// LoadBefore returns the revision of oid that was current just before
// transaction before: the one with Serial < before and, if it was later
// replaced, Next ≥ before. If oid has no revision older than before, the
// error is a *NotFoundError with Before set (matching ErrNotFound); if oid
// does not exist at all, one without. Revisions the cache holds for that
// point need no request; concurrent identical calls share one.
func (c *Client) LoadBefore(ctx context.Context, oid OID, before TID) (Revision, error) {
	if rev, ok := c.cache.before(oid, before); ok {
		return rev, nil
	}
	return c.coalesce(ctx, loadKey{oid: oid, at: before, kind: loadBeforeKind})
}

// fetchBefore asks the server for loadBefore(oid, before) and offers the
// reply to the cache.
func (c *Client) fetchBefore(ctx context.Context, oid OID, before TID) (Revision, error) {
	token := c.cache.beginLoad(oid)
	v, s, err := c.callArgs(ctx, op{operation: OpLoadBefore, oid: oid, oidKnown: true, idempotent: true}, func(*session, string) []any {
		return []any{pickle.Bytes(oid[:]), pickle.Bytes(before[:])}
	})
	var rev Revision
	switch {
	case err != nil:
	case pickle.IsNone(v):
		err = &NotFoundError{OID: oid, Before: before, Method: "loadBefore", Server: s.addr, Version: s.neg.Chosen}
	default:
		rev, err = c.parseLoadBefore("loadBefore", v)
	}
	c.cache.endLoad(oid, token, rev, err == nil)
	return rev, err
}

// LoadSerial returns the data of the revision of oid written by
// transaction serial; a *NotFoundError (with Serial set) if there is none.
func (c *Client) LoadSerial(ctx context.Context, oid OID, serial TID) ([]byte, error) {
	v, err := c.call(ctx, op{operation: OpLoadSerial, oid: oid, oidKnown: true, serial: serial, idempotent: true}, pickle.Bytes(oid[:]), pickle.Bytes(serial[:]))
	if err != nil {
		return nil, err
	}
	data, ok := asData(v)
	if !ok {
		return nil, c.shape("loadSerial", "the data record", v)
	}
	return data, nil
}

// Object is one object of a LoadMany result.
type Object struct {
	OID OID
	Revision
}

// LoadMany loads the current revision of every oid, keeping at most
// Options.MaxLoadsInFlight requests in flight, and returns them in the
// order of oids. It fails with the first error (say a *NotFoundError for
// one of the oids) and cancels the loads still to be made.
func (c *Client) LoadMany(ctx context.Context, oids []OID) ([]Object, error) {
	out := make([]Object, len(oids))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(c.opts.MaxLoadsInFlight)
	for i, oid := range oids {
		if gctx.Err() != nil {
			break
		}
		g.Go(func() error {
			r, err := c.Load(gctx, oid)
			if err != nil {
				return err
			}
			out[i] = Object{OID: oid, Revision: r}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	return out, nil
}

// LastTransaction asks the server for the id of the last committed
// transaction (z64 for an empty storage).
func (c *Client) LastTransaction(ctx context.Context) (TID, error) {
	v, err := c.call(ctx, op{operation: OpLastTransaction, idempotent: true})
	if err != nil {
		return TID{}, err
	}
	t, ok := asTID(v)
	if !ok {
		return TID{}, c.shape("lastTransaction", "an 8-byte tid", v)
	}
	return t, nil
}
