package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for the server goroutine and the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startZeoweb runs the command with args until the test ends and returns
// the URL it prints.
func startZeoweb(t *testing.T, args ...string) (url string, stderr *syncBuffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	done := make(chan int, 1)
	stderr = new(syncBuffer)
	go func() { done <- run(ctx, args, io.Discard, stderr, ready) }()
	t.Cleanup(func() {
		cancel()
		if code := <-done; code != 0 {
			t.Errorf("zeoweb exited with %d: %s", code, stderr.String())
		}
	})
	select {
	case url = <-ready:
		return url, stderr
	case code := <-done:
		done <- code
		t.Fatalf("zeoweb exited with %d: %s", code, stderr.String())
	case <-time.After(60 * time.Second):
		t.Fatal("zeoweb did not start")
	}
	return "", nil
}

func TestDemoServesReadOnly(t *testing.T) {
	url, _ := startZeoweb(t, "-demo", "-listen", "127.0.0.1:0", "-demo-every", "0")
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(string(body), "registered read-only") {
		t.Errorf("%s: %s\n%s", url, res.Status, body)
	}
}

func TestListenAddressRules(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(t.Context(), []string{"-demo", "-listen", "0.0.0.0:0"}, io.Discard, &stderr, nil); code != 1 ||
		!strings.Contains(stderr.String(), "-allow-remote") {
		t.Errorf("a non-loopback -listen without -allow-remote: exit %d, %q", code, stderr.String())
	}
	url, errs := startZeoweb(t, "-demo", "-listen", "0.0.0.0:0", "-allow-remote", "-token", "auto", "-demo-every", "0")
	if !strings.Contains(errs.String(), "WARNING") || !strings.Contains(url, "?token=") {
		t.Errorf("remote listening: URL %s, stderr %q", url, errs.String())
	}
	if code := run(t.Context(), []string{"-listen", "127.0.0.1:0"}, io.Discard, &stderr, nil); code != 2 {
		t.Errorf("no -addr and no -demo: exit %d", code)
	}
}

func TestHelp(t *testing.T) {
	var stderr bytes.Buffer
	if code := run(t.Context(), []string{"-h"}, io.Discard, &stderr, nil); code != 0 {
		t.Errorf("-h: exit %d", code)
	}
	for _, want := range []string{"Usage:", "zeoweb -demo", "Examples:", "-blob-dir", "-allow-remote"} {
		if !strings.Contains(stderr.String(), want) {
			t.Errorf("-h does not mention %q:\n%s", want, stderr.String())
		}
	}
}

// The demo's blob downloads through the command, and the temporary blob
// directory it was fetched into is gone once zeoweb stops.
func TestBlobDirRemovedAtExit(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	ctx, cancel := context.WithCancel(t.Context())
	ready, done := make(chan string, 1), make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"-demo", "-listen", "127.0.0.1:0", "-demo-every", "0"}, io.Discard, io.Discard, ready)
	}()
	var url string
	select {
	case url = <-ready:
	case code := <-done:
		t.Fatalf("zeoweb exited with %d", code)
	}
	res, err := http.Get(url + "obj/0000000000000005/blob")
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 200 || !bytes.HasPrefix(data, []byte("day,login,visits\n")) {
		t.Errorf("blob download: %s, %.40q", res.Status, data)
	}
	if dirs, _ := filepath.Glob(filepath.Join(tmp, "zeoweb-blobs-*")); len(dirs) != 1 {
		t.Errorf("blob directories while running: %v", dirs)
	}
	cancel()
	if code := <-done; code != 0 {
		t.Errorf("exit %d", code)
	}
	if dirs, _ := filepath.Glob(filepath.Join(tmp, "zeoweb-blobs-*")); len(dirs) != 0 {
		t.Errorf("blob directories left after exit: %v", dirs)
	}
}
