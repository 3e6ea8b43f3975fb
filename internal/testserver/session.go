package testserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/gozeo/gozeo/internal/testserver/store"
	"github.com/gozeo/gozeo/internal/zrpcserver"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
	"github.com/gozeo/gozeo/zrpc"
)

// sendTimeout bounds how long the server waits for room in a client's send
// queue. A client that reads nothing for that long is dropped rather than
// allowed to stall commits (its invalidations are sent while the commit
// lock is held).
const sendTimeout = 10 * time.Second

// session is one client connection: ZEO's ZEOStorage, the per-client
// proxy to the storage.
type session struct {
	srv  *Server
	prof Profile
	peer zrpc.Version
	fc   *faultConn
	log  *slog.Logger
	conn *zrpc.Conn // set before the first message is handled

	ctx    context.Context // ends with the connection
	cancel context.CancelFunc
	wg     sync.WaitGroup // goroutines answering delayed calls

	// versionAPI: methods take and return ZODB version arguments (a 3.8
	// server, or a 3.9+ server's adapter for a peer older than Z309).
	versionAPI bool
	// adapter: the 3.9+ adapter for peers older than Z309 is in use.
	adapter bool

	frames int // frames received after the handshake; read goroutine only

	sendMu   sync.Mutex // keeps one-way msgids in wire order
	oneWayID int64

	mu         sync.Mutex
	registered bool
	readOnly   bool
	st         *store.Session
	authed     bool
	challenge  string
	nonce      string
	txn        *txnInfo
	iters      map[int64]*iterState
	nextIter   int64
	verifying  bool

	blobTemp *os.File   // storeBlobStart's file, until storeBlobEnd
	blobSend sync.Mutex // one sendBlob stream at a time per connection
}

// txnInfo is what the protocol layer tracks of the client's transaction,
// beyond the store's own state: what to invalidate and how.
type txnInfo struct {
	id pickle.Value
	// serials holds, per oid stored, whether any store sent a serial
	// other than z64 (servers before ZEO 5.2.2 invalidate only those).
	serials map[zodb.OID]bool
	voting  bool // a vote is waiting or done
	aborted bool // tpc_abort came while the vote waited
	voted   *store.VoteResult
	// report is the serialnos list a ZEO ≤ 4 vote sent, success or
	// failure; ZODB ≤ 3.9 sends it again when the client votes again.
	report *pickle.List
	undone []zodb.OID // oids of a synchronous undo (ZODB ≤ 3.9)
	// invalidated is what the commit invalidates, computed at tpc_finish.
	invalidated []invalidated
	// blobs are the blob files stored, moved into the blob directory at
	// vote; placed are where they went, removed again on abort.
	blobs  []pendingBlob
	placed []string
}

func newSession(srv *Server, v zrpc.Version, fc *faultConn, log *slog.Logger) *session {
	s := &session{srv: srv, prof: srv.prof, peer: v, fc: fc, log: log, iters: make(map[int64]*iterState)}
	s.ctx, s.cancel = context.WithCancel(srv.ctx)
	switch {
	case s.prof.VersionAdapter:
		// Peers that speak the version API get the adapter.
		s.adapter = v.Capabilities().VersionsAPI
		s.versionAPI = s.adapter
	default:
		s.versionAPI = s.prof.caps().VersionsAPI
	}
	s.readOnly = srv.opts.ReadOnly
	return s
}

// kill drops the connection now.
func (s *session) kill(cause error) {
	if s.conn != nil {
		s.conn.Abort(cause)
	}
	s.fc.Close()
}

// end is called once the connection is down: delayed calls stop waiting,
// and the client's transaction is aborted (releasing the commit lock), as
// ZEO's notifyDisconnected does.
func (s *session) end() {
	s.cancel()
	s.mu.Lock()
	st, open, t := s.st, s.txn != nil, s.txn
	s.txn = nil
	s.mu.Unlock()
	s.dropBlobTemp()
	if t != nil {
		t.dropBlobs()
	}
	if open {
		s.srv.stats.aborts.Add(1)
		s.srv.stats.activeTxns.Add(-1)
	}
	if st != nil {
		st.Close()
	}
}

// wait waits for the goroutines of delayed calls.
func (s *session) wait() { s.wg.Wait() }

func (s *session) isRegistered() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.registered
}

// storeSession returns the store session, nil before register.
func (s *session) storeSession() *store.Session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

// call is one incoming call.
type call struct {
	id    pickle.Value
	name  string
	async bool
	delay time.Duration // FaultDelayReply: hold the reply this long
	cut   bool          // FaultCutTransfer: break off the blob transfer
}

// errDeferred is returned by a method that answers later, from another
// goroutine (vote waiting for the commit lock, pack, undo).
var errDeferred = errors.New("testserver: answered later")

// dropError makes the server drop the connection without an answer, as
// real servers do for protocol violations.
type dropError struct{ reason string }

func (e *dropError) Error() string { return "testserver: dropping the client: " + e.reason }

// handle runs on the connection's read goroutine for every call.
func (s *session) handle(m *zrpc.Message) {
	s.frames++
	c := &call{id: m.ID, name: m.Method, async: m.Flags&zrpc.FlagAsync != 0}
	if s.log.Enabled(s.ctx, slog.LevelDebug) {
		s.log.Debug("testserver: call", "method", c.name, "msgid", pickle.Repr(c.id), "one_way", c.async, "frame", s.frames)
	}
	if s.prof.caps().IgnoresMinusOne && isMinusOne(c.id) {
		// ZEO 5 takes any message with msgid -1 for the client's
		// keep-alive and ignores it, whatever its method.
		s.log.Debug("testserver: ignoring a call with msgid -1 (ZEO 5 keep-alive rule)", "method", c.name)
		return
	}
	if s.applyFaults(c) {
		return
	}
	fn, err := s.lookup(c.name)
	if err != nil {
		s.finish(c, nil, err)
		return
	}
	args, ok := pickle.AsTuple(m.Args)
	if !ok {
		s.finish(c, nil, s.prof.builtinErr("TypeError", text(c.name+"() argument after * must be a sequence, not "+describe(m.Args))))
		return
	}
	v, err := fn(s, c, pickle.Tuple(args))
	s.finish(c, v, err)
}

// finish answers c with v or err, unless the method answers later.
func (s *session) finish(c *call, v pickle.Value, err error) {
	var drop *dropError
	switch {
	case errors.Is(err, errDeferred):
		return
	case errors.As(err, &drop):
		s.log.Error("testserver: "+drop.reason, "method", c.name)
		s.conn.Abort(drop)
		return
	case c.async && err != nil:
		s.oneWayFailed(c, err)
		return
	case c.async:
		return
	case c.delay > 0:
		d := c.delay
		c.delay = 0
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			t := time.NewTimer(d)
			defer t.Stop()
			select {
			case <-t.C:
				s.finish(c, v, err)
			case <-s.ctx.Done():
			}
		}()
		return
	case err != nil:
		s.replyError(c, err)
		return
	}
	if err := s.conn.Reply(s.ctx, c.id, v); err != nil {
		s.log.Debug("testserver: reply not sent", "method", c.name, "err", err)
	}
}

// oneWayFailed handles an exception in a one-way call: ZEO ≤ 4 logs it and
// carries on, ZEO 5 closes the connection (docs/protocol.md, One-way calls).
func (s *session) oneWayFailed(c *call, err error) {
	pe := s.prof.pyErrorFrom(err)
	if s.prof.caps().OneWayErrorsDisconnect {
		s.log.Error("testserver: one-way call raised; closing the connection as ZEO 5 does", "method", c.name, "exception", pe.Error())
		s.conn.Abort(fmt.Errorf("testserver: one-way call %s raised %s", c.name, pe.qualName()))
		return
	}
	s.log.Warn("testserver: one-way call raised (logged only, as ZEO ≤ 4 does)", "method", c.name, "exception", pe.Error())
}

// replyError sends the error reply for err in the profile's shape.
func (s *session) replyError(c *call, err error) {
	pe := s.prof.pyErrorFrom(err)
	s.log.Debug("testserver: call raised", "method", c.name, "exception", pe.Error())
	m := zrpcserver.ErrorReply(c.id, s.prof.exception(pe), zrpcserver.ErrorShapeFor(s.prof.Announce()))
	if err := s.conn.Send(s.ctx, m); err != nil {
		s.log.Debug("testserver: error reply not sent", "method", c.name, "err", err)
	}
}

// notify makes a one-way call on the client, numbered as the profile's
// server numbers them.
func (s *session) notify(ctx context.Context, method string, args ...pickle.Value) error {
	s.sendMu.Lock()
	defer s.sendMu.Unlock()
	id := int64(0)
	if s.prof.CountOneWay {
		id = s.oneWayID
		s.oneWayID++
	}
	return s.conn.Send(ctx, &zrpc.Message{ID: id, Flags: zrpc.FlagAsync, Method: method, Args: pickle.Tuple(args)})
}

// later runs fn in a goroutine and answers c with its result: the Delay of
// the Python servers.
func (s *session) later(c *call, fn func() (pickle.Value, error)) error {
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		v, err := fn()
		if s.ctx.Err() != nil {
			return // the client is gone
		}
		s.finish(c, v, err)
	}()
	return errDeferred
}

// exception converts a pyError to the pickled instance the profile's
// Python would send: old-style, _recon or plain REDUCE is the encoder's
// business (the encoding's variant and the Recon flag).
func (p Profile) exception(e *pyError) *pickle.Exception {
	x := &pickle.Exception{
		Class: e.class(),
		Args:  p.wireTuple(e.Args),
		Recon: e.POSError,
	}
	attrs := e.State
	if p.ExceptionMessage && e.POSError {
		if _, ok := e.get("message"); !ok {
			// BaseException.message: the single argument, else ''.
			var msg pickle.Value = text("")
			if len(e.Args) == 1 {
				msg = e.Args[0]
			}
			attrs = append([]attr{{"message", msg}}, attrs...)
		}
	}
	if len(attrs) > 0 {
		x.State = pickle.NewDict(len(attrs))
		for _, a := range attrs {
			x.State.Set(a.Key, p.wireValue(a.Value)) //nolint:errcheck // string keys
		}
	}
	return x
}

// wireValue replaces nested pyErrors by their pickled form.
func (p Profile) wireValue(v pickle.Value) pickle.Value {
	switch v := v.(type) {
	case *pyError:
		return p.exception(v)
	case pickle.Tuple:
		return p.wireTuple(v)
	case *pickle.List:
		out := make(pickle.List, len(*v))
		for i, x := range *v {
			out[i] = p.wireValue(x)
		}
		return &out
	}
	return v
}

func (p Profile) wireTuple(t pickle.Tuple) pickle.Tuple {
	out := make(pickle.Tuple, len(t))
	for i, x := range t {
		out[i] = p.wireValue(x)
	}
	return out
}
