// Command zeodump prints the records of a ZODB storage served by a ZEO
// server of any generation, decoded: each object's class and state, with
// persistent references shown as "-> oid 0x..". It reads Python 2 and
// Python 3 records alike and never executes anything in them.
//
//	go run ./cmd/zeodump -demo                 # no server needed
//	go run ./cmd/zeodump -addr localhost:8100  # every transaction
//	go run ./cmd/zeodump -addr localhost:8100 -oid 0x2a
//	go run ./cmd/zeodump -addr localhost:8100 -btree 0x03    # a BTree's items
//	go run ./cmd/zeodump -addr localhost:8100 -json > db.jsonl
//
// It registers read-only, so it never changes the storage.
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
	"time"

	"github.com/gozeo/gozeo/db"
	"github.com/gozeo/gozeo/internal/cliflags"
	"github.com/gozeo/gozeo/internal/demodb"
	"github.com/gozeo/gozeo/internal/testserver"
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
	addr     string
	oid      *zodb.OID
	btree    *zodb.OID
	tid      *zodb.TID
	limit    int
	maxItems int
	raw      bool
	json     bool
	graph    bool
	demo     bool
	profile  string
	timeout  time.Duration
	opts     *zeo.Options
	// progressEvery is how often a long walk reports on stderr.
	progressEvery time.Duration
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, code := parseFlags(args, stderr)
	if cfg == nil {
		return code
	}
	// With -json, stdout holds records only; the rest goes to stderr.
	notes := stdout
	if cfg.json {
		notes = stderr
	}
	if cfg.demo {
		demo, err := demodb.Start(ctx, cfg.profile)
		if err != nil {
			fmt.Fprintln(stderr, "zeodump: -demo:", err)
			return 1
		}
		defer demo.Close()
		cfg.addr = demo.Addr
		p := demo.Server.Profile()
		fmt.Fprintf(notes, "demo: started a test server imitating %s on %s\n", p.Release, demo.Addr)
		fmt.Fprintf(notes, "demo: wrote its records as ZODB on Python %d writes them (pickle protocol %d): the root is oid 0x00, the people BTree %s, the counters BTree %s\n\n",
			p.Python, demo.Format.EncoderOptions().Protocol, demo.People.Repr(), demo.Counters.Repr())
	}

	dialCtx, cancel := context.WithTimeout(ctx, cfg.timeout)
	c, err := zeo.Dial(dialCtx, cfg.addr, cfg.opts)
	cancel()
	if err != nil {
		cliflags.Explain(stderr, "zeodump", cfg.addr, err)
		return 1
	}
	defer c.Close()
	s := c.Session()
	fmt.Fprintf(notes, "server %s  storage %q  protocol %s (%s)\n\n", s.Server, s.Storage, s.Negotiated, s.Encoding)

	d := &dumper{c: c, w: stdout, raw: cfg.raw, json: cfg.json, maxItems: cfg.maxItems, progress: newProgress(stderr, cfg.progressEvery)}
	objects := db.New(c, nil)
	if cfg.tid != nil {
		d.snap = objects.SnapshotAt(*cfg.tid)
	} else if d.snap, err = objects.Snapshot(ctx); err != nil {
		fmt.Fprintln(stderr, "zeodump:", err)
		return 1
	}
	switch {
	case cfg.oid != nil:
		err = d.dumpObject(ctx, *cfg.oid)
	case cfg.btree != nil:
		err = d.dumpBTree(ctx, *cfg.btree, cfg.limit)
	case cfg.graph || !supports(c, zeo.OpIterator):
		if !cfg.graph {
			fmt.Fprintf(notes, "%s has no transaction iterator: walking the objects reachable from the root.\n\n", s.Negotiated)
		}
		err = d.walkGraph(ctx, cfg.limit)
	default:
		var start zodb.TID
		if cfg.tid != nil {
			start = *cfg.tid
		}
		err = d.walkTransactions(ctx, start, cfg.limit)
	}
	if err != nil {
		fmt.Fprintln(stderr, "zeodump:", err)
		return 1
	}
	if d.failed > 0 {
		fmt.Fprintf(stderr, "zeodump: %d objects could not be loaded (see above)\n", d.failed)
		return 1
	}
	return 0
}

func supports(c *zeo.Client, op zeo.Operation) bool {
	ok := c.Supports(op)
	return ok
}

// parseFlags reads the command line. It returns a nil config and the exit
// status when the program should stop: 0 after -h, 2 for bad flags.
func parseFlags(args []string, stderr io.Writer) (*config, int) {
	fs := flag.NewFlagSet("zeodump", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conn := cliflags.Register(fs, "required unless -demo")
	oidFlag := fs.String("oid", "", "print only this object (0x2a, 2a or 16 hex digits)")
	btreeFlag := fs.String("btree", "", "print the items of this BTree, TreeSet, Bucket or Set (any BTrees family) in key order")
	tidFlag := fs.String("tid", "", "with -oid, -btree, or in a graph walk: read through a snapshot as of this transaction (loadBefore, or history on ZODB 3.2); in a transaction walk: start at it")
	limit := fs.Int("n", 100, "stop after this many records (transaction walk), objects (graph walk) or items (-btree); 0 means no limit (the default with -json)")
	maxItems := fs.Int("items", 100, "show at most this many items of each dict, list, tuple or set; 0 shows all (-json always shows all)")
	raw := fs.Bool("raw", false, "print records as hex dumps instead of decoding them")
	jsonOut := fs.Bool("json", false, `print one JSON object per record, {"oid", "tid", "class", "state"}, the state in the JSON view of ZODB values (see -h)`)
	graph := fs.Bool("graph", false, "walk the objects reachable from the root even when the server has a transaction iterator")
	demo := fs.Bool("demo", false, "start an embedded test server, write a small ZODB database to it and dump that (no -addr needed)")
	profile := fs.String("profile", testserver.DefaultProfile, "with -demo: the server generation to imitate, which decides the pickles written: "+strings.Join(testserver.ProfileNames(), ", "))
	fs.Usage = func() {
		fmt.Fprintf(stderr, `zeodump prints the records of a ZODB storage served by a ZEO server of any
generation (ZODB 3.2 to ZEO 6), decoded: each object's class and its state,
dict items one per line, persistent references as "-> oid 0x.. (class)".
Records written by Python 2 (pickle protocol 1, byte strings) and Python 3
(protocol 3) are read alike; nothing in them is executed. A record that
cannot be decoded is reported with the reason and the dump goes on.

Text is shown "in double quotes", Python 2 byte strings 'in single quotes'
and Python 3 bytes as b'...'.

With -json each record is one line {"oid", "tid", "class", "state"}, complete
(no -items limit, no -n limit unless given), for any language to read. The
state is in the JSON view that keeps Python's types apart: {"u": text},
{"s": py2 str}, {"b": hex bytes}, numbers, {"int": "digits"} beyond 2^53,
{"f": "repr"} floats, null/true/false, {"list"|"tuple"|"set": [...]},
{"dict": [[key, value], ...]}, {"ref": oid, "class": ...} for a persistent
object and {"weakref": oid}. Progress and notes go to stderr.

Without -oid it walks the transaction log (iterator, ZODB 3.9 and later):
each transaction's tid, time, user and description, then its records. With
-graph, or on servers without an iterator, it walks the objects reachable
from the root (oid 0) instead, breadth first. With -oid it prints that one
object. With -btree it prints the items of a BTree, TreeSet, Bucket or Set of
any BTrees family in key order, following the bucket chain with a few buckets
in memory at a time ("key: value" lines; with -json one {"key", "value"} line
per item, {"key"} for a set, complete). -oid, -btree and -graph read through
one snapshot: as of -tid, or of the newest transaction when the dump starts.
It registers read-only, so it never changes the storage.

Usage:
  zeodump -addr HOST:PORT [flags]
  zeodump -demo [-profile NAME] [flags]

Examples, one for each flag:
  zeodump -demo                                  # see the output, no server needed
  zeodump -demo -profile z3101-py27              # the same records as Python 2 writes them
  zeodump -addr localhost:8100 -n 20             # the first 20 records
  zeodump -addr localhost:8100 -items 0          # every item of every container
  zeodump -addr localhost:8100 -oid 0x2a         # one object, current revision
  zeodump -addr localhost:8100 -oid 0x2a -tid 0x03f58e0000000000   # as of a transaction
  zeodump -demo -btree 0x01                      # the demo's people OOBTree, no server needed
  zeodump -addr localhost:8100 -btree 0x03       # a BTree's items in key order (first 100)
  zeodump -addr localhost:8100 -btree 0x03 -json # every item, one {"key", "value"} per line
  zeodump -addr localhost:8100 -btree 0x03 -tid 0x03f58e0000000000  # the tree as of a transaction
  zeodump -addr localhost:8100 -graph            # the objects reachable from the root
  zeodump -addr localhost:8100 -graph -tid 0x03f58e0000000000      # ... as of a transaction
  zeodump -addr localhost:8100 -raw -n 5         # records as hex
  zeodump -addr localhost:8100 -json > db.jsonl  # every record, one JSON object per line
  zeodump -addr localhost:8100 -json -graph      # the reachable objects as JSON
  zeodump -addr localhost:8100 -json -oid 0x2a -tid 0x03f58e0000000000
  zeodump -addr zeo://localhost:8100?storage=main            # a storage by URL
  zeodump -addr localhost:8100 -storage main -timeout 30s
  zeodump -addr localhost:8100 -version Z4       # pin the protocol version
  zeodump -addr db:8100 -user alice -password secret -realm ZEO
  zeodump -addr db:8100 -tls -tls-insecure       # TLS without checking the server (testing)
  zeodump -addr db:8100 -tls-ca ca.pem -tls-cert client.pem -tls-key client.key

Flags:
`)
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "\nExit status: 0 on success (undecodable records are reported, not fatal), 1 when\nthe server cannot be reached, the object does not exist or objects could not be\nloaded, 2 for bad flags.")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, 0
		}
		return nil, 2
	}
	usage := func(format string, a ...any) (*config, int) {
		fmt.Fprintf(stderr, "zeodump: "+format+"; see -h\n", a...)
		return nil, 2
	}
	if fs.NArg() > 0 {
		return usage("unexpected argument %q", fs.Arg(0))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	switch {
	case conn.Addr == "" && !*demo:
		return usage("%v, or -demo to try it without a server", cliflags.ErrNoAddr)
	case conn.Addr != "" && *demo:
		return usage("-addr and -demo exclude each other")
	case set["profile"] && !*demo:
		return usage("-profile chooses the embedded server of -demo; use -version to restrict a real server's protocol")
	case *limit < 0 || *maxItems < 0:
		return usage("-n and -items must be 0 or more")
	case *jsonOut && *raw:
		return usage("-json and -raw exclude each other")
	case *btreeFlag != "" && (*oidFlag != "" || *graph || *raw):
		return usage("-btree excludes -oid, -graph and -raw")
	}
	if *demo {
		if _, ok := testserver.LookupProfile(*profile); !ok {
			return usage("unknown -profile %q (one of %s)", *profile, strings.Join(testserver.ProfileNames(), ", "))
		}
	}
	if *jsonOut && !set["n"] {
		*limit = 0 // a JSON dump is complete unless asked otherwise
	}

	cfg := &config{
		addr: conn.Addr, limit: *limit, maxItems: *maxItems, raw: *raw, json: *jsonOut, graph: *graph,
		demo: *demo, profile: *profile, timeout: conn.Timeout, progressEvery: 2 * time.Second,
	}
	if *oidFlag != "" {
		oid, err := zodb.ParseOID(*oidFlag)
		if err != nil {
			return usage("-oid %q: %v", *oidFlag, err)
		}
		cfg.oid = &oid
	}
	if *btreeFlag != "" {
		oid, err := zodb.ParseOID(*btreeFlag)
		if err != nil {
			return usage("-btree %q: %v", *btreeFlag, err)
		}
		cfg.btree = &oid
	}
	if *tidFlag != "" {
		tid, err := zodb.ParseTID(*tidFlag)
		if err != nil {
			return usage("-tid %q: %v", *tidFlag, err)
		}
		cfg.tid = &tid
	}
	opts, err := conn.Options("zeodump", true)
	if err != nil {
		return usage("%v", err)
	}
	cfg.opts = opts
	return cfg, 0
}
