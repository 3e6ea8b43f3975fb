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
	// pickle, opaque to ZEO.
	Data []byte
	// Serial is the tid of the transaction that wrote this revision.
	Serial TID
	// Next is the tid of the transaction that replaced it, when known
	// (LoadBefore of a non-current revision); zero for the current one.
	Next TID
}

// Load returns the current revision of oid: loadEx(oid, "") for Z308,
// loadEx(oid) for Z309 – Z4, loadBefore(oid, maxtid) for ZEO 5 (and
// load(oid, "") for ZODB 3.2 and older). A missing object is a
// *NotFoundError. Concurrent loads of the same oid, with no invalidation
// received in between, share one request.
func (c *Client) Load(ctx context.Context, oid OID) (Revision, error) {
	method, err := c.require(OpLoad)
	if err != nil {
		return Revision{}, err
	}
	return c.coalesce(ctx, loadKey{oid: oid, at: c.LastTID(), kind: loadCurrentKind}, method)
}

func (c *Client) loadCurrent(ctx context.Context, method string, oid OID) (Revision, error) {
	o := op{method: method, oid: oid, oidKnown: true}
	var args []any
	switch {
	case method == "loadBefore":
		args = []any{pickle.Bytes(oid[:]), c.maxTIDArg}
	case c.sess().caps.VersionsAPI: // ≤ Z308: every read names the (empty) version
		args = []any{pickle.Bytes(oid[:]), ""}
	default:
		args = []any{pickle.Bytes(oid[:])}
	}
	v, err := c.call(ctx, o, args...)
	if err != nil {
		return Revision{}, err
	}
	if method == "loadBefore" {
		if pickle.IsNone(v) {
			// No revision before maxtid: the object has none at all.
			return Revision{}, &NotFoundError{OID: oid, Method: method, Server: c.addr, Version: c.version()}
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
	return fmt.Errorf("zeo: %s: unexpected reply%s: %w", method, where(c.addr, c.version()), &shapeError{method: method, want: want, got: got})
}

// LoadBefore returns the revision of oid that was current just before
// transaction before: the one with Serial < before and, if it was later
// replaced, Next ≥ before. If oid has no revision older than before, the
// error is a *NotFoundError with Before set (matching ErrNotFound); if oid
// does not exist at all, one without. Concurrent identical calls share one
// request.
func (c *Client) LoadBefore(ctx context.Context, oid OID, before TID) (Revision, error) {
	method, err := c.require(OpLoadBefore)
	if err != nil {
		return Revision{}, err
	}
	return c.coalesce(ctx, loadKey{oid: oid, at: before, kind: loadBeforeKind}, method)
}

func (c *Client) loadBefore(ctx context.Context, method string, oid OID, before TID) (Revision, error) {
	v, err := c.call(ctx, op{method: method, oid: oid, oidKnown: true}, pickle.Bytes(oid[:]), pickle.Bytes(before[:]))
	if err != nil {
		return Revision{}, err
	}
	if pickle.IsNone(v) {
		return Revision{}, &NotFoundError{OID: oid, Before: before, Method: method, Server: c.addr, Version: c.version()}
	}
	return c.parseLoadBefore(method, v)
}

// LoadSerial returns the data of the revision of oid written by
// transaction serial; a *NotFoundError (with Serial set) if there is none.
func (c *Client) LoadSerial(ctx context.Context, oid OID, serial TID) ([]byte, error) {
	method, err := c.require(OpLoadSerial)
	if err != nil {
		return nil, err
	}
	v, err := c.call(ctx, op{method: method, oid: oid, oidKnown: true, serial: serial}, pickle.Bytes(oid[:]), pickle.Bytes(serial[:]))
	if err != nil {
		return nil, err
	}
	data, ok := asData(v)
	if !ok {
		return nil, c.shape(method, "the data record", v)
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
	method, err := c.require(OpLastTransaction)
	if err != nil {
		return TID{}, err
	}
	v, err := c.call(ctx, op{method: method})
	if err != nil {
		return TID{}, err
	}
	t, ok := asTID(v)
	if !ok {
		return TID{}, c.shape(method, "an 8-byte tid", v)
	}
	return t, nil
}
