package testserver

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gozeo/gozeo/internal/zrpcserver"
	"github.com/gozeo/gozeo/zrpc"
)

// handshakeTimeout bounds TLS and the version exchange of a new
// connection, so a client that connects and says nothing cannot hold a
// goroutine forever.
const handshakeTimeout = 30 * time.Second

// serveConn runs one client connection to its end.
func (s *Server) serveConn(nc net.Conn) {
	peer := nc.RemoteAddr().String()
	log := s.log.With("peer", peer)
	ctx, cancel := context.WithTimeout(context.Background(), handshakeTimeout)
	stop := context.AfterFunc(s.ctx, cancel)
	defer stop()
	defer cancel()

	var transport net.Conn = nc
	if s.tls != nil {
		tc := tls.Server(nc, s.tls)
		if err := tc.HandshakeContext(ctx); err != nil {
			// ZEO 5 requires a client certificate: the TLS handshake
			// fails and the client never sees a version.
			log.Warn("testserver: TLS handshake failed", "err", err)
			nc.Close()
			return
		}
		transport = tc
	}
	fc := newFaultConn(transport)
	fr := zrpc.NewFrameReader(fc)
	fw := zrpc.NewFrameWriter(fc)

	faults := s.currentFaults()
	announce := s.prof.Announce()
	if faults.Announce != "" {
		announce = faults.Announce
	}
	v, err := zrpcserver.Handshake(ctx, fc, fr, fw, s.prof.Generation, announce)
	switch {
	case errors.Is(err, zrpcserver.ErrRuok):
		s.answerRuok(fw, log)
		fc.Close()
		return
	case err != nil:
		// Real servers log "bad handshake" and close without a word.
		log.Warn("testserver: bad handshake", "err", err)
		fc.Close()
		return
	}
	log.Debug("testserver: received handshake", "version", string(v))

	ss := newSession(s, v, fc, log.With("version", string(v)))
	ready := make(chan struct{})
	conn := zrpc.NewConn(fr, fw, fc, zrpc.ConnOptions{
		Encoding: newServerEncoding(s.prof, v),
		Handler: func(_ *zrpc.Conn, m *zrpc.Message) {
			<-ready
			ss.handle(m)
		},
		Logger: s.log,
		Name:   peer,
	})
	ss.conn = conn
	if !s.addSession(ss) {
		close(ready)
		ss.end()
		conn.Close()
		return
	}
	defer s.removeSession(ss)
	close(ready)
	<-conn.Done()
	ss.end()
	conn.Close()
	ss.wait()
}

// answerRuok sends the JSON status a ZEO 4.1+ server answers "ruok" with:
// one object per storage.
func (s *Server) answerRuok(fw *zrpc.FrameWriter, log interface{ Warn(string, ...any) }) {
	body, err := json.Marshal(map[string]any{s.opts.Storage: s.statusJSON()})
	if err == nil {
		err = fw.WriteFrame(body)
	}
	if err == nil {
		err = fw.Flush()
	}
	if err != nil {
		log.Warn("testserver: answering ruok", "err", err)
	}
}

// faultConn is the connection under the framer. It lets fault injection
// write bytes between frames and stall all I/O without closing.
type faultConn struct {
	net.Conn
	mu        sync.Mutex // serializes writes, so raw bytes land between them
	stalled   atomic.Bool
	closed    chan struct{}
	closeOnce sync.Once
}

func newFaultConn(c net.Conn) *faultConn {
	return &faultConn{Conn: c, closed: make(chan struct{})}
}

func (c *faultConn) Read(p []byte) (int, error) {
	if c.stalled.Load() {
		<-c.closed
		return 0, net.ErrClosed
	}
	return c.Conn.Read(p)
}

func (c *faultConn) Write(p []byte) (int, error) {
	if c.stalled.Load() {
		<-c.closed
		return 0, net.ErrClosed
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.Conn.Write(p)
}

// writeRaw writes p as is, between whole writes of the framer.
func (c *faultConn) writeRaw(p []byte) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	_, err := c.Conn.Write(p)
	return err
}

// stall makes every later read and write block until Close.
func (c *faultConn) stall() { c.stalled.Store(true) }

func (c *faultConn) Close() error {
	c.closeOnce.Do(func() { close(c.closed) })
	return c.Conn.Close()
}
