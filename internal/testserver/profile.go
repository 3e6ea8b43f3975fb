package testserver

import (
	"fmt"
	"slices"
	"strings"

	"github.com/gozeo/gozeo/internal/zrpcserver"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zrpc"
)

// Profile describes one server generation the test server imitates: what
// it announces and accepts, how it encodes, which methods it has and how
// its replies, errors and invalidations look (docs/protocol.md). Most
// protocol behaviour follows from the announced version through
// [zrpc.Version.Capabilities]; the fields below are what the version does
// not tell: the Python the server ran on and a few release quirks.
//
// A profile is a table row: adding an older generation such as ZEO 2
// (Z200) means adding a row with its generation, dialect and quirks.
type Profile struct {
	// Name is what Options.Profile selects, e.g. "z309-py26".
	Name string
	// Release says what real server the profile imitates.
	Release string
	// Generation gives the announced version and the acceptance rule.
	Generation zrpcserver.Generation
	// Python is the major version of the Python the server ran on: 2 or 3.
	// It decides the pickle dialect (py2 str vs py3 bytes/text), what the
	// server can decode, and the module of builtin exceptions.
	Python int
	// PickleProtocol is the protocol of the pickles the server emits: 0
	// for ZEO 2 and ZODB 3.2, 1 for later Python 2 servers, 3 for Python 3
	// ones (docs/protocol.md, What servers write).
	PickleProtocol int
	// OldStyleExceptions: exceptions are classic instances (Python 2.4),
	// pickled MARK GLOBAL OBJ + dict BUILD; otherwise they are new-style
	// (REDUCE, and ZODB's _recon for POSError subclasses); docs/protocol.md,
	// Errors.
	OldStyleExceptions bool
	// ExceptionMessage: ZODB 3.8's POSError.__reduce__ puts the
	// BaseException 'message' attribute into the _recon state.
	ExceptionMessage bool
	// ConflictData: ZODB 3.8's ConflictError keeps the stored record as its
	// 'data' attribute, which then travels with the exception.
	ConflictData bool
	// VersionAdapter: a ZODB 3.9+ server serves peers older than Z309
	// through an adapter that speaks the version API and sends (oid, '')
	// pairs. A 3.8 server speaks the version API to everyone.
	VersionAdapter bool
	// CountOneWay: ZODB ≤ 3.9 numbers the one-way calls it makes with a
	// per-connection counter; later servers send msgid 0.
	CountOneWay bool
	// InvalidateDeleted: ZODB 3.9 invalidates the objects a transaction
	// deleted (deleteObject); 3.10.1 stopped doing so.
	InvalidateDeleted bool
	// InvalidateNewObjects: ZEO 5.2.2+ invalidates objects created with
	// serial z64 too; older servers leave them out (docs/protocol.md,
	// Invalidations).
	InvalidateNewObjects bool
	// InfoAlways: ZEO 5 sends info() before every tpc_finish reply; older
	// servers only when the transaction invalidated something.
	InfoAlways bool
	// PreMVCC: a ZODB 3.2 server, which announces Z201 like 3.3.0 but
	// predates MVCC: it has no loadEx, loadBefore or verify, and its
	// get_info still reports supportsTransactionalUndo (docs/protocol.md,
	// Handshake, Methods). Clients tell the two apart by that key.
	PreMVCC bool
	// FindGlobal lists the globals, besides ZopeUndo.Prefix, that the
	// server's unpickler lets a client name in a message: "module" for a
	// whole module, "module.name" for one global (docs/protocol.md,
	// Encodings). ZODB 3.8.2+ admits only objects marked
	// __no_side_effects__ (_recon); ZEO 5.4+ a few builtin modules; the
	// others none.
	FindGlobal []string
	// SupportsVersions is the value of get_info()['supportsVersions'] on
	// servers that report it (ZODB 3.3 – 3.8, whose FileStorage says 1);
	// nil when the key is absent.
	SupportsVersions any
}

// Announce returns the version the profile's server sends first.
func (p Profile) Announce() zrpc.Version { return zrpcserver.Announce(p.Generation) }

// caps are the capabilities of the profile's own protocol version: what
// the server has, whatever the peer negotiated.
func (p Profile) caps() zrpc.Capabilities { return p.Announce().Capabilities() }

// RecordFormat is the format the ZODB of the profile's Python writes
// records in: Py2 (protocol 1, py2 str) on Python 2, Py3 on Python 3.
func (p Profile) RecordFormat() record.Format {
	if p.Python == 2 {
		return record.Py2
	}
	return record.Py3
}

// builtins is the module of Python's builtin exceptions on the profile's
// Python.
func (p Profile) builtins() string {
	if p.Python == 2 {
		return "exceptions"
	}
	return "builtins"
}

// The profile table. Names are what tests and the example select; keep
// them stable.
var profiles = []Profile{
	{
		// Protocol-0 pickles, classic exceptions, transactionalUndo
		// inside a transaction. Not imitated: the non-transactional
		// undo(trans_id) of ZEO 2 (the version's clients use
		// transactionalUndo).
		Name: "z201-py24", Release: "ZODB 3.2 (ZEO 2.2) on Python 2.4",
		Generation: zrpcserver.GenZ201, Python: 2, PickleProtocol: 0,
		OldStyleExceptions: true, PreMVCC: true,
		CountOneWay: true, SupportsVersions: int64(1),
	},
	{
		// Versions everywhere, no blobs, getSerial instead of getTid, no
		// record_iternext; exceptions are classic instances.
		Name: "z303-py24", Release: "ZODB 3.3.1 – 3.7 (ZEO 3.3 – 3.7) on Python 2.4",
		Generation: zrpcserver.GenZ303, Python: 2, PickleProtocol: 1,
		OldStyleExceptions: true,
		CountOneWay:        true, SupportsVersions: int64(1),
	},
	{
		Name: "z308-py24", Release: "ZODB 3.8 (ZEO 3.8) on Python 2.4",
		Generation: zrpcserver.GenZ308, Python: 2, PickleProtocol: 1,
		OldStyleExceptions: true, ConflictData: true,
		CountOneWay: true, SupportsVersions: int64(1), FindGlobal: z308Globals,
	},
	{
		// The captures' 3.8 server ran on Python 2.7, which pickles
		// exceptions new-style through ZODB 3.8's _recon.
		Name: "z308-py27", Release: "ZODB 3.8 (ZEO 3.8) on Python 2.7",
		Generation: zrpcserver.GenZ308, Python: 2, PickleProtocol: 1,
		ExceptionMessage: true, ConflictData: true,
		CountOneWay: true, SupportsVersions: int64(1), FindGlobal: z308Globals,
	},
	{
		Name: "z309-py26", Release: "ZODB 3.9 (ZEO 3.9) on Python 2.6",
		Generation: zrpcserver.GenZ309, Python: 2, PickleProtocol: 1,
		VersionAdapter: true, CountOneWay: true, InvalidateDeleted: true,
	},
	{
		Name: "z3101-py27", Release: "ZODB 3.10.7 / ZEO 4.0 – 4.1 on Python 2.7",
		Generation: zrpcserver.GenZ3101, Python: 2, PickleProtocol: 1,
		VersionAdapter: true,
	},
	{
		Name: "z4-py27", Release: "ZEO 4.2 – 4.3 on Python 2.7",
		Generation: zrpcserver.GenZ4, Python: 2, PickleProtocol: 1,
		VersionAdapter: true,
	},
	{
		Name: "z4-py3", Release: "ZEO 4.2 – 4.3 on Python 3",
		Generation: zrpcserver.GenZ4, Python: 3, PickleProtocol: 3,
		VersionAdapter: true,
	},
	{
		Name: "z5-py3", Release: "ZEO 5.2.2+ / 6 on Python 3, pickle",
		Generation: zrpcserver.GenZ51, Python: 3, PickleProtocol: 3,
		InvalidateNewObjects: true, InfoAlways: true, FindGlobal: zeo5Globals,
	},
	{
		Name: "m5-py3", Release: "ZEO 5.2.2+ / 6 on Python 3, msgpack",
		Generation: zrpcserver.GenM51, Python: 3, PickleProtocol: 3,
		InvalidateNewObjects: true, InfoAlways: true, FindGlobal: zeo5Globals,
	},
}

// The unpicklers' allowed globals (Profile.FindGlobal).
var (
	z308Globals = []string{"ZODB.POSException._recon"}
	zeo5Globals = []string{"zodbpickle", "builtins", "copy_reg", "__builtin__"}
)

// DefaultProfile is the profile used when Options.Profile is empty.
const DefaultProfile = "z5-py3"

// Profiles returns every profile, oldest server first.
func Profiles() []Profile { return slices.Clone(profiles) }

// ProfileNames returns the names Options.Profile accepts.
func ProfileNames() []string {
	names := make([]string, len(profiles))
	for i, p := range profiles {
		names[i] = p.Name
	}
	return names
}

// LookupProfile returns the profile called name.
func LookupProfile(name string) (Profile, bool) {
	for _, p := range profiles {
		if p.Name == name {
			return p, true
		}
	}
	return Profile{}, false
}

// lookupProfile is LookupProfile with an error that lists the choices.
func lookupProfile(name string) (Profile, error) {
	if name == "" {
		name = DefaultProfile
	}
	p, ok := LookupProfile(name)
	if !ok {
		return Profile{}, fmt.Errorf("testserver: unknown profile %q; choose one of %s", name, strings.Join(ProfileNames(), ", "))
	}
	return p, nil
}
