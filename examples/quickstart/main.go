// Command quickstart shows gozeo end to end without any Python: it starts
// a zeotest server (a Go imitation of a real ZEO server), connects, stores
// and loads an object, then makes two clients commit conflicting changes
// to show the typed ConflictError, and prints what was negotiated with the
// server. It uses only public packages, so it can be copied into any
// module.
//
//	go run ./examples/quickstart                  # a ZEO 5 server (pickle)
//	go run ./examples/quickstart -profile z308-py24  # a ZODB 3.8 server on Python 2.4
//
// -profile lists the server generations it can imitate.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zeotest"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("quickstart", flag.ContinueOnError)
	fs.SetOutput(stderr)
	profile := fs.String("profile", string(zeotest.DefaultProfile), "server generation to imitate: "+profileNames())
	fs.Usage = func() {
		fmt.Fprintf(stderr, `quickstart starts an embedded ZEO test server (a Go imitation of a real
server generation; no Python needed), connects to it with the gozeo client,
stores and loads an object, makes two clients commit conflicting changes to
show the typed ConflictError, and prints what was negotiated.

Usage:
  go run ./examples/quickstart [-profile NAME]

Flags:
`)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := demo(ctx, stdout, *profile); err != nil {
		fmt.Fprintln(stderr, "quickstart:", err)
		return 1
	}
	return 0
}

func demo(ctx context.Context, w io.Writer, profile string) error {
	// 1. An embedded server on a loopback port.
	srv, err := zeotest.NewServer(&zeotest.Options{Profile: zeotest.Profile(profile)})
	if err != nil {
		return err
	}
	defer srv.Close()
	addr := srv.Addr()
	fmt.Fprintf(w, "Started a test server imitating %s on %s.\n\n", srv.Profile().Release(), addr)

	// 2. Connect and see what was negotiated.
	alice, err := zeo.Dial(ctx, addr, &zeo.Options{Label: "alice"})
	if err != nil {
		return err
	}
	defer alice.Close()
	s := alice.Session()
	fmt.Fprintf(w, "Connected.\n")
	fmt.Fprintf(w, "  the server announced  %s\n", s.Announced)
	fmt.Fprintf(w, "  the client replied    %s\n  because               %s\n", s.Negotiated, s.Reason)
	fmt.Fprintf(w, "  messages are encoded  %s\n", s.Encoding)
	fmt.Fprintf(w, "  storage %q holds %d objects; last transaction %s\n\n", s.Storage, alice.ServerInfo().Length, s.ConnectTID)

	// 3. Store an object in a transaction.
	oid, err := alice.NewOID(ctx)
	if err != nil {
		return err
	}
	tid, err := alice.Commit(ctx, zeo.TxnMeta{User: "alice", Description: "create a greeting"},
		zeo.Write{OID: oid, Data: []byte("hello, ZEO")})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Stored object %s in transaction %s (committed %s UTC).\n", oid, tid, tid.TimeString())

	// 4. Load it back.
	rev, err := alice.Load(ctx, oid)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Loaded object %s: %q, revision %s.\n\n", oid, rev.Data, rev.Serial)

	// 5. Two clients change the same revision: the second commit conflicts.
	bob, err := zeo.Dial(ctx, addr, &zeo.Options{Label: "bob"})
	if err != nil {
		return err
	}
	defer bob.Close()
	events := bob.Subscribe()
	defer events.Close()
	bobRev, err := bob.Load(ctx, oid)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Alice and Bob both hold revision %s of %s.\n", rev.Serial, oid)
	aliceTID, err := alice.Commit(ctx, zeo.TxnMeta{User: "alice", Description: "alice's edit"},
		zeo.Write{OID: oid, Serial: rev.Serial, Data: []byte("hello from alice")})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Alice commits her change first: transaction %s.\n", aliceTID)
	_, err = bob.Commit(ctx, zeo.TxnMeta{User: "bob", Description: "bob's edit"},
		zeo.Write{OID: oid, Serial: bobRev.Serial, Data: []byte("hello from bob")})
	var conflict *zeo.ConflictError
	if !errors.As(err, &conflict) {
		return fmt.Errorf("expected a conflict, got %v", err)
	}
	fmt.Fprintf(w, "Bob's commit, based on the old revision, fails with a *zeo.ConflictError:\n  %v\n", err)
	fmt.Fprintf(w, "  errors.Is(err, zeo.ErrConflict) = %v; oid %s, Bob read %s, %s is committed.\n",
		errors.Is(err, zeo.ErrConflict), conflict.OID, conflict.Read, conflict.Committed)

	select {
	case ev := <-events.Events():
		fmt.Fprintf(w, "Bob was told of Alice's transaction %s, which changed %v.\n", ev.TID, ev.OIDs)
	case <-ctx.Done():
		return ctx.Err()
	}
	fresh, err := bob.Load(ctx, oid)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "Bob reloads (%q at %s) and can retry.\n\n", fresh.Data, fresh.Serial)

	fmt.Fprintf(w, "Operations under %s:", s.Negotiated)
	for _, op := range zeo.Operations() {
		if alice.Supports(op) {
			fmt.Fprintf(w, " %s", op)
		}
	}
	fmt.Fprintf(w, "\n\nTry another server generation with -profile (%s),\nor point cmd/zeoprobe at a real server.\n", profileNames())
	return nil
}

// profileNames lists the server generations zeotest imitates.
func profileNames() string {
	var names []string
	for _, p := range zeotest.Profiles() {
		names = append(names, string(p))
	}
	return strings.Join(names, ", ")
}
