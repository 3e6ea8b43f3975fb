package zeo

import (
	"context"
	"crypto/tls"
	"log/slog"
	"net"
	"time"
)

// Options configures a [Client]. The zero value connects read-write to
// storage "1" with every protocol version allowed, the pickle dialect
// detected from the server, no authentication, no TLS and no logging: what
// ZEO's ClientStorage does by default.
type Options struct {
	// Storage is the name of the storage to use on the server; "" means
	// "1", ZEO's default.
	Storage string

	// ReadOnly registers the connection read-only: the server refuses
	// every write and the client refuses them before sending.
	ReadOnly bool

	// ReadOnlyFallback, when ReadOnly is false, retries a registration
	// the server refuses with ReadOnlyError (a read-only server or
	// storage) as a read-only one instead of failing. Session().ReadOnly
	// tells which mode was obtained.
	ReadOnlyFallback bool

	// Versions restricts the protocol versions the client may negotiate
	// (nil: all of them). Pin one, e.g. []Version{Z308}, to make a modern
	// server speak an old protocol, or {M5} to insist on msgpack.
	Versions []Version

	// Dialect forces the pickle dialect used for sending. The default
	// (DialectAuto) sends the first call in the Python 2 dialect, which
	// every server reads, and switches to Python 3 when the server's first
	// reply shows it is a Python 3 server. It has no effect on msgpack.
	Dialect Dialect

	// Credentials are the user name and password for ZEO 3.x/4.x servers
	// configured for digest authentication. ZEO 5 has no such
	// authentication (use TLS client certificates); they are then unused.
	Credentials *Credentials

	// TLS, when set, wraps the connection in TLS from the first byte, as
	// ZEO 5 servers configured with an <ssl> section expect. Those servers
	// require a client certificate: set Certificates. When ServerName is
	// empty the host part of the address is used.
	TLS *tls.Config

	// Label is sent to ZEO 3.10+ servers with set_client_label, which
	// puts it in the server's log lines about this client.
	Label string

	// Logger receives the client's diagnostics; nil discards them.
	Logger *slog.Logger

	// HeartbeatInterval is how long the connection may stay idle before
	// the client sends a heartbeat: 0 means ZEO's own interval (30 s
	// before ZEO 5, 60 s for ZEO 5), a negative value disables them.
	HeartbeatInterval time.Duration

	// MaxLoadsInFlight bounds the requests LoadMany keeps in flight; 0
	// means 64.
	MaxLoadsInFlight int

	// SubscriptionBuffer is the number of invalidation events a
	// subscription holds for a slow reader before it is ended with
	// ErrSubscriptionLagged; 0 means 4096.
	SubscriptionBuffer int

	// DialContext, when set, replaces net.Dialer.DialContext for opening
	// the connection (before TLS). Tests and proxies use it.
	DialContext func(ctx context.Context, network, address string) (net.Conn, error)

	// Reconnect says what happens when the connection is lost. By default,
	// as with ZEO's ClientStorage, the client reconnects by itself.
	Reconnect ReconnectPolicy

	// WaitForServer makes Dial keep trying, with the Reconnect backoff,
	// until a server answers or ctx ends, instead of failing at the first
	// refused connection: ClientStorage's wait option, for services that
	// may start before their database.
	WaitForServer bool

	// WaitTimeout bounds how long a call made while the client is
	// disconnected waits for the next connection before it fails with a
	// *DisconnectedError (ZEO's wait_timeout); the caller's ctx bounds it
	// too. 0 means 30 s; a negative value fails such calls at once.
	WaitTimeout time.Duration

	// ConnectTimeout bounds each connection attempt to one server: TCP,
	// TLS, handshake, authentication, registration and catch-up, so that
	// a server that hangs does not keep the others from being tried. 0
	// means 30 s. Dial's ctx bounds its attempts too.
	ConnectTimeout time.Duration

	// CacheSize is the size in bytes of the client's object cache; 0
	// means 20 MiB (ZEO's default), a negative value switches the cache
	// off. See the package documentation for what it holds.
	CacheSize int64

	// BlobDir is the client's blob directory, ClientStorage's blob_dir:
	// where LoadBlob puts the blob files it downloads (and StoreBlob the
	// ones it commits), in ZEO's "zeocache" layout, which several clients
	// may share (see package blobcache). "" means none: LoadBlob then
	// fails with ErrNoBlobDir, StoreBlob still works.
	BlobDir string

	// BlobCacheSize bounds the bytes of blob files kept in BlobDir
	// (ClientStorage's blob_cache_size): least recently used files that
	// no reader has open are removed. 0 means no bound, as in ZEO.
	BlobCacheSize int64

	// SharedBlobDir says BlobDir is the server's own blob directory, seen
	// through a shared file system (ClientStorage's shared_blob_dir):
	// LoadBlob reads the server's files directly and StoreBlob writes the
	// blob there and sends only its name (storeBlobShared).
	SharedBlobDir bool

	// OnStatus, when set, is called at every change of the connection's
	// status (see [StatusEvent]), one call at a time and in order, from a
	// goroutine of the client's (Dial's caller's for the first
	// connection). It must not block for long and must not call Close.
	// Calls waiting for a connection go on as soon as it is up, before
	// OnStatus hears of it (so that a callback may call the client);
	// Status already says StatusConnected by then.
	OnStatus func(StatusEvent)
}

// ReconnectPolicy configures reconnection. The zero value reconnects with
// ZEO's delays: 1 s after the first failed attempt, doubling up to 30 s,
// each with random jitter so that many clients of one server spread out.
type ReconnectPolicy struct {
	// Disabled turns reconnection off: once the connection is lost, the
	// Client is done (Done is closed, calls fail, subscriptions end). For
	// tools such as zeoprobe that look at one connection.
	Disabled bool
	// MinDelay is the delay before the second attempt (the first is
	// immediate); 0 means 1 s.
	MinDelay time.Duration
	// MaxDelay caps the delay, which doubles with each failed attempt; 0
	// means 30 s.
	MaxDelay time.Duration
}

// Credentials are digest-authentication credentials (ZODB 3.2 – ZEO 4.x).
type Credentials struct {
	User     string
	Password string
	// Realm is the realm the password was registered under. Empty means
	// "whatever realm the server names"; when set, a server naming another
	// realm is refused, as ZEO's client does.
	Realm string
}

// Dialect selects the pickle dialect the client sends.
type Dialect uint8

// Pickle dialects.
const (
	// DialectAuto starts in the Python 2 dialect and follows the server's
	// first reply (docs/protocol.md, What servers can read).
	DialectAuto Dialect = iota
	// DialectPython2 always sends Python 2 pickles (protocol 1, byte
	// strings): what every Python 2 server needs.
	DialectPython2
	// DialectPython3 always sends Python 3 pickles (protocol 3, bytes and
	// text kept apart).
	DialectPython3
)

// String names the dialect.
func (d Dialect) String() string {
	switch d {
	case DialectAuto:
		return "auto"
	case DialectPython2:
		return "python2"
	case DialectPython3:
		return "python3"
	}
	return "Dialect(?)"
}

const (
	defaultStorage            = "1"
	defaultMaxLoadsInFlight   = 64
	defaultSubscriptionBuffer = 4096
	defaultWaitTimeout        = 30 * time.Second
	defaultConnectTimeout     = 30 * time.Second
	defaultCacheSize          = 20 << 20
	defaultMinDelay           = time.Second
	defaultMaxDelay           = 30 * time.Second
)

// withDefaults returns a copy of o with defaults filled in.
func (o *Options) withDefaults() Options {
	var r Options
	if o != nil {
		r = *o
	}
	if r.Storage == "" {
		r.Storage = defaultStorage
	}
	if r.MaxLoadsInFlight <= 0 {
		r.MaxLoadsInFlight = defaultMaxLoadsInFlight
	}
	if r.SubscriptionBuffer <= 0 {
		r.SubscriptionBuffer = defaultSubscriptionBuffer
	}
	if r.Logger == nil {
		r.Logger = slog.New(slog.DiscardHandler)
	}
	if r.WaitTimeout == 0 {
		r.WaitTimeout = defaultWaitTimeout
	}
	if r.ConnectTimeout <= 0 {
		r.ConnectTimeout = defaultConnectTimeout
	}
	if r.CacheSize == 0 {
		r.CacheSize = defaultCacheSize
	}
	if r.Reconnect.MinDelay <= 0 {
		r.Reconnect.MinDelay = defaultMinDelay
	}
	if r.Reconnect.MaxDelay <= 0 {
		r.Reconnect.MaxDelay = defaultMaxDelay
	}
	r.Reconnect.MaxDelay = max(r.Reconnect.MaxDelay, r.Reconnect.MinDelay)
	return r
}
