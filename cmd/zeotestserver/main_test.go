package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// serve runs the command until the test ends and returns the address it
// printed and the lines it printed after.
func serve(t *testing.T, args ...string) (addr string, rest []string) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	pr, pw := io.Pipe()
	var stderr bytes.Buffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, append([]string{"-addr", "127.0.0.1:0"}, args...), pw, &stderr)
		pw.Close()
	}()
	t.Cleanup(func() {
		cancel()
		go io.Copy(io.Discard, pr)
		if code := <-done; code != 0 {
			t.Errorf("exit code %d; stderr:\n%s", code, stderr.String())
		}
	})
	out := bufio.NewReader(pr)
	for {
		line, err := out.ReadString('\n')
		if err != nil {
			t.Fatalf("no address printed: %v; stderr:\n%s", err, stderr.String())
		}
		if m := regexp.MustCompile(` on (\S+)\.$`).FindStringSubmatch(strings.TrimSpace(line)); m != nil {
			addr = m[1]
		} else {
			rest = append(rest, line)
		}
		if strings.HasPrefix(line, "Stop with") {
			return addr, rest
		}
	}
}

func TestServesSeededObjects(t *testing.T) {
	for _, profile := range []string{"z309-py26", "m5-py3"} {
		t.Run(profile, func(t *testing.T) {
			addr, _ := serve(t, "-profile", profile, "-seed", "3")
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			c, err := zeo.Dial(ctx, addr, nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			for i := range 3 {
				rev, err := c.Load(ctx, zodb.OIDFromUint64(uint64(i)))
				if err != nil || !bytes.Contains(rev.Data, []byte("PersistentMapping")) {
					t.Fatalf("object %d: %v %q", i, err, rev.Data)
				}
			}
			if _, err := c.Load(ctx, zodb.OIDFromUint64(3)); err == nil {
				t.Fatal("object 3 was not seeded but loads")
			}
		})
	}
}

func TestThrowawayTLS(t *testing.T) {
	dir := t.TempDir()
	addr, notes := serve(t, "-profile", "z5-py3", "-tls", "-tls-dir", dir)
	if !strings.Contains(strings.Join(notes, ""), filepath.Join(dir, "client.pem")) {
		t.Fatalf("the TLS note does not name the client files: %q", notes)
	}
	cert, err := tls.LoadX509KeyPair(filepath.Join(dir, "client.pem"), filepath.Join(dir, "client-key.pem"))
	if err != nil {
		t.Fatal(err)
	}
	caPEM, err := os.ReadFile(filepath.Join(dir, "ca.pem"))
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(caPEM)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := zeo.Dial(ctx, addr, &zeo.Options{TLS: &tls.Config{Certificates: []tls.Certificate{cert}, RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.LastTransaction(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestBadFlags(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(context.Background(), []string{"-profile", "z99"}, io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), "z5-py3") {
		t.Fatalf("unknown profile: exit %d, %q", code, stderr.String())
	}
	stderr.Reset()
	missing := filepath.Join(t.TempDir(), "none.db")
	if code := run(context.Background(), []string{"-profile", "z3101-py27", "-realm", "zeo", "-auth-db", missing}, io.Discard, &stderr); code != 1 || !strings.Contains(stderr.String(), missing) {
		t.Fatalf("missing auth database: exit %d, %q", code, stderr.String())
	}
	if code := run(context.Background(), []string{"-h"}, io.Discard, io.Discard); code != 0 {
		t.Fatalf("-h exit %d", code)
	}
}
