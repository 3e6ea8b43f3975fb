package zeo

import (
	"context"
	"time"

	"github.com/gozeo/gozeo/pickle"
)

// UndoRecord describes one undoable transaction, as UndoLog and UndoInfo
// list them, newest first.
type UndoRecord struct {
	// ID identifies the transaction for Undo. It is opaque (FileStorage
	// uses the base64 of the tid).
	ID          []byte
	Time        time.Time
	User        string
	Description string
	Size        int64
	// Extension holds the other keys the storage reported.
	Extension map[string]any
}

// UndoLog lists undoable transactions: entries first to last (exclusive),
// newest first, as ZODB's undoLog (a negative last means first-last).
func (c *Client) UndoLog(ctx context.Context, first, last int) ([]UndoRecord, error) {
	method, err := c.require(OpUndoLog)
	if err != nil {
		return nil, err
	}
	v, err := c.call(ctx, op{method: method, idempotent: true}, int64(first), int64(last))
	if err != nil {
		return nil, err
	}
	return c.parseUndoRecords(method, v)
}

// UndoInfo is UndoLog with a filter: spec is matched against the
// transactions' metadata by the storage (nil: no filter). Spec values are
// converted as Extension values are.
func (c *Client) UndoInfo(ctx context.Context, first, last int, spec map[string]any) ([]UndoRecord, error) {
	method, err := c.require(OpUndoInfo)
	if err != nil {
		return nil, err
	}
	var sp any = pickle.None
	if spec != nil {
		d, err := dictFromMap(spec)
		if err != nil {
			return nil, err
		}
		sp = d
	}
	v, err := c.call(ctx, op{method: method, idempotent: true}, int64(first), int64(last), sp)
	if err != nil {
		return nil, err
	}
	return c.parseUndoRecords(method, v)
}

func (c *Client) parseUndoRecords(method string, v any) ([]UndoRecord, error) {
	items, ok := pickle.AsTuple(v)
	if !ok {
		return nil, c.shape(method, "a list of dicts", v)
	}
	out := make([]UndoRecord, 0, len(items))
	for _, it := range items {
		d, ok := pickle.AsDict(it)
		if !ok {
			return nil, c.shape(method, "a list of dicts", v)
		}
		var r UndoRecord
		for _, kv := range d.Items() {
			k, _ := pickle.AsText(kv.Key)
			switch k {
			case "id":
				if b, ok := pickle.AsBytes(kv.Value); ok {
					r.ID = append([]byte(nil), b...)
				} else if s, ok := pickle.AsText(kv.Value); ok {
					r.ID = []byte(s)
				}
			case "time":
				r.Time = asTime(kv.Value)
			case "user_name":
				r.User = asString(kv.Value)
			case "description":
				r.Description = asString(kv.Value)
			case "size":
				r.Size = asInt(kv.Value)
			default:
				if r.Extension == nil {
					r.Extension = make(map[string]any)
				}
				r.Extension[k] = fromPython(kv.Value)
			}
		}
		out = append(out, r)
	}
	return out, nil
}

// Undo asks the server to undo the transaction id (from UndoLog) as part
// of tx. Servers before ZODB 3.10 undo at once and the oids undone are
// returned; 3.10 and later (undoa) report them at Vote, as results with
// Resolved set, and Undo returns none.
func (tx *Transaction) Undo(ctx context.Context, id []byte) ([]OID, error) {
	if err := tx.active("Undo"); err != nil {
		return nil, err
	}
	c := tx.c
	method, err := tx.method(OpUndo)
	if err != nil {
		return nil, err
	}
	if method == "undoa" {
		return nil, tx.notify(ctx, method, pickle.Bytes(id), tx.id)
	}
	v, err := tx.call(ctx, op{method: method}, pickle.Bytes(id), tx.id)
	if err != nil {
		return nil, err
	}
	// undo: (tid, oids); transactionalUndo: oids. Decide by the method,
	// not the shape: a list of two oids looks like (tid, oids) too.
	list := v
	if t, ok := pickle.AsTuple(v); ok && method == "undo" && len(t) == 2 {
		if _, isTID := asTID(t[0]); isTID {
			list = t[1]
		}
	}
	items, ok := pickle.AsTuple(list)
	if !ok {
		return nil, c.shape(method, "(tid, oids) or oids", v)
	}
	oids := make([]OID, 0, len(items))
	for _, it := range items {
		if oid, ok := asOID(it); ok {
			oids = append(oids, oid)
		}
	}
	tx.mu.Lock()
	tx.undone = append(tx.undone, oids...)
	tx.mu.Unlock()
	return oids, nil
}

// UndoResult is the outcome of Client.Undo.
type UndoResult struct {
	// TID is the transaction that did the undo.
	TID TID
	// OIDs are the objects whose state was reverted.
	OIDs []OID
}

// Undo undoes the transaction id (from UndoLog) in a transaction of its
// own and returns that transaction's tid and the oids reverted. It fails
// with an *UndoError when later transactions changed the same objects.
func (c *Client) Undo(ctx context.Context, id []byte, meta TxnMeta) (UndoResult, error) {
	tx, err := c.Begin(ctx, meta)
	if err != nil {
		return UndoResult{}, err
	}
	defer tx.Abort(context.WithoutCancel(ctx))
	oids, err := tx.Undo(ctx, id)
	if err != nil {
		return UndoResult{}, err
	}
	rs, err := tx.Vote(ctx)
	if err != nil {
		return UndoResult{}, err
	}
	for _, r := range rs {
		if r.Resolved && !containsOID(oids, r.OID) {
			oids = append(oids, r.OID)
		}
	}
	tid, err := tx.Finish(ctx)
	if err != nil {
		return UndoResult{}, err
	}
	return UndoResult{TID: tid, OIDs: oids}, nil
}

// Pack removes revisions no longer current as of t, and objects no
// longer reachable, waiting until the server has finished.
func (c *Client) Pack(ctx context.Context, t time.Time) error {
	method, err := c.require(OpPack)
	if err != nil {
		return err
	}
	secs := float64(t.UnixNano()) / 1e9
	_, err = c.call(ctx, op{method: method}, secs)
	return err
}
