package zeo

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/gozeo/gozeo/zrpc"
)

// session is one connection and everything negotiated on it. Setting one
// up (dial, handshake, encoding, authentication, registration, catch-up,
// the first metadata calls) is in this file; lifecycle.go decides when.
// Every per-version choice reads the session it is made for, so a
// reconnect to another generation changes them all at once.
type session struct {
	addr string // the server, as errors and logs name it
	conn *zrpc.Conn
	neg  zrpc.Negotiation
	caps zrpc.Capabilities

	authProtocol  string
	authenticated bool
	readOnly      bool
	fellBack      bool // read-only because the server refused read-write
	connectTID    TID
	tls           bool
	info          *infoState
	verify        verification  // cache verification in progress (≤ ZEO 4)
	blobs         blobTransfers // sendBlob downloads in progress
}

// connect runs the session flow (docs/protocol.md, Session flow) for the
// negotiated generation and returns a ready session. On failure the connection
// is closed and the error says which step failed.
//
// fallback allows the read-only fallback on this server; resume makes the
// session catch up from the client's LastTID (a reconnect) instead of
// starting from the server's last transaction.
func (c *Client) connect(ctx context.Context, tgt target, fallback, resume bool) (*session, error) {
	nc, err := c.dial(ctx, tgt)
	if err != nil {
		return nil, err
	}
	fr := zrpc.NewFrameReader(nc)
	fw := zrpc.NewFrameWriter(nc)
	neg, err := zrpc.ClientHandshake(ctx, fr, fw, c.opts.Versions)
	if err != nil {
		nc.Close()
		var ne *zrpc.NegotiationError
		if errors.As(err, &ne) {
			return nil, &ProtocolMismatchError{Server: tgt.address, Announced: ne.Server, Allowed: ne.Allowed, Err: err}
		}
		return nil, fmt.Errorf("zeo: connect to %s: %w", tgt.address, err)
	}
	c.log.Debug("zeo: negotiated", "server", tgt.address, "announced", neg.Server, "chosen", neg.Chosen, "reason", neg.Reason)

	s := &session{addr: tgt.address, neg: neg, caps: neg.Chosen.Capabilities(), tls: c.opts.TLS != nil, info: &infoState{}}
	enc, adapt := chooseEncoding(neg.Chosen, c.opts.Dialect)
	s.conn = zrpc.NewConn(fr, fw, nc, zrpc.ConnOptions{
		Encoding:          enc,
		AdaptEncoding:     adapt,
		Handler:           func(_ *zrpc.Conn, m *zrpc.Message) { c.handle(s, m) },
		HeartbeatInterval: c.heartbeat(s.caps),
		Logger:            c.log,
		Name:              tgt.address,
	})
	// Errors during connect are mapped with this session's version; a
	// failed attempt gives the previous session its place back.
	prev := c.cur.Swap(s)
	if err := c.startSession(ctx, s, fallback, resume); err != nil {
		s.conn.Close()
		c.cur.CompareAndSwap(s, prev)
		return nil, err
	}
	c.log.Info("zeo: connected", "server", tgt.address, "version", neg.Chosen, "encoding", s.conn.Encoding().Name(),
		"storage", c.opts.Storage, "read_only", s.readOnly, "last_tid", s.connectTID)
	return s, nil
}

// dial opens the transport: TCP or a Unix socket, wrapped in TLS when
// configured.
func (c *Client) dial(ctx context.Context, tgt target) (net.Conn, error) {
	dial := c.opts.DialContext
	if dial == nil {
		var d net.Dialer
		dial = d.DialContext
	}
	nc, err := dial(ctx, tgt.network, tgt.address)
	if err != nil {
		return nil, fmt.Errorf("zeo: connect to %s: %w", tgt.address, err)
	}
	if c.opts.TLS == nil {
		return nc, nil
	}
	cfg := c.opts.TLS
	if cfg.ServerName == "" && tgt.host != "" {
		cfg = cfg.Clone()
		cfg.ServerName = tgt.host
	}
	tc := tls.Client(nc, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		nc.Close()
		return nil, fmt.Errorf("zeo: TLS handshake with %s: %w (ZEO 5 servers with TLS require a client certificate; servers before ZEO 5 have no TLS)", tgt.address, err)
	}
	return tc, nil
}

// heartbeat is the idle interval for the connection.
func (c *Client) heartbeat(caps zrpc.Capabilities) time.Duration {
	switch {
	case c.opts.HeartbeatInterval < 0:
		return 0
	case c.opts.HeartbeatInterval > 0:
		return c.opts.HeartbeatInterval
	}
	return caps.HeartbeatIdle
}

// startSession runs the calls of the session flow on the new connection.
//
// ≤ ZEO 4: getAuthProtocol (and digest auth) → register → lastTransaction
// → catch-up → get_info → set_client_label. ZEO 5: register (returns the
// last tid) → catch-up → get_info → set_client_label. Invalidations that
// arrive meanwhile are queued by the hub until the session starts (start
// or startWith), then filtered by tid; the cache takes them at once.
func (c *Client) startSession(ctx context.Context, s *session, fallback, resume bool) error {
	c.inval.reset()
	if s.caps.GetAuthProtocol {
		if err := c.authenticate(ctx, s); err != nil {
			return err
		}
	} else if c.opts.Credentials != nil {
		c.log.Warn("zeo: credentials ignored: the negotiated protocol has no digest authentication", "version", s.neg.Chosen)
	}
	if err := c.register(ctx, s, fallback); err != nil {
		return err
	}
	if !s.caps.RegisterReturnsTID && s.caps.LastTransaction {
		v, err := c.callOn(ctx, s, op{method: "lastTransaction"})
		if err != nil {
			return c.stepError("lastTransaction", err)
		}
		t, ok := asTID(v)
		if !ok {
			return c.stepError("lastTransaction", &shapeError{method: "lastTransaction", want: "an 8-byte tid", got: v})
		}
		s.connectTID = t
	}
	if resume {
		if err := c.catchUp(ctx, s); err != nil {
			return err
		}
	}

	v, err := c.callOn(ctx, s, op{method: "get_info"})
	if err != nil {
		return c.stepError("get_info", err)
	}
	info, ok := parseServerInfo(v)
	if !ok {
		return c.stepError("get_info", &shapeError{method: "get_info", want: "a dict", got: v})
	}
	s.info.set(info)
	if s.caps.AmbiguousMVCC && !info.SupportsTransactionalUndo {
		// ZODB 3.3.0 announces Z201 but has MVCC (docs/protocol.md,
		// Handshake).
		s.caps.LoadEx, s.caps.LoadBefore = true, true
	}
	if c.opts.Label != "" && s.neg.Chosen.HasMethod("set_client_label") {
		if err := s.conn.Notify(ctx, "set_client_label", c.opts.Label); err != nil {
			return c.stepError("set_client_label", c.mapError(err, op{method: "set_client_label"}))
		}
	}
	if !resume {
		// A first connection starts from the server's state: nothing
		// before connectTID concerns it. (Z200 has no lastTransaction:
		// nothing to filter against.)
		c.inval.start(s.connectTID)
	}
	return nil
}

// register opens the storage, falling back to read-only if allowed.
func (c *Client) register(ctx context.Context, s *session, fallback bool) error {
	readOnly := c.opts.ReadOnly
	for {
		v, err := s.conn.Call(ctx, "register", c.opts.Storage, readOnly)
		if err == nil {
			s.readOnly = readOnly
			if s.caps.RegisterReturnsTID {
				t, ok := asTID(v)
				if !ok {
					return c.stepError("register", &shapeError{method: "register", want: "the last tid", got: v})
				}
				s.connectTID = t
			}
			return nil
		}
		err = c.mapError(err, op{method: "register"})
		var ro *ReadOnlyError
		if errors.As(err, &ro) && !readOnly && fallback {
			c.log.Info("zeo: server refused read-write registration; falling back to read-only", "server", s.addr)
			readOnly, s.fellBack = true, true
			continue
		}
		if errors.As(err, &ro) {
			ro.Op = "register read-write"
		}
		var se *ServerError
		if errors.As(err, &se) && (se.Class == "exceptions.ValueError" || se.Class == "builtins.ValueError" || se.Class == "exceptions.KeyError" || se.Class == "builtins.KeyError") {
			return fmt.Errorf("zeo: connect to %s: the server has no storage named %q (Options.Storage, or ?storage= in the URL): %w", s.addr, c.opts.Storage, err)
		}
		return c.stepError("register", err)
	}
}

// callOn is call for a session not yet installed in the client.
func (c *Client) callOn(ctx context.Context, s *session, o op, args ...any) (any, error) {
	v, err := s.conn.Call(ctx, o.method, args...)
	if err != nil {
		return nil, c.mapError(err, o)
	}
	return v, nil
}

// stepError says which connect step failed, keeping the typed error.
func (c *Client) stepError(step string, err error) error {
	return fmt.Errorf("zeo: connect to %s: %s: %w", c.server(), step, err)
}

// Session describes the connection: what the server announced, what was
// negotiated and why, and how the client talks to it.
type Session struct {
	// Server is the address connected to.
	Server string
	// Announced is the version the server sent first; Negotiated the one
	// the client replied and the connection speaks; Reason why.
	Announced  Version
	Negotiated Version
	Reason     string
	// Encoding is the message encoding in use: "pickle-py2",
	// "pickle-py3" or "msgpack". With DialectAuto it is settled by the
	// server's first reply.
	Encoding string
	// AuthProtocol is what the server asked for ("digest"), "" for none;
	// Authenticated whether the client authenticated.
	AuthProtocol  string
	Authenticated bool
	// TLS is true when the connection runs over TLS.
	TLS bool
	// Storage is the storage name registered; ReadOnly whether the
	// registration is read-only, ReadOnlyFallback whether that is because
	// the server refused read-write and the fallback was used.
	Storage          string
	ReadOnly         bool
	ReadOnlyFallback bool
	// ConnectTID is the server's last transaction when the client
	// connected; invalidations start after it.
	ConnectTID TID
	// Capabilities are what the negotiated version can do.
	Capabilities zrpc.Capabilities
	// Methods names the server method behind each operation the
	// connection supports (Client.Supports), for diagnostics: "loadEx",
	// "load" or "loadBefore" for OpLoad, say.
	Methods map[Operation]string
}

// Session returns what was negotiated on the current connection, or on
// the last one while the client is reconnecting.
func (c *Client) Session() Session {
	return c.installed().describe(c.opts.Storage)
}

// describe is the session as the public Session type.
func (s *session) describe(storage string) Session {
	return Session{
		Server:           s.addr,
		Announced:        s.neg.Server,
		Negotiated:       s.neg.Chosen,
		Reason:           s.neg.Reason,
		Encoding:         s.conn.Encoding().Name(),
		AuthProtocol:     s.authProtocol,
		Authenticated:    s.authenticated,
		TLS:              s.tls,
		Storage:          storage,
		ReadOnly:         s.readOnly,
		ReadOnlyFallback: s.fellBack,
		ConnectTID:       s.connectTID,
		Capabilities:     s.caps,
		Methods:          s.methods(),
	}
}

// methods maps each operation the session supports to its server method.
func (s *session) methods() map[Operation]string {
	m := make(map[Operation]string)
	for _, op := range Operations() {
		if name, ok := s.method(op); ok {
			m[op] = name
		}
	}
	return m
}

// isErrorReply reports whether m is an error reply of either shape.
func isErrorReply(m *zrpc.Message) bool {
	_, ok := zrpc.ErrorFromReply(m)
	return ok
}
