package zrpc

import (
	"errors"
	"io"
	"strings"
	"testing"
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
