package testserver

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
	"github.com/gozeo/gozeo/zrpc"
)

func TestFaultCloseAtMethod(t *testing.T) {
	srv := Start(t, Options{Profile: "z5-py3", Faults: Faults{Rules: []FaultRule{{Method: "get_info", Action: FaultClose}}}})
	c := dial(t, srv)
	c.register(srv)
	c.mustCall("lastTransaction")
	if _, err := c.call("get_info"); !errors.Is(err, zrpc.ErrDisconnected) {
		t.Fatalf("get_info: %v, want the connection closed", err)
	}
}

func TestFaultCloseAfterFrames(t *testing.T) {
	srv := Start(t, Options{Profile: "z3101-py27", Faults: Faults{Rules: []FaultRule{{AfterFrames: 3, Action: FaultClose}}}})
	c := dial(t, srv)
	c.mustCall("getAuthProtocol")      // frame 1
	c.mustCall("register", "1", false) // frame 2
	if _, err := c.call("lastTransaction"); !errors.Is(err, zrpc.ErrDisconnected) {
		t.Fatalf("third frame: %v, want the connection closed", err)
	}
}

func TestFaultDelayHoldsTheConnection(t *testing.T) {
	srv := Start(t, Options{Profile: "z5-py3"})
	c := dial(t, srv)
	c.register(srv)
	srv.SetFaults(Faults{Rules: []FaultRule{{Method: "lastTransaction", Action: FaultDelay, Delay: time.Hour}}})
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.conn.Call(ctx, "lastTransaction"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("delayed call: %v, want no reply yet", err)
	}
	// Calls behind it wait too: the server reads nothing meanwhile.
	ctx2, cancel2 := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel2()
	if _, err := c.conn.Call(ctx2, "ping"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("call behind a delayed one: %v", err)
	}
	// A short delay lets the call through.
	srv.SetFaults(Faults{Rules: []FaultRule{{Method: "get_info", Action: FaultDelay, Delay: time.Millisecond}}})
	other := dial(t, srv)
	other.register(srv)
	other.mustCall("get_info")
	srv.Close() // ends the hour-long delay
	c.waitClosed()
}

func TestFaultDelayReplyReordersReplies(t *testing.T) {
	srv := Start(t, Options{Profile: "z3101-py27", Faults: Faults{Rules: []FaultRule{{Method: "lastTransaction", Action: FaultDelayReply, Delay: time.Hour}}}})
	c := rawDial(t, srv, nil)
	c.answer(c.server)
	enc := zrpc.NewPickleEncoding(zrpc.Z3101Client.Style())
	c.rawCall(enc, "register", "1", false)
	// Sent in this order on one connection, so handled in this order.
	for i, m := range []string{"lastTransaction", "get_info", "getAuthProtocol"} {
		p, _ := enc.AppendMessage(nil, &zrpc.Message{ID: int64(10 + i), Method: m, Args: pickle.Tuple{}})
		c.fw.WriteFrame(p)
	}
	c.fw.Flush()
	// The later calls are answered while lastTransaction's reply waits.
	for _, want := range []int64{11, 12} {
		p, err := c.fr.ReadFrame()
		if err != nil {
			t.Fatal(err)
		}
		m, err := enc.DecodeMessage(p)
		if err != nil {
			t.Fatal(err)
		}
		if id, _ := pickle.AsInt(m.ID); id != want {
			t.Fatalf("got the reply to msgid %d first, want %d", id, want)
		}
	}
}

func TestFaultStall(t *testing.T) {
	srv := Start(t, Options{Profile: "z4-py27", Faults: Faults{Rules: []FaultRule{{Method: "lastTransaction", Action: FaultStall}}}})
	c := dial(t, srv)
	c.register(srv)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := c.conn.Call(ctx, "lastTransaction"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stalled call: %v", err)
	}
	select {
	case <-c.conn.Done():
		t.Fatal("a stall closed the connection")
	default:
	}
	if srv.Conns() != 1 {
		t.Fatalf("%d connections, want the stalled one", srv.Conns())
	}
	srv.Close()
	c.waitClosed()
}

func TestFaultCorruptFrame(t *testing.T) {
	for _, profile := range []string{"z3101-py27", "z5-py3", "m5-py3"} {
		srv := Start(t, Options{Profile: profile, Faults: Faults{Rules: []FaultRule{{Method: "get_info", Action: FaultCorruptFrame}}}})
		c := dial(t, srv)
		c.register(srv)
		_, err := c.call("get_info")
		if !errors.Is(err, zrpc.ErrDisconnected) || !errors.Is(err, zrpc.ErrUndecodable) {
			t.Fatalf("%s: %v, want the client to drop an undecodable frame", profile, err)
		}
	}
}

func TestFaultGarbage(t *testing.T) {
	srv := Start(t, Options{Profile: "z5-py3", Faults: Faults{Rules: []FaultRule{{Method: "get_info", Action: FaultGarbage}}}})
	c := dial(t, srv)
	c.register(srv)
	_, err := c.call("get_info")
	if !errors.Is(err, zrpc.ErrFrameTooLarge) {
		t.Fatalf("%v, want a framing error", err)
	}
}

func TestFaultAnnounce(t *testing.T) {
	srv := Start(t, Options{Profile: "z3101-py27", Faults: Faults{Announce: zrpc.Z4}})
	c := rawDial(t, srv, nil)
	if c.server != zrpc.Z4 {
		t.Fatalf("announced %q, want the injected Z4", c.server)
	}
	// The profile's acceptance rule still applies: 3.10 does not take Z4.
	c.answer(zrpc.Z4)
	c.start(pickle.Python2)
	if _, err := c.call("getAuthProtocol"); !errors.Is(err, zrpc.ErrDisconnected) {
		t.Fatalf("Z4 answered to a 3.10 server: %v", err)
	}
	ok := rawDial(t, srv, nil)
	ok.answer(zrpc.Z3101)
	ok.start(pickle.Python2)
	ok.mustCall("getAuthProtocol")
}

func TestRestartWhileConnected(t *testing.T) {
	srv := Start(t, Options{Profile: "z5-py3"})
	c := dial(t, srv)
	c.register(srv)
	tid, _ := c.commit(srv, 1, map[uint64]zodb.TID{1: zodb.ZeroTID}, mappingRecord("kept"))
	addr := srv.Addr()
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	c.waitClosed()
	if srv.Addr() != addr {
		t.Fatalf("restarted on %s, want %s", srv.Addr(), addr)
	}
	again := dial(t, srv)
	if got := asTID(t, again.mustCall("register", "1", false)); got != tid {
		t.Fatalf("after restart the last tid is %s, want %s (data survives a restart)", got, tid)
	}
}

func TestCloseEndsWaitingVote(t *testing.T) {
	// A vote waiting for the commit lock does not keep Close from
	// returning.
	srv := Start(t, Options{Profile: "z3101-py27"})
	p := srv.Profile()
	a, b := dial(t, srv), dial(t, srv)
	a.register(srv)
	b.register(srv)
	a.beginTxn(p, 1)
	a.mustCall("vote", int64(1))
	b.beginTxn(p, 2)
	go b.call("vote", int64(2)) //nolint:errcheck // ends disconnected
	waitFor(t, func() bool { return srv.stats.waiting.Load() == 1 })
	srv.Close()
	b.waitClosed()
}

// waitFor polls cond until it holds (a failure after waitTimeout).
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not reached")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRestartDropsConnectionInHandshake(t *testing.T) {
	// A client that has connected but not yet answered the version is
	// dropped by Restart like the others, rather than holding Restart
	// until the handshake times out.
	srv := Start(t, Options{Profile: "z5-py3"})
	silent := rawDial(t, srv, nil)
	restarted := make(chan error, 1)
	go func() { restarted <- srv.Restart() }()
	select {
	case err := <-restarted:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(waitTimeout):
		t.Fatalf("Restart still waiting after %v for a connection in its handshake", waitTimeout)
	}
	silent.nc.SetReadDeadline(time.Now().Add(waitTimeout))
	if _, err := silent.fr.ReadFrame(); err == nil {
		t.Fatal("the connection in its handshake survived the restart")
	}
	again := dial(t, srv)
	again.mustCall("register", "1", false)
}
