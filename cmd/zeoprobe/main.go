// Command zeoprobe connects to a ZEO server of any generation and prints
// what it speaks: the version it announced, what the client negotiated and
// why, the message encoding, whether it requires authentication, the
// storage's get_info, the last transaction, and which operations the
// negotiated protocol supports.
//
//	go run ./cmd/zeoprobe -addr localhost:8100
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
	"sort"
	"strings"

	"github.com/gozeo/gozeo/internal/cliflags"
	"github.com/gozeo/gozeo/zeo"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("zeoprobe", flag.ContinueOnError)
	fs.SetOutput(stderr)
	conn := cliflags.Register(fs, "required")
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
	if conn.Addr == "" {
		fmt.Fprintf(stderr, "zeoprobe: %v; see -h\n", cliflags.ErrNoAddr)
		return 2
	}
	opts, err := conn.Options("zeoprobe", true)
	if err != nil {
		fmt.Fprintln(stderr, "zeoprobe:", err)
		return 2
	}

	ctx, cancel := context.WithTimeout(context.Background(), conn.Timeout)
	defer cancel()
	c, err := zeo.Dial(ctx, conn.Addr, opts)
	if err != nil {
		cliflags.Explain(stderr, "zeoprobe", conn.Addr, err)
		return 1
	}
	defer c.Close()
	report(ctx, stdout, c)
	return 0
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
		if m, ok := s.Methods[op]; ok {
			fmt.Fprintf(w, "  %-20s yes  (%s)\n", op, m)
		} else {
			fmt.Fprintf(w, "  %-20s no\n", op)
		}
	}
}
