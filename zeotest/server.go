package zeotest

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/zeo"
)

// Options configure a test server. The zero value (or nil) serves an
// empty, writable storage "1" as a ZEO 5 server speaking pickle.
type Options struct {
	// Profile is the server generation to imitate; "" means
	// DefaultProfile.
	Profile Profile
	// ReadOnly makes the server read-only, as ZEO's read-only option:
	// registering for writing fails with a read-only error and so does
	// every write. Seeding still works.
	ReadOnly bool
	// Storage is the storage name clients register with; "" means "1".
	Storage string
	// Clock gives the time transaction ids are made from; nil means
	// time.Now. A frozen clock makes tids the same on every run (they stay
	// strictly increasing).
	Clock func() time.Time
	// Addr is the TCP address to listen on instead of a free loopback
	// port, e.g. that of a server just closed, so that its clients
	// reconnect to the new one.
	Addr string
	// NoBlobs serves a storage without a blob directory, as a FileStorage
	// configured without blob-dir: get_info lists no IBlobStorage, so the
	// gozeo client refuses blob operations, and the blob methods raise.
	// Otherwise a server whose generation has blobs (Z308 and later) keeps
	// them in a temporary directory removed at Close (see Server.BlobDir).
	NoBlobs bool
	// Faults are injected from the start (see Server.SetFaults).
	Faults []Fault
	// Logger receives the server's diagnostics; nil discards them.
	Logger *slog.Logger
}

// Server is a running test server.
type Server struct {
	srv     *testserver.Server
	profile Profile
}

// Start starts a server for opts on loopback and stops it when the test
// ends. It fails the test if the server cannot start, e.g. for an unknown
// profile.
func Start(tb testing.TB, opts *Options) *Server {
	tb.Helper()
	s, err := NewServer(opts)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Close() })
	return s
}

// NewServer starts a server for opts on loopback, for programs and
// Example functions, which have no testing.TB; the caller must Close it.
// It fails for an unknown profile.
func NewServer(opts *Options) (*Server, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.Profile == "" {
		o.Profile = DefaultProfile
	}
	if !slices.Contains(Profiles(), o.Profile) {
		return nil, fmt.Errorf("zeotest: unknown profile %q (known: %v)", o.Profile, Profiles())
	}
	srv, err := testserver.StartLocal(testserver.Options{
		Profile:  string(o.Profile),
		ReadOnly: o.ReadOnly,
		Storage:  o.Storage,
		Clock:    o.Clock,
		Addr:     o.Addr,
		Logger:   o.Logger,
		NoBlobs:  o.NoBlobs,
		Faults:   testserver.Faults{Rules: rules(o.Faults)},
	})
	if err != nil {
		return nil, fmt.Errorf("zeotest: %w", err)
	}
	return &Server{srv: srv, profile: o.Profile}, nil
}

// Addr returns the address the server listens on, "127.0.0.1:port".
func (s *Server) Addr() string { return s.srv.Addr() }

// Storage returns the storage name clients register with.
func (s *Server) Storage() string { return s.srv.StorageID() }

// Profile returns the generation the server imitates.
func (s *Server) Profile() Profile { return s.profile }

// BlobDir returns the server's blob directory, in ZODB's "bushy" layout,
// or "" when it has none (a generation before blobs, or Options.NoBlobs).
// Clients normally leave it alone and get blobs over the connection into a
// blob cache of their own (zeo.Options.BlobDir); a client configured with
// zeo.Options.SharedBlobDir and this directory reads and writes the
// server's files directly, as one sharing the server's file system does.
func (s *Server) BlobDir() string { return s.srv.BlobDir() }

// Conns returns the number of client connections open now.
func (s *Server) Conns() int { return s.srv.Conns() }

// Close stops the server: it stops listening and drops every connection.
// Calling it more than once is harmless.
func (s *Server) Close() { s.srv.Close() }

// Client returns a gozeo client dialled to the server with opts (nil:
// defaults; Storage defaults to the server's), closed when the test ends.
// It fails the test if the client cannot connect within ten seconds.
func (s *Server) Client(tb testing.TB, opts *zeo.Options) *zeo.Client {
	tb.Helper()
	var o zeo.Options
	if opts != nil {
		o = *opts
	}
	if o.Storage == "" {
		o.Storage = s.Storage()
	}
	ctx, cancel := context.WithTimeout(tb.Context(), 10*time.Second)
	defer cancel()
	c, err := zeo.Dial(ctx, s.Addr(), &o)
	if err != nil {
		tb.Fatalf("zeotest: dialling the %s server at %s: %v", s.profile, s.Addr(), err)
	}
	tb.Cleanup(func() { c.Close() })
	return c
}
