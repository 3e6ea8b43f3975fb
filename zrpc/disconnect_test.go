package zrpc

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/pickle"
)

func TestDisconnectedErrorMatching(t *testing.T) {
	var err error = &DisconnectedError{Cause: io.ErrUnexpectedEOF, Method: "loadEx", Peer: "127.0.0.1:8100"}
	if !errors.Is(err, ErrDisconnected) {
		t.Error("errors.Is(err, ErrDisconnected) = false")
	}
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Error("errors.Is(err, cause) = false")
	}
	if errors.Is(err, ErrClosed) {
		t.Error("errors.Is(err, ErrClosed) = true for a peer close")
	}
	msg := err.Error()
	for _, want := range []string{"loadEx", "127.0.0.1:8100", "unexpected EOF"} {
		if !strings.Contains(msg, want) {
			t.Errorf("Error() = %q, missing %q", msg, want)
		}
	}
}

// A call refused because the connection has ended finds Err set too: a
// client that retries while Err says the connection is up would
// otherwise spin through its attempts on a dead connection (it did, in
// the window between marking the connection closed and closing Done).
func TestRefusedCallSeesErr(t *testing.T) {
	for range 2000 {
		c, _ := newPipeConn(t, ConnOptions{})
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // calls that get in are abandoned at once
		go c.Abort(io.EOF)
		for {
			_, err := c.Call(ctx, "loadEx", pickle.Bytes("12345678"))
			if !errors.Is(err, ErrDisconnected) {
				continue // sent and abandoned: the connection is still up
			}
			if c.Err() == nil {
				t.Fatalf("Call failed with %v while Err() is nil", err)
			}
			break
		}
		c.Close()
	}
}
