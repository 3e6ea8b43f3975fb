package testserver

import (
	"context"
	"errors"
	"net"
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
