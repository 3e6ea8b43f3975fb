package zrpc

import (
	"slices"
	"time"
)

// Capabilities says what a connection that negotiated a given version can
// do: the per-version table of docs/protocol.md (Versions and
// capabilities, Methods). Every difference between generations that the
// client or the test server acts on is a named field here, so that adding
// a generation is adding rows. Servers adapt to the client's version, so the version to ask is
// Negotiation.Chosen.
//
// Z201 is ambiguous: ZODB 3.2 and 3.3.0 both announce it, and only 3.3.0
// has loadEx/loadBefore. Its capabilities are those of 3.2; a client that
// finds no "supportsTransactionalUndo" key in get_info() is talking to
// 3.3.0 and may set LoadEx and LoadBefore itself.
type Capabilities struct {
	// LastTransaction: lastTransaction() and getInvalidations(tid) exist.
	LastTransaction bool
	// InvalidateTransaction: invalidations arrive as
	// invalidateTransaction(tid, oids); Z200 sends Invalidate(pairs) with
	// no tid.
	InvalidateTransaction bool
	// InvalidationVersions: oids in invalidations (and verification) come
	// as (oid, version) pairs instead of bare oids.
	InvalidationVersions bool
	// TPCFinishReturnsTID: tpc_finish returns the committed tid (Z200
	// returns None).
	TPCFinishReturnsTID bool
	// LoadEx: loadEx (with a version argument while VersionsAPI holds).
	LoadEx bool
	// LoadBefore: loadBefore(oid, tid), the MVCC read.
	LoadBefore bool
	// VersionsAPI: methods take and return ZODB "version" arguments
	// (zeoLoad, storea(oid, serial, data, version, txn), history(oid,
	// version, …), abortVersion, …).
	VersionsAPI bool
	// Blobs: storeBlob*, sendBlob and the receiveBlob* callbacks.
	Blobs bool
	// RestoreA: restorea(oid, serial, data, prev_txn, txn).
	RestoreA bool
	// DeleteObject: deleteObject(oid, serial, txn).
	DeleteObject bool
	// Iterators: iterator_start, iterator_next, iterator_record_*,
	// iterator_gc.
	Iterators bool
	// CheckCurrentSerial: checkCurrentSerialInTransaction(oid, serial,
	// txn).
	CheckCurrentSerial bool
	// UndoSync: undo(trans_id, txn) returns (tid, oids) at once (Z200/Z201:
	// undo(trans_id), non-transactional).
	UndoSync bool
	// TransactionalUndo: transactionalUndo(trans_id, txn) → oids.
	TransactionalUndo bool
	// UndoAsync: one-way undoa(trans_id, txn), undone oids at vote.
	UndoAsync bool
	// Serialnos: store results and conflicts come in a serialnos() call
	// before the vote reply.
	Serialnos bool
	// StoreResultsInVote: vote returns the store results (ZEO 5).
	StoreResultsInVote bool
	// ErrorFlag2: error replies have flags 2 and (class name, state);
	// otherwise they are flags-0 (class, instance) pairs.
	ErrorFlag2 bool
	// RegisterReturnsTID: register returns the last tid (ZEO 5); None
	// before.
	RegisterReturnsTID bool
	// RegisterFirst: nothing but register may be called before register
	// (ZEO 5 closes the connection otherwise).
	RegisterFirst bool
	// Auth: the server may require digest authentication and MAC'd frames.
	Auth bool
	// GetAuthProtocol: getAuthProtocol() exists.
	GetAuthProtocol bool
	// ExtensionMethods: getExtensionMethods() exists.
	ExtensionMethods bool
	// CacheVerification: zeoVerify/verify/endZeoVerify exist.
	CacheVerification bool
	// ServerStatus: server_status() and set_client_label(label) exist.
	ServerStatus bool
	// Heartbeats: the server expects client heartbeats, replies to msgid
	// -1 (they are harmless to every pickle server regardless).
	Heartbeats bool
	// Ruok: the server answers the "ruok" status probe (also ZEO 4.1,
	// which shares Z3101 with releases that do not).
	Ruok bool
	// OneWayErrorsDisconnect: an error in a one-way call makes the server
	// close the connection (ZEO 5); older servers only log it.
	OneWayErrorsDisconnect bool
	// Ping: ping() exists.
	Ping bool
	// TLS: the server may be behind implicit TLS.
	TLS bool
	// Msgpack: messages are msgpack-encoded (letter M); pickle otherwise.
	Msgpack bool

	// LoadCurrentBefore: the current revision of an object is read with
	// loadBefore(oid, maxtid), there being neither load nor loadEx (ZEO
	// 5).
	LoadCurrentBefore bool
	// AmbiguousMVCC: releases with and without MVCC announce this version
	// (ZODB 3.2 and 3.3.0 both send Z201); get_info's
	// "supportsTransactionalUndo" key, present only on 3.2, tells them
	// apart.
	AmbiguousMVCC bool
	// TPCBeginOneWay: tpc_begin is a one-way call whose errors surface at
	// vote (ZODB 3.10+).
	TPCBeginOneWay bool
	// TPCAbortSync: tpc_abort expects a reply (ZODB 3.10+); before, it is
	// one-way.
	TPCAbortSync bool
	// VoteOnce: the server keeps the commit lock after a vote, failed or
	// not, so a second vote raises StorageTransactionError (ZODB 3.10+).
	VoteOnce bool
	// VoteFailureAborts: a vote that fails aborts the transaction on the
	// server (ZODB 3.10+); before, the client's tpc_abort does.
	VoteFailureAborts bool
	// EmptyInvalidations: the server sends invalidateTransaction even for
	// a commit that invalidated nothing (ZEO 5).
	EmptyInvalidations bool
	// AssertsHeartbeat: a reply the client sends must be the heartbeat
	// (-1, 0, '.reply', None), or the server drops the client (ZODB 3.10,
	// ZEO 4). Older servers file any reply in an unused table.
	AssertsHeartbeat bool
	// IgnoresMinusOne: the server ignores every message with msgid -1,
	// whatever its method, and drops a client sending any other reply
	// (ZEO 5).
	IgnoresMinusOne bool
	// HeartbeatIdle is how long the reference client of this version lets
	// a connection idle before sending a heartbeat: 30 s up to ZEO 4
	// (harmless to servers before 3.10, which need none), 60 s for ZEO 5.
	HeartbeatIdle time.Duration
}

// versionSpan is an inclusive range of protocol generations, compared by
// rank (every ZEO 5 letter counts as Z5).
type versionSpan struct{ first, last Version }

func (s versionSpan) has(v Version) bool {
	r := v.rank()
	return r >= 0 && s.first.rank() <= r && r <= s.last.rank()
}

// capabilityRows is the table of docs/protocol.md, Versions and capabilities,
// turned sideways: for each capability, the span of versions that have it.
var capabilityRows = [...]struct {
	span versionSpan
	set  func(*Capabilities)
}{
	{versionSpan{Z201, Z5}, func(c *Capabilities) { c.LastTransaction = true }},
	{versionSpan{Z201, Z5}, func(c *Capabilities) { c.InvalidateTransaction = true }},
	{versionSpan{Z200, Z308}, func(c *Capabilities) { c.InvalidationVersions = true }},
	{versionSpan{Z201, Z5}, func(c *Capabilities) { c.TPCFinishReturnsTID = true }},
	{versionSpan{Z303, Z4}, func(c *Capabilities) { c.LoadEx = true }},
	{versionSpan{Z303, Z5}, func(c *Capabilities) { c.LoadBefore = true }},
	{versionSpan{Z200, Z308}, func(c *Capabilities) { c.VersionsAPI = true }},
	{versionSpan{Z308, Z5}, func(c *Capabilities) { c.Blobs = true }},
	{versionSpan{Z309, Z5}, func(c *Capabilities) { c.RestoreA = true }},
	{versionSpan{Z309, Z5}, func(c *Capabilities) { c.DeleteObject = true }},
	{versionSpan{Z309, Z5}, func(c *Capabilities) { c.Iterators = true }},
	{versionSpan{Z3101, Z5}, func(c *Capabilities) { c.CheckCurrentSerial = true }},
	{versionSpan{Z200, Z309}, func(c *Capabilities) { c.UndoSync = true }},
	{versionSpan{Z200, Z201}, func(c *Capabilities) { c.TransactionalUndo = true }},
	{versionSpan{Z310, Z5}, func(c *Capabilities) { c.UndoAsync = true }},
	{versionSpan{Z200, Z4}, func(c *Capabilities) { c.Serialnos = true }},
	{versionSpan{Z5, Z5}, func(c *Capabilities) { c.StoreResultsInVote = true }},
	{versionSpan{Z5, Z5}, func(c *Capabilities) { c.ErrorFlag2 = true }},
	{versionSpan{Z5, Z5}, func(c *Capabilities) { c.RegisterReturnsTID = true }},
	{versionSpan{Z5, Z5}, func(c *Capabilities) { c.RegisterFirst = true }},
	{versionSpan{Z201, Z4}, func(c *Capabilities) { c.Auth = true }},
	{versionSpan{Z201, Z4}, func(c *Capabilities) { c.GetAuthProtocol = true }},
	{versionSpan{Z200, Z4}, func(c *Capabilities) { c.ExtensionMethods = true }},
	{versionSpan{Z200, Z4}, func(c *Capabilities) { c.CacheVerification = true }},
	{versionSpan{Z310, Z5}, func(c *Capabilities) { c.ServerStatus = true }},
	{versionSpan{Z3101, Z5}, func(c *Capabilities) { c.Heartbeats = true }},
	{versionSpan{Z4, Z5}, func(c *Capabilities) { c.Ruok = true }},
	{versionSpan{Z5, Z5}, func(c *Capabilities) { c.OneWayErrorsDisconnect = true }},
	{versionSpan{Z5, Z5}, func(c *Capabilities) { c.Ping = true }},
	{versionSpan{Z5, Z5}, func(c *Capabilities) { c.TLS = true }},
	{versionSpan{Z5, Z5}, func(c *Capabilities) { c.LoadCurrentBefore = true }},
	{versionSpan{Z201, Z201}, func(c *Capabilities) { c.AmbiguousMVCC = true }},
	{versionSpan{Z310, Z5}, func(c *Capabilities) { c.TPCBeginOneWay = true }},
	{versionSpan{Z310, Z5}, func(c *Capabilities) { c.TPCAbortSync = true }},
	{versionSpan{Z310, Z5}, func(c *Capabilities) { c.VoteOnce = true }},
	{versionSpan{Z310, Z5}, func(c *Capabilities) { c.VoteFailureAborts = true }},
	{versionSpan{Z5, Z5}, func(c *Capabilities) { c.EmptyInvalidations = true }},
	{versionSpan{Z310, Z4}, func(c *Capabilities) { c.AssertsHeartbeat = true }},
	{versionSpan{Z5, Z5}, func(c *Capabilities) { c.IgnoresMinusOne = true }},
	{versionSpan{Z200, Z4}, func(c *Capabilities) { c.HeartbeatIdle = 30 * time.Second }},
	{versionSpan{Z5, Z5}, func(c *Capabilities) { c.HeartbeatIdle = 60 * time.Second }},
}

// Capabilities returns what a connection speaking v can do; the zero
// value for a version this package does not know.
func (v Version) Capabilities() Capabilities {
	var c Capabilities
	for _, row := range capabilityRows {
		if row.span.has(v) {
			row.set(&c)
		}
	}
	c.Msgpack = v.IsZEO5() && v[0] == 'M' // the letter, not the generation, picks the encoding
	return c
}

// methodSpans is the server method catalogue of docs/protocol.md, Methods, by
// version: the span of negotiated versions under which a client may call each
// method. A method is listed for a version when a server speaking that version
// to the client has it (3.9+ servers keep the ≤3.8 methods for Z308 peers,
// which is why the version API methods end at Z308). Two deliberate choices:
// Z201 includes ZODB 3.3.0's loadEx, loadBefore and verify (a 3.2 server lacks
// them; see Capabilities), and the auth methods are listed for Z201 – Z4
// although they exist only on servers configured for authentication. new_oid is
// never listed: no server implements it.
var methodSpans = map[string]versionSpan{
	// Connection and metadata.
	"register":            {Z200, Z5},
	"getAuthProtocol":     {Z201, Z4},
	"auth_get_challenge":  {Z201, Z4},
	"auth_response":       {Z201, Z4},
	"get_info":            {Z200, Z5},
	"getExtensionMethods": {Z200, Z4},
	"lastTransaction":     {Z201, Z5},
	"getInvalidations":    {Z201, Z5},
	"server_status":       {Z310, Z5},
	"set_client_label":    {Z310, Z5},
	"ping":                {Z5, Z5},

	// Reads.
	"zeoLoad":               {Z200, Z308},
	"load":                  {Z200, Z4},
	"loadEx":                {Z201, Z4},
	"loadBefore":            {Z201, Z5},
	"loadSerial":            {Z200, Z5},
	"getSerial":             {Z201, Z303},
	"getTid":                {Z308, Z5},
	"history":               {Z200, Z5},
	"record_iternext":       {Z308, Z5},
	"sendBlob":              {Z308, Z5},
	"new_oids":              {Z200, Z5},
	"versionEmpty":          {Z200, Z308},
	"versions":              {Z200, Z308},
	"modifiedInVersion":     {Z200, Z308},
	"undoLog":               {Z200, Z5},
	"undoInfo":              {Z200, Z5},
	"iterator_start":        {Z309, Z5},
	"iterator_next":         {Z309, Z5},
	"iterator_record_start": {Z309, Z5},
	"iterator_record_next":  {Z309, Z5},
	"iterator_gc":           {Z309, Z5},
	"pack":                  {Z200, Z5},

	// Writes (docs/protocol.md, Commit, Undo, Blobs).
	"tpc_begin":                       {Z200, Z5},
	"storea":                          {Z200, Z5},
	"restorea":                        {Z309, Z5},
	"deleteObject":                    {Z309, Z5},
	"checkCurrentSerialInTransaction": {Z3101, Z5},
	"storeBlobStart":                  {Z308, Z5},
	"storeBlobChunk":                  {Z308, Z5},
	"storeBlobEnd":                    {Z308, Z5},
	"storeBlobShared":                 {Z308, Z5},
	"undo":                            {Z200, Z309},
	"transactionalUndo":               {Z200, Z201},
	"undoa":                           {Z310, Z5},
	"abortVersion":                    {Z200, Z308},
	"commitVersion":                   {Z200, Z308},
	"vote":                            {Z200, Z5},
	"tpc_finish":                      {Z200, Z5},
	"tpc_abort":                       {Z200, Z5},

	// Cache verification (≤ 4.x).
	"beginZeoVerify": {Z200, Z200},
	"zeoVerify":      {Z200, Z4},
	"verify":         {Z201, Z4},
	"endZeoVerify":   {Z200, Z4},
}

// HasMethod reports whether a server speaking v to its client has the
// RPC method name (docs/protocol.md, Methods). Calling anything else makes
// every server generation close the connection, so a client refuses such
// a call before sending it and a test server drops a peer that makes one.
// ZEO 5 additionally accepts nothing but register before registration;
// that is Capabilities.RegisterFirst, not modelled here.
func (v Version) HasMethod(name string) bool {
	span, ok := methodSpans[name]
	return ok && span.has(v)
}

// Methods returns the names of the server methods available under v,
// sorted.
func (v Version) Methods() []string {
	var names []string
	for name, span := range methodSpans {
		if span.has(v) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	return names
}
