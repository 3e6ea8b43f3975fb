package cliflags

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/zeo"
)

// parse registers the flags on a fresh flag set and parses args.
func parse(t *testing.T, args ...string) *Conn {
	t.Helper()
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	c := Register(fs, "required")
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return c
}

func TestRegisterAddrNote(t *testing.T) {
	for _, note := range []string{"", "required unless -demo"} {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		Register(fs, note)
		help := fs.Lookup("addr").Usage
		if got := strings.HasSuffix(help, "("+note+")"); got != (note != "") {
			t.Errorf("note %q: -addr help %q", note, help)
		}
	}
}

func TestOptions(t *testing.T) {
	c := parse(t, "-addr", "db:8100", "-storage", "main", "-timeout", "3s")
	opts, err := c.Options("prog", true)
	if err != nil {
		t.Fatal(err)
	}
	if c.Addr != "db:8100" || c.Timeout.String() != "3s" {
		t.Errorf("addr %q, timeout %s", c.Addr, c.Timeout)
	}
	if opts.Storage != "main" || !opts.ReadOnly || opts.Label != "prog" {
		t.Errorf("storage %q, read-only %v, label %q", opts.Storage, opts.ReadOnly, opts.Label)
	}
	if opts.Versions != nil || opts.Credentials != nil || opts.TLS != nil {
		t.Errorf("without flags: versions %v, credentials %+v, TLS %v; want none", opts.Versions, opts.Credentials, opts.TLS)
	}
	if parse(t).Timeout != DefaultTimeout {
		t.Errorf("default -timeout is not %s", DefaultTimeout)
	}

	opts, err = parse(t, "-version", "Z308", "-user", "alice", "-password", "secret", "-realm", "r").Options("prog", false)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(opts.Versions, []zeo.Version{zeo.Z308}) {
		t.Errorf("-version Z308: versions %v", opts.Versions)
	}
	if want := (zeo.Credentials{User: "alice", Password: "secret", Realm: "r"}); opts.Credentials == nil || *opts.Credentials != want {
		t.Errorf("credentials %+v, want %+v", opts.Credentials, want)
	}
	if opts.ReadOnly {
		t.Error("read-only although not asked for")
	}

	// A password without a user name sends nothing: there is no one to
	// authenticate as.
	if opts, _ := parse(t, "-password", "secret").Options("prog", false); opts.Credentials != nil {
		t.Errorf("-password alone: credentials %+v", opts.Credentials)
	}

	opts, err = parse(t, "-tls", "-tls-insecure").Options("prog", false)
	if err != nil {
		t.Fatal(err)
	}
	if opts.TLS == nil || !opts.TLS.InsecureSkipVerify || opts.TLS.RootCAs != nil || len(opts.TLS.Certificates) != 0 {
		t.Errorf("-tls -tls-insecure: %+v", opts.TLS)
	}
}

// tlsFiles names the client side of a fresh test CA, written by
// writeTLSFiles: the CA, the client certificate, its key, both in one file,
// a key of another pair and a file with no PEM in it; and the options of a
// ZEO 5 test server that trusts that client.
type tlsFiles struct {
	dir, ca, cert, key, combined, otherKey, junk string
	server                                       *testserver.Options
}

// writeTLSFiles makes a CA, a server and a client certificate and writes
// the client's files to a temporary directory.
func writeTLSFiles(t *testing.T) tlsFiles {
	t.Helper()
	server, client, err := testserver.NewTLSPair()
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(client.Certificates[0].PrivateKey.(*ecdsa.PrivateKey))
	if err != nil {
		t.Fatal(err)
	}
	other, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	otherDER, err := x509.MarshalECPrivateKey(other)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	f := tlsFiles{
		dir: dir, ca: filepath.Join(dir, "ca.pem"), cert: filepath.Join(dir, "client.pem"),
		key: filepath.Join(dir, "client-key.pem"), combined: filepath.Join(dir, "both.pem"),
		otherKey: filepath.Join(dir, "other-key.pem"), junk: filepath.Join(dir, "junk.pem"),
		server: &testserver.Options{Profile: "z5-py3", TLS: server},
	}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: client.Certificates[0].Certificate[0]})
	keyPEM := pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER})
	write := func(name string, data []byte) {
		if err := os.WriteFile(name, data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(f.ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: server.Certificates[0].Certificate[1]}))
	write(f.cert, certPEM)
	write(f.key, keyPEM)
	write(f.combined, append(slices.Clone(certPEM), keyPEM...))
	write(f.otherKey, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: otherDER}))
	write(f.junk, []byte("not a certificate\n"))
	return f
}

func TestTLSFileErrors(t *testing.T) {
	f := writeTLSFiles(t)
	missing := filepath.Join(f.dir, "missing.pem")
	for _, tc := range []struct {
		name       string
		args       []string
		flag, file string
		want       string // in the message
		notExist   bool
	}{
		{"missing CA", []string{"-tls-ca", missing}, "-tls-ca", missing, "no such file", true},
		{"CA without PEM", []string{"-tls-ca", f.junk}, "-tls-ca", f.junk, "no PEM certificate in it", false},
		{"missing certificate", []string{"-tls-cert", missing, "-tls-key", f.key}, "-tls-cert", missing, "no such file", true},
		{"certificate without PEM", []string{"-tls-cert", f.junk, "-tls-key", f.key}, "-tls-cert", f.junk, "no PEM certificate in it", false},
		{"key given as certificate", []string{"-tls-cert", f.key, "-tls-key", f.key}, "-tls-cert", f.key, "no PEM certificate in it", false},
		{"missing key", []string{"-tls-cert", f.cert, "-tls-key", missing}, "-tls-key", missing, "no such file", true},
		{"key of another pair", []string{"-tls-cert", f.cert, "-tls-key", f.otherKey}, "-tls-key", f.otherKey, "must be the key of -tls-cert " + f.cert, false},
		{"certificate as key", []string{"-tls-cert", f.cert, "-tls-key", f.ca}, "-tls-key", f.ca, "must be the key of -tls-cert", false},
		{"no key beside the certificate", []string{"-tls-cert", f.cert}, "-tls-cert", f.cert, "without -tls-key the key must be in this file too", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			opts, err := parse(t, tc.args...).Options("prog", true)
			var fe *FileError
			if !errors.As(err, &fe) {
				t.Fatalf("options %+v, error %v; want a *FileError", opts, err)
			}
			if fe.Flag != tc.flag || fe.File != tc.file {
				t.Errorf("blames %s %s, want %s %s", fe.Flag, fe.File, tc.flag, tc.file)
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, tc.flag+" "+tc.file+": ") || !strings.Contains(msg, tc.want) {
				t.Errorf("message %q; want it to start with %q and contain %q", msg, tc.flag+" "+tc.file, tc.want)
			}
			if n := strings.Count(msg, tc.file); n != 1 {
				t.Errorf("message %q names the file %d times", msg, n)
			}
			if errors.Is(err, fs.ErrNotExist) != tc.notExist {
				t.Errorf("errors.Is(err, fs.ErrNotExist) = %v", !tc.notExist)
			}
		})
	}
}

// The files the flags name make a connection a ZEO 5 TLS server accepts,
// with the key in its own file or beside the certificate.
func TestTLSFilesConnect(t *testing.T) {
	f := writeTLSFiles(t)
	srv := testserver.Start(t, *f.server)
	for _, args := range [][]string{
		{"-tls-ca", f.ca, "-tls-cert", f.cert, "-tls-key", f.key},
		{"-tls-ca", f.ca, "-tls-cert", f.combined},
	} {
		opts, err := parse(t, args...).Options("prog", true)
		if err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		c, err := zeo.Dial(t.Context(), srv.Addr(), opts)
		if err != nil {
			t.Fatalf("%q: dial: %v", args, err)
		}
		if !c.Session().TLS {
			t.Errorf("%q: session not over TLS", args)
		}
		c.Close()
	}
}
