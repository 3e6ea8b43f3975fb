// Command zeoweb shows what a ZEO server holds in a web browser: the
// server and what was negotiated, any object with its class, state and
// history, BTrees page by page, blobs with a download link, transactions,
// and a live feed of new ones; any page as of an earlier transaction. It
// reads records of every ZODB generation symbolically, so it needs
// neither Python nor the application's classes, and it registers
// read-only: it never writes.
//
//	go run ./cmd/zeoweb -demo                  # an embedded server with a demo database
//	go run ./cmd/zeoweb -addr localhost:8100   # then open http://127.0.0.1:8080/
//
// It listens on 127.0.0.1 only, unless -allow-remote is given; -token
// requires an access token (-token auto makes one up and prints the URL).
// Blob files are fetched into a temporary directory removed at exit, or
// into -blob-dir, at most -blob-cache-mb of them.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gozeo/gozeo/internal/cliflags"
	"github.com/gozeo/gozeo/internal/demodb"
	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/internal/zeoweb"
	"github.com/gozeo/gozeo/zeo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr, nil))
}

// config is what the flags ask for.
type config struct {
	conn        *cliflags.Conn
	listen      string
	allowRemote bool
	token       string
	demo        bool
	profile     string
	demoEvery   time.Duration
	pageTimeout time.Duration
	blobDir     string
	blobCacheMB int64
	verbose     bool
}

func parseFlags(args []string, stderr io.Writer) (*config, error) {
	fs := flag.NewFlagSet("zeoweb", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &config{conn: cliflags.Register(fs, "required unless -demo")}
	fs.StringVar(&cfg.listen, "listen", "127.0.0.1:8080", "address to serve the pages on (loopback only, unless -allow-remote)")
	fs.BoolVar(&cfg.allowRemote, "allow-remote", false, "allow -listen on an address other than loopback (anyone who can reach it sees the database: use -token)")
	fs.StringVar(&cfg.token, "token", "", `require this access token ("auto": make one up and print the URL with it)`)
	fs.BoolVar(&cfg.demo, "demo", false, "start an embedded test server with a demo database and show it")
	fs.StringVar(&cfg.profile, "profile", demodb.DefaultProfile, fmt.Sprintf("server generation of -demo, one of %v", testserver.ProfileNames()))
	fs.DurationVar(&cfg.demoEvery, "demo-every", 15*time.Second, "with -demo, commit a small change this often so the live feed moves (0: never)")
	fs.DurationVar(&cfg.pageTimeout, "page-timeout", 15*time.Second, "deadline of one page: a page that needs longer says so (a big tree's length is then a lower bound)")
	fs.StringVar(&cfg.blobDir, "blob-dir", "", "`DIR` to keep the blob files zeoweb fetches, in ZEO's client layout (other ZEO clients may share it); default: a temporary one, removed at exit")
	fs.Int64Var(&cfg.blobCacheMB, "blob-cache-mb", 512, "keep at most this many MB of blob files; the least recently used go first")
	fs.BoolVar(&cfg.verbose, "v", false, "log requests that fail and the client's diagnostics to stderr")
	fs.Usage = func() {
		fmt.Fprint(stderr, `zeoweb shows a ZODB in your web browser: the server and what was negotiated,
any object with its class, state and references (links), its history and a
diff of two revisions, BTrees and other containers page by page, a blob's
size and a download link, recent transactions and a live feed of new ones.
Any page can be viewed as of an earlier transaction.

It reads the records of every ZODB generation (ZODB 3.2 to ZEO 6) without
Python or the application's classes, and registers read-only: it never
writes. It listens on 127.0.0.1 only, unless -allow-remote says otherwise.

Usage:
  zeoweb -demo [flags]              try it on an embedded server with a demo database
  zeoweb -addr HOST:PORT [flags]    show a real server's storage

Then open the URL it prints (http://127.0.0.1:8080/ by default).

Examples:
  zeoweb -demo
  zeoweb -demo -profile z308-py24        the demo on an imitation of ZODB 3.8, Python 2.4
  zeoweb -addr localhost:8100 -storage main
  zeoweb -addr db.internal:8100 -listen 0.0.0.0:8080 -allow-remote -token auto
  zeoweb -addr localhost:8100 -blob-dir /var/cache/zeoweb-blobs -blob-cache-mb 2048

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v; see -h", fs.Args())
	}
	if !cfg.demo && cfg.conn.Addr == "" {
		return nil, fmt.Errorf("%w, or -demo to try it on a demo database; see -h", cliflags.ErrNoAddr)
	}
	if cfg.blobCacheMB <= 0 {
		return nil, fmt.Errorf("-blob-cache-mb must be positive")
	}
	return cfg, nil
}

// run serves until ctx ends. ready, when set, receives the URL to open
// once the server listens (tests use it).
func run(ctx context.Context, args []string, stdout, stderr io.Writer, ready chan<- string) int {
	cfg, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "zeoweb:", err)
		return 2
	}
	if err := serve(ctx, cfg, stdout, stderr, ready); err != nil {
		fmt.Fprintln(stderr, "zeoweb:", err)
		return 1
	}
	return 0
}

func serve(ctx context.Context, cfg *config, stdout, stderr io.Writer, ready chan<- string) error {
	log := slog.New(slog.DiscardHandler)
	if cfg.verbose {
		log = slog.New(slog.NewTextHandler(stderr, nil))
	}
	// Check the listening address before anything starts.
	loopback, err := loopbackAddr(cfg.listen)
	if err != nil {
		return err
	}
	if !loopback && !cfg.allowRemote {
		return fmt.Errorf("-listen %s is not a loopback address: zeoweb shows the whole database to whoever connects; add -allow-remote (and -token) to mean it", cfg.listen)
	}
	token := cfg.token
	if token == "auto" {
		b := make([]byte, 16)
		_, _ = rand.Read(b)
		token = hex.EncodeToString(b)
	}

	addr := cfg.conn.Addr
	if cfg.demo {
		demo, err := demodb.Start(ctx, cfg.profile)
		if err != nil {
			return fmt.Errorf("-demo: %w", err)
		}
		defer demo.Close()
		addr = demo.Addr
		fmt.Fprintf(stdout, "demo: a test server imitating %s on %s, with a demo database\n", demo.Server.Profile().Release, addr)
		if cfg.demoEvery > 0 {
			visits, stopVisits := context.WithCancel(ctx)
			defer stopVisits() // before demo.Close
			go visitEvery(visits, demo, cfg.demoEvery, stderr)
		}
	}

	opts, err := cfg.conn.Options("zeoweb", true)
	if err != nil {
		return err
	}
	// A long-running viewer reconnects (the live feed marks it), unlike
	// the one-shot tools the shared flags are made for.
	opts.Reconnect = zeo.ReconnectPolicy{}
	opts.BlobDir, opts.BlobCacheSize = cfg.blobDir, cfg.blobCacheMB<<20
	if opts.BlobDir == "" {
		dir, err := os.MkdirTemp("", "zeoweb-blobs-*")
		if err != nil {
			return fmt.Errorf("a temporary blob directory: %w", err)
		}
		defer os.RemoveAll(dir) // after the client is closed
		opts.BlobDir = dir
	}
	opts.Logger = log
	var web atomic.Pointer[zeoweb.Server]
	opts.OnStatus = func(ev zeo.StatusEvent) {
		if s := web.Load(); s != nil {
			s.NoteStatus(ev)
		}
	}
	dialCtx, cancel := context.WithTimeout(ctx, cfg.conn.Timeout)
	client, err := zeo.Dial(dialCtx, addr, opts)
	cancel()
	if err != nil {
		cliflags.Explain(stderr, "zeoweb", addr, err)
		return err
	}
	defer client.Close()

	srv, err := zeoweb.New(client, zeoweb.Options{Token: token, PageTimeout: cfg.pageTimeout, LoopbackOnly: loopback, Logger: log})
	if err != nil {
		return err
	}
	web.Store(srv)

	l, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return err
	}
	url := "http://" + l.Addr().String() + "/"
	if token != "" {
		url += "?token=" + token
	}
	if !loopback {
		fmt.Fprintf(stderr, "zeoweb: WARNING: listening on %s, not only on this machine: anyone who can reach it can read the whole database%s\n",
			l.Addr(), map[bool]string{true: " (with the token)", false: "; -token would require an access token"}[token != ""])
	}
	fmt.Fprintf(stdout, "zeoweb: showing %s (%s, read-only) at %s\n", addr, client.Session().Negotiated, url)
	if ready != nil {
		ready <- url
	}

	baseCtx, stopStreams := context.WithCancel(ctx)
	defer stopStreams()
	hs := &http.Server{
		Handler:           srv,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		BaseContext:       func(net.Listener) context.Context { return baseCtx },
	}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(l) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	stopStreams() // end the live feeds, which would hold Shutdown up
	shutCtx, cancelShut := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancelShut()
	if err := hs.Shutdown(shutCtx); err != nil {
		// A browser's spare connection that never sent a request counts
		// as busy for its first seconds: close what is left.
		return hs.Close()
	}
	return nil
}

// loopbackAddr reports whether a listening address is on loopback only.
func loopbackAddr(listen string) (bool, error) {
	if _, _, err := net.SplitHostPort(listen); err != nil {
		return false, fmt.Errorf("-listen %q: %w", listen, err)
	}
	return zeoweb.LoopbackHost(listen), nil
}

// visitEvery commits a small change to the demo database every d; the
// first failure ends it, said on stderr.
func visitEvery(ctx context.Context, demo *demodb.Demo, d time.Duration, stderr io.Writer) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if _, err := demo.Visit(ctx); err != nil {
				if ctx.Err() == nil {
					fmt.Fprintf(stderr, "zeoweb: -demo-every: committing the demo's change failed, so the demo database stops changing: %v\n", err)
				}
				return
			}
		}
	}
}
