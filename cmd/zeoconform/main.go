// Command zeoconform checks what a ZEO server does against what its
// protocol version promises: it connects, runs each operation the
// negotiated version should support, and prints a table of the checks
// with, for each failure, what was sent, what came back and what was
// expected.
//
//	zeoconform -addr db:8100                         # read-only: writes nothing
//	zeoconform -addr db:8100 -storage scratch -write # the full suite, on a scratch storage
//	zeoconform -profile z309-py26 -write             # against an embedded test server
//	zeoconform -profile all -write -json             # every test-server profile (what CI runs)
//
// The write suite commits on the storage: new objects, a conflict, a read
// conflict, an undo, the iterator, a pack, and, where the server has blobs
// (Z308 and later, with a blob directory), a blob of a few hundred KB
// stored in one client and read back in another, compared by SHA-256. A
// server without blobs has those checks skipped ("no blobs"), not failed;
// only ZODB 3.8 servers do not say whether they have a blob directory, so
// one without it fails them.
//
// Exit status: 0 when every check passed, 1 when one failed or the server
// could not be reached, 2 for bad flags.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/gozeo/gozeo/internal/cliflags"
	"github.com/gozeo/gozeo/internal/conform"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zeotest"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("zeoconform", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conn := cliflags.Register(fs, "required unless -profile")
	write := fs.Bool("write", false, "run the write suite too (commit, conflict, read conflict, undo, iterator, blobs where the server has them, pack): it commits, so with -addr name a scratch storage with -storage")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	profile := fs.String("profile", "", "check an embedded test server of this profile instead of -addr; \"all\" checks every profile ("+profileNames()+")")
	fs.Usage = func() {
		fmt.Fprintf(stderr, `zeoconform runs a conformance suite against a ZEO server: each operation the
negotiated protocol version should support, pass or fail, and for a failure
what was sent, what came back and what was expected. It is read-only unless
-write is given; the write suite also stores a blob of a few hundred KB and
loads it back through a second connection where the server has blobs (from
Z308, with a blob directory), and reports "no blobs" as a skip elsewhere.

Usage:
  zeoconform -addr HOST:PORT [-write -storage NAME] [-json] [flags]
  zeoconform -profile NAME|all [-write] [-json]

Examples:
  zeoconform -addr localhost:8100
  zeoconform -addr db:8100 -storage scratch -write
  zeoconform -profile all -write

Flags:
`)
		fs.PrintDefaults()
		fmt.Fprintln(stderr, "\nExit status: 0 when every check passed, 1 when one failed or the server cannot be reached, 2 for bad flags.")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	var profiles []zeotest.Profile
	switch {
	case *profile == "all":
		profiles = zeotest.Profiles()
	case *profile != "":
		profiles = []zeotest.Profile{zeotest.Profile(*profile)}
	case conn.Addr == "":
		fmt.Fprintf(stderr, "zeoconform: %v, or -profile; see -h\n", cliflags.ErrNoAddr)
		return 2
	case *write && conn.Storage == "":
		fmt.Fprintln(stderr, "zeoconform: -write commits to the storage: name a scratch storage with -storage")
		return 2
	}
	if *profile != "" && conn.Addr != "" {
		fmt.Fprintln(stderr, "zeoconform: -addr and -profile exclude each other")
		return 2
	}
	copts, err := conn.Options("zeoconform", !*write)
	if err != nil {
		fmt.Fprintln(stderr, "zeoconform:", err)
		return 2
	}
	opts := conform.Options{Addr: conn.Addr, Client: *copts, Write: *write, CheckTimeout: conn.Timeout}
	ctx := context.Background()

	if profiles == nil {
		rep, err := conform.Run(ctx, opts)
		if err != nil {
			cliflags.Explain(stderr, "zeoconform", conn.Addr, err)
			return 1
		}
		return emit(stdout, stderr, []*conform.Report{rep}, *asJSON)
	}

	var reports []*conform.Report
	for _, p := range profiles {
		srv, err := zeotest.NewServer(&zeotest.Options{Profile: p})
		if err != nil {
			fmt.Fprintln(stderr, "zeoconform:", err)
			return 2
		}
		// A root object, as a storage a ZODB database has opened holds,
		// so that the checks that read one run too.
		if _, err := srv.SeedObject(ctx, zeo.OID{}, "persistent.mapping.PersistentMapping", pickle.DictOf("data", pickle.NewDict(0))); err != nil {
			srv.Close()
			fmt.Fprintln(stderr, "zeoconform:", err)
			return 1
		}
		opts.Addr = srv.Addr()
		opts.Client.Storage = srv.Storage()
		rep, err := conform.Run(ctx, opts)
		srv.Close()
		if err != nil {
			fmt.Fprintf(stderr, "zeoconform: profile %s: %v\n", p, err)
			return 1
		}
		rep.Server = string(p) + " (" + p.Release() + ")"
		reports = append(reports, rep)
	}
	return emit(stdout, stderr, reports, *asJSON)
}

// emit prints the reports and returns the exit status.
func emit(stdout, stderr io.Writer, reports []*conform.Report, asJSON bool) int {
	status := 0
	for _, r := range reports {
		if !r.Passed() {
			status = 1
		}
	}
	var err error
	switch {
	case asJSON && len(reports) == 1:
		err = reports[0].WriteJSON(stdout)
	case asJSON:
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(reports)
	default:
		for i, r := range reports {
			if i > 0 {
				fmt.Fprintln(stdout)
			}
			if err = r.WriteTable(stdout); err != nil {
				break
			}
		}
	}
	if err != nil {
		fmt.Fprintln(stderr, "zeoconform:", err)
		return 1
	}
	return status
}

func profileNames() string {
	var names []string
	for _, p := range zeotest.Profiles() {
		names = append(names, string(p))
	}
	return strings.Join(names, ", ")
}
