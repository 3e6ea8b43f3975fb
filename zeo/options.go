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
	// first reply (PROTOCOL.md §5.2).
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
	heartbeatPre5             = 30 * time.Second
	heartbeatZEO5             = 60 * time.Second
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
	return r
}
