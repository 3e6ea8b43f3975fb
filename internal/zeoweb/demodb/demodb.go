// Package demodb starts the embedded test server with a small application
// database for zeoweb's -demo and for its tests: a root mapping, a BTree
// of people over several buckets and inner nodes, objects with a history,
// a list, a blob (with its file where the server generation has blobs),
// and a cross-database and a weak reference.
// Records are written as the ZODB generation of the chosen server profile
// writes them.
package demodb

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// DefaultProfile is the server profile the demo imitates by default.
const DefaultProfile = "z5-py3"

// Demo is a running demo server and the oids of its objects.
type Demo struct {
	Server *testserver.Server
	// Addr is the server's address.
	Addr string
	// The objects: Root is oid 0.
	Root, People, Counters, Settings, Alice, Bob, Notes, Report zodb.OID
	// PeopleLen and CountersLen are the trees' item counts.
	PeopleLen, CountersLen int
	// ReportData is the file of the blob Report, nil where the server
	// generation has no blobs (before ZODB 3.8): there Report is a blob
	// record without a file.
	ReportData []byte
	// Created is the tid of the transaction that wrote the application
	// objects; BobChanged the one that changed Bob's email.
	Created, BobChanged zodb.TID

	opts   pickle.EncoderOptions
	writer *zeo.Client
	mu     sync.Mutex
	serial map[zodb.OID]zodb.TID
	visits int64
}

// Start starts a test server imitating profile ("" for DefaultProfile)
// on a loopback port and writes the demo database to it.
func Start(ctx context.Context, profile string) (*Demo, error) {
	if profile == "" {
		profile = DefaultProfile
	}
	srv, err := testserver.StartLocal(testserver.Options{Profile: profile})
	if err != nil {
		return nil, err
	}
	d, err := Seed(ctx, srv)
	if err != nil {
		srv.Close()
		return nil, err
	}
	return d, nil
}

// Seed writes the demo database to srv, which must be empty.
func Seed(ctx context.Context, srv *testserver.Server) (*Demo, error) {
	p := srv.Profile()
	// ZODB pickles records in protocol 1 or later even where ZEO 2 and
	// ZODB 3.2 send their messages in protocol 0.
	opts := pickle.EncoderOptions{Protocol: max(p.PickleProtocol, 1), Dialect: pickle.Python3, Memo: true}
	if p.Python == 2 {
		opts.Dialect = pickle.Python2
	}
	c, err := zeo.Dial(ctx, srv.Addr(), &zeo.Options{Label: "zeoweb-demo-writer", Reconnect: zeo.ReconnectPolicy{MinDelay: 50 * time.Millisecond, MaxDelay: time.Second}})
	if err != nil {
		return nil, err
	}
	d := &Demo{Server: srv, Addr: srv.Addr(), opts: opts, writer: c, serial: map[zodb.OID]zodb.TID{}}
	if err := d.write(ctx); err != nil {
		c.Close()
		return nil, fmt.Errorf("demodb: writing the demo database: %w", err)
	}
	return d, nil
}

// Close stops the writer and the server.
func (d *Demo) Close() error {
	d.writer.Close()
	return d.Server.Close()
}

// Classes of the demo database.
var (
	mappingClass = pickle.Global{Module: "persistent.mapping", Name: "PersistentMapping"}
	listClass    = pickle.Global{Module: "persistent.list", Name: "PersistentList"}
	personClass  = pickle.Global{Module: "myapp.models", Name: "Person"}
	blobClass    = pickle.Global{Module: "ZODB.blob", Name: "Blob"}
	ooTree       = pickle.Global{Module: "BTrees.OOBTree", Name: "OOBTree"}
	ooBucket     = pickle.Global{Module: "BTrees.OOBTree", Name: "OOBucket"}
	ioTree       = pickle.Global{Module: "BTrees.IOBTree", Name: "IOBTree"}
	ioBucket     = pickle.Global{Module: "BTrees.IOBTree", Name: "IOBucket"}
)

const (
	peopleCount   = 120  // in buckets of 30, as OOBucket's maximum
	countersCount = 3000 // in buckets of 60, ten buckets per inner node
)

// object is a record to write.
type object struct {
	oid   zodb.OID
	class pickle.Global
	state pickle.Value // a blobFile for a blob with its file
}

// blobFile is the state of a blob object written with its file: the
// record is then the client's blob record.
type blobFile []byte

// reportData is the demo blob's file: a CSV report of some 70 KB, more
// than one of the chunks blobs travel in.
func reportData() []byte {
	var b bytes.Buffer
	b.WriteString("day,login,visits\n")
	for i := 0; b.Len() < 70_000; i++ {
		fmt.Fprintf(&b, "2024-%02d-%02d,user%03d,%d\n", 1+i/28%12, 1+i%28, i%peopleCount, i*i%97)
	}
	return b.Bytes()
}

func (d *Demo) write(ctx context.Context) error {
	c := d.writer
	root, err := d.record(mappingClass, pickle.DictOf("data", pickle.NewDict(0)))
	if err != nil {
		return err
	}
	tid, err := c.Commit(ctx, zeo.TxnMeta{Description: "initial database creation"}, zeo.Write{OID: zodb.ZeroOID, Data: root})
	if err != nil {
		return err
	}
	d.serial[zodb.ZeroOID] = tid

	var objs []object
	newOID := func() (zodb.OID, error) {
		oids, err := c.NewOIDs(ctx, 1)
		if err != nil {
			return zodb.OID{}, err
		}
		return oids[0], nil
	}
	for _, p := range []*zodb.OID{&d.People, &d.Counters, &d.Settings, &d.Notes, &d.Report} {
		if *p, err = newOID(); err != nil {
			return err
		}
	}

	// People: an OOBTree of Person objects keyed by login, in buckets.
	var people []pickle.Value
	for i := range peopleCount {
		oid, err := newOID()
		if err != nil {
			return err
		}
		login := fmt.Sprintf("user%03d", i)
		switch i {
		case 0:
			login, d.Alice = "alice", oid
		case 1:
			login, d.Bob = "bob", oid
		}
		people = append(people, login, ref(oid, personClass))
		objs = append(objs, object{oid, personClass, nil}) // state below
	}
	sortPairs(people)
	for i := range objs {
		oid := objs[i].oid
		name, email := fmt.Sprintf("User %d", i), fmt.Sprintf("user%03d@example.org", i)
		friend := d.Alice
		switch oid {
		case d.Alice:
			name, email, friend = "Alice", "alice@example.org", d.Bob
		case d.Bob:
			name, email = "Bob", "bob@example.org"
		}
		objs[i].state = person(name, email, friend)
	}
	tree, err := d.tree(ctx, newOID, d.People, ooTree, ooBucket, people, 30, 0)
	if err != nil {
		return err
	}
	objs = append(objs, tree...)
	d.PeopleLen = peopleCount

	// Counters: an IOBTree of int → int, two levels of inner nodes.
	var counters []pickle.Value
	for i := range countersCount {
		counters = append(counters, int64(i*7), int64(i*i%1009))
	}
	tree, err = d.tree(ctx, newOID, d.Counters, ioTree, ioBucket, counters, 60, 10)
	if err != nil {
		return err
	}
	objs = append(objs, tree...)
	d.CountersLen = countersCount

	objs = append(objs,
		object{d.Settings, mappingClass, pickle.DictOf("data", pickle.DictOf(
			"title", "Team directory",
			"page_size", int64(50),
			"ratio", 0.75,
			"public", true,
			"tags", &pickle.List{"zodb", "zeo"},
			"logo", pickle.Bytes("\x89PNG\r\n\x1a\n"),
			"visits", int64(0),
		))},
		object{d.Notes, listClass, pickle.DictOf("data", &pickle.List{
			"Objects are shown without their classes: nothing is imported or run.",
			"Stored markup is shown as text and never runs: <b>not bold</b> " +
				`<script>document.title='pwned'</script><img src=x onerror="document.title='pwned'">`,
			ref(d.Alice, personClass),
		})},
		// A blob's record holds no data: the blob file is kept beside it.
		d.report(),
		object{zodb.ZeroOID, mappingClass, pickle.DictOf("data", pickle.DictOf(
			"people", ref(d.People, ooTree),
			"counters", ref(d.Counters, ioTree),
			"settings", ref(d.Settings, mappingClass),
			"notes", ref(d.Notes, listClass),
			"report", ref(d.Report, blobClass),
			"favourite", weakRef(d.Bob),
			"archive", crossRef("archive", zodb.OIDFromUint64(7), personClass),
		))},
	)
	if d.Created, err = d.commit(ctx, zeo.TxnMeta{User: "/ alice", Description: "add the team directory",
		Extension: map[string]any{"app": "demo", "request": "/setup"}}, objs...); err != nil {
		return err
	}
	d.BobChanged, err = d.commit(ctx, zeo.TxnMeta{User: "/ bob", Description: "change my email address"},
		object{d.Bob, personClass, person("Bob", "bob@example.com", d.Alice)})
	return err
}

// report is the blob object: with its file where the server keeps blobs.
func (d *Demo) report() object {
	if d.Server.BlobDir() == "" {
		return object{d.Report, blobClass, pickle.None}
	}
	d.ReportData = reportData()
	return object{d.Report, blobClass, blobFile(d.ReportData)}
}

// tree builds the records of a BTree of the given flat (k, v, …) items
// under oid: buckets of bucketSize items chained in key order, grouped
// fanout buckets per inner node when fanout > 0.
func (d *Demo) tree(ctx context.Context, newOID func() (zodb.OID, error), oid zodb.OID, treeClass, bucketClass pickle.Global, flat []pickle.Value, bucketSize, fanout int) ([]object, error) {
	var buckets []object
	var firstKeys []pickle.Value
	for i := 0; i < len(flat); i += 2 * bucketSize {
		boid, err := newOID()
		if err != nil {
			return nil, err
		}
		buckets = append(buckets, object{oid: boid, class: bucketClass})
		firstKeys = append(firstKeys, flat[i])
	}
	for i := range buckets {
		items := pickle.Tuple(flat[i*2*bucketSize : min(len(flat), (i+1)*2*bucketSize)])
		if i+1 < len(buckets) {
			buckets[i].state = pickle.Tuple{items, ref(buckets[i+1].oid, bucketClass)}
		} else {
			buckets[i].state = pickle.Tuple{items}
		}
	}
	objs := append([]object(nil), buckets...)
	// children: child0, key1, child1, … with the first key of each child
	// but the first.
	node := func(children []object, keys []pickle.Value, first zodb.OID) pickle.Value {
		var t pickle.Tuple
		for i, ch := range children {
			if i > 0 {
				t = append(t, keys[i])
			}
			t = append(t, ref(ch.oid, ch.class))
		}
		return pickle.Tuple{t, ref(first, bucketClass)}
	}
	if fanout <= 0 || len(buckets) <= fanout {
		return append(objs, object{oid, treeClass, node(buckets, firstKeys, buckets[0].oid)}), nil
	}
	var inner []object
	var innerKeys []pickle.Value
	for i := 0; i < len(buckets); i += fanout {
		ioid, err := newOID()
		if err != nil {
			return nil, err
		}
		end := min(len(buckets), i+fanout)
		inner = append(inner, object{ioid, treeClass, node(buckets[i:end], firstKeys[i:end], buckets[i].oid)})
		innerKeys = append(innerKeys, firstKeys[i])
	}
	objs = append(objs, inner...)
	return append(objs, object{oid, treeClass, node(inner, innerKeys, buckets[0].oid)}), nil
}

// sortPairs sorts flat (k, v, …) text-keyed pairs by key.
func sortPairs(flat []pickle.Value) {
	n := len(flat) / 2
	for i := 1; i < n; i++ {
		for j := i; j > 0 && flat[2*j].(string) < flat[2*j-2].(string); j-- {
			flat[2*j], flat[2*j-2] = flat[2*j-2], flat[2*j]
			flat[2*j+1], flat[2*j-1] = flat[2*j-1], flat[2*j+1]
		}
	}
}

// Visit commits a change to the settings (a "visits" counter), so that
// the live feed has something to show; it returns the transaction's tid.
func (d *Demo) Visit(ctx context.Context) (zodb.TID, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.visits++
	state := pickle.DictOf("data", pickle.DictOf(
		"title", "Team directory",
		"page_size", int64(50),
		"ratio", 0.75,
		"public", true,
		"tags", &pickle.List{"zodb", "zeo"},
		"logo", pickle.Bytes("\x89PNG\r\n\x1a\n"),
		"visits", d.visits,
	))
	return d.commit(ctx, zeo.TxnMeta{User: "/ demo", Description: fmt.Sprintf("visit %d", d.visits)}, object{d.Settings, mappingClass, state})
}

// Put commits one object of the given class and state under a new oid,
// and returns the oid (tests use it for hostile content).
func (d *Demo) Put(ctx context.Context, module, name string, state pickle.Value) (zodb.OID, error) {
	oids, err := d.NewOIDs(ctx, 1)
	if err != nil {
		return zodb.OID{}, err
	}
	_, err = d.Write(ctx, "put "+module+"."+name, Object{oids[0], module, name, state})
	return oids[0], err
}

// Object is one record for Write.
type Object struct {
	OID          zodb.OID
	Module, Name string // the class
	State        pickle.Value
}

// NewOIDs allocates n oids, for objects that Write then commits together
// (tests build hostile trees whose objects refer to each other).
func (d *Demo) NewOIDs(ctx context.Context, n int) ([]zodb.OID, error) {
	return d.writer.NewOIDs(ctx, n)
}

// Write commits objs in one transaction described as desc.
func (d *Demo) Write(ctx context.Context, desc string, objs ...Object) (zodb.TID, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	var os []object
	for _, o := range objs {
		os = append(os, object{o.OID, pickle.Global{Module: o.Module, Name: o.Name}, o.State})
	}
	return d.commit(ctx, zeo.TxnMeta{User: "/ test", Description: desc}, os...)
}

// commit writes objs in one transaction, based on the serials last
// written.
func (d *Demo) commit(ctx context.Context, meta zeo.TxnMeta, objs ...object) (zodb.TID, error) {
	tx, err := d.writer.Begin(ctx, meta)
	if err != nil {
		return zodb.TID{}, err
	}
	defer tx.Abort(context.WithoutCancel(ctx))
	for _, o := range objs {
		if file, ok := o.state.(blobFile); ok {
			err = tx.StoreBlob(ctx, o.oid, d.serial[o.oid], bytes.NewReader(file))
		} else {
			var data []byte
			if data, err = d.record(o.class, o.state); err == nil {
				err = tx.Store(ctx, o.oid, d.serial[o.oid], data)
			}
		}
		if err != nil {
			return zodb.TID{}, err
		}
	}
	if _, err := tx.Vote(ctx); err != nil {
		return zodb.TID{}, err
	}
	tid, err := tx.Finish(ctx)
	if err != nil {
		return tid, err
	}
	for _, o := range objs {
		d.serial[o.oid] = tid
	}
	return tid, nil
}

// record writes a record with the metadata (class, None), as ZODB does
// for classes without __getnewargs__.
func (d *Demo) record(class pickle.Global, state pickle.Value) ([]byte, error) {
	return record.Encode(pickle.Tuple{class, pickle.None}, state, d.opts)
}

// person is the state of a myapp.models.Person: a __dict__ with text, a
// datetime and a reference to another person.
func person(name, email string, friend zodb.OID) *pickle.Dict {
	joined := &pickle.Object{
		Kind:     pickle.KindReduce,
		Callable: pickle.Global{Module: "datetime", Name: "datetime"},
		Args:     pickle.Tuple{pickle.Bytes("\x07\xe8\x03\x0f\x09\x1e\x00\x00\x00\x00")}, // 2024-03-15 09:30
	}
	return pickle.DictOf("name", name, "email", email, "joined", joined, "friend", ref(friend, personClass))
}

// ref is ZODB's usual persistent id: (oid, class).
func ref(oid zodb.OID, class pickle.Global) pickle.PersistentRef {
	return pickle.PersistentRef{ID: pickle.Tuple{pickle.Bytes(oid.Bytes()), class}}
}

// weakRef is a persistent weak reference: ['w', (oid,)].
func weakRef(oid zodb.OID) pickle.PersistentRef {
	return pickle.PersistentRef{ID: &pickle.List{"w", pickle.Tuple{pickle.Bytes(oid.Bytes())}}}
}

// crossRef is a reference into another database: ['m', (db, oid, class)].
func crossRef(db string, oid zodb.OID, class pickle.Global) pickle.PersistentRef {
	return pickle.PersistentRef{ID: &pickle.List{"m", pickle.Tuple{db, pickle.Bytes(oid.Bytes()), class}}}
}
