// Command zeoprobe connects to a ZEO server of any generation and prints
// what it speaks: the version it announced, what the client negotiated and
// why, the message encoding, whether it requires authentication, the
// storage's get_info, the last transaction, and which operations the
// negotiated protocol supports.
//
//	go run ./examples/zeoprobe -addr localhost:8100
//
// It registers read-only, so it never changes the storage.
package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/gozeo/gozeo/zeo"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("zeoprobe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "", "server address: HOST:PORT, a Unix socket path, or zeo://HOST:PORT?storage=NAME (required)")
	storage := fs.String("storage", "", "storage name to register (default \"1\")")
	timeout := fs.Duration("timeout", 10*time.Second, "give up connecting after this long")
	version := fs.String("version", "", "allow only this protocol version (e.g. Z308, Z3101, Z4, Z5, M5); default: negotiate")
	user := fs.String("user", "", "user name for digest authentication (ZEO 3.x/4.x servers)")
	password := fs.String("password", "", "password for digest authentication")
	realm := fs.String("realm", "", "realm for digest authentication (default: the server's)")
	useTLS := fs.Bool("tls", false, "connect with TLS (ZEO 5 servers with an <ssl> section)")
	tlsCA := fs.String("tls-ca", "", "PEM file of the CA that signed the server's certificate (implies -tls)")
	tlsCert := fs.String("tls-cert", "", "PEM client certificate; ZEO 5 TLS servers require one (implies -tls)")
	tlsKey := fs.String("tls-key", "", "PEM key of -tls-cert")
	tlsInsecure := fs.Bool("tls-insecure", false, "do not verify the server's certificate (testing only)")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `zeoprobe connects to a ZEO server and prints what it speaks: the version it
announces, what gets negotiated and why, the message encoding, whether it
requires authentication, its storage information, its last transaction, and
which operations the negotiated protocol supports. It registers read-only.

Usage:
  zeoprobe -addr HOST:PORT [flags]

Examples:
  zeoprobe -addr localhost:8100
  zeoprobe -addr 'zeo://db:8100?storage=main' -version Z308
  zeoprobe -addr db:8100 -user alice -password secret
  zeoprobe -addr db:8100 -tls-ca ca.pem -tls-cert client.pem -tls-key client.key

Flags:
`)
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "\nExit status: 0 on success, 1 when the server cannot be reached or spoken to, 2 for bad flags.")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *addr == "" {
		fmt.Fprintln(stderr, "zeoprobe: -addr is required (e.g. -addr localhost:8100); see -h")
		return 2
	}

	opts := &zeo.Options{Storage: *storage, ReadOnly: true, Label: "zeoprobe"}
	if *version != "" {
		opts.Versions = []zeo.Version{zeo.Version(*version)}
	}
	if *user != "" {
		opts.Credentials = &zeo.Credentials{User: *user, Password: *password, Realm: *realm}
	}
	if *useTLS || *tlsCA != "" || *tlsCert != "" {
		cfg, err := tlsConfig(*tlsCA, *tlsCert, *tlsKey, *tlsInsecure)
		if err != nil {
			fmt.Fprintln(stderr, "zeoprobe:", err)
			return 2
		}
		opts.TLS = cfg
	}

	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	c, err := zeo.Dial(ctx, *addr, opts)
	if err != nil {
		explain(stderr, *addr, err)
		return 1
	}
	defer c.Close()
	report(ctx, stdout, c)
	return 0
}

// explain prints why the probe could not talk to the server, with what it
// learned before failing.
func explain(w io.Writer, addr string, err error) {
	fmt.Fprintf(w, "zeoprobe: cannot talk to %s\n  %v\n", addr, err)
	var pm *zeo.ProtocolMismatchError
	var ae *zeo.AuthError
	switch {
	case errors.As(err, &pm):
		fmt.Fprintf(w, "  the server announced %s; allowed versions: %v\n", pm.Announced, pm.Allowed)
	case errors.As(err, &ae):
		fmt.Fprintf(w, "  authentication required: yes (negotiated %s); pass -user and -password\n", ae.Version)
	case errors.Is(err, context.DeadlineExceeded):
		fmt.Fprintln(w, "  hint: nothing answered in time; a ZEO 5 server with TLS waits silently for a TLS client (-tls)")
	}
}

func report(ctx context.Context, w io.Writer, c *zeo.Client) {
	s := c.Session()
	fmt.Fprintf(w, "server       %s\n", s.Server)
	fmt.Fprintf(w, "announced    %s\n", s.Announced)
	fmt.Fprintf(w, "negotiated   %s (%s)\n", s.Negotiated, s.Reason)
	fmt.Fprintf(w, "encoding     %s\n", s.Encoding)
	switch {
	case s.AuthProtocol == "":
		fmt.Fprintf(w, "auth         none required\n")
	default:
		fmt.Fprintf(w, "auth         %s required, authenticated: %v\n", s.AuthProtocol, s.Authenticated)
	}
	fmt.Fprintf(w, "tls          %v\n", s.TLS)
	fmt.Fprintf(w, "storage      %q (registered read-only)\n", s.Storage)

	info := c.ServerInfo()
	fmt.Fprintf(w, "\nget_info\n")
	fmt.Fprintf(w, "  name       %s\n", info.Name)
	fmt.Fprintf(w, "  length     %d objects\n", info.Length)
	fmt.Fprintf(w, "  size       %d bytes\n", info.Size)
	fmt.Fprintf(w, "  undo       %v\n", info.SupportsUndo)
	if len(info.Interfaces) > 0 {
		fmt.Fprintf(w, "  interfaces %s\n", strings.Join(info.Interfaces, ", "))
	}
	var keys []string
	for k := range info.Raw {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	fmt.Fprintf(w, "  keys       %s\n", strings.Join(keys, ", "))

	fmt.Fprintln(w)
	if last, err := c.LastTransaction(ctx); err != nil {
		fmt.Fprintf(w, "last txn     unavailable: %v\n", err)
	} else if last == (zeo.TID{}) {
		fmt.Fprintf(w, "last txn     %s (empty storage)\n", last)
	} else {
		fmt.Fprintf(w, "last txn     %s  %s UTC\n", last, last.TimeString())
	}

	fmt.Fprintf(w, "\noperations under %s\n", s.Negotiated)
	for _, op := range zeo.Operations() {
		if m, ok := c.Supports(op); ok {
			fmt.Fprintf(w, "  %-20s yes  (%s)\n", op, m)
		} else {
			fmt.Fprintf(w, "  %-20s no\n", op)
		}
	}
}

func tlsConfig(caFile, certFile, keyFile string, insecure bool) (*tls.Config, error) {
	cfg := &tls.Config{InsecureSkipVerify: insecure}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("-tls-ca %s: no PEM certificate in it", caFile)
		}
		cfg.RootCAs = pool
	}
	if certFile != "" {
		if keyFile == "" {
			keyFile = certFile
		}
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			return nil, fmt.Errorf("-tls-cert/-tls-key: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
