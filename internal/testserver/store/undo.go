package store

import (
	"encoding/base64"
	"time"

	"github.com/gozeo/gozeo/zodb"
)

// UndoEntry describes one undoable transaction for undoLog/undoInfo.
type UndoEntry struct {
	// ID is the opaque id clients pass back to Undo: the base64 of the tid,
	// as FileStorage makes it.
	ID          []byte
	TID         zodb.TID
	Time        time.Time // the wire wants TID.UnixSeconds()
	User        string
	Description string
	Extension   any // as given to TpcBegin; its keys join the dict
	Size        int64
}

// UndoID returns the undo id of the transaction committed as tid.
func UndoID(tid zodb.TID) []byte {
	return []byte(base64.StdEncoding.EncodeToString(tid[:]))
}

func parseUndoID(id []byte) (zodb.TID, bool) {
	raw, err := base64.StdEncoding.DecodeString(string(id))
	if err != nil || len(raw) != 8 {
		return zodb.ZeroTID, false
	}
	return zodb.TID(raw), true
}

// UndoLog is UndoInfo without a filter.
func (st *Store) UndoLog(first, last int) []UndoEntry { return st.UndoInfo(first, last, nil) }

// UndoInfo lists undoable transactions newest first, as FileStorage's
// undoLog does: it skips transactions whose status is not ' ', stops at the
// first one a pack marked 'p', counts only those filter accepts (nil accepts
// all), and returns the ones numbered first ≤ i < last. A negative last
// means at most -last entries from first. A store with Options.NoUndo lists
// nothing. Build undoInfo's specification match as a filter.
func (st *Store) UndoInfo(first, last int, filter func(UndoEntry) bool) []UndoEntry {
	if last < 0 {
		last = first - last
	}
	out := []UndoEntry{}
	if st.opts.NoUndo {
		return out
	}
	st.mu.RLock()
	defer st.mu.RUnlock()
	i := 0
	for k := len(st.txns) - 1; k >= 0 && i < last; k-- {
		t := st.txns[k]
		if t.status == 'p' {
			break
		}
		if t.status != ' ' {
			continue
		}
		e := UndoEntry{ID: UndoID(t.tid), TID: t.tid, Time: t.tid.Time(), User: t.user,
			Description: t.description, Extension: t.extension, Size: t.sizeEstimate()}
		if filter != nil && !filter(e) {
			continue
		}
		if i >= first {
			out = append(out, e)
		}
		i++
	}
	return out
}

// findUndoableLocked finds the transaction undoID names, searching back from
// the newest and not past a packed one, as FileStorage's _txn_find does.
func (st *Store) findUndoableLocked(undoID []byte) (*txnMeta, error) {
	if st.opts.NoUndo {
		return nil, &UndoError{Reason: "undo is not supported by this storage"}
	}
	tid, ok := parseUndoID(undoID)
	if ok {
		for k := len(st.txns) - 1; k >= 0; k-- {
			t := st.txns[k]
			if t.tid == tid {
				if t.status != ' ' {
					return nil, &UndoError{Reason: "non-undoable transaction"}
				}
				return t, nil
			}
			if t.status == 'p' {
				break
			}
		}
	}
	return nil, &UndoError{Reason: "Invalid transaction id"}
}

// applyUndoLocked adds to t the changes that undo transaction undoID.
//
// The rule is FileStorage's (_transactionalUndoRecord): an object can be
// undone when its current state — this transaction's pending change if it
// made one, else the committed revision — is the revision the undone
// transaction wrote, or holds the very same data (a revision that undo made
// by pointing at it). Otherwise Options.Resolve gets a chance, but only for
// an object with an older revision that this transaction has not touched;
// failing that the object fails with "Some data were modified by a later
// transaction" (or "no previous record"). Undoing an object's creation
// leaves it without data. Failures are collected and reported together as
// *MultipleUndoErrors, and then nothing is applied.
func (st *Store) applyUndoLocked(t *txn, undoID []byte) error {
	undone, err := st.findUndoableLocked(undoID)
	if err != nil {
		return err
	}
	type change struct {
		oid  zodb.OID
		data *blob
	}
	var changes []change
	var failures []*UndoError
	for _, r := range undone.records {
		obj := st.objects[r.oid]
		if obj == nil { // cannot happen: pack removes records with their objects
			failures = append(failures, &UndoError{Reason: "object is gone", OID: r.oid, HasOID: true})
			continue
		}
		prev := obj.previous(r)
		var curData *blob
		var curTID zodb.TID
		pendingHere := t.changes.has(r.oid)
		if pendingHere {
			curData = t.changes.next[r.oid]
		} else {
			cur := obj.current()
			curData, curTID = cur.data, cur.tid
			if cur == r {
				changes = append(changes, change{r.oid, restoredData(prev)})
				continue
			}
		}
		if curData != nil && curData == r.data {
			changes = append(changes, change{r.oid, restoredData(prev)})
			continue
		}
		if prev == nil || pendingHere {
			failures = append(failures, &UndoError{Reason: "no previous record", OID: r.oid, HasOID: true})
			continue
		}
		if st.opts.Resolve != nil {
			c := Conflict{OID: r.oid, Committed: curTID, Read: r.tid, Old: r.bytes(), New: prev.bytes()}
			if curData != nil {
				c.CommittedData = curData.data
			}
			if merged, ok := st.opts.Resolve(c); ok {
				changes = append(changes, change{r.oid, &blob{data: append(make([]byte, 0, len(merged)), merged...)}})
				continue
			}
		}
		failures = append(failures, &UndoError{Reason: "Some data were modified by a later transaction", OID: r.oid, HasOID: true})
	}
	if len(failures) > 0 {
		return &MultipleUndoErrors{Errors: failures}
	}
	for _, c := range changes {
		t.changes.set(c.oid, c.data, false)
		t.results = append(t.results, ObjectResult{OID: c.oid, Kind: Undone})
	}
	return nil
}

// restoredData is what undo writes back: the data of the revision before the
// undone one (shared, like a backpointer), or nothing when the undone
// revision created the object.
func restoredData(prev *revision) *blob {
	if prev == nil {
		return nil
	}
	return prev.data
}
