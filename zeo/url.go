package zeo

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// target is where to connect and what the address itself asked for.
type target struct {
	network string // "tcp" or "unix"
	address string // host:port or socket path
	host    string // for TLS ServerName; "" for unix sockets
}

// AddressError reports an address Dial cannot use.
type AddressError struct {
	Address string
	Reason  string
}

// Error says what is wrong with the address and what forms are accepted.
func (e *AddressError) Error() string {
	return fmt.Sprintf("zeo: bad address %q: %s (use host:port, a Unix socket path, or zeo://host:port?storage=NAME)", e.Address, e.Reason)
}

// parseTarget reads the three address forms Dial accepts, applying the
// query parameters of a zeo:// URL to o:
//
//	host:port                         TCP
//	/path/to/zeo.sock, ./zeo.sock     Unix socket (anything with a slash)
//	zeo://host:port?storage=1         TCP, with options
//	zeo:///path/to/zeo.sock?storage=1 Unix socket, with options
//
// URL parameters: storage, read_only, read_only_fallback (true/false/1/0)
// and label. They override the corresponding Options fields.
func parseTarget(s string, o *Options) (target, error) {
	if s == "" {
		return target{}, &AddressError{Address: s, Reason: "empty address"}
	}
	if strings.HasPrefix(s, "zeo://") || strings.HasPrefix(s, "unix://") {
		return parseURL(s, o)
	}
	if strings.Contains(s, "/") {
		return target{network: "unix", address: s}, nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		return target{}, &AddressError{Address: s, Reason: err.Error()}
	}
	if port == "" {
		return target{}, &AddressError{Address: s, Reason: "missing port"}
	}
	return target{network: "tcp", address: s, host: host}, nil
}

func parseURL(s string, o *Options) (target, error) {
	u, err := url.Parse(s)
	if err != nil {
		return target{}, &AddressError{Address: s, Reason: err.Error()}
	}
	var t target
	switch {
	case u.Scheme == "unix" || (u.Scheme == "zeo" && u.Host == ""):
		if u.Path == "" {
			return target{}, &AddressError{Address: s, Reason: "no socket path"}
		}
		t = target{network: "unix", address: u.Path}
	default:
		if u.Port() == "" {
			return target{}, &AddressError{Address: s, Reason: "missing port"}
		}
		if u.Path != "" && u.Path != "/" {
			return target{}, &AddressError{Address: s, Reason: "a TCP address takes no path; name the storage with ?storage="}
		}
		t = target{network: "tcp", address: u.Host, host: u.Hostname()}
	}
	q := u.Query()
	for key, vals := range q {
		v := vals[len(vals)-1]
		switch key {
		case "storage":
			o.Storage = v
		case "label":
			o.Label = v
		case "read_only", "read_only_fallback":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return target{}, &AddressError{Address: s, Reason: fmt.Sprintf("%s=%q is not a boolean", key, v)}
			}
			if key == "read_only" {
				o.ReadOnly = b
			} else {
				o.ReadOnlyFallback = b
			}
		default:
			return target{}, &AddressError{Address: s, Reason: fmt.Sprintf("unknown parameter %q (known: storage, read_only, read_only_fallback, label)", key)}
		}
	}
	return t, nil
}
