// Package cliflags holds the shared command-line flags of the example
// programs: where the ZEO server is, which storage and protocol version to
// use, digest-authentication credentials and TLS files, and how long to
// wait for the connection. Each program registers them on its own flag set
// with [Register] and turns them into [zeo.Options] with [Conn.Options],
// so the flags read and behave the same in every program.
package cliflags

import (
	"errors"
	"flag"
	"time"

	"github.com/gozeo/gozeo/zeo"
)

// ErrNoAddr is the complaint about a command line without -addr; programs
// that accept a stand-in (an embedded server, say) append ", or ..." to it.
var ErrNoAddr = errors.New("-addr is required (e.g. -addr localhost:8100)")

// DefaultTimeout is the default of -timeout.
const DefaultTimeout = 10 * time.Second

// Conn holds the connection flags. [Register] returns one that the flag
// set fills in as it parses.
type Conn struct {
	Addr        string        // -addr: HOST:PORT, Unix socket path or zeo:// URL
	Storage     string        // -storage: storage name; "" means "1"
	Timeout     time.Duration // -timeout: how long connecting may take
	Version     string        // -version: the one protocol version allowed; "" negotiates
	User        string        // -user: digest-authentication user; "" sends no credentials
	Password    string        // -password
	Realm       string        // -realm: "" accepts the server's
	TLS         bool          // -tls
	TLSCA       string        // -tls-ca: PEM file of the CA to trust; implies TLS
	TLSCert     string        // -tls-cert: PEM client certificate; implies TLS
	TLSKey      string        // -tls-key: PEM key of TLSCert; "" reads it from TLSCert
	TLSInsecure bool          // -tls-insecure: skip verifying the server's certificate
}

// Register defines the connection flags on fs and returns the Conn they
// set. addrNote, when not empty, ends the help of -addr in parentheses;
// it says when -addr is required, e.g. "required" or "required unless
// -demo".
func Register(fs *flag.FlagSet, addrNote string) *Conn {
	c := new(Conn)
	addrHelp := "server address: HOST:PORT, a Unix socket path, or zeo://HOST:PORT?storage=NAME"
	if addrNote != "" {
		addrHelp += " (" + addrNote + ")"
	}
	fs.StringVar(&c.Addr, "addr", "", addrHelp)
	fs.StringVar(&c.Storage, "storage", "", "storage name to register (default \"1\")")
	fs.DurationVar(&c.Timeout, "timeout", DefaultTimeout, "give up connecting after this long")
	fs.StringVar(&c.Version, "version", "", "allow only this protocol version (e.g. Z308, Z3101, Z4, Z5, M5); default: negotiate")
	fs.StringVar(&c.User, "user", "", "user name for digest authentication (ZEO 3.x/4.x servers)")
	fs.StringVar(&c.Password, "password", "", "password for digest authentication")
	fs.StringVar(&c.Realm, "realm", "", "realm for digest authentication (default: the server's)")
	fs.BoolVar(&c.TLS, "tls", false, "connect with TLS (ZEO 5 servers with an <ssl> section)")
	fs.StringVar(&c.TLSCA, "tls-ca", "", "PEM file of the CA that signed the server's certificate (implies -tls)")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "PEM client certificate; ZEO 5 TLS servers require one (implies -tls)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "PEM key of -tls-cert")
	fs.BoolVar(&c.TLSInsecure, "tls-insecure", false, "connect with TLS without verifying the server's certificate (testing only)")
	return c
}

// Options returns the client options the flags ask for, with label as the
// client label the server logs and readOnly deciding how the storage is
// registered. Credentials are set only when -user is given; TLS only when
// -tls, -tls-ca or -tls-cert is. The error, a *[FileError], names the TLS
// flag and file that could not be used.
func (c *Conn) Options(label string, readOnly bool) (*zeo.Options, error) {
	// The tools look at one connection: a lost one is reported, not
	// silently replaced by another (a benchmark across a reconnect, or a
	// probe of a different server, would mislead).
	opts := &zeo.Options{Storage: c.Storage, ReadOnly: readOnly, Label: label, Reconnect: zeo.ReconnectPolicy{Disabled: true}}
	if c.Version != "" {
		opts.Versions = []zeo.Version{zeo.Version(c.Version)}
	}
	if c.User != "" {
		opts.Credentials = &zeo.Credentials{User: c.User, Password: c.Password, Realm: c.Realm}
	}
	if c.TLS || c.TLSCA != "" || c.TLSCert != "" || c.TLSInsecure {
		cfg, err := c.tlsConfig()
		if err != nil {
			return nil, err
		}
		opts.TLS = cfg
	}
	return opts, nil
}
