package main

import (
	"context"
	"fmt"
	"io"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// startDemo starts an embedded test server imitating profile on a loopback
// port, writes a small application database to it the way ZODB would, and
// returns the address to dump and a function that stops the server.
func startDemo(ctx context.Context, profile string, w io.Writer) (addr string, stop func(), err error) {
	srv, err := testserver.StartLocal(testserver.Options{Profile: profile})
	if err != nil {
		return "", nil, err
	}
	addr = srv.Addr()
	stop = func() { srv.Close() }
	p := srv.Profile()
	// ZODB pickles records in protocol 1 or later even where ZEO 2 and
	// ZODB 3.2 send their messages in protocol 0.
	f := record.Py3
	if p.Python == 2 {
		f = record.Py2
	}
	if err := writeDemo(ctx, addr, f); err != nil {
		stop()
		return "", nil, fmt.Errorf("writing the demo records: %w", err)
	}
	fmt.Fprintf(w, "demo: started a test server imitating %s on %s\n", p.Release, addr)
	fmt.Fprintf(w, "demo: wrote three transactions of records as ZODB on Python %d writes them (pickle protocol %d)\n\n", p.Python, f.EncoderOptions().Protocol)
	return addr, stop, nil
}

// Classes of the demo database.
const (
	mappingClass = record.ClassPersistentMapping
	btreeClass   = "BTrees.OOBTree.OOBTree"
	personClass  = "myapp.models.Person"
)

// writeDemo commits three transactions: the root (as ZODB's DB creates it),
// then an application tree under it, then a change to one object.
func writeDemo(ctx context.Context, addr string, f record.Format) error {
	c, err := zeo.Dial(ctx, addr, &zeo.Options{Label: "zeodump-demo"})
	if err != nil {
		return err
	}
	defer c.Close()
	oids, err := c.NewOIDs(ctx, 4)
	if err != nil {
		return err
	}
	people, settings, alice, bob := oids[0], oids[1], oids[2], oids[3]
	root, err := record.EncodeObject(mappingClass, pickle.DictOf("data", pickle.NewDict(0)), f)
	if err != nil {
		return err
	}
	rootTID, err := c.Commit(ctx, zeo.TxnMeta{Description: "initial database creation"},
		zeo.Write{OID: zodb.ZeroOID, Data: root})
	if err != nil {
		return err
	}

	// The root's 'data' dict refers to two objects by (oid, class)
	// persistent references, as ZODB writes references to persistent
	// objects; the OOBTree holds a single bucket inline: state
	// ((((k1, v1, k2, v2),),),), the tree's one child being the bucket's
	// own state ((k1, v1, k2, v2),).
	states := []struct {
		oid   zodb.OID
		class string
		state pickle.Value
	}{
		{zodb.ZeroOID, mappingClass, pickle.DictOf("data", pickle.DictOf(
			"people", record.RefTo(people, btreeClass),
			"settings", record.RefTo(settings, mappingClass),
		))},
		{people, btreeClass, pickle.Tuple{pickle.Tuple{pickle.Tuple{pickle.Tuple{
			"alice", record.RefTo(alice, personClass),
			"bob", record.RefTo(bob, personClass),
		}}}}},
		{settings, mappingClass, pickle.DictOf("data", pickle.DictOf(
			"title", "Team directory",
			"page_size", int64(50),
			"ratio", 0.75,
			"public", true,
			"tags", &pickle.List{"zodb", "zeo"},
			"logo", pickle.Bytes("\x89PNG\r\n\x1a\n"),
		))},
		{alice, personClass, person("Alice", "alice@example.org", bob)},
		{bob, personClass, person("Bob", "bob@example.org", alice)},
	}
	var ws []zeo.Write
	for _, s := range states {
		data, err := record.EncodeObject(s.class, s.state, f)
		if err != nil {
			return err
		}
		w := zeo.Write{OID: s.oid, Data: data}
		if s.oid == zodb.ZeroOID {
			w.Serial = rootTID
		}
		ws = append(ws, w)
	}
	tid, err := c.Commit(ctx, zeo.TxnMeta{User: "/ alice", Description: "add the team directory"}, ws...)
	if err != nil {
		return err
	}

	bobState := person("Bob", "bob@example.com", alice)
	data, err := record.EncodeObject(personClass, bobState, f)
	if err != nil {
		return err
	}
	_, err = c.Commit(ctx, zeo.TxnMeta{User: "/ bob", Description: "change my email address"},
		zeo.Write{OID: bob, Serial: tid, Data: data})
	return err
}

// person is the state of a myapp.models.Person: a __dict__ with text, a
// datetime (pickled by reduce with its 10-byte state) and a reference to
// another person.
func person(name, email string, friend zodb.OID) *pickle.Dict {
	joined := &pickle.Object{
		Kind:     pickle.KindReduce,
		Callable: pickle.Global{Module: "datetime", Name: "datetime"},
		Args:     pickle.Tuple{pickle.Bytes("\x07\xe8\x03\x0f\x09\x1e\x00\x00\x00\x00")}, // 2024-03-15 09:30
	}
	return pickle.DictOf(
		"name", name,
		"email", email,
		"joined", joined,
		"friend", record.RefTo(friend, personClass),
	)
}
