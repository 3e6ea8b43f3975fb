package testserver

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gozeo/gozeo/internal/testserver/store"
	"github.com/gozeo/gozeo/record"
)

// ErrServerClosed is returned by Serve and ListenAndServe once Close has
// been called.
var ErrServerClosed = errors.New("testserver: server closed")

// Server is a ZEO server imitating one server generation (a [Profile]),
// serving one in-memory storage to any number of clients.
type Server struct {
	opts  Options
	prof  Profile
	log   *slog.Logger
	store *store.Store
	auth  *authState // nil without authentication
	tls   *tls.Config
	stats stats
	blobs *blobDir // nil without blobs

	faults atomic.Pointer[Faults]
	invq   invalidationQueue
	done   chan struct{} // closed by Close
	ctx    context.Context
	cancel context.CancelFunc // cancels ctx, at Close
	start  time.Time

	mu        sync.Mutex
	listener  net.Listener
	addr      net.Addr
	sessions  map[*session]struct{}
	accepted  map[net.Conn]struct{} // every open connection, from accept on, handshake included
	closed    bool
	fatal     error          // an accept error that stopped serving
	fatalCh   chan struct{}  // closed when fatal is set
	accepting sync.WaitGroup // accept loops
	conns     sync.WaitGroup // connection goroutines
	cleanup   []func()
}

// New returns a server for opts; it serves once given a listener (Serve)
// or an address (ListenAndServe). It fails for an unknown profile, an
// option the profile's generation lacks (TLS before ZEO 5, authentication
// in ZEO 5), a negative InvalidationQueueSize, a TLS config without what
// mutual TLS needs, and an authentication database that cannot be read or
// whose realm differs from Auth.Realm.
func New(opts Options) (*Server, error) {
	prof, err := lookupProfile(opts.Profile)
	if err != nil {
		return nil, err
	}
	if opts.Storage == "" {
		opts.Storage = "1"
	}
	if opts.InvalidationQueueSize < 0 {
		return nil, fmt.Errorf("testserver: negative InvalidationQueueSize %d", opts.InvalidationQueueSize)
	}
	s := &Server{
		opts:     opts,
		prof:     prof,
		log:      opts.Logger,
		done:     make(chan struct{}),
		fatalCh:  make(chan struct{}),
		sessions: make(map[*session]struct{}),
		accepted: make(map[net.Conn]struct{}),
		start:    time.Now(),
	}
	s.ctx, s.cancel = context.WithCancel(context.Background())
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	s.log = s.log.With("profile", prof.Name)
	if opts.TLS != nil {
		if s.tls, err = serverTLS(prof, opts.TLS); err != nil {
			s.cancel()
			return nil, err
		}
	}
	if opts.Auth != nil {
		if s.auth, err = s.setupAuth(opts.Auth); err != nil {
			s.runCleanup()
			s.cancel()
			return nil, err
		}
	}
	if prof.caps().Blobs && !opts.NoBlobs {
		if s.blobs, err = s.openBlobDir(opts.BlobDir); err != nil {
			s.runCleanup()
			s.cancel()
			return nil, err
		}
	}
	s.store = opts.Store
	if s.store == nil {
		s.store = store.New(store.Options{
			Name:      opts.StorageName,
			Clock:     opts.Clock,
			ClassName: record.ClassOf,
			Logger:    s.log,
		})
	}
	// Close unsubscribes, so a store shared with a later server (Options.Store)
	// no longer feeds this one.
	s.cleanup = append(s.cleanup, s.store.Subscribe(s.broadcast))
	s.invq.size = opts.InvalidationQueueSize
	s.invq.fill(s.store)
	s.SetFaults(opts.Faults)
	return s, nil
}

// Start starts a server for opts on a loopback port (or Options.Addr) and
// closes it when the test ends. It fails the test if the server cannot
// start.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s, err := StartLocal(opts)
	if err != nil {
		t.Fatalf("testserver: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// StartLocal creates a server and starts it on a free loopback port, or
// on Options.Addr when set, for programs that embed one (the examples);
// Addr tells where, Close stops it.
func StartLocal(opts Options) (*Server, error) {
	s, err := New(opts)
	if err != nil {
		return nil, err
	}
	addr := opts.Addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	l, err := listenAgain("tcp", addr)
	if err != nil {
		s.Close()
		return nil, fmt.Errorf("testserver: listening on %s: %w", addr, err)
	}
	if err := s.listen(l); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Profile returns the profile the server imitates.
func (s *Server) Profile() Profile { return s.prof }

// Store returns the storage the server serves, to seed and inspect data.
func (s *Server) Store() *store.Store { return s.store }

// StorageID returns the storage name clients register with.
func (s *Server) StorageID() string { return s.opts.Storage }

// Addr returns the address the server listens on ("" before Serve).
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.addr == nil {
		return ""
	}
	return s.addr.String()
}

// SetFaults replaces the faults injected from now on, on every connection
// (the announcement applies to connections accepted afterwards).
func (s *Server) SetFaults(f Faults) {
	f.Rules = append([]FaultRule(nil), f.Rules...)
	s.faults.Store(&f)
}

func (s *Server) currentFaults() *Faults { return s.faults.Load() }

// Conns returns the number of client connections currently open.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.sessions)
}

// Serve accepts connections on l until Close, and returns ErrServerClosed
// then; after Restart it keeps serving on the new listener. Any other
// error means accepting failed for good.
func (s *Server) Serve(l net.Listener) error {
	if err := s.listen(l); err != nil {
		return err
	}
	select {
	case <-s.done:
		return ErrServerClosed
	case <-s.fatalCh:
		return s.fatal
	}
}

// ListenAndServe listens on addr (TCP) and serves until ctx ends or Close
// is called; it returns nil when ctx ended it.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	var lc net.ListenConfig
	l, err := lc.Listen(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("testserver: listen on %s: %w", addr, err)
	}
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	err = s.Serve(l)
	if errors.Is(err, ErrServerClosed) && ctx.Err() != nil {
		return nil
	}
	return err
}

// listen makes l the server's listener and starts accepting on it.
func (s *Server) listen(l net.Listener) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		if l != nil {
			l.Close()
		}
		return ErrServerClosed
	}
	if l == nil {
		return errors.New("testserver: Serve needs a listener")
	}
	if s.listener != nil {
		return errors.New("testserver: Serve called twice; use one listener per server")
	}
	s.listener, s.addr = l, l.Addr()
	s.accepting.Add(1)
	go s.acceptLoop(l)
	s.log.Info("testserver: serving", "addr", l.Addr().String(), "release", s.prof.Release)
	return nil
}

func (s *Server) acceptLoop(l net.Listener) {
	defer s.accepting.Done()
	var backoff time.Duration
	for {
		nc, err := l.Accept()
		if err != nil {
			s.mu.Lock()
			current := s.listener == l
			s.mu.Unlock()
			if !current || errors.Is(err, net.ErrClosed) {
				return
			}
			if ne, ok := err.(net.Error); ok && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ECONNABORTED) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("testserver: accept failed; retrying", "err", err, "in", backoff)
				select {
				case <-time.After(backoff):
					continue
				case <-s.done:
					return
				}
			}
			s.mu.Lock()
			if s.fatal == nil {
				s.fatal = fmt.Errorf("testserver: accepting on %s: %w", l.Addr(), err)
				close(s.fatalCh)
			}
			s.mu.Unlock()
			return
		}
		backoff = 0
		if !s.track(nc) {
			return
		}
		go s.serveTracked(nc)
	}
}

// ServeConn serves one client connection the caller made itself, such as
// one end of a net.Pipe, and returns when it ends. With it a test runs
// client and server without a network, inside a testing/synctest bubble
// whose fake clock then drives timeouts and backoffs. Close and Restart
// drop such connections too.
func (s *Server) ServeConn(nc net.Conn) {
	if s.track(nc) {
		s.serveTracked(nc)
	}
}

// track registers a new connection, or closes it and reports false once
// the server is closed.
func (s *Server) track(nc net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		nc.Close()
		return false
	}
	s.conns.Add(1)
	s.accepted[nc] = struct{}{}
	return true
}

// serveTracked serves a tracked connection and forgets it at the end.
func (s *Server) serveTracked(nc net.Conn) {
	defer s.conns.Done()
	defer func() {
		s.mu.Lock()
		delete(s.accepted, nc)
		s.mu.Unlock()
	}()
	s.serveConn(nc)
}

// Restart imitates a server restart while clients are connected: every
// connection is dropped, the listener is closed and the server listens
// again on the same address, with the same storage (a real server keeps
// its data across restarts). Clients see their connection lost and can
// reconnect.
func (s *Server) Restart() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return ErrServerClosed
	}
	l := s.listener
	if l == nil {
		s.mu.Unlock()
		return errors.New("testserver: Restart of a server that is not listening; start it with Start, Serve or ListenAndServe first, and do not call Restart concurrently")
	}
	s.listener = nil
	s.mu.Unlock()

	l.Close()
	s.accepting.Wait()
	s.dropConnections()

	address := l.Addr().String()
	nl, err := listenAgain(l.Addr().Network(), address)
	if err != nil {
		return fmt.Errorf("testserver: restart: listening again on %s: %w", address, err)
	}
	s.invq.fill(s.store) // a real server reloads its queue from the storage
	s.log.Info("testserver: restarted", "addr", address)
	return s.listen(nl)
}

// dropConnections closes every client connection and waits for their
// goroutines. Connections still in their TLS or version handshake have no
// session yet; closing them too keeps Restart from waiting out their
// handshake timeout.
func (s *Server) dropConnections() {
	s.mu.Lock()
	sessions := slices.Collect(maps.Keys(s.sessions))
	accepted := slices.Collect(maps.Keys(s.accepted))
	s.mu.Unlock()
	for _, ss := range sessions {
		ss.kill(errServerGone)
	}
	for _, nc := range accepted {
		nc.Close()
	}
	s.conns.Wait()
}

// errServerGone is why connections end on Close and Restart.
var errServerGone = errors.New("testserver: server closed the connection (shutdown or restart)")

// Close stops the server: it stops listening, drops every connection and
// waits for their goroutines. It is safe to call more than once.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	close(s.done)
	s.cancel()
	l := s.listener
	s.listener = nil
	s.mu.Unlock()
	if l != nil {
		l.Close()
	}
	s.accepting.Wait()
	s.dropConnections()
	s.runCleanup()
	s.log.Info("testserver: closed")
	return nil
}

func (s *Server) runCleanup() {
	for i := len(s.cleanup) - 1; i >= 0; i-- {
		s.cleanup[i]()
	}
	s.cleanup = nil
}

// addSession and removeSession track open connections.
func (s *Server) addSession(ss *session) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	s.sessions[ss] = struct{}{}
	return true
}

func (s *Server) removeSession(ss *session) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, ss)
}

// registered returns the connections registered with the storage.
func (s *Server) registered() []*session {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]*session, 0, len(s.sessions))
	for ss := range s.sessions {
		if ss.isRegistered() {
			out = append(out, ss)
		}
	}
	return out
}

// tempFile creates a file removed at Close.
func (s *Server) tempFile(pattern string) (*os.File, error) {
	f, err := os.CreateTemp("", pattern)
	if err != nil {
		return nil, err
	}
	name := f.Name()
	s.cleanup = append(s.cleanup, func() { os.Remove(name) })
	return f, nil
}
