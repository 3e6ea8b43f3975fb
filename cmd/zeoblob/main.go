// Command zeoblob copies a ZODB blob out of (or into) a storage served by a
// ZEO server of any generation with blobs (ZODB 3.8 and later).
//
//	go run ./cmd/zeoblob -addr localhost:8100 -o photo.jpg 0x2a          # current revision
//	go run ./cmd/zeoblob -addr localhost:8100 -o - 0x2a@0x03f2a1b4c5d6e7f8 # a given revision, to stdout
//	go run ./cmd/zeoblob -addr localhost:8100 -put photo.jpg               # store as a new object
//
// A blob is fetched into a blob cache directory (-blob-dir; by default a
// temporary one removed afterwards) and copied to -o. With -shared the
// directory is the server's own blob directory, read directly. Without
// -put it registers read-only. -put stores the file as the blob of a new
// object that nothing refers to yet: the application must link it, or the
// next pack removes it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gozeo/gozeo/internal/cliflags"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// config is what the flags ask for.
type config struct {
	conn    *cliflags.Conn
	out     string
	put     string
	blobDir string
	shared  bool
	oid     zodb.OID
	tid     *zodb.TID
}

func parseFlags(args []string, stderr io.Writer) (*config, int) {
	fs := flag.NewFlagSet("zeoblob", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cfg := &config{conn: cliflags.Register(fs, "required")}
	fs.StringVar(&cfg.out, "o", "", "write the blob to this file (- for standard output)")
	fs.StringVar(&cfg.put, "put", "", "store this file as the blob of a new object instead, and print its oid and tid")
	fs.StringVar(&cfg.blobDir, "blob-dir", "", "blob cache directory to use and keep (default: a temporary one; -put then keeps no copy)")
	fs.BoolVar(&cfg.shared, "shared", false, "-blob-dir is the server's blob directory (shared file system)")
	fs.Usage = func() {
		fmt.Fprint(stderr, `zeoblob copies a ZODB blob out of a storage served by a ZEO server of any
generation with blobs (ZODB 3.8 and later), or stores a file as one. The
blob is fetched into a blob cache directory (-blob-dir, by default a
temporary one removed afterwards), or read straight from the server's own
blob directory with -shared, then copied to -o. Without -put it registers
read-only.

-put stores the file as the blob of a NEW object that nothing refers to
yet: link it from your application's objects (its oid is printed), or the
next pack of the storage removes it.

Usage:
  zeoblob -addr HOST:PORT -o FILE OID[@TID]
  zeoblob -addr HOST:PORT -put FILE

Examples:
  zeoblob -addr localhost:8100 -o photo.jpg 0x2a                    the current revision
  zeoblob -addr localhost:8100 -o - 0x2a@0x03f2a1b4c5d6e7f8         a given revision, to stdout
  zeoblob -addr localhost:8100 -shared -blob-dir /var/zeo/blobs -o photo.jpg 0x2a
  zeoblob -addr localhost:8100 -put report.pdf                      prints OID@TID

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, 0
		}
		return nil, 2
	}
	bad := func(msg string) (*config, int) {
		fmt.Fprintln(stderr, "zeoblob:", msg)
		fs.Usage()
		return nil, 2
	}
	switch {
	case cfg.conn.Addr == "":
		return bad(cliflags.ErrNoAddr.Error())
	case cfg.shared && cfg.blobDir == "":
		return bad("-shared needs -blob-dir, the server's blob directory")
	case cfg.put != "":
		if fs.NArg() != 0 || cfg.out != "" {
			return bad("-put takes no OID and no -o")
		}
		return cfg, 0
	case fs.NArg() != 1 || cfg.out == "":
		return bad("give -o FILE and one OID[@TID]")
	}
	oidText, tidText, hasTID := strings.Cut(fs.Arg(0), "@")
	oid, err := zodb.ParseOID(oidText)
	if err != nil {
		return bad(err.Error())
	}
	cfg.oid = oid
	if hasTID {
		tid, err := zodb.ParseTID(tidText)
		if err != nil {
			return bad(err.Error())
		}
		cfg.tid = &tid
	}
	return cfg, 0
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, code := parseFlags(args, stderr)
	if cfg == nil {
		return code
	}
	if err := runConfig(ctx, cfg, stdout); err != nil {
		fmt.Fprintln(stderr, "zeoblob:", err)
		return 1
	}
	return 0
}

func runConfig(ctx context.Context, cfg *config, stdout io.Writer) error {
	opts, err := cfg.conn.Options("zeoblob", cfg.put == "")
	if err != nil {
		return err
	}
	opts.BlobDir, opts.SharedBlobDir = cfg.blobDir, cfg.shared
	if opts.BlobDir == "" && cfg.put == "" {
		// LoadBlob needs a cache; StoreBlob without one sends the file
		// without keeping a copy that would be removed at once.
		dir, err := os.MkdirTemp("", "zeoblob-*")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		opts.BlobDir = dir
	}
	dctx, cancel := context.WithTimeout(ctx, cfg.conn.Timeout)
	c, err := zeo.Dial(dctx, cfg.conn.Addr, opts)
	cancel()
	if err != nil {
		return fmt.Errorf("cannot talk to %s: %w", cfg.conn.Addr, err)
	}
	defer c.Close()
	if cfg.put != "" {
		return put(ctx, c, cfg.put, stdout)
	}
	return get(ctx, c, cfg, stdout)
}

// get copies the blob to cfg.out.
func get(ctx context.Context, c *zeo.Client, cfg *config, stdout io.Writer) error {
	var tid zodb.TID
	if cfg.tid != nil {
		tid = *cfg.tid
	} else {
		r, err := c.Load(ctx, cfg.oid)
		if err != nil {
			return err
		}
		tid = r.Serial
	}
	b, err := c.LoadBlob(ctx, cfg.oid, tid)
	if err != nil {
		var nf *zeo.NotFoundError
		if errors.As(err, &nf) && cfg.tid == nil {
			return fmt.Errorf("%w (is oid %s a ZODB.blob.Blob?)", err, cfg.oid.Repr())
		}
		return err
	}
	defer b.Close()
	if cfg.out == "-" {
		if _, err := io.Copy(stdout, b); err != nil {
			return fmt.Errorf("copying the blob to standard output: %w", err)
		}
		return nil
	}
	f, err := os.Create(cfg.out)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, b); err != nil {
		f.Close()
		return fmt.Errorf("copying the blob to %s: %w", cfg.out, err)
	}
	return f.Close()
}

// put stores a file as the blob of a new object.
func put(ctx context.Context, c *zeo.Client, path string, stdout io.Writer) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	oid, err := c.NewOID(ctx)
	if err != nil {
		return err
	}
	tx, err := c.Begin(ctx, zeo.TxnMeta{User: "zeoblob", Description: "zeoblob -put " + path})
	if err != nil {
		return err
	}
	defer tx.Abort(context.WithoutCancel(ctx))
	if err := tx.StoreBlob(ctx, oid, zodb.TID{}, f); err != nil {
		return err
	}
	tid, err := tx.Finish(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s@%s\n", oid.Repr(), tid.Repr())
	return nil
}
