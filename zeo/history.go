package zeo

import (
	"context"
	"time"

	"github.com/gozeo/gozeo/pickle"
)

// HistoryEntry describes one revision of an object, newest first in a
// History result.
type HistoryEntry struct {
	// TID is the transaction that wrote the revision.
	TID TID
	// Time is the commit time the storage recorded.
	Time        time.Time
	User        string
	Description string
	// Size is the size of the data record in bytes.
	Size int64
	// Version is the ZODB ≤ 3.8 version name ("" normally).
	Version string
	// Extension holds any other keys the storage reported (transaction
	// extension data, for instance).
	Extension map[string]any
}

// History returns up to size revisions of oid, newest first (size ≤ 0
// means 1, as ZODB's default). ZODB ≤ 3.8 servers are asked with their
// version argument.
func (c *Client) History(ctx context.Context, oid OID, size int) ([]HistoryEntry, error) {
	if size <= 0 {
		size = 1
	}
	v, _, err := c.callArgs(ctx, op{operation: OpHistory, oid: oid, oidKnown: true, idempotent: true}, func(s *session, _ string) []any {
		if s.caps.VersionsAPI {
			return []any{pickle.Bytes(oid[:]), "", int64(size)}
		}
		return []any{pickle.Bytes(oid[:]), int64(size)}
	})
	if err != nil {
		return nil, err
	}
	return c.parseHistory("history", v)
}

// parseHistory reads history's list of dicts.
func (c *Client) parseHistory(method string, v any) ([]HistoryEntry, error) {
	items, ok := pickle.AsTuple(v)
	if !ok {
		return nil, c.shape(method, "a list of dicts", v)
	}
	out := make([]HistoryEntry, 0, len(items))
	for _, it := range items {
		d, ok := pickle.AsDict(it)
		if !ok {
			return nil, c.shape(method, "a list of dicts", v)
		}
		var h HistoryEntry
		for _, kv := range d.Items() {
			k, _ := pickle.AsText(kv.Key)
			switch k {
			case "tid":
				h.TID, _ = asTID(kv.Value)
			case "serial":
				if h.TID == (TID{}) {
					h.TID, _ = asTID(kv.Value)
				}
			case "time":
				h.Time = asTime(kv.Value)
			case "user_name":
				h.User = asString(kv.Value)
			case "description":
				h.Description = asString(kv.Value)
			case "size":
				h.Size = asInt(kv.Value)
			case "version":
				h.Version = asString(kv.Value)
			default:
				if h.Extension == nil {
					h.Extension = make(map[string]any)
				}
				h.Extension[k] = fromPython(kv.Value)
			}
		}
		out = append(out, h)
	}
	return out, nil
}
