package zeo

import (
	"context"
	"io"
	"sync"

	"github.com/gozeo/gozeo/pickle"
)

// TxnInfo is one transaction of the storage's history, as the transaction
// iterator returns it.
type TxnInfo struct {
	TID         TID
	Status      string // " " normally, "p" for a pack-generated transaction
	User        string
	Description string
	// Extension is the transaction's extension dict, when the server sent
	// a dict (ZODB 5); otherwise the raw value under key "" .
	Extension map[string]any
}

// DataRecord is one object record of a transaction.
type DataRecord struct {
	OID    OID
	Serial TID
	// Data is the record, nil for a deletion or an undo of a creation.
	Data []byte
	// DataTxn, when non-zero, is the transaction whose data this record
	// reuses (an undo or a restore).
	DataTxn TID
}

// TxnIterator walks the transactions of the storage (iterator_start /
// iterator_next, Z309+). Close it when done to free the server's
// iterator. The server's iterator lives on the connection it was started
// on: if that connection is lost, Next and Records fail with a
// *DisconnectedError; start a new iterator from the last tid seen.
type TxnIterator struct {
	c    *Client
	s    *session
	iid  any
	mu   sync.Mutex
	open []any // iterator ids to give back to the server
	done bool
}

// Iterator starts iterating over the transactions with start ≤ tid ≤ stop
// (a zero start means from the beginning, a zero stop to the end).
func (c *Client) Iterator(ctx context.Context, start, stop TID) (*TxnIterator, error) {
	s, err := c.liveSession(ctx, "iterator_start")
	if err != nil {
		return nil, err
	}
	method, ok := s.method(OpIterator)
	if !ok {
		return nil, c.unsupportedOp(s, OpIterator)
	}
	var a, b any = pickle.None, pickle.None
	if start != (TID{}) {
		a = pickle.Bytes(start[:])
	}
	if stop != (TID{}) {
		b = pickle.Bytes(stop[:])
	}
	v, err := c.callIn(ctx, s, op{method: method}, a, b)
	if err != nil {
		return nil, err
	}
	return &TxnIterator{c: c, s: s, iid: v, open: []any{v}}, nil
}

// Next returns the next transaction, or io.EOF after the last.
func (it *TxnIterator) Next(ctx context.Context) (*TxnInfo, error) {
	it.mu.Lock()
	if it.done {
		it.mu.Unlock()
		return nil, io.EOF
	}
	it.mu.Unlock()
	v, err := it.c.callIn(ctx, it.s, op{method: "iterator_next"}, it.iid)
	if err != nil {
		return nil, err
	}
	if pickle.IsNone(v) {
		it.mu.Lock()
		it.done = true
		it.open = removeID(it.open, it.iid) // the server frees it at the end
		it.mu.Unlock()
		return nil, io.EOF
	}
	t, ok := pickle.AsTuple(v)
	if !ok || len(t) < 5 {
		return nil, it.c.shape("iterator_next", "(tid, status, user, description, extension)", v)
	}
	info := &TxnInfo{Status: asString(t[1]), User: asString(t[2]), Description: asString(t[3])}
	if info.TID, ok = asTID(t[0]); !ok {
		return nil, it.c.shape("iterator_next", "(tid, status, user, description, extension)", v)
	}
	switch ext := t[4].(type) {
	case *pickle.Dict:
		info.Extension = mapFromDict(ext)
	default:
		if !pickle.IsNone(ext) {
			info.Extension = map[string]any{"": fromPython(ext)}
		}
	}
	return info, nil
}

// Records returns the object records of txn, a transaction Next returned.
func (it *TxnIterator) Records(ctx context.Context, txn *TxnInfo) ([]DataRecord, error) {
	c := it.c
	riid, err := c.callIn(ctx, it.s, op{method: "iterator_record_start"}, it.iid, pickle.Bytes(txn.TID[:]))
	if err != nil {
		return nil, err
	}
	var out []DataRecord
	for {
		v, err := c.callIn(ctx, it.s, op{method: "iterator_record_next"}, riid)
		if err != nil {
			it.forget(riid)
			return nil, err
		}
		if pickle.IsNone(v) {
			return out, nil
		}
		t, ok := pickle.AsTuple(v)
		if !ok || len(t) != 4 {
			it.forget(riid)
			return nil, c.shape("iterator_record_next", "(oid, tid, data, data_txn)", v)
		}
		var r DataRecord
		r.OID, _ = asOID(t[0])
		r.Serial, _ = asTID(t[1])
		if d, ok := asData(t[2]); ok && d != nil {
			r.Data = append([]byte(nil), d...)
		}
		if !pickle.IsNone(t[3]) {
			r.DataTxn, _ = asTID(t[3])
		}
		out = append(out, r)
	}
}

// forget queues an abandoned record iterator for Close to free.
func (it *TxnIterator) forget(id any) {
	it.mu.Lock()
	it.open = append(it.open, id)
	it.mu.Unlock()
}

// Close frees the server's iterators (iterator_gc) unless the iteration
// ran to its end. It does not wait for the server.
func (it *TxnIterator) Close() error {
	it.mu.Lock()
	ids := it.open
	it.open = nil
	it.done = true
	it.mu.Unlock()
	if len(ids) == 0 || it.s.conn.Err() != nil {
		return nil // a lost connection took the server's iterators with it
	}
	l := pickle.List(ids)
	return it.c.notifyIn(context.Background(), it.s, "iterator_gc", &l)
}

func removeID(ids []any, id any) []any {
	out := ids[:0]
	for _, x := range ids {
		if pickle.Repr(x) != pickle.Repr(id) {
			out = append(out, x)
		}
	}
	return out
}
