package store

import (
	"sort"
	"sync"
	"time"

	"github.com/gozeo/gozeo/zodb"
)

// maxNewOIDs is how many oids one new_oids call hands out at most; real
// servers cap it at 100 since the 2009 security releases.
const maxNewOIDs = 100

// Store is an in-memory multi-version object storage. Create one with New.
type Store struct {
	opts Options

	mu      sync.RWMutex
	objects map[zodb.OID]*object
	txns    []*txnMeta // committed transactions in tid order
	lastTID zodb.TID
	lastOID uint64 // highest oid handed out or stored
	subs    map[int]func(Commit)
	nextSub int
	lock    commitLock

	// finishing is set while a commit's subscribers run (commitLocked):
	// the transaction is announced but not yet visible. Object reads wait
	// for it on published, as a FileStorage's load waits for the lock its
	// tpc_finish holds while it calls the server's invalidation callback.
	finishing bool
	published *sync.Cond // on mu.RLocker()
}

// New returns an empty store.
func New(opts Options) *Store {
	st := &Store{
		opts:    opts.withDefaults(),
		objects: make(map[zodb.OID]*object),
		subs:    make(map[int]func(Commit)),
	}
	st.published = sync.NewCond(st.mu.RLocker())
	return st
}

// readLock takes the read lock for reading objects, once no announced
// commit is still to become visible: a client told of a transaction must
// not then read the state before it.
func (st *Store) readLock() {
	st.mu.RLock()
	for st.finishing {
		st.published.Wait()
	}
}

// Info summarizes the store for get_info and the info() messages.
type Info struct {
	Name string
	// Length counts the objects the store has records for, deleted ones
	// included until a pack drops them (FileStorage's len()).
	Length int
	// Size estimates the bytes a FileStorage would use for the same history.
	Size         int64
	SupportsUndo bool
	ReadOnly     bool
}

// Info returns the current summary.
func (st *Store) Info() Info {
	st.mu.RLock()
	defer st.mu.RUnlock()
	size := int64(4) // FileStorage's magic
	for _, t := range st.txns {
		size += t.sizeEstimate()
	}
	return Info{
		Name:         st.opts.Name,
		Length:       len(st.objects),
		Size:         size,
		SupportsUndo: !st.opts.NoUndo,
		ReadOnly:     st.opts.ReadOnly,
	}
}

// LastTransaction returns the tid of the last committed transaction, ZeroTID
// for a store that never committed. Like the object reads it waits for an
// announced commit to become visible: a client registering meanwhile, too
// late for the announcement, must be told the new tid, or it would never
// hear of that transaction.
func (st *Store) LastTransaction() zodb.TID {
	st.readLock()
	defer st.mu.RUnlock()
	return st.lastTID
}

// NewOIDs hands out n unused oids (at most 100, as real servers cap it; none
// for n ≤ 0), above every oid handed out or stored so far. A read-only store
// refuses with *ReadOnlyError.
func (st *Store) NewOIDs(n int) ([]zodb.OID, error) {
	if st.opts.ReadOnly {
		return nil, &ReadOnlyError{Op: "new_oids"}
	}
	n = min(n, maxNewOIDs)
	if n <= 0 {
		return []zodb.OID{}, nil
	}
	st.mu.Lock()
	defer st.mu.Unlock()
	oids := make([]zodb.OID, n)
	for i := range oids {
		st.lastOID++
		oids[i] = zodb.OIDFromUint64(st.lastOID)
	}
	return oids, nil
}

// Load returns the current record of oid and the tid that wrote it. An
// unknown or deleted object is a *POSKeyError.
func (st *Store) Load(oid zodb.OID) ([]byte, zodb.TID, error) {
	st.readLock()
	defer st.mu.RUnlock()
	obj := st.objects[oid]
	if obj == nil || obj.current().data == nil {
		return nil, zodb.ZeroTID, &POSKeyError{OID: oid}
	}
	cur := obj.current()
	return cur.bytes(), cur.tid, nil
}

// GetTID returns the tid of oid's current revision (getTid); *POSKeyError for
// an unknown or deleted object.
func (st *Store) GetTID(oid zodb.OID) (zodb.TID, error) {
	_, tid, err := st.Load(oid)
	return tid, err
}

// Revision is a record as loadBefore returns it.
type Revision struct {
	Data  []byte
	Start zodb.TID // tid that wrote the record
	// End is the tid of the next revision, ZeroTID when this one is current
	// (the None of loadBefore's reply).
	End zodb.TID
}

// LoadBefore returns the revision of oid that was current just before tid
// (loadBefore): the newest one written by a transaction older than tid. It
// returns nil and no error when oid has no revision that old, and a
// *POSKeyError when the store has never heard of oid or when the revision
// found says the object did not exist (deleted, creation undone).
func (st *Store) LoadBefore(oid zodb.OID, tid zodb.TID) (*Revision, error) {
	st.readLock()
	defer st.mu.RUnlock()
	obj := st.objects[oid]
	if obj == nil {
		return nil, &POSKeyError{OID: oid}
	}
	rev, next := obj.before(tid)
	if rev == nil {
		return nil, nil
	}
	if rev.data == nil {
		return nil, &POSKeyError{OID: oid}
	}
	r := &Revision{Data: rev.bytes(), Start: rev.tid}
	if next != nil {
		r.End = next.tid
	}
	return r, nil
}

// LoadSerial returns the record oid's revision serial holds; *POSKeyError
// when there is no such revision or it holds no data.
func (st *Store) LoadSerial(oid zodb.OID, serial zodb.TID) ([]byte, error) {
	st.readLock()
	defer st.mu.RUnlock()
	if obj := st.objects[oid]; obj != nil {
		for _, r := range obj.revs {
			if r.tid == serial && r.data != nil {
				return r.bytes(), nil
			}
		}
	}
	return nil, &POSKeyError{OID: oid}
}

// HistoryEntry describes one revision for history().
type HistoryEntry struct {
	TID         zodb.TID
	Time        time.Time // tid's TimeStamp; the wire wants TID.UnixSeconds()
	User        string
	Description string
	Extension   any // as given to TpcBegin; its keys join the history dict
	Size        int // record length, 0 for revisions without data
}

// History returns up to size revisions of oid, newest first (size ≤ 0 gives
// none, as FileStorage does). Deleted objects keep their history until
// packed; an unknown oid is a *POSKeyError.
func (st *Store) History(oid zodb.OID, size int) ([]HistoryEntry, error) {
	st.readLock()
	defer st.mu.RUnlock()
	obj := st.objects[oid]
	if obj == nil {
		return nil, &POSKeyError{OID: oid}
	}
	var out []HistoryEntry
	for i := len(obj.revs) - 1; i >= 0 && len(out) < size; i-- {
		r := obj.revs[i]
		out = append(out, HistoryEntry{
			TID: r.tid, Time: r.tid.Time(),
			User: r.txn.user, Description: r.txn.description, Extension: r.txn.extension,
			Size: len(r.bytes()),
		})
	}
	return out, nil
}

// Record is one object's current state as record_iternext returns it.
type Record struct {
	OID  zodb.OID
	TID  zodb.TID
	Data []byte
}

// RecordIterNext returns the current record of the smallest oid at or after
// from, and the oid after it (more is false when it was the last one), as
// FileStorage's record_iternext does. ErrNoMoreRecords when no oid is at or
// after from; *POSKeyError when that object is deleted.
func (st *Store) RecordIterNext(from zodb.OID) (rec Record, next zodb.OID, more bool, err error) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	oids := st.sortedOIDsLocked()
	i := sort.Search(len(oids), func(i int) bool { return oids[i].Compare(from) >= 0 })
	if i == len(oids) {
		return Record{}, zodb.ZeroOID, false, ErrNoMoreRecords
	}
	if i+1 < len(oids) {
		next, more = oids[i+1], true
	}
	cur := st.objects[oids[i]].current()
	if cur.data == nil {
		return Record{}, next, more, &POSKeyError{OID: oids[i]}
	}
	return Record{OID: cur.oid, TID: cur.tid, Data: cur.bytes()}, next, more, nil
}

func (st *Store) sortedOIDsLocked() []zodb.OID {
	oids := make([]zodb.OID, 0, len(st.objects))
	for oid := range st.objects {
		oids = append(oids, oid)
	}
	sort.Slice(oids, func(i, j int) bool { return oids[i].Compare(oids[j]) < 0 })
	return oids
}

// current returns oid's committed current revision, or nil.
func (st *Store) currentLocked(oid zodb.OID) *revision {
	if obj := st.objects[oid]; obj != nil {
		return obj.current()
	}
	return nil
}
