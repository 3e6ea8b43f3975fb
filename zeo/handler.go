package zeo

import (
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zrpc"
)

// handle receives the server's one-way calls (docs/protocol.md, Invalidations).
// It runs on the connection's read goroutine in wire order, so a serialnos is
// recorded before the vote reply that follows it wakes Vote, and an
// invalidation is published before any later reply is delivered. It never
// blocks.
func (c *Client) handle(s *session, m *zrpc.Message) {
	args, _ := pickle.AsTuple(m.Args)
	switch m.Method {
	case "invalidateTransaction":
		if len(args) != 2 {
			c.log.Warn("zeo: malformed invalidateTransaction", "args", pickle.Repr(m.Args))
			return
		}
		tid, ok := asTID(args[0])
		if !ok {
			c.log.Warn("zeo: invalidateTransaction without a tid", "args", pickle.Repr(m.Args))
			return
		}
		oids := parseInvalidatedOIDs(args[1])
		// The cache first, at once even while the session is still
		// catching up, so that no load reply read after this can be
		// cached as current (cache.go); the hub advances LastTID as it
		// delivers.
		c.cache.invalidate(tid, oids)
		if !c.inval.publish(Invalidation{TID: tid, OIDs: oids}) {
			s.conn.Abort(errTooManyAtConnect)
		}
	case "serialnos":
		if len(args) != 1 {
			c.log.Warn("zeo: malformed serialnos", "args", pickle.Repr(m.Args))
			return
		}
		items, _ := pickle.AsTuple(args[0])
		c.txnMu.Lock()
		tx := c.curTxn
		c.txnMu.Unlock()
		if tx == nil || tx.s != s {
			c.log.Warn("zeo: serialnos outside a transaction of this connection", "items", len(items))
			return
		}
		tx.addResults(c.parseSerialnos(items))
	case "info":
		if len(args) == 1 {
			s.info.update(args[0])
		}
	case "invalidateVerify", "invalidate":
		// A cache entry verification found stale (invalidate: ZEO 2.0):
		// an oid, or an (oid, version) pair.
		if len(args) == 1 {
			if oids := parseInvalidatedOIDs(pickle.Tuple{args[0]}); len(oids) == 1 {
				c.cache.invalidateUnion(TID{}, oids)
				s.verify.add(oids[0])
			}
		}
	case "endVerify", "end":
		s.verify.end()
	case "Invalidate", "begin":
		// ZEO 2.0 invalidations carry no tid: the cache never serves
		// current revisions on such a session.
		c.log.Debug("zeo: ignoring server call", "method", m.Method)
	case "receiveBlobStart", "receiveBlobChunk", "receiveBlobStop":
		s.blobs.receive(c.log, m.Method, args)
	default:
		c.log.Debug("zeo: unknown server call", "method", m.Method, "flags", m.Flags)
	}
}

// parseInvalidatedOIDs reads the oid list of an invalidation: bare oids
// (Z309+ peers) or (oid, version) pairs (≤ Z308).
func parseInvalidatedOIDs(v any) []OID {
	items, _ := pickle.AsTuple(v)
	oids := make([]OID, 0, len(items))
	for _, it := range items {
		if pair, ok := pickle.AsTuple(it); ok && len(pair) >= 1 {
			it = pair[0]
		}
		if oid, ok := asOID(it); ok {
			oids = append(oids, oid)
		}
	}
	return oids
}

// parseSerialnos reads the store results of a ZEO ≤ 4.x vote
// (docs/protocol.md, Commit).
func (c *Client) parseSerialnos(items []any) []StoreResult {
	out := make([]StoreResult, 0, len(items))
	for _, it := range items {
		if oid, ok := asOID(it); ok {
			// A bare oid: resolved by an IMultiCommitStorage (ZEO 4).
			out = append(out, StoreResult{OID: oid, Resolved: true})
			continue
		}
		pair, ok := pickle.AsTuple(it)
		if !ok || len(pair) != 2 {
			c.log.Warn("zeo: unreadable serialnos item", "item", pickle.Repr(it))
			continue
		}
		oid, ok := asOID(pair[0])
		if !ok {
			c.log.Warn("zeo: serialnos item without an oid", "item", pickle.Repr(it))
			continue
		}
		r := StoreResult{OID: oid}
		if b, ok := pickle.AsBytes(pair[1]); ok {
			switch {
			case len(b) == 8:
				r.Serial, _ = asTID(pair[1])
			case string(b) == resolvedSerial:
				r.Resolved = true
			default:
				r.Err = c.shape("store", "(oid, 8-byte serial), (oid, 'rs') or (oid, exception)", pair[1])
			}
		} else if re, ok := zrpc.ExceptionValue(pair[1]); ok {
			re.Method = "store"
			r.Err = c.fromRemote(re, op{method: "store", oid: oid, oidKnown: true})
		} else {
			r.Err = c.shape("store", "(oid, 8-byte serial), (oid, 'rs') or (oid, exception)", pair[1])
		}
		out = append(out, r)
	}
	return out
}

// resolvedSerial is ZODB's ResolvedSerial: the store's conflict was
// resolved on the server (or the oid was undone).
const resolvedSerial = "rs"
