package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/internal/testserver"
)

func TestProbe(t *testing.T) {
	for _, p := range []string{"z308-py24", "z3101-py27", "z5-py3", "m5-py3"} {
		t.Run(p, func(t *testing.T) {
			srv := testserver.Start(t, testserver.Options{Profile: p})
			var out, errOut bytes.Buffer
			if code := run([]string{"-addr", srv.Addr()}, &out, &errOut); code != 0 {
				t.Fatalf("exit %d: %s", code, errOut.String())
			}
			for _, want := range []string{"announced    " + string(srv.Profile().Announce()), "negotiated", "encoding", "auth         none required", "last txn", "Load"} {
				if !strings.Contains(out.String(), want) {
					t.Errorf("output lacks %q:\n%s", want, out.String())
				}
			}
		})
	}
}

func TestProbeAuthRequired(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Profile: "z4-py27", Auth: &testserver.Auth{Realm: "r", Users: map[string]string{"alice": "secret"}}})
	var out, errOut bytes.Buffer
	if code := run([]string{"-addr", srv.Addr()}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "authentication required: yes") {
		t.Errorf("without credentials: exit %d, stderr %s", code, errOut.String())
	}
	out.Reset()
	if code := run([]string{"-addr", srv.Addr(), "-user", "alice", "-password", "secret"}, &out, &errOut); code != 0 || !strings.Contains(out.String(), "digest required, authenticated: true") {
		t.Errorf("with credentials: exit %d, out %s", code, out.String())
	}
}

func TestProbeUnreachable(t *testing.T) {
	var out, errOut bytes.Buffer
	if code := run([]string{"-addr", "127.0.0.1:1", "-timeout", "2s"}, &out, &errOut); code != 1 || !strings.Contains(errOut.String(), "cannot talk to") {
		t.Errorf("exit %d, stderr %s", code, errOut.String())
	}
	if code := run(nil, &out, &errOut); code != 2 {
		t.Errorf("no -addr: exit %d", code)
	}
}
