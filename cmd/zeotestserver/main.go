// Command zeotestserver runs the gozeo test server: a ZEO server written in Go
// that imitates one real server generation (ZODB 3.8 on Python 2.4 up to
// ZEO 6 with msgpack), so that tools and clients can be tested against any
// generation without Python.
//
//	go run ./cmd/zeotestserver -profile z309-py26 -addr 127.0.0.1:8100
//	go run ./cmd/zeotestserver -profile z3101-py27 -realm zeo -user alice:secret
//	go run ./cmd/zeotestserver -profile z5-py3 -tls -tls-dir /tmp/zeo-tls -seed 3 -v
//
// Run with -h for every flag and the list of profiles.
package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zodb"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// userFlags collects repeated -user name:password flags.
type userFlags map[string]string

func (u userFlags) String() string { return "" }

func (u userFlags) Set(s string) error {
	name, password, ok := strings.Cut(s, ":")
	if !ok || name == "" {
		return fmt.Errorf("want name:password, got %q", s)
	}
	u[name] = password
	return nil
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("zeotestserver", flag.ContinueOnError)
	fs.SetOutput(stderr)
	profile := fs.String("profile", testserver.DefaultProfile, "server generation to imitate (see Profiles above)")
	addr := fs.String("addr", "127.0.0.1:8100", "TCP address to listen on (port 0 picks a free one)")
	storage := fs.String("storage", "1", "storage name clients register with")
	readOnly := fs.Bool("read-only", false, "serve read-only, like ZEO's read-only option")
	authDB := fs.String("auth-db", "", "digest authentication: password database file in zeopasswd format (ZODB 3.x / ZEO 4 profiles)")
	realm := fs.String("realm", "", "digest authentication realm; must match the database's realm line")
	users := userFlags{}
	fs.Var(users, "user", "digest authentication user as name:password (repeatable; instead of -auth-db)")
	useTLS := fs.Bool("tls", false, "serve over TLS with a throwaway CA, requiring client certificates (ZEO 5 profiles); the client's files go to -tls-dir")
	tlsDir := fs.String("tls-dir", "", "with -tls: directory for ca.pem, client.pem and client-key.pem (default: a new temporary directory)")
	tlsCert := fs.String("tls-cert", "", "serve over TLS with this certificate file (PEM) instead of a throwaway one")
	tlsKey := fs.String("tls-key", "", "the key of -tls-cert (PEM)")
	tlsClientCA := fs.String("tls-client-ca", "", "with -tls-cert: CA file (PEM) that signed the client certificates")
	seed := fs.Int("seed", 0, "create this many objects (oids 0, 1, …; PersistentMapping records) before serving")
	blobDir := fs.String("blob-dir", "", "keep blobs in this directory, in ZODB's bushy layout, so that clients on this machine can use it as a shared blob directory (Z308+ profiles; default: a temporary one)")
	noBlobs := fs.Bool("no-blobs", false, "serve a storage without blob support, as a FileStorage without blob_dir")
	verbose := fs.Bool("v", false, "log every connection and call to stderr")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `zeotestserver runs a ZEO server written in Go that imitates one real server
generation: its version announcement and acceptance rule, method set, reply
and error shapes, pickle dialect, invalidations and store results. Use it to
test ZEO clients and tools against any generation without installing Python.
Data lives in memory and is lost when the server stops.

Usage:
  zeotestserver [flags]       (or: go run ./cmd/zeotestserver [flags])

Profiles:
`)
		for _, p := range testserver.Profiles() {
			fmt.Fprintf(stderr, "  %-11s %s, announces %s\n", p.Name, p.Release, p.Announce())
		}
		fmt.Fprintf(stderr, "\nFlags:\n")
		fs.PrintDefaults()
		fmt.Fprintf(stderr, `
Examples:
  zeotestserver -profile z309-py26 -addr 127.0.0.1:8100
  zeotestserver -profile z3101-py27 -realm zeo -user alice:secret
  zeotestserver -profile z5-py3 -tls -tls-dir /tmp/zeo-tls -seed 3 -v
`)
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "testserver: unexpected argument %q; see -h\n", fs.Arg(0))
		return 2
	}

	opts := testserver.Options{Profile: *profile, Storage: *storage, ReadOnly: *readOnly, BlobDir: *blobDir, NoBlobs: *noBlobs}
	if *verbose {
		opts.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if *authDB != "" || *realm != "" || len(users) > 0 {
		opts.Auth = &testserver.Auth{Realm: *realm, DBPath: *authDB}
		if len(users) > 0 {
			opts.Auth.Users = users
		}
	}
	var notes []string
	switch {
	case *tlsCert != "":
		conf, err := loadTLS(*tlsCert, *tlsKey, *tlsClientCA)
		if err != nil {
			fmt.Fprintln(stderr, "testserver:", err)
			return 1
		}
		opts.TLS = conf
	case *useTLS:
		conf, dir, err := throwawayTLS(*tlsDir)
		if err != nil {
			fmt.Fprintln(stderr, "testserver:", err)
			return 1
		}
		opts.TLS = conf
		notes = append(notes, fmt.Sprintf("TLS: clients need the certificate %s and key %s, and trust %s",
			filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem"), filepath.Join(dir, "ca.pem")))
	}

	srv, err := testserver.New(opts)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer srv.Close()
	if *seed > 0 {
		tid, err := seedObjects(ctx, srv, *seed)
		if err != nil {
			fmt.Fprintln(stderr, "testserver: seeding:", err)
			return 1
		}
		notes = append(notes, fmt.Sprintf("seeded %d objects (oids 0000000000000000…%016x) in transaction %s", *seed, *seed-1, tid))
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", *addr)
	if err != nil {
		fmt.Fprintf(stderr, "testserver: cannot listen on %s: %v\n", *addr, err)
		return 1
	}
	p := srv.Profile()
	fmt.Fprintf(stdout, "Serving storage %q as %s (%s) on %s.\n", *storage, p.Name, p.Release, ln.Addr())
	for _, n := range notes {
		fmt.Fprintln(stdout, n)
	}
	fmt.Fprintln(stdout, "Stop with Ctrl-C.")
	stopServer := context.AfterFunc(ctx, func() { srv.Close() })
	defer stopServer()
	if err := srv.Serve(ln); err != nil && !errors.Is(err, testserver.ErrServerClosed) {
		fmt.Fprintln(stderr, err)
		return 1
	}
	return 0
}

// seedObjects commits n PersistentMapping records, oids 0 to n-1, in the
// record format the profile's Python writes.
func seedObjects(ctx context.Context, srv *testserver.Server, n int) (zodb.TID, error) {
	format := srv.Profile().RecordFormat()
	objects := make(map[zodb.OID][]byte, n)
	for i := range n {
		data, err := record.EncodeObject(record.ClassPersistentMapping, pickle.DictOf("data", pickle.DictOf("name", fmt.Sprintf("object %d", i))), format)
		if err != nil {
			return zodb.TID{}, err
		}
		objects[zodb.OIDFromUint64(uint64(i))] = data
	}
	return srv.Store().SeedMany(ctx, objects)
}

// throwawayTLS makes a CA, server and client certificate and writes what a
// client needs to dir.
func throwawayTLS(dir string) (*tls.Config, string, error) {
	server, client, err := testserver.NewTLSPair()
	if err != nil {
		return nil, "", err
	}
	if dir == "" {
		if dir, err = os.MkdirTemp("", "gozeo-tls-"); err != nil {
			return nil, "", err
		}
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, "", err
	}
	cert := client.Certificates[0]
	key, err := x509.MarshalECPrivateKey(cert.PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		return nil, "", err
	}
	files := []struct {
		name, kind string
		der        []byte
	}{
		{"ca.pem", "CERTIFICATE", server.Certificates[0].Certificate[1]},
		{"client.pem", "CERTIFICATE", cert.Certificate[0]},
		{"client-key.pem", "EC PRIVATE KEY", key},
	}
	for _, f := range files {
		data := pem.EncodeToMemory(&pem.Block{Type: f.kind, Bytes: f.der})
		if err := os.WriteFile(filepath.Join(dir, f.name), data, 0o600); err != nil {
			return nil, "", err
		}
	}
	return server, dir, nil
}

// loadTLS reads a server certificate, its key and the client CA.
func loadTLS(certFile, keyFile, caFile string) (*tls.Config, error) {
	if keyFile == "" || caFile == "" {
		return nil, errors.New("-tls-cert needs -tls-key and -tls-client-ca (ZEO 5 servers require client certificates)")
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, fmt.Errorf("loading the TLS certificate: %w", err)
	}
	caPEM, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("reading the client CA: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		return nil, fmt.Errorf("%s holds no PEM certificate", caFile)
	}
	return &tls.Config{Certificates: []tls.Certificate{cert}, ClientCAs: pool, ClientAuth: tls.RequireAndVerifyClientCert}, nil
}
