package testserver

import (
	"bytes"
	"math"
	"math/big"
	"time"

	"github.com/gozeo/gozeo/internal/testserver/store"
	"github.com/gozeo/gozeo/pickle"
)

// register(storage_id, read_only): select the storage. None on ZEO ≤ 4,
// the last tid on ZEO 5.
func (s *session) register(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("register", args, 2, 0); err != nil {
		return nil, err
	}
	if err := s.registerSession(args); err != nil {
		return nil, err
	}
	if s.prof.caps().RegisterReturnsTID {
		// Read after registering and outside s.mu: LastTransaction waits
		// for a commit being announced, whose broadcast needs s.mu to see
		// whether this session is registered.
		return tidValue(s.srv.store.LastTransaction()), nil
	}
	return pickle.None, nil
}

// registerSession checks register's arguments and marks the session
// registered with the storage.
func (s *session) registerSession(args pickle.Tuple) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.srv.auth; a != nil && a.realm != "" && !s.authed {
		e := &pyError{Module: "ZEO.Exceptions", Name: "AuthError", POSError: true,
			Args: pickle.Tuple{text("Client was never authenticated with server!")}}
		return e
	}
	if s.registered {
		return s.prof.builtinErr("ValueError", text("duplicate register() call"))
	}
	name, err := s.prof.argText(args[0])
	if err != nil || name != s.srv.opts.Storage {
		return s.prof.builtinErr("ValueError", text("unknown storage: "+pythonStr(args[0])))
	}
	ro := truth(args[1])
	if !ro && s.readOnly {
		return posErr("ReadOnlyError")
	}
	s.readOnly = s.readOnly || ro
	s.st = s.srv.store.NewSession(store.SessionOptions{ReadOnly: s.readOnly})
	s.registered = true
	s.log.Debug("testserver: registered", "storage", name, "read_only", s.readOnly)
	return nil
}

// pythonStr shows a value as Python's %s would, roughly.
func pythonStr(v pickle.Value) string {
	if t, ok := pickle.AsText(v); ok {
		return t
	}
	return pickle.Repr(v)
}

// getAuthProtocol() → None, or 'digest' when authentication is on.
func (s *session) getAuthProtocol(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("getAuthProtocol", args, 0, 0); err != nil {
		return nil, err
	}
	if s.srv.auth == nil {
		return pickle.None, nil
	}
	return text("digest"), nil
}

// get_info() → the storage description, with each generation's keys
// (docs/protocol.md, Methods).
func (s *session) getInfo(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("get_info", args, 0, 0); err != nil {
		return nil, err
	}
	p := s.prof
	info := s.srv.store.Info()
	d := pickle.NewDict(8)
	set := func(k string, v pickle.Value) { d.Set(k, v) } //nolint:errcheck // string keys
	set("length", int64(info.Length))
	set("size", p.size(info.Size))
	set("name", text(info.Name))
	switch {
	case p.caps().UndoAsync:
		// 3.10+: undo is offered only to peers that can use undoa (ZEO
		// 5 compares the peer's digits with "310", which its peers
		// always pass).
		set("supportsUndo", info.SupportsUndo && s.peer.Capabilities().UndoAsync)
	default:
		// FileStorage's supportsUndo() returns 1.
		set("supportsUndo", boolInt(info.SupportsUndo))
	}
	if p.SupportsVersions != nil {
		set("supportsVersions", p.SupportsVersions)
	}
	if p.PreMVCC {
		set("supportsTransactionalUndo", boolInt(info.SupportsUndo))
	}
	if p.caps().ExtensionMethods {
		set("extensionMethods", s.extensionMethods())
	}
	if p.Announce().HasMethod("record_iternext") {
		// ZODB 3.8 added record_iternext and the key; 3.3 – 3.7 have neither.
		set("supports_record_iternext", true)
	}
	if p.caps().Iterators {
		set("interfaces", storageInterfaces(s.srv.blobs != nil))
	}
	return d, nil
}

// size is the storage size as the profile's Python has it: a long on
// Python 2 (FileStorage's getSize returns one), an int on Python 3.
func (p Profile) size(n int64) pickle.Value {
	if p.Python == 2 {
		return big.NewInt(n)
	}
	return n
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// storageInterfaces is get_info()['interfaces']: the (module, name) pairs
// of the interfaces a FileStorage provides, most specific first, as the
// captured servers list them. (IStorageRestoreable is listed like
// FileStorage's although restorea is refused here: clients only look at
// the list to decide on iteration and undo.)
func storageInterfaces(blobs bool) pickle.Tuple {
	var pairs [][2]string
	if blobs {
		pairs = append(pairs, [2]string{"ZODB.interfaces", "IBlobStorageRestoreable"}, [2]string{"ZODB.interfaces", "IBlobStorage"})
	}
	pairs = append(pairs, [][2]string{
		{"ZODB.interfaces", "IStorageRestoreable"},
		{"ZODB.interfaces", "IStorageIteration"},
		{"ZODB.interfaces", "IStorageUndoable"},
		{"ZODB.interfaces", "IStorageCurrentRecordIteration"},
		{"ZODB.interfaces", "IExternalGC"},
		{"ZODB.interfaces", "IStorage"},
		{"zope.interface", "Interface"},
	}...)
	t := make(pickle.Tuple, len(pairs))
	for i, p := range pairs {
		t[i] = pickle.Tuple{text(p[0]), text(p[1])}
	}
	return t
}

// extensionMethods is the dict of extension method names (values None):
// the auth methods when authentication is on.
func (s *session) extensionMethods() *pickle.Dict {
	d := pickle.NewDict(2)
	if s.srv.auth != nil {
		d.Set("auth_get_challenge", pickle.None) //nolint:errcheck
		d.Set("auth_response", pickle.None)      //nolint:errcheck
	}
	return d
}

// getExtensionMethods() → {name: None}.
func (s *session) getExtensionMethods(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("getExtensionMethods", args, 0, 0); err != nil {
		return nil, err
	}
	return s.extensionMethods(), nil
}

// lastTransaction() → the last committed tid (z64 for an empty storage).
func (s *session) lastTransaction(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("lastTransaction", args, 0, 0); err != nil {
		return nil, err
	}
	return tidValue(s.srv.store.LastTransaction()), nil
}

// getInvalidations(tid) → None, or (latest_tid, oids) from the server's
// invalidation queue, the oids in this peer's form (invalidationList).
func (s *session) getInvalidations(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("getInvalidations", args, 1, 0); err != nil {
		return nil, err
	}
	tid, err := s.prof.argTID(args[0])
	if err != nil {
		return nil, err
	}
	latest, objs, ok := s.srv.invq.since(tid, s.versionAPI && !s.adapter)
	if !ok {
		return pickle.None, nil
	}
	return pickle.Tuple{tidValue(latest), s.invalidationList(objs)}, nil
}

// server_status() → the counters of ZEO's StorageStats.
func (s *session) serverStatus(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("server_status", args, 0, 0); err != nil {
		return nil, err
	}
	return s.srv.statusDict(), nil
}

// set_client_label(label): one-way, only changes the server's logs.
func (s *session) setClientLabel(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("set_client_label", args, 1, 0); err != nil {
		return nil, err
	}
	// Real servers put the label in their log lines; one line says it
	// here (the logger is shared with other goroutines, so it stays).
	s.log.Info("testserver: client label", "label", pythonStr(args[0]))
	return pickle.None, nil
}

// ping() → None (ZEO 5).
func (s *session) ping(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("ping", args, 0, 0); err != nil {
		return nil, err
	}
	return pickle.None, nil
}

// new_oids(n=100) → n fresh oids (capped at 100; at least 1).
func (s *session) newOIDs(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("new_oids", args, 0, 1); err != nil {
		return nil, err
	}
	n := int64(100)
	if len(args) == 1 {
		var err error
		if n, err = s.prof.argInt(args[0]); err != nil {
			return nil, err
		}
	}
	n = max(min(n, 100), 1)
	s.mu.Lock()
	ro, st := s.readOnly, s.st
	s.mu.Unlock()
	if ro {
		return nil, posErr("ReadOnlyError")
	}
	oids, err := st.NewOIDs(int(n))
	if err != nil {
		return nil, err
	}
	l := make(pickle.List, len(oids))
	for i, o := range oids {
		l[i] = oidValue(o)
	}
	return &l, nil
}

// new_oid is listed in ZEO 5's registered methods but exists nowhere.
func (s *session) newOID(c *call, args pickle.Tuple) (pickle.Value, error) {
	return nil, s.prof.builtinErr("AttributeError", text("'ZEOStorage' object has no attribute 'new_oid'"))
}

// pack(time, wait=1): pack (in the background, as real servers run it in a
// thread), answer when done if wait, then send info() to every client.
// Read-only servers pack too.
func (s *session) pack(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("pack", args, 1, 1); err != nil {
		return nil, err
	}
	secs, err := s.prof.argFloat(args[0])
	if err != nil {
		return nil, err
	}
	if math.IsNaN(secs) || math.IsInf(secs, 0) {
		return nil, s.prof.builtinErr("ValueError", text("invalid pack time"))
	}
	wait := len(args) < 2 || truth(args[1])
	when := time.Unix(0, 0).Add(time.Duration(secs * float64(time.Second)))
	run := func() (pickle.Value, error) {
		if err := s.srv.store.Pack(s.ctx, when); err != nil {
			return nil, err
		}
		s.srv.broadcastInfo()
		return pickle.None, nil
	}
	if !wait {
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			if _, err := run(); err != nil {
				s.log.Warn("testserver: background pack failed", "err", err)
			}
		}()
		return pickle.None, nil
	}
	return nil, s.later(c, run)
}

// undoLog(first, last) → the undoable transactions, newest first.
func (s *session) undoLog(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("undoLog", args, 2, 0); err != nil {
		return nil, err
	}
	return s.undoEntries(args[0], args[1], nil)
}

// undoInfo(first, last, spec) → undoLog filtered by spec, a dict whose
// items must all match the entry's.
func (s *session) undoInfo(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("undoInfo", args, 2, 1); err != nil {
		return nil, err
	}
	var spec *pickle.Dict
	if len(args) == 3 {
		spec, _ = pickle.AsDict(args[2])
	}
	return s.undoEntries(args[0], args[1], spec)
}

func (s *session) undoEntries(firstV, lastV pickle.Value, spec *pickle.Dict) (pickle.Value, error) {
	first, err := s.prof.argInt(firstV)
	if err != nil {
		return nil, err
	}
	last, err := s.prof.argInt(lastV)
	if err != nil {
		return nil, err
	}
	// 3.10+/4.x bind undoLog to a stub returning () when get_info says
	// no undo, which it does for peers older than Z310.
	if s.prof.caps().UndoAsync && !s.peer.Capabilities().UndoAsync {
		return pickle.Tuple{}, nil
	}
	var filter func(store.UndoEntry) bool
	if spec.Len() > 0 {
		filter = func(e store.UndoEntry) bool { return s.matchSpec(e, spec) }
	}
	entries := s.srv.store.UndoInfo(int(first), int(last), filter)
	l := make(pickle.List, len(entries))
	for i, e := range entries {
		d := pickle.NewDict(6)
		d.Set("id", bin(e.ID))                           //nolint:errcheck
		d.Set("time", e.TID.UnixSeconds())               //nolint:errcheck
		d.Set("user_name", bin([]byte(e.User)))          //nolint:errcheck
		d.Set("description", bin([]byte(e.Description))) //nolint:errcheck
		d.Set("size", e.Size)                            //nolint:errcheck
		addExtension(d, e.Extension)
		l[i] = d
	}
	return &l, nil
}

// matchSpec applies an undoInfo specification: every item must equal the
// entry's field (ZopeUndo prefixes and unknown keys are not checked).
func (s *session) matchSpec(e store.UndoEntry, spec *pickle.Dict) bool {
	for _, it := range spec.Items() {
		k, _ := pickle.AsText(it.Key)
		var field []byte
		switch k {
		case "user_name":
			field = []byte(e.User)
		case "description":
			field = []byte(e.Description)
		case "id":
			field = e.ID
		default:
			continue
		}
		want, ok := pickle.AsBytes(it.Value)
		if !ok {
			t, isText := it.Value.(string)
			if !isText {
				continue
			}
			want = []byte(t)
		}
		if !bytes.Equal(field, want) {
			return false
		}
	}
	return true
}

// addExtension merges a transaction's extension dict into a history or
// undo entry, as FileStorage does.
func addExtension(d *pickle.Dict, ext any) {
	x, ok := ext.(*pickle.Dict)
	if !ok {
		return
	}
	for _, it := range x.Items() {
		if _, exists := d.Get(it.Key); !exists {
			d.Set(it.Key, it.Value) //nolint:errcheck // keys came from a dict
		}
	}
}
