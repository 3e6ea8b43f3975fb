package store

import "bytes"

// Clone returns a deep, independent copy of the store's committed state, as
// a backup taken now would hold it: every object with all its revisions,
// the transactions, the last tid and the last oid handed out. It exists to
// imitate a server restored from an older backup: clone, commit more on the
// original, then serve the clone (testserver's Options.Store), and a
// reconnecting client meets a server whose lastTransaction went back.
//
// The copy has no subscribers, no transaction in progress and a free commit
// lock, whatever the original is doing; later commits, undos and packs on
// either store leave the other alone. Undo backpointers stay meaningful: a
// revision that shares an earlier revision's data in the original shares
// the copied data in the clone, so undo and the iterator's DataTxn behave
// the same on both. Records are copied; transaction extensions, opaque to
// the store and never modified by it, are shared.
//
// opts configures the copy as New's do (name, clock, read-only, resolver,
// class names, logger); nothing is inherited from the original.
func (st *Store) Clone(opts Options) *Store {
	st.mu.RLock()
	defer st.mu.RUnlock()
	c := New(opts)
	c.lastTID, c.lastOID = st.lastTID, st.lastOID
	cp := newCloner(len(st.txns))
	for _, t := range st.txns {
		cp.txns[t] = &txnMeta{tid: t.tid, status: t.status, user: t.user,
			description: t.description, extension: t.extension}
	}
	for _, t := range st.txns {
		nt := cp.txns[t]
		nt.records = make([]*revision, len(t.records))
		for i, r := range t.records {
			nt.records[i] = cp.revision(r)
		}
		c.txns = append(c.txns, nt)
	}
	for oid, obj := range st.objects {
		revs := make([]*revision, len(obj.revs))
		for i, r := range obj.revs {
			revs[i] = cp.revision(r)
		}
		c.objects[oid] = &object{revs: revs}
	}
	return c
}

// cloner copies the revision graph once: every original revision, blob and
// transaction maps to exactly one copy, so shared data stays shared.
type cloner struct {
	txns  map[*txnMeta]*txnMeta
	revs  map[*revision]*revision
	blobs map[*blob]*blob
}

func newCloner(ntxns int) *cloner {
	return &cloner{
		txns:  make(map[*txnMeta]*txnMeta, ntxns),
		revs:  make(map[*revision]*revision),
		blobs: make(map[*blob]*blob),
	}
}

// revision returns r's copy. A revision a pack dropped is reachable only as
// the origin of data a later revision still shares; its copy keeps the
// packed mark (so DataTxn counts the data as the later revision's own) and
// has no transaction when the pack dropped that too.
func (c *cloner) revision(r *revision) *revision {
	if nr, ok := c.revs[r]; ok {
		return nr
	}
	nr := &revision{oid: r.oid, tid: r.tid, txn: c.txns[r.txn], packed: r.packed}
	c.revs[r] = nr
	nr.data = c.blob(r.data)
	return nr
}

// blob returns b's copy, nil for nil, its origin pointing at the origin's
// copy.
func (c *cloner) blob(b *blob) *blob {
	if b == nil {
		return nil
	}
	if nb, ok := c.blobs[b]; ok {
		return nb
	}
	nb := &blob{data: bytes.Clone(b.data)}
	c.blobs[b] = nb
	if b.origin != nil {
		nb.origin = c.revision(b.origin)
	}
	return nb
}
