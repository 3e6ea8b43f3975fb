package testserver

import (
	"bytes"
	"errors"

	"github.com/gozeo/gozeo/internal/testserver/store"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
)

// versionsUnsupported is what ZODB 3.9+'s adapter raises for a non-empty
// version; this server has no versions on 3.8 either.
func versionsUnsupported() *pyError {
	return &pyError{Module: "ZEO.StorageServer", Name: "StorageServerError", POSError: true,
		Args: pickle.Tuple{text("Versions aren't supported.")}}
}

// noVersion checks a version argument: ” (or None) is the only one.
func noVersion(v pickle.Value) error {
	if truth(v) {
		return versionsUnsupported()
	}
	return nil
}

// loadCurrent loads oid's current record, counting the load.
func (s *session) loadCurrent(v pickle.Value) (pickle.Value, pickle.Value, error) {
	oid, err := s.prof.argOID(v)
	if err != nil {
		return nil, nil, err
	}
	s.srv.stats.loads.Add(1)
	data, tid, err := s.srv.store.Load(oid)
	if err != nil {
		return nil, nil, err
	}
	return bin(data), tidValue(tid), nil
}

// loadEx: (oid) → (data, tid) on 3.9+; (oid, version) → (data, tid, ”)
// where the version API is spoken.
func (s *session) loadEx(c *call, args pickle.Tuple) (pickle.Value, error) {
	if !s.versionAPI {
		if err := s.prof.arity("loadEx", args, 1, 0); err != nil {
			return nil, err
		}
		data, tid, err := s.loadCurrent(args[0])
		if err != nil {
			return nil, err
		}
		return pickle.Tuple{data, tid}, nil
	}
	required, optional := 2, 0 // ZODB 3.8: loadEx(oid, version)
	if s.adapter {
		required, optional = 1, 1 // the adapter: loadEx(oid, version='')
	}
	if err := s.prof.arity("loadEx", args, required, optional); err != nil {
		return nil, err
	}
	if s.adapter && len(args) == 2 {
		if err := noVersion(args[1]); err != nil {
			return nil, err
		}
	}
	data, tid, err := s.loadCurrent(args[0])
	if err != nil {
		return nil, err
	}
	return pickle.Tuple{data, tid, text("")}, nil
}

// load(oid[, version]) → (data, tid): the storage's own load, ZEO ≤ 4.
func (s *session) load(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("load", args, 1, 1); err != nil {
		return nil, err
	}
	data, tid, err := s.loadCurrent(args[0])
	if err != nil {
		return nil, err
	}
	return pickle.Tuple{data, tid}, nil
}

// zeoLoad(oid) → (data, serial, version, version_data, version_serial),
// the ZEO 2 read, for version-API peers.
func (s *session) zeoLoad(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("zeoLoad", args, 1, 0); err != nil {
		return nil, err
	}
	data, tid, err := s.loadCurrent(args[0])
	if err != nil {
		return nil, err
	}
	return pickle.Tuple{data, tid, text(""), pickle.None, pickle.None}, nil
}

// loadBefore(oid, tid) → None, or (data, start_tid, end_tid or None).
func (s *session) loadBefore(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("loadBefore", args, 2, 0); err != nil {
		return nil, err
	}
	oid, tid, err := s.prof.argOIDTID(args)
	if err != nil {
		return nil, err
	}
	s.srv.stats.loads.Add(1)
	rev, err := s.srv.store.LoadBefore(oid, tid)
	if err != nil {
		return nil, err
	}
	if rev == nil {
		return pickle.None, nil
	}
	var end pickle.Value = pickle.None
	if rev.End != zodb.ZeroTID {
		end = tidValue(rev.End)
	}
	return pickle.Tuple{bin(rev.Data), tidValue(rev.Start), end}, nil
}

// loadSerial(oid, serial) → data.
func (s *session) loadSerial(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("loadSerial", args, 2, 0); err != nil {
		return nil, err
	}
	oid, serial, err := s.prof.argOIDTID(args)
	if err != nil {
		return nil, err
	}
	data, err := s.srv.store.LoadSerial(oid, serial)
	if err != nil {
		return nil, err
	}
	return bin(data), nil
}

// getTid(oid) → the current tid; getSerial is its pre-3.8 name.
func (s *session) getTid(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity(c.name, args, 1, 0); err != nil {
		return nil, err
	}
	oid, err := s.prof.argOID(args[0])
	if err != nil {
		return nil, err
	}
	tid, err := s.srv.store.GetTID(oid)
	if err != nil {
		return nil, err
	}
	return tidValue(tid), nil
}

func (s *session) getSerial(c *call, args pickle.Tuple) (pickle.Value, error) {
	return s.getTid(c, args)
}

// history(oid[, size=1]) (3.9+), history(oid, version[, size]) (version
// API) → a list of dicts, newest first.
func (s *session) history(c *call, args pickle.Tuple) (pickle.Value, error) {
	p := s.prof
	var sizeArg pickle.Value
	switch {
	case !s.versionAPI:
		if err := p.arity("history", args, 1, 1); err != nil {
			return nil, err
		}
		if len(args) == 2 {
			sizeArg = args[1]
		}
	default:
		required := 1 // ZODB 3.8's FileStorage: history(oid, version=None, size=1)
		if s.adapter {
			required = 2 // the adapter: history(oid, version, size=1)
		}
		if err := p.arity("history", args, required, 3-required); err != nil {
			return nil, err
		}
		if s.adapter && truth(args[1]) {
			return nil, p.builtinErr("ValueError", text("Versions aren't supported."))
		}
		if len(args) == 3 {
			sizeArg = args[2]
		}
	}
	oid, err := p.argOID(args[0])
	if err != nil {
		return nil, err
	}
	size := int64(1)
	if sizeArg != nil && !pickle.IsNone(sizeArg) {
		if size, err = p.argInt(sizeArg); err != nil {
			return nil, err
		}
	}
	entries, err := s.srv.store.History(oid, int(size))
	if err != nil {
		return nil, err
	}
	l := make(pickle.List, len(entries))
	for i, e := range entries {
		d := pickle.NewDict(6)
		d.Set("time", e.TID.UnixSeconds())               //nolint:errcheck
		d.Set("user_name", bin([]byte(e.User)))          //nolint:errcheck
		d.Set("description", bin([]byte(e.Description))) //nolint:errcheck
		d.Set("tid", tidValue(e.TID))                    //nolint:errcheck
		d.Set("size", int64(e.Size))                     //nolint:errcheck
		if s.versionAPI && !s.adapter {
			d.Set("version", text("")) //nolint:errcheck // ZODB 3.8's FileStorage
		}
		addExtension(d, e.Extension)
		l[i] = d
	}
	return &l, nil
}

// record_iternext(next=None) → (oid, tid, data, next_oid or None).
func (s *session) recordIternext(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("record_iternext", args, 0, 1); err != nil {
		return nil, err
	}
	var from zodb.OID
	if len(args) == 1 && !pickle.IsNone(args[0]) {
		var err error
		if from, err = s.prof.argOID(args[0]); err != nil {
			return nil, err
		}
	}
	rec, next, more, err := s.srv.store.RecordIterNext(from)
	if errors.Is(err, store.ErrNoMoreRecords) {
		return nil, s.prof.builtinErr("ValueError", text("empty tree"))
	}
	if err != nil {
		return nil, err
	}
	var nextV pickle.Value = pickle.None
	if more {
		nextV = oidValue(next)
	}
	return pickle.Tuple{oidValue(rec.OID), tidValue(rec.TID), bin(rec.Data), nextV}, nil
}

// noBlobs answers every blob method: this server has no blob directory.
func (s *session) noBlobs(c *call, args pickle.Tuple) (pickle.Value, error) {
	return nil, posErr("Unsupported", text("the Go test server has no blob support ("+c.name+")"))
}

// versionEmpty(version) → True; versions([max]) → none; modifiedInVersion
// (oid) → ”: the version API of a server whose storage has no versions.
func (s *session) versionEmpty(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("versionEmpty", args, 1, 0); err != nil {
		return nil, err
	}
	return true, nil
}

func (s *session) versions(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("versions", args, 0, 1); err != nil {
		return nil, err
	}
	if s.adapter {
		return pickle.Tuple{}, nil
	}
	return &pickle.List{}, nil
}

func (s *session) modifiedInVersion(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("modifiedInVersion", args, 1, 0); err != nil {
		return nil, err
	}
	return text(""), nil
}

// abortVersion / commitVersion: no versions here, as ZODB 3.9+ answer.
func (s *session) versionOp(c *call, args pickle.Tuple) (pickle.Value, error) {
	return nil, s.prof.builtinErr("NotImplementedError")
}

// iterState is one open iterator of iterator_start / iterator_record_start.
type iterState struct {
	txns    *store.TxnIterator // transaction iterator
	last    *store.TxnRecord   // its last transaction, for record iterators
	records []store.DataRecord // record iterator: what is left
	isTxn   bool
}

// iterator_start(start, stop) → iterator id.
func (s *session) iteratorStart(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("iterator_start", args, 2, 0); err != nil {
		return nil, err
	}
	start, _, err := s.prof.argOptTID(args[0])
	if err != nil {
		return nil, err
	}
	stop, ok, err := s.prof.argOptTID(args[1])
	if err != nil {
		return nil, err
	}
	if !ok {
		stop = zodb.TIDFromUint64(^uint64(0))
	}
	return s.addIterator(&iterState{txns: s.srv.store.Iterator(start, stop), isTxn: true}), nil
}

// addIterator registers it under a new iterator id.
func (s *session) addIterator(it *iterState) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	id := s.nextIter
	s.nextIter++
	s.iters[id] = it
	return id
}

// dropIterator forgets iterator id: exhausted, or garbage-collected by
// the client.
func (s *session) dropIterator(id int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.iters, id)
}

// iterator lookup: a KeyError as Python's dict raises it.
func (s *session) iterator(v pickle.Value) (int64, *iterState, error) {
	id, ok := pickle.AsInt(v)
	s.mu.Lock()
	it := s.iters[id]
	s.mu.Unlock()
	if !ok || it == nil {
		return 0, nil, s.prof.builtinErr("KeyError", v)
	}
	return id, it, nil
}

// iterator_next(iid) → None at the end, else (tid, status, user,
// description, extension).
func (s *session) iteratorNext(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("iterator_next", args, 1, 0); err != nil {
		return nil, err
	}
	id, it, err := s.iterator(args[0])
	if err != nil {
		return nil, err
	}
	if !it.isTxn {
		return nil, s.prof.builtinErr("AttributeError", text("record iterator used as a transaction iterator"))
	}
	rec, ok := it.txns.Next()
	if !ok {
		s.dropIterator(id)
		return pickle.None, nil
	}
	it.last = &rec
	var ext pickle.Value = pickle.NewDict(0)
	if rec.Extension != nil {
		ext = rec.Extension
	}
	return pickle.Tuple{tidValue(rec.TID), text(string(rune(rec.Status))), bin([]byte(rec.User)), bin([]byte(rec.Description)), ext}, nil
}

// iterator_record_start(txn_iid, tid) → record iterator id over the
// transaction iterator_next returned last.
func (s *session) iteratorRecordStart(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("iterator_record_start", args, 2, 0); err != nil {
		return nil, err
	}
	_, it, err := s.iterator(args[0])
	if err != nil {
		return nil, err
	}
	tid, err := s.prof.argTID(args[1])
	if err != nil {
		return nil, err
	}
	if it.last == nil {
		return nil, s.prof.builtinErr("KeyError", args[0])
	}
	if it.last.TID != tid {
		return nil, s.prof.builtinErr("Exception", text("Out-of-order request for record iterator for transaction "+pickle.Repr(args[1])))
	}
	return s.addIterator(&iterState{records: it.last.Records}), nil
}

// iterator_record_next(iid) → None at the end, else (oid, tid, data,
// data_txn).
func (s *session) iteratorRecordNext(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("iterator_record_next", args, 1, 0); err != nil {
		return nil, err
	}
	id, it, err := s.iterator(args[0])
	if err != nil {
		return nil, err
	}
	if it.isTxn {
		return nil, s.prof.builtinErr("AttributeError", text("transaction iterator used as a record iterator"))
	}
	if len(it.records) == 0 {
		s.dropIterator(id)
		return pickle.None, nil
	}
	r := it.records[0]
	it.records = it.records[1:]
	var data, dataTxn pickle.Value = pickle.None, pickle.None
	if r.Data != nil {
		data = bin(r.Data)
	}
	if r.DataTxn != zodb.ZeroTID {
		dataTxn = tidValue(r.DataTxn)
	}
	return pickle.Tuple{oidValue(r.OID), tidValue(r.TID), data, dataTxn}, nil
}

// iterator_gc(iids): forget iterators (one-way).
func (s *session) iteratorGC(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("iterator_gc", args, 1, 0); err != nil {
		return nil, err
	}
	ids, ok := pickle.AsTuple(args[0])
	if !ok {
		return nil, s.prof.builtinErr("TypeError", text("iterator_gc takes a list of iterator ids"))
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, v := range ids {
		if id, ok := pickle.AsInt(v); ok {
			delete(s.iters, id)
		}
	}
	return pickle.None, nil
}

// zeoVerify(oid, serial[, version_serial]): one-way cache verification;
// invalidateVerify((oid, ”)) if the client's serial is stale (a pair even
// for Z309+ peers, and doubly wrapped by the 3.9+ adapter).
func (s *session) zeoVerify(c *call, args pickle.Tuple) (pickle.Value, error) {
	p := s.prof
	required, optional := 2, 0
	switch {
	case s.adapter:
		required, optional = 2, 1
	case s.versionAPI:
		required = 3
	}
	if err := p.arity("zeoVerify", args, required, optional); err != nil {
		return nil, err
	}
	if s.adapter && len(args) == 3 {
		if err := noVersion(args[2]); err != nil {
			return nil, err
		}
	}
	oid, err := p.argOID(args[0])
	if err != nil {
		return nil, err
	}
	serial := args[1]
	if s.versionAPI && !s.adapter && truth(args[2]) {
		serial = args[2] // 3.8 compares the version serial when given
	}
	s.mu.Lock()
	s.verifying = true
	s.mu.Unlock()
	if s.stale(oid, serial) {
		var inv pickle.Value = pickle.Tuple{oidValue(oid), text("")}
		if s.adapter {
			inv = pickle.Tuple{inv, text("")}
		}
		return pickle.None, s.notify(s.ctx, "invalidateVerify", inv)
	}
	return pickle.None, nil
}

// verify(oid, tid) (3.9+) or verify(oid, version, tid) (version API):
// invalidateVerify(oid) — a pair for version-API peers — if stale.
func (s *session) verify(c *call, args pickle.Tuple) (pickle.Value, error) {
	required := 2
	if s.versionAPI {
		required = 3
	}
	if err := s.prof.arity("verify", args, required, 0); err != nil {
		return nil, err
	}
	if s.adapter {
		if err := noVersion(args[1]); err != nil {
			return nil, err
		}
	}
	oid, err := s.prof.argOID(args[0])
	if err != nil {
		return nil, err
	}
	if !s.stale(oid, args[len(args)-1]) {
		return pickle.None, nil
	}
	var inv pickle.Value = oidValue(oid)
	if s.versionAPI {
		var version pickle.Value = text("")
		if !s.adapter {
			if _, exists := s.srv.store.GetTID(oid); exists == nil {
				version = args[1] // 3.8 names the client's version when the oid exists
			}
		}
		inv = pickle.Tuple{oidValue(oid), version}
	}
	return pickle.None, s.notify(s.ctx, "invalidateVerify", inv)
}

// stale reports whether serial is not oid's current tid (or oid is gone).
func (s *session) stale(oid zodb.OID, serial pickle.Value) bool {
	tid, err := s.srv.store.GetTID(oid)
	if err != nil {
		return true
	}
	b, _ := pickle.AsBytes(serial)
	return !bytes.Equal(b, tid[:])
}

// endZeoVerify(): one-way; answered by endVerify().
func (s *session) endZeoVerify(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("endZeoVerify", args, 0, 0); err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.verifying = false
	s.mu.Unlock()
	return pickle.None, s.notify(s.ctx, "endVerify")
}
