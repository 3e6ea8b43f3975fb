package zrpc

import (
	"errors"
	"strings"
	"testing"
)

// Negotiate for every server announcement against every single-version
// allowed set and the default (all). "-" means no agreement is possible.
// Pre-5 servers accept any older version; ZEO 5.0 only Z5; M5 comes only
// from 5.1+, which take either letter.
func TestNegotiateMatrix(t *testing.T) {
	columns := []Version{Z200, Z201, Z303, Z308, Z309, Z310, Z3101, Z4, Z5, M5, ""}
	matrix := []struct {
		server Version
		want   []string // per column; the last is the default allowed set
	}{
		{Z200, []string{"Z200", "-", "-", "-", "-", "-", "-", "-", "-", "-", "Z200"}},
		{Z201, []string{"Z200", "Z201", "-", "-", "-", "-", "-", "-", "-", "-", "Z201"}},
		{Z303, []string{"Z200", "Z201", "Z303", "-", "-", "-", "-", "-", "-", "-", "Z303"}},
		{Z308, []string{"Z200", "Z201", "Z303", "Z308", "-", "-", "-", "-", "-", "-", "Z308"}},
		{Z309, []string{"Z200", "Z201", "Z303", "Z308", "Z309", "-", "-", "-", "-", "-", "Z309"}},
		{Z310, []string{"Z200", "Z201", "Z303", "Z308", "Z309", "Z310", "-", "-", "-", "-", "Z310"}},
		{Z3101, []string{"Z200", "Z201", "Z303", "Z308", "Z309", "Z310", "Z3101", "-", "-", "-", "Z3101"}},
		{Z4, []string{"Z200", "Z201", "Z303", "Z308", "Z309", "Z310", "Z3101", "Z4", "-", "-", "Z4"}},
		{Z5, []string{"-", "-", "-", "-", "-", "-", "-", "-", "Z5", "-", "Z5"}},
		{M5, []string{"-", "-", "-", "-", "-", "-", "-", "-", "Z5", "M5", "M5"}},
	}
	for _, row := range matrix {
		for i, col := range columns {
			var allowed []Version
			name := "default"
			if col != "" {
				allowed = []Version{col}
				name = string(col)
			}
			n, err := Negotiate(row.server, allowed)
			want := row.want[i]
			if want == "-" {
				var ne *NegotiationError
				if !errors.Is(err, ErrProtocolMismatch) || !errors.As(err, &ne) {
					t.Errorf("server %s, allowed %s: got %+v, %v; want a mismatch", row.server, name, n, err)
					continue
				}
				if ne.Server != row.server || !strings.Contains(err.Error(), string(row.server)) || !strings.Contains(err.Error(), name) {
					t.Errorf("server %s, allowed %s: error does not name both sides: %v", row.server, name, err)
				}
				continue
			}
			if err != nil || n.Chosen != Version(want) || n.Server != row.server {
				t.Errorf("server %s, allowed %s: got %+v, %v; want %s", row.server, name, n, err, want)
				continue
			}
			if !strings.Contains(n.Reason, "server announced "+string(row.server)) || !strings.Contains(n.Reason, "replied "+want) {
				t.Errorf("server %s, allowed %s: reason %q", row.server, name, n.Reason)
			}
		}
	}
}

func TestNegotiateReasons(t *testing.T) {
	cases := []struct {
		server  Version
		allowed []Version
		chosen  Version
		reason  string
	}{
		{Z3101, nil, Z3101, "server announced Z3101; replied Z3101, the highest version both sides speak"},
		{Z310, []Version{Z308, Z3101}, Z308, "server announced Z310; replied Z308, the highest allowed version that server accepts (Z310 itself is not allowed)"},
		{M5, []Version{Z5, Z4}, Z5, "server announced M5; replied Z5 because M5 is not allowed, and ZEO 5.1+ servers use the encoding of the client's letter"},
		{Z5, []Version{M5, Z5}, Z5, "highest version both sides speak"},
		{Z4, []Version{Z5, Z3101, Z308}, Z3101, "replied Z3101"},
	}
	for _, c := range cases {
		n, err := Negotiate(c.server, c.allowed)
		if err != nil || n.Chosen != c.chosen || !strings.Contains(n.Reason, c.reason) {
			t.Errorf("Negotiate(%s, %v) = %+v, %v; want %s because %q", c.server, c.allowed, n, err, c.chosen, c.reason)
		}
	}
}

func TestNegotiateErrors(t *testing.T) {
	cases := []struct {
		server  Version
		allowed []Version
		says    []string
	}{
		// A ZEO 5.0 server also announces Z5 and takes only Z5 back.
		{Z5, []Version{M5}, []string{"server announced Z5", "ZEO 5.0 server accepts [Z5]", "allowed versions [M5]", "allow one of [Z5]"}},
		{Z4, []Version{Z5, M5}, []string{"server announced Z4", "ZEO 4.2 – 4.3 server accepts [Z200 Z201 Z303 Z308 Z309 Z310 Z3101 Z4]", "[Z5 M5]"}},
		{Z201, []Version{Z303}, []string{"accepts any string from Z200 to Z201"}},
		{"HTTP/1.0", nil, []string{"server announced 'HTTP/1.0', which is not the version string of any ZEO release"}},
		{"Z6", nil, []string{"'Z6'", "newer or older than this package knows"}},
		{"ruok", nil, []string{"the peer is a client"}},
		{"\x80\x03(K", nil, []string{`'\x80\x03(K'`}},
	}
	for _, c := range cases {
		_, err := Negotiate(c.server, c.allowed)
		var ne *NegotiationError
		if !errors.Is(err, ErrProtocolMismatch) || !errors.As(err, &ne) {
			t.Errorf("Negotiate(%q, %v): got %v, want a *NegotiationError", c.server, c.allowed, err)
			continue
		}
		for _, s := range c.says {
			if !strings.Contains(err.Error(), s) {
				t.Errorf("Negotiate(%q, %v): %q does not say %q", c.server, c.allowed, err, s)
			}
		}
	}
}

func TestNegotiateUnknownAllowed(t *testing.T) {
	_, err := Negotiate(Z5, []Version{Z5, "Z6"})
	if !errors.Is(err, ErrUnknownVersion) || errors.Is(err, ErrProtocolMismatch) || !strings.Contains(err.Error(), "'Z6'") {
		t.Fatalf("got %v, want ErrUnknownVersion naming 'Z6'", err)
	}
}
