package testserver

import (
	"context"
	"crypto/tls"
	"errors"
	"net"
	"testing"
	"time"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
	"github.com/gozeo/gozeo/zrpc"
)

// testClient is a minimal ZEO client for the server's tests: the zrpc
// connection plus the one-way calls the server made on it.
type testClient struct {
	t       testing.TB
	nc      net.Conn
	fr      *zrpc.FrameReader
	fw      *zrpc.FrameWriter
	server  zrpc.Version // what the server announced
	version zrpc.Version // what the client answered
	conn    *zrpc.Conn
	calls   chan *zrpc.Message
}

// waitTimeout bounds the waits of tests for something the server must do;
// hitting it is a failure, never an expected outcome.
const waitTimeout = 10 * time.Second

// rawDial connects and reads the server's announcement.
func rawDial(t testing.TB, srv *Server, tlsConf *tls.Config) *testClient {
	t.Helper()
	var nc net.Conn
	var err error
	if tlsConf != nil {
		nc, err = tls.Dial("tcp", srv.Addr(), tlsConf)
	} else {
		nc, err = net.Dial("tcp", srv.Addr())
	}
	if err != nil {
		t.Fatalf("dial %s: %v", srv.Addr(), err)
	}
	t.Cleanup(func() { nc.Close() })
	c := &testClient{t: t, nc: nc, fr: zrpc.NewFrameReader(nc), fw: zrpc.NewFrameWriter(nc), calls: make(chan *zrpc.Message, 1000)}
	nc.SetReadDeadline(time.Now().Add(waitTimeout))
	v, err := c.fr.ReadFrame()
	nc.SetReadDeadline(time.Time{})
	if err != nil {
		t.Fatalf("reading the server's version: %v", err)
	}
	c.server = zrpc.Version(v)
	return c
}

// answer sends the client's version.
func (c *testClient) answer(v zrpc.Version) {
	c.t.Helper()
	c.version = v
	if err := c.fw.WriteFrame([]byte(v)); err != nil {
		c.t.Fatal(err)
	}
	if err := c.fw.Flush(); err != nil {
		c.t.Fatal(err)
	}
}

// start runs the zrpc connection in the given dialect (msgpack for M5).
func (c *testClient) start(d pickle.Dialect) {
	c.t.Helper()
	enc := zrpc.EncodingFor(c.version, d, zrpc.ClientSide)
	c.conn = zrpc.NewConn(c.fr, c.fw, c.nc, zrpc.ConnOptions{
		Encoding: enc,
		Handler: func(_ *zrpc.Conn, m *zrpc.Message) {
			select {
			case c.calls <- m:
			default:
				c.t.Errorf("test client: too many server calls queued")
			}
		},
	})
	c.t.Cleanup(func() { c.conn.Close() })
}

// dial connects with the version a client of the server's own generation
// answers, in the profile's dialect.
func dial(t testing.TB, srv *Server) *testClient {
	t.Helper()
	c := rawDial(t, srv, nil)
	c.answer(c.server)
	c.start(srv.Profile().dialect())
	return c
}

// dialTLS is dial over TLS.
func dialTLS(t testing.TB, srv *Server, conf *tls.Config) *testClient {
	t.Helper()
	c := rawDial(t, srv, conf)
	c.answer(c.server)
	c.start(srv.Profile().dialect())
	return c
}

// call makes a sync call and fails the test on a transport error; remote
// errors come back as *zrpc.RemoteError.
func (c *testClient) call(method string, args ...pickle.Value) (pickle.Value, error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	v, err := c.conn.Call(ctx, method, args...)
	var re *zrpc.RemoteError
	if err != nil && !errors.As(err, &re) && !errors.Is(err, zrpc.ErrDisconnected) {
		c.t.Fatalf("%s: %v", method, err)
	}
	return v, err
}

// mustCall is call that fails the test on any error.
func (c *testClient) mustCall(method string, args ...pickle.Value) pickle.Value {
	c.t.Helper()
	v, err := c.call(method, args...)
	if err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
	return v
}

// notify makes a one-way call.
func (c *testClient) notify(method string, args ...pickle.Value) {
	c.t.Helper()
	if err := c.conn.Notify(context.Background(), method, args...); err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
}

// next returns the next one-way call the server made.
func (c *testClient) next() *zrpc.Message {
	c.t.Helper()
	select {
	case m := <-c.calls:
		return m
	case <-time.After(waitTimeout):
		c.t.Fatalf("no call from the server within %v", waitTimeout)
		return nil
	}
}

// pending returns the server calls received so far, without waiting.
func (c *testClient) pending() []*zrpc.Message {
	var out []*zrpc.Message
	for {
		select {
		case m := <-c.calls:
			out = append(out, m)
		default:
			return out
		}
	}
}

// waitClosed waits until the server has dropped the connection.
func (c *testClient) waitClosed() {
	c.t.Helper()
	select {
	case <-c.conn.Done():
	case <-time.After(waitTimeout):
		c.t.Fatalf("the server did not close the connection within %v", waitTimeout)
	}
}

// register registers with storage "1" writable (ZEO ≤ 4 clients first ask
// getAuthProtocol, as the reference client does).
func (c *testClient) register(srv *Server) {
	c.t.Helper()
	if srv.Profile().caps().GetAuthProtocol {
		c.mustCall("getAuthProtocol")
	}
	c.mustCall("register", "1", false)
}

// oid and tid helpers.
func oidArg(n uint64) pickle.Value { return pickle.Bytes(zodb.OIDFromUint64(n).Bytes()) }

func asTID(t testing.TB, v pickle.Value) zodb.TID {
	t.Helper()
	b, ok := pickle.AsBytes(v)
	if !ok || len(b) != 8 {
		t.Fatalf("not a tid: %s", pickle.Repr(v))
	}
	return zodb.TID(b)
}

// mappingRecord is a small ZODB-like data record: a class pickle then a state
// pickle.
func mappingRecord(state string) []byte {
	return []byte("\x80\x03cpersistent.mapping\nPersistentMapping\nq\x00N\x86q\x01.\x80\x03}q\x02X\x01\x00\x00\x00sq\x03X" +
		string([]byte{byte(len(state)), 0, 0, 0}) + state + "s.")
}

// commit runs a whole transaction storing data for oids (serial z64 for
// new objects) and returns the vote reply, the one-way calls seen before
// the tpc_finish reply and the tid.
func (c *testClient) commit(srv *Server, txn int64, stores map[uint64]zodb.TID, data []byte) (zodb.TID, []*zrpc.Message) {
	c.t.Helper()
	p := srv.Profile()
	c.beginTxn(p, txn)
	for oid, serial := range stores {
		c.store(p, txn, oid, serial, data)
	}
	c.mustCall("vote", txn)
	tid := asTID(c.t, c.mustCall("tpc_finish", txn))
	return tid, c.pending()
}

func (c *testClient) beginTxn(p Profile, txn int64) {
	c.t.Helper()
	if p.caps().UndoSync {
		c.mustCall("tpc_begin", txn, pickle.Bytes("user"), pickle.Bytes("desc"), pickle.NewDict(0), pickle.None, " ")
	} else {
		c.notify("tpc_begin", txn, pickle.Bytes("user"), pickle.Bytes("desc"), pickle.NewDict(0), pickle.None, " ")
	}
}

func (c *testClient) store(p Profile, txn int64, oid uint64, serial zodb.TID, data []byte) {
	c.t.Helper()
	if p.caps().VersionsAPI {
		c.notify("storea", oidArg(oid), pickle.Bytes(serial.Bytes()), pickle.Bytes(data), "", txn)
	} else {
		c.notify("storea", oidArg(oid), pickle.Bytes(serial.Bytes()), pickle.Bytes(data), txn)
	}
}
