package testserver

import (
	"crypto/tls"
	"log/slog"
	"time"

	"github.com/gozeo/gozeo/internal/testserver/store"
	"github.com/gozeo/gozeo/zrpc"
)

// Options configure a Server. The zero value serves a writable storage "1"
// as a ZEO 5 server speaking pickle (profile "z5-py3").
type Options struct {
	// Profile names the server generation to imitate (see [Profiles]);
	// default "z5-py3".
	Profile string
	// ReadOnly makes the whole server read-only, as ZEO's read-only
	// option: register(name, False) fails with ReadOnlyError and so does
	// every write; pack still works, as it does on a real read-only server.
	ReadOnly bool
	// Auth switches on the "digest" authentication of ZODB 3.2 – ZEO 4
	// (docs/protocol.md, Authentication). ZEO 5 profiles have none and refuse
	// it.
	Auth *Auth
	// TLS serves over TLS (ZEO 5 profiles only). The server requires and
	// verifies a client certificate, as ZEO 5 does: the config must have
	// Certificates and ClientCAs (see [TLSPair]).
	TLS *tls.Config
	// Storage is the storage name clients register with; default "1".
	Storage string
	// Store, when set, is the storage served instead of a new one. It
	// lets two servers serve the same data one after the other, e.g. a
	// "z3101-py27" server closed during an outage and a "z5-py3" one
	// started on its data (a server upgraded while clients were away),
	// or a [store.Store.Clone] taken earlier (a server restored from an
	// older backup). Close leaves the store as it is for the next server:
	// the server stops following its commits and aborts its clients'
	// transactions, releasing the commit lock. With Store set,
	// StorageName and Clock, which only shape a new store, are ignored;
	// the store's own options apply (a store made without
	// store.Options.ClassName gives conflict errors a class_name of None).
	Store *store.Store
	// StorageName is the name get_info reports; default "gozeo-test".
	StorageName string
	// Clock gives the commit time tids are made from; default time.Now.
	Clock func() time.Time
	// InvalidationQueueSize is how many recent transactions the server
	// keeps for getInvalidations, ZEO's invalidation-queue-size: a client
	// reconnecting after more commits than that gets None and must verify
	// or drop its cache. 0 means ZEO's default, 100; New refuses a
	// negative size.
	InvalidationQueueSize int
	// Addr is the TCP address StartLocal (and so Start) listens on
	// instead of a free loopback port, e.g. the address of a server just
	// closed, to start its successor where clients reconnect
	// ("127.0.0.1:41234"). A port still held by the closed server's
	// sockets is retried for about a second. Serve and ListenAndServe,
	// given their listener or address, ignore it.
	Addr string
	// Logger receives the server's diagnostics; nil discards them.
	Logger *slog.Logger
	// BlobDir is the server's blob directory, in ZODB's bushy layout, for
	// profiles whose generation has blobs (Z308+); default a temporary
	// directory removed at Close. A shared-blob-dir client
	// (zeo.Options.SharedBlobDir) points at it: see [Server.BlobDir].
	BlobDir string
	// NoBlobs serves a storage without a blob directory, as a FileStorage
	// configured without blob-dir: the blob methods raise Unsupported and
	// get_info lists no IBlobStorage.
	NoBlobs bool
	// Faults are injected from the start; [Server.SetFaults] changes them
	// later.
	Faults Faults
}

// Auth configures digest authentication. Exactly one source of users is
// used: the database file at DBPath, or Users, written to a temporary file
// in zeopasswd's format and read back as a real server would. With neither,
// the database is empty, as a real server's is when no file is given.
type Auth struct {
	// Realm is the authentication realm the server is configured with. As
	// with a real server, it must equal the database's realm line unless it
	// is empty; an empty realm means none (auth_get_challenge then answers
	// None, and register does not require authentication).
	Realm string
	// DBPath is the password database file (zeopasswd format). A missing
	// or unreadable file stops New with an error naming it.
	DBPath string
	// Users maps user names to passwords, for a database the server writes
	// itself (in Realm).
	Users map[string]string
}

// Faults are misbehaviours to inject, for testing how a client copes. The
// zero value injects nothing.
type Faults struct {
	// Announce, when set, is sent as the server's version instead of the
	// profile's; the profile's acceptance rule still decides the reply.
	Announce zrpc.Version
	// Rules are checked, in order, against every frame a connection
	// receives after the handshake; the first that matches fires.
	Rules []FaultRule
}

// FaultRule fires an action when a connection receives a matching call.
type FaultRule struct {
	// Method restricts the rule to calls of this method; "" matches any
	// call.
	Method string
	// AfterFrames restricts the rule to frames numbered AfterFrames or
	// later on the connection (the first frame after the handshake is
	// number 1); 0 matches from the first.
	AfterFrames int
	// Action is what happens instead of (or, for FaultDelay, before)
	// handling the call.
	Action FaultAction
	// Delay is how long FaultDelay holds the connection, or FaultDelayReply
	// the reply.
	Delay time.Duration
}

// FaultAction is what a FaultRule does.
type FaultAction uint8

// The fault actions.
const (
	// FaultClose closes the connection without answering the call.
	FaultClose FaultAction = iota + 1
	// FaultDelay waits Delay before handling the call; like a busy real
	// server, the connection reads nothing else meanwhile.
	FaultDelay
	// FaultDelayReply handles the call at once but sends its reply Delay
	// later, while the connection goes on serving other calls: replies
	// then arrive out of order.
	FaultDelayReply
	// FaultStall stops the connection without closing it: nothing more is
	// read or written until the server closes or restarts.
	FaultStall
	// FaultCorruptFrame answers the call with a well-framed payload that
	// no pickle or msgpack decoder reads.
	FaultCorruptFrame
	// FaultGarbage writes bytes that are not a frame (a length prefix far
	// beyond any real message, then noise) and closes the connection.
	FaultGarbage
	// FaultCutTransfer, on a sendBlob, sends receiveBlobStart and about
	// half of the blob's chunks, then closes the connection: a transfer
	// cut in the middle.
	FaultCutTransfer
)

// String names the action.
func (a FaultAction) String() string {
	switch a {
	case FaultClose:
		return "close"
	case FaultDelay:
		return "delay"
	case FaultDelayReply:
		return "delay-reply"
	case FaultStall:
		return "stall"
	case FaultCorruptFrame:
		return "corrupt-frame"
	case FaultGarbage:
		return "garbage"
	case FaultCutTransfer:
		return "cut-transfer"
	}
	return "FaultAction(?)"
}

// match reports whether r fires for the frame numbered frame carrying a
// call of method.
func (r FaultRule) match(method string, frame int) bool {
	return (r.Method == "" || r.Method == method) && frame >= r.AfterFrames
}
