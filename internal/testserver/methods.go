package testserver

import (
	"github.com/gozeo/gozeo/pickle"
)

// methodFunc implements one server method. It returns the reply value, an
// error (a *pyError or a store error: the exception the server raises; a
// *dropError to drop the client), or errDeferred when it answers later.
type methodFunc func(s *session, c *call, args pickle.Tuple) (pickle.Value, error)

// methodTable holds every method any profile has; lookup decides which
// the session's server has.
var methodTable map[string]methodFunc

func init() {
	methodTable = map[string]methodFunc{
		// Connection and metadata.
		"register":            (*session).register,
		"getAuthProtocol":     (*session).getAuthProtocol,
		"auth_get_challenge":  (*session).authGetChallenge,
		"auth_response":       (*session).authResponse,
		"get_info":            (*session).getInfo,
		"getExtensionMethods": (*session).getExtensionMethods,
		"lastTransaction":     (*session).lastTransaction,
		"getInvalidations":    (*session).getInvalidations,
		"server_status":       (*session).serverStatus,
		"set_client_label":    (*session).setClientLabel,
		"ping":                (*session).ping,
		"new_oids":            (*session).newOIDs,
		"new_oid":             (*session).newOID,
		"pack":                (*session).pack,
		"undoLog":             (*session).undoLog,
		"undoInfo":            (*session).undoInfo,

		// Reads.
		"zeoLoad":               (*session).zeoLoad,
		"load":                  (*session).load,
		"loadEx":                (*session).loadEx,
		"loadBefore":            (*session).loadBefore,
		"loadSerial":            (*session).loadSerial,
		"getSerial":             (*session).getSerial,
		"getTid":                (*session).getTid,
		"history":               (*session).history,
		"record_iternext":       (*session).recordIternext,
		"sendBlob":              (*session).sendBlob,
		"versionEmpty":          (*session).versionEmpty,
		"versions":              (*session).versions,
		"modifiedInVersion":     (*session).modifiedInVersion,
		"iterator_start":        (*session).iteratorStart,
		"iterator_next":         (*session).iteratorNext,
		"iterator_record_start": (*session).iteratorRecordStart,
		"iterator_record_next":  (*session).iteratorRecordNext,
		"iterator_gc":           (*session).iteratorGC,

		// Cache verification.
		"zeoVerify":    (*session).zeoVerify,
		"verify":       (*session).verify,
		"endZeoVerify": (*session).endZeoVerify,

		// Two-phase commit.
		"tpc_begin":                       (*session).tpcBegin,
		"storea":                          (*session).storea,
		"restorea":                        (*session).restorea,
		"deleteObject":                    (*session).deleteObject,
		"checkCurrentSerialInTransaction": (*session).checkCurrentSerial,
		"storeBlobStart":                  (*session).storeBlobStart,
		"storeBlobChunk":                  (*session).storeBlobChunk,
		"storeBlobEnd":                    (*session).storeBlobEnd,
		"storeBlobShared":                 (*session).storeBlobShared,
		"undo":                            (*session).undo,
		"transactionalUndo":               (*session).transactionalUndo,
		"undoa":                           (*session).undoa,
		"abortVersion":                    (*session).versionOp,
		"commitVersion":                   (*session).versionOp,
		"vote":                            (*session).vote,
		"tpc_finish":                      (*session).tpcFinish,
		"tpc_abort":                       (*session).tpcAbort,
	}
}

// zeo5Methods is ZEO 5's registered_methods: what a registered client may
// call (docs/protocol.md, Methods).
var zeo5Methods = setOf("get_info", "lastTransaction", "getInvalidations", "new_oids", "pack",
	"loadBefore", "storea", "checkCurrentSerialInTransaction", "restorea", "storeBlobStart",
	"storeBlobChunk", "storeBlobEnd", "storeBlobShared", "deleteObject", "tpc_begin", "vote",
	"tpc_finish", "tpc_abort", "history", "record_iternext", "sendBlob", "getTid", "loadSerial",
	"new_oid", "undoa", "undoLog", "undoInfo", "iterator_start", "iterator_next",
	"iterator_record_start", "iterator_record_next", "iterator_gc", "server_status",
	"set_client_label", "ping")

// adapterMethods are what ZODB 3.9+'s ZEOStorage308Adapter adds for peers
// older than Z309 (on top of everything the server itself has).
var adapterMethods = setOf("getSerial", "history", "getInvalidations", "verify", "loadEx",
	"storea", "storeBlobEnd", "storeBlobShared", "zeoVerify", "modifiedInVersion", "versions",
	"versionEmpty", "commitVersion", "abortVersion", "zeoLoad")

// delegatedMethods are bound to the storage by register (setup_delegation)
// on ZEO ≤ 4: before register they do not exist, and calling one drops the
// connection like any unknown method.
var delegatedMethods = setOf("lastTransaction", "load", "loadSerial", "getTid", "record_iternext")

// delegatedVersions are the further methods ZODB 3.3 – 3.8 delegate
// (getSerial exists up to 3.7 only).
var delegatedVersions = setOf("history", "versionEmpty", "versions", "modifiedInVersion", "getSerial")

// mvccMethods came with ZODB 3.3's MVCC; a 3.2 server, which announces
// the same Z201 as 3.3.0, lacks them.
var mvccMethods = setOf("loadEx", "loadBefore", "verify")

// authMethods exist only on servers configured for authentication.
var authMethods = setOf("auth_get_challenge", "auth_response")

// beforeRegister are the ZEO ≤ 4 methods that work before register; the
// others fail there (on the missing storage) with an AttributeError.
var beforeRegister = setOf("register", "getAuthProtocol", "auth_get_challenge", "auth_response",
	"getExtensionMethods", "set_client_label", "endZeoVerify")

func setOf(names ...string) map[string]bool {
	m := make(map[string]bool, len(names))
	for _, n := range names {
		m[n] = true
	}
	return m
}

// lookup returns the implementation of method name if the imitated server
// has it for this client now, a *dropError if it does not (every
// generation drops the client then, docs/protocol.md, Methods), or the
// AttributeError of a method called before register.
func (s *session) lookup(name string) (methodFunc, error) {
	fn := methodTable[name]
	if fn == nil || name[0] == '_' {
		return nil, &dropError{"invalid method name " + describe(name)}
	}
	s.mu.Lock()
	registered := s.registered
	s.mu.Unlock()
	p := s.prof
	if p.caps().RegisterFirst {
		// ZEO 5 dispatches from two fixed sets: register alone before
		// registration, registered_methods after.
		if !registered && name != "register" {
			return nil, &dropError{"method " + name + " called before register (ZEO 5 allows only register)"}
		}
		if registered && !zeo5Methods[name] {
			return nil, &dropError{"invalid method " + name + " for a registered ZEO 5 client"}
		}
		return fn, nil
	}
	has := p.Announce().HasMethod(name)
	switch {
	case authMethods[name]:
		has = s.srv.auth != nil
	case s.adapter && adapterMethods[name]:
		has = true
	case name == "undo" && !p.caps().UndoSync:
		has = true // ZEO 3.10+/4 keep undo, raising NotImplementedError
	case p.PreMVCC && mvccMethods[name]:
		has = false
	}
	if !has {
		return nil, &dropError{"invalid method name " + name + " (not on a " + p.Release + " server)"}
	}
	if !registered {
		if delegatedMethods[name] || (p.caps().VersionsAPI && delegatedVersions[name]) {
			return nil, &dropError{"invalid method name " + name + " (bound to the storage only by register)"}
		}
		if !beforeRegister[name] {
			return func(s *session, c *call, args pickle.Tuple) (pickle.Value, error) {
				return nil, s.prof.builtinErr("AttributeError", text("'NoneType' object has no attribute '"+name+"'"))
			}, nil
		}
	}
	return fn, nil
}
