package zeo_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zeotest"
	"github.com/gozeo/gozeo/zodb"
)

// exampleServer starts an embedded test server with a frozen clock (so
// that tids are the same on every run) and returns its address.
func exampleServer(profile string) (addr string, stop func()) {
	clock := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	srv, err := zeotest.NewServer(&zeotest.Options{Profile: zeotest.Profile(profile), Clock: func() time.Time { return clock }})
	if err != nil {
		log.Fatal(err)
	}
	return srv.Addr(), func() { srv.Close() }
}

func Example() {
	addr, stop := exampleServer("z5-py3")
	defer stop()
	ctx := context.Background()

	c, err := zeo.Dial(ctx, addr, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	oid, err := c.NewOID(ctx)
	if err != nil {
		log.Fatal(err)
	}
	tid, err := c.Commit(ctx, zeo.TxnMeta{User: "alice", Description: "first object"},
		zeo.Write{OID: oid, Data: []byte("hello")})
	if err != nil {
		log.Fatal(err)
	}
	rev, err := c.Load(ctx, oid)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s = %q, written by %s (%s UTC)\n", oid, rev.Data, tid, tid.Time().Format(time.DateTime))
	fmt.Println(rev.Serial == tid)
	// Output:
	// 0000000000000001 = "hello", written by 03f58e0000000000 (2024-01-01 00:00:00 UTC)
	// true
}

func ExampleDial() {
	addr, stop := exampleServer("z3101-py27")
	defer stop()

	c, err := zeo.Dial(context.Background(), addr, &zeo.Options{Storage: "1", Label: "example"})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	s := c.Session()
	fmt.Println("announced:", s.Announced)
	fmt.Println("negotiated:", s.Negotiated)
	fmt.Println("encoding:", s.Encoding)
	// Output:
	// announced: Z3101
	// negotiated: Z3101
	// encoding: pickle-py2
}

func ExampleDial_pinnedVersion() {
	addr, stop := exampleServer("z4-py3")
	defer stop()

	// Make a ZEO 4 server on Python 3 speak the ZODB 3.8 protocol.
	c, err := zeo.Dial(context.Background(), addr, &zeo.Options{Versions: []zeo.Version{zeo.Z308}})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	s := c.Session()
	fmt.Println(s.Announced, "->", s.Negotiated, s.Encoding)
	// Output:
	// Z4 -> Z308 pickle-py3
}

func ExampleClient_Begin() {
	addr, stop := exampleServer("z5-py3")
	defer stop()
	ctx := context.Background()
	c, err := zeo.Dial(ctx, addr, nil)
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()

	oids, err := c.NewOIDs(ctx, 2)
	if err != nil {
		log.Fatal(err)
	}
	tx, err := c.Begin(ctx, zeo.TxnMeta{User: "bob", Description: "two objects", Extension: map[string]any{"app": "example"}})
	if err != nil {
		log.Fatal(err)
	}
	defer tx.Abort(ctx) // does nothing once Finish succeeded
	for i, oid := range oids {
		if err := tx.Store(ctx, oid, zeo.TID{}, fmt.Appendf(nil, "object %d", i)); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := tx.Vote(ctx); err != nil {
		log.Fatal(err)
	}
	tid, err := tx.Finish(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("committed", tid)
	// Output:
	// committed 03f58e0000000000
}

func ExampleConflictError() {
	addr, stop := exampleServer("z5-py3")
	defer stop()
	ctx := context.Background()
	a, _ := zeo.Dial(ctx, addr, nil)
	defer a.Close()
	b, _ := zeo.Dial(ctx, addr, nil)
	defer b.Close()

	oid, _ := a.NewOID(ctx)
	base, _ := a.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oid, Data: []byte("v1")})

	// Both start from revision base; a commits first.
	if _, err := a.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oid, Serial: base, Data: []byte("a")}); err != nil {
		log.Fatal(err)
	}
	_, err := b.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oid, Serial: base, Data: []byte("b")})

	var ce *zeo.ConflictError
	if errors.As(err, &ce) {
		fmt.Println("conflict on", ce.OID, "read", ce.Read, "committed", ce.Committed)
	}
	fmt.Println(errors.Is(err, zeo.ErrConflict))
	// Output:
	// conflict on 0000000000000001 read 03f58e0000000000 committed 03f58e0000000001
	// true
}

func ExampleClient_Load_notFound() {
	addr, stop := exampleServer("z308-py24")
	defer stop()
	ctx := context.Background()
	c, _ := zeo.Dial(ctx, addr, nil)
	defer c.Close()

	_, err := c.Load(ctx, zodb.OIDFromUint64(42))
	fmt.Println(errors.Is(err, zeo.ErrNotFound))
	var nf *zeo.NotFoundError
	if errors.As(err, &nf) {
		fmt.Println("missing:", nf.OID.Repr(), "on", nf.Version)
	}
	// Output:
	// true
	// missing: 0x2a on Z308
}

func ExampleClient_Subscribe() {
	addr, stop := exampleServer("m5-py3")
	defer stop()
	ctx := context.Background()
	writer, _ := zeo.Dial(ctx, addr, nil)
	defer writer.Close()
	reader, _ := zeo.Dial(ctx, addr, nil)
	defer reader.Close()

	sub := reader.Subscribe()
	defer sub.Close()
	oid, _ := writer.NewOID(ctx)
	tid, _ := writer.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oid, Data: []byte("x")})

	ev := <-sub.Events()
	fmt.Println(ev.TID == tid, ev.OIDs, ev.Local)
	// Output:
	// true [0000000000000001] false
}

func ExampleClient_LoadMany() {
	addr, stop := exampleServer("z4-py27")
	defer stop()
	ctx := context.Background()
	c, _ := zeo.Dial(ctx, addr, nil)
	defer c.Close()

	oids, _ := c.NewOIDs(ctx, 3)
	var ws []zeo.Write
	for i, oid := range oids {
		ws = append(ws, zeo.Write{OID: oid, Data: fmt.Appendf(nil, "record %d", i)})
	}
	if _, err := c.Commit(ctx, zeo.TxnMeta{}, ws...); err != nil {
		log.Fatal(err)
	}
	objs, err := c.LoadMany(ctx, oids)
	if err != nil {
		log.Fatal(err)
	}
	for _, o := range objs {
		fmt.Printf("%s %s\n", o.OID, o.Data)
	}
	// Output:
	// 0000000000000001 record 0
	// 0000000000000002 record 1
	// 0000000000000003 record 2
}

func ExampleClient_History() {
	addr, stop := exampleServer("z309-py26")
	defer stop()
	ctx := context.Background()
	c, _ := zeo.Dial(ctx, addr, nil)
	defer c.Close()

	oid, _ := c.NewOID(ctx)
	t1, _ := c.Commit(ctx, zeo.TxnMeta{User: "carol", Description: "create"}, zeo.Write{OID: oid, Data: []byte("1")})
	c.Commit(ctx, zeo.TxnMeta{User: "carol", Description: "update"}, zeo.Write{OID: oid, Serial: t1, Data: []byte("22")})

	h, err := c.History(ctx, oid, 10)
	if err != nil {
		log.Fatal(err)
	}
	for _, e := range h {
		fmt.Println(e.TID, e.User, e.Description, e.Size)
	}
	// Output:
	// 03f58e0000000001 carol update 2
	// 03f58e0000000000 carol create 1
}

func ExampleClient_Supports() {
	addr, stop := exampleServer("z308-py24")
	defer stop()
	ctx := context.Background()
	c, _ := zeo.Dial(ctx, addr, nil)
	defer c.Close()

	fmt.Println("Load:", c.Supports(zeo.OpLoad), c.Session().Methods[zeo.OpLoad])
	fmt.Println("Delete:", c.Supports(zeo.OpDelete))

	tx, _ := c.Begin(ctx, zeo.TxnMeta{})
	defer tx.Abort(ctx)
	err := tx.Delete(ctx, zodb.OIDFromUint64(1), zeo.TID{})
	fmt.Println(errors.Is(err, zeo.ErrUnsupported))
	// Output:
	// Load: true loadEx
	// Delete: false
	// true
}
