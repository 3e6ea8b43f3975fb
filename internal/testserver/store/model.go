package store

import (
	"sort"

	"github.com/gozeo/gozeo/zodb"
)

// blob is one stored record. Revisions written by undo point at the blob of
// the revision they restore instead of copying it (FileStorage's
// backpointer), so "same data" means "same *blob".
type blob struct {
	data   []byte
	origin *revision // the revision that first wrote it; nil until committed
}

// revision is one committed state of an object.
type revision struct {
	oid    zodb.OID
	tid    zodb.TID
	data   *blob // nil: the object does not exist in this revision
	txn    *txnMeta
	packed bool // dropped by Pack
}

// dataTxn is the tid of the transaction whose record this revision reuses,
// or ZeroTID when the revision wrote its own data (or none). Once pack has
// dropped the original, the data counts as the revision's own, as FileStorage
// copies it.
func (r *revision) dataTxn() zodb.TID {
	if r.data == nil || r.data.origin == nil || r.data.origin == r || r.data.origin.packed {
		return zodb.ZeroTID
	}
	return r.data.origin.tid
}

func (r *revision) bytes() []byte {
	if r.data == nil {
		return nil
	}
	return r.data.data
}

// object holds the revisions of one oid in commit order.
type object struct {
	revs []*revision
}

func (o *object) current() *revision { return o.revs[len(o.revs)-1] }

// before returns the newest revision older than tid and the one after it
// (nil when none).
func (o *object) before(tid zodb.TID) (rev, next *revision) {
	i := sort.Search(len(o.revs), func(i int) bool { return o.revs[i].tid.Compare(tid) >= 0 })
	if i == 0 {
		return nil, o.revs[0]
	}
	if i < len(o.revs) {
		next = o.revs[i]
	}
	return o.revs[i-1], next
}

// previous returns the revision just before r, or nil.
func (o *object) previous(r *revision) *revision {
	for i, x := range o.revs {
		if x == r {
			if i == 0 {
				return nil
			}
			return o.revs[i-1]
		}
	}
	return nil
}

// txnMeta is a committed transaction: its metadata and the revisions it
// wrote, in write order.
type txnMeta struct {
	tid         zodb.TID
	status      byte
	user        string
	description string
	extension   any
	records     []*revision
}

// sizeEstimate mimics FileStorage's byte count for the transaction: header,
// user, description, trailer, and per record a header plus the data or an
// 8-byte backpointer. The pickled extension's size is unknown here and left
// out.
func (t *txnMeta) sizeEstimate() int64 {
	const txnHeader, txnTrailer, dataHeader, backpointer = 23, 8, 42, 8
	n := int64(txnHeader + len(t.user) + len(t.description) + txnTrailer)
	for _, r := range t.records {
		n += dataHeader
		if r.data != nil && r.data.origin == r {
			n += int64(len(r.data.data))
		} else {
			n += backpointer
		}
	}
	return n
}
