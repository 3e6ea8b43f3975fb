package store

import (
	"slices"

	"github.com/gozeo/gozeo/zodb"
)

// TxnRecord is one committed transaction as iterator_next and
// iterator_record_next show it.
type TxnRecord struct {
	TID         zodb.TID
	Status      byte // ' ', or 'p' once packed
	User        string
	Description string
	Extension   any
	Records     []DataRecord // in write order
}

// DataRecord is one object revision inside a TxnRecord.
type DataRecord struct {
	OID  zodb.OID
	TID  zodb.TID
	Data []byte // nil: the object does not exist after this transaction
	// DataTxn is the transaction whose record this one reuses (a revision
	// undo wrote), ZeroTID when the data is the record's own: the data_txn
	// of the record iterator.
	DataTxn zodb.TID
}

// TxnIterator walks committed transactions in tid order. It sees the
// transactions committed when it was created; Next is safe to call
// concurrently with commits and packs but the iterator itself is not for
// concurrent use.
type TxnIterator struct {
	st   *Store
	txns []*txnMeta
}

// Iterator returns an iterator over the transactions with start ≤ tid ≤ stop
// (FileStorage's bounds). Pass ZeroTID and
// zodb.TIDFromUint64(math.MaxUint64) for the None bounds of iterator_start.
func (st *Store) Iterator(start, stop zodb.TID) *TxnIterator {
	st.mu.RLock()
	defer st.mu.RUnlock()
	var sel []*txnMeta
	for _, t := range st.txns {
		if t.tid.Compare(start) >= 0 && t.tid.Compare(stop) <= 0 {
			sel = append(sel, t)
		}
	}
	return &TxnIterator{st: st, txns: sel}
}

// Next returns the next transaction; false at the end.
func (it *TxnIterator) Next() (TxnRecord, bool) {
	if len(it.txns) == 0 {
		return TxnRecord{}, false
	}
	t := it.txns[0]
	it.txns = it.txns[1:]
	it.st.mu.RLock()
	defer it.st.mu.RUnlock()
	rec := TxnRecord{TID: t.tid, Status: t.status, User: t.user, Description: t.description, Extension: t.extension}
	for _, r := range t.records {
		rec.Records = append(rec.Records, DataRecord{OID: r.oid, TID: r.tid, Data: r.bytes(), DataTxn: r.dataTxn()})
	}
	return rec, true
}

// Transactions returns every committed transaction, oldest first: a
// convenience over Iterator for tests.
func (st *Store) Transactions() []TxnRecord {
	it := st.Iterator(zodb.ZeroTID, zodb.TIDFromUint64(^uint64(0)))
	var out []TxnRecord
	for rec, ok := it.Next(); ok; rec, ok = it.Next() {
		out = append(out, rec)
	}
	return slices.Clip(out)
}
