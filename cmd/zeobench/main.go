// Command zeobench measures a ZEO server under load: it creates objects of a
// chosen size, then runs concurrent workers that load them (and commit new
// revisions at a chosen ratio) for a while, and reports operations per
// second, throughput, latency percentiles, conflicts and errors. The
// client cache is off unless -cache sizes it, so that the figures measure
// the server path; -dist zipf picks objects from a hot set.
//
//	go run ./cmd/zeobench -profile z5-py3 -d 5s      # embedded test server
//	go run ./cmd/zeobench -addr localhost:8100 -c 32 -size 4096
//	go run ./cmd/zeobench -profile z5-py3 -dist zipf -cache 20MiB
//
// Against a real server it writes to the storage: use a scratch one.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/gozeo/gozeo/db"
	"github.com/gozeo/gozeo/internal/cliflags"
	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/zeo"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// config is what the flags ask for.
type config struct {
	addr    string
	profile string
	conns   int
	objects int
	timeout time.Duration
	opts    *zeo.Options
	work    workload
	blobs   *blobWorkload // -blob: the blob workload instead
}

// maxDataset bounds objects × size: the embedded server keeps everything
// in memory, and so does a real server's cache of a benchmark this size.
const maxDataset = 4 << 30

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cfg, code := parseFlags(args, stderr)
	if cfg == nil {
		return code
	}
	if cfg.profile != "" {
		addr, stop, err := startServer(cfg.profile)
		if err != nil {
			fmt.Fprintln(stderr, "zeobench:", err)
			return 1
		}
		defer stop()
		cfg.addr = addr
	}
	if cfg.blobs != nil {
		return runBlobs(ctx, cfg, stdout, stderr)
	}

	clients, err := connect(ctx, cfg)
	if err != nil {
		fmt.Fprintf(stderr, "zeobench: cannot talk to %s\n  %v\n", cfg.addr, err)
		if errors.Is(err, zeo.ErrReadOnly) {
			fmt.Fprintln(stderr, "  the benchmark writes its own objects; point it at a writable scratch storage")
		}
		return 1
	}
	defer func() {
		for _, c := range clients {
			c.Close()
		}
	}()
	s := clients[0].Session()
	w := &cfg.work
	// Records are written as the database's own clients write them (db's
	// rule: the root record's format, else the session's dialect).
	objects := db.New(clients[0], nil)
	snap, err := objects.Snapshot(ctx)
	if err == nil {
		w.format, err = objects.Format(ctx, snap)
	}
	if err != nil {
		fmt.Fprintf(stderr, "zeobench: reading the database's record format from %s: %v\n", cfg.addr, err)
		return 1
	}
	where := s.Server
	if cfg.profile != "" {
		where = fmt.Sprintf("an embedded test server imitating %s (%s)", cfg.profile, s.Server)
	}
	fmt.Fprintf(stdout, "zeobench: %s, protocol %s (%s)\n", where, s.Negotiated, s.Encoding)
	fmt.Fprintf(stdout, "  %d workers on %d connection(s), %d objects of %s, commit ratio %.2f\n",
		w.workers, len(clients), cfg.objects, describeRecord(w), w.ratio)
	fmt.Fprintf(stdout, "  %s; %s\n", describeDist(w), describeCache(clients[0].CacheStats().Limit))

	t0 := time.Now()
	oids, txns, err := seed(ctx, clients[0], cfg.objects, w)
	if err != nil {
		fmt.Fprintf(stderr, "zeobench: creating the benchmark objects: %v\n", err)
		if errors.Is(err, zeo.ErrReadOnly) {
			fmt.Fprintln(stderr, "  the benchmark writes its own objects; point it at a writable scratch storage")
		}
		return 1
	}
	fmt.Fprintf(stdout, "  created them in %d transactions (%s)\n", txns, time.Since(t0).Round(time.Millisecond))
	limits := fmt.Sprintf("for %s", w.duration)
	if w.maxOps > 0 {
		limits += fmt.Sprintf(" or %d operations", w.maxOps)
	}
	fmt.Fprintf(stdout, "  running %s...\n\n", limits)

	cacheBefore := cacheTotals(clients)
	st, elapsed := measure(ctx, clients, oids, w)
	report(stdout, st, elapsed, summarizeCache(cacheBefore, cacheTotals(clients), len(clients)))
	switch {
	case st.canceled:
		fmt.Fprintf(stderr, "zeobench: interrupted after %s; the figures cover that time\n", elapsed.Round(time.Millisecond))
		return 1
	case st.disconnected:
		fmt.Fprintln(stderr, "zeobench: the connection to the server was lost; the figures cover the time before")
		return 1
	case st.errs > 0:
		fmt.Fprintf(stderr, "zeobench: %d operations failed (see the errors above)\n", st.errs)
		return 1
	}
	return 0
}

// startServer starts an embedded test server on a loopback port.
func startServer(profile string) (addr string, stop func(), err error) {
	srv, err := testserver.StartLocal(testserver.Options{Profile: profile})
	if err != nil {
		return "", nil, err
	}
	return srv.Addr(), func() { srv.Close() }, nil
}

// connect opens the benchmark's connections.
func connect(ctx context.Context, cfg *config) ([]*zeo.Client, error) {
	clients := make([]*zeo.Client, 0, cfg.conns)
	for range cfg.conns {
		dialCtx, cancel := context.WithTimeout(ctx, cfg.timeout)
		c, err := zeo.Dial(dialCtx, cfg.addr, cfg.opts)
		cancel()
		if err != nil {
			for _, c := range clients {
				c.Close()
			}
			return nil, err
		}
		clients = append(clients, c)
	}
	return clients, nil
}

// parseFlags reads the command line. It returns a nil config and the exit
// status when the program should stop: 0 after -h, 2 for bad flags.
func parseFlags(args []string, stderr io.Writer) (*config, int) {
	fs := flag.NewFlagSet("zeobench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conn := cliflags.Register(fs, "")
	profile := fs.String("profile", "", "instead of -addr, benchmark an embedded test server imitating this generation: "+strings.Join(testserver.ProfileNames(), ", "))
	workers := fs.Int("c", 8, "concurrent workers")
	conns := fs.Int("conns", 1, "connections the workers share (a ZEO connection carries one transaction at a time)")
	duration := fs.Duration("d", 10*time.Second, "how long to run after the objects are created")
	maxOps := fs.Int64("ops", 0, "stop after this many operations (a load, or a load and a commit) even before -d; 0: no limit")
	size := fs.Int("size", 1024, "record size in bytes")
	objects := fs.Int("objects", 1000, "objects to create and work on")
	ratio := fs.Float64("commit-ratio", 0.1, "fraction of operations that also commit a new revision of the object, 0 to 1")
	seedFlag := fs.Uint64("seed", 1, "seed of the workers' random choices of objects and operations")
	cache := cacheOff
	fs.Var(&cache, "cache", "client object cache `SIZE` per connection: bytes, or with a unit (512KiB, 20MiB, 1GB); off or negative: no cache, every load reaches the server (see above); 0 or default: the client's default, 20 MiB")
	dist := fs.String("dist", distUniform, "how workers pick objects: uniform (all alike) or zipf (object k with probability ∝ 1/(1+k)^s, a read-mostly hot set)")
	zipfS := fs.Float64("zipf-s", defaultZipfS, "exponent s of -dist zipf, over 1: the larger, the smaller the hot set")
	var blobs blobSizes
	fs.Var(&blobs, "blob", "run the blob workload instead: blob `SIZES`, comma-separated (e.g. 1MiB,100MiB): stores and downloads of blobs of each size, MB/s, beside plain loads of records of the same size (see -blob-rounds)")
	blobRounds := fs.Int("blob-rounds", 3, "blobs stored and loaded per -blob size")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `zeobench measures a ZEO server of any generation under load. It creates
-objects objects whose records are -size bytes, then runs -c workers for -d:
each turn picks an object at random (uniformly, or by -dist zipf) and loads
it, and with probability -commit-ratio commits a new revision based on the
revision it loaded, as an application would (a conflict means another worker
committed the object in between; conflicts are counted, not retried). It
then reports, for loads and commits, the count, operations per second, MB/s
(10^6 bytes) and latency percentiles (p50, p90, p99, max), then conflicts and
errors.

The client's object cache is off unless -cache gives it a size, so that
every load is a round trip to the server: the figures measure the server
path, the loads per second a server can answer, comparable with runs made
before the client had a cache. With -cache 20MiB (ZEO's default size) they
measure a cached client instead, loads served from memory included, and the
report adds the caches' hits, misses, hit ratio, evictions, entries and
bytes (summed over the connections). -dist zipf, a read-mostly hot set, is
the access pattern where a cache pays.

It writes to the storage: point it at a scratch one, or use -profile to
benchmark an embedded test server (a Go imitation of a server generation;
its figures show the client's overhead, not a real server's).

Usage:
  zeobench -addr HOST:PORT [flags]
  zeobench -profile NAME [flags]

Examples:
  zeobench -profile z5-py3 -d 5s
  zeobench -addr localhost:8100 -c 32 -conns 4 -d 1m
  zeobench -addr localhost:8100 -size 65536 -objects 200 -commit-ratio 0
  zeobench -profile z5-py3 -dist zipf -cache 20MiB
  zeobench -addr db:8100 -user alice -password secret -version Z3101

Flags:
`)
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "\nExit status: 0 on success, 1 when the server cannot be reached, operations failed\nor the run was interrupted (the figures measured so far are still printed), 2 for\nbad flags.")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return nil, 0
		}
		return nil, 2
	}
	usage := func(format string, a ...any) (*config, int) {
		fmt.Fprintf(stderr, "zeobench: "+format+"; see -h\n", a...)
		return nil, 2
	}
	switch {
	case fs.NArg() > 0:
		return usage("unexpected argument %q", fs.Arg(0))
	case conn.Addr == "" && *profile == "":
		return usage("%v, or -profile to benchmark an embedded test server", cliflags.ErrNoAddr)
	case conn.Addr != "" && *profile != "":
		return usage("-addr and -profile exclude each other")
	case *workers < 1 || *conns < 1 || *objects < 1:
		return usage("-c, -conns and -objects must be at least 1")
	case *size < 0 || *maxOps < 0:
		return usage("-size and -ops must be 0 or more")
	case *duration <= 0:
		return usage("-d must be positive")
	case !(*ratio >= 0 && *ratio <= 1):
		return usage("-commit-ratio must be between 0 and 1")
	case *dist != distUniform && *dist != distZipf:
		return usage("unknown -dist %q (uniform or zipf)", *dist)
	case !(*zipfS > 1 && !math.IsInf(*zipfS, 1)):
		return usage("-zipf-s must be a number over 1")
	case isSet(fs, "zipf-s") && *dist != distZipf:
		return usage("-zipf-s applies to -dist zipf only")
	case int64(*objects)*int64(*size) > maxDataset:
		return usage("-objects × -size is over %d GiB", maxDataset>>30)
	}
	if *profile != "" {
		if _, ok := testserver.LookupProfile(*profile); !ok {
			return usage("unknown -profile %q (one of %s)", *profile, strings.Join(testserver.ProfileNames(), ", "))
		}
	}
	opts, err := conn.Options("zeobench", false)
	if err != nil {
		return usage("%v", err)
	}
	opts.CacheSize = int64(cache)
	if len(blobs) > 0 {
		if *blobRounds < 1 {
			return usage("-blob-rounds must be at least 1")
		}
		opts.CacheSize = -1
		return &config{addr: conn.Addr, profile: *profile, conns: 1, timeout: conn.Timeout, opts: opts,
			blobs: &blobWorkload{sizes: blobs, rounds: *blobRounds}}, 0
	}
	cfg := &config{
		addr: conn.Addr, profile: *profile, conns: *conns, objects: *objects, timeout: conn.Timeout, opts: opts,
		work: workload{workers: *workers, duration: *duration, maxOps: *maxOps, ratio: *ratio, size: *size, seed: *seedFlag,
			dist: *dist, zipfS: *zipfS},
	}
	return cfg, 0
}

// isSet reports whether the command line gave the flag name.
func isSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}
