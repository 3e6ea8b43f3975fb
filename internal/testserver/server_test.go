package testserver

import (
	"context"
	"errors"
	"net"
	"strings"
	"testing"
)

func TestListenAndServeStopsWithContext(t *testing.T) {
	srv, err := New(Options{Profile: "z4-py27"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ListenAndServe(ctx, "127.0.0.1:0") }()
	waitFor(t, func() bool { return srv.Addr() != "" })
	c := dial(t, srv)
	c.register(srv)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("ListenAndServe returned %v after its context ended, want nil", err)
	}
	c.waitClosed()
	if err := srv.Serve(nil); !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve after Close: %v", err)
	}
}

func TestServeReturnsAfterClose(t *testing.T) {
	srv, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	if srv.Profile().Name != DefaultProfile {
		t.Fatalf("default profile %s", srv.Profile().Name)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(l) }()
	waitFor(t, func() bool { return srv.Addr() != "" })
	srv.Close()
	if err := <-done; !errors.Is(err, ErrServerClosed) {
		t.Fatalf("Serve returned %v, want ErrServerClosed", err)
	}
	if _, err := New(Options{Profile: "z999"}); err == nil {
		t.Fatal("unknown profile accepted")
	}
}

// Options.Addr starts a server where a closed one listened, the port a
// reconnecting client keeps dialing; the closed server's client
// connections do not keep it from binding.
func TestAddrTakesOverAClosedServersPort(t *testing.T) {
	old := Start(t, Options{Profile: "z3101-py27"})
	c := dial(t, old)
	c.register(old)
	addr := old.Addr()
	old.Close()
	c.waitClosed()

	srv := Start(t, Options{Profile: "z5-py3", Addr: addr})
	if srv.Addr() != addr {
		t.Fatalf("server listens on %s, want %s", srv.Addr(), addr)
	}
	c = dial(t, srv)
	c.register(srv)
	if c.server != srv.Profile().Announce() {
		t.Fatalf("the client at %s met %q, want the new server's %q", addr, c.server, srv.Profile().Announce())
	}
}

// StartLocal fails, naming the address, when it cannot listen on Addr:
// an address that is not one, or a port a live server holds (after the
// retries meant for a port just released).
func TestAddrStartLocalFails(t *testing.T) {
	live := Start(t, Options{})
	for _, addr := range []string{"127.0.0.1:notaport", live.Addr()} {
		srv, err := StartLocal(Options{Addr: addr})
		if err == nil {
			srv.Close()
			t.Errorf("StartLocal on %s succeeded", addr)
			continue
		}
		if !strings.Contains(err.Error(), addr) {
			t.Errorf("StartLocal on %s: %v, want the address in the error", addr, err)
		}
	}
}
