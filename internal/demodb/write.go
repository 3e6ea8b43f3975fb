package demodb

import (
	"bytes"
	"context"
	"fmt"

	"github.com/gozeo/gozeo/btree"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// personClass is the demo application's class.
const personClass = "myapp.models.Person"

const (
	peopleCount   = 120
	countersCount = 3000
)

// write writes the demo database: the root as ZODB's DB creates it, then
// the application objects (with the blob's file, where the storage keeps
// blobs, in a transaction just before), then a change to Bob.
func (d *Demo) write(ctx context.Context) error {
	_, err := d.commit(ctx, zeo.TxnMeta{Description: "initial database creation"}, func(ctx context.Context, tx *memo) error {
		d.Format = tx.Format()
		return tx.Store(d.Root, record.ClassPersistentMapping, pickle.DictOf("data", pickle.NewDict(0)))
	})
	if err != nil {
		return err
	}
	if d.Created, err = d.commit(ctx, zeo.TxnMeta{User: "/ alice", Description: "add the team directory",
		Extension: map[string]any{"app": "demo", "request": "/setup"}}, d.directory); err != nil {
		return err
	}
	d.BobChanged, err = d.commit(ctx, zeo.TxnMeta{User: "/ bob", Description: "change my email address"},
		func(ctx context.Context, tx *memo) error {
			return tx.Store(d.Bob, personClass, person("Bob", "bob@example.com", d.Alice))
		})
	return err
}

// commit runs fill in a new transaction and commits it.
func (d *Demo) commit(ctx context.Context, meta zeo.TxnMeta, fill func(context.Context, *memo) error) (zodb.TID, error) {
	tx, err := d.db.Begin(ctx, meta)
	if err != nil {
		return zodb.TID{}, err
	}
	defer tx.Abort()
	if err := fill(ctx, &memo{Txn: tx, stored: map[zodb.OID]*record.Record{}}); err != nil {
		return zodb.TID{}, err
	}
	return tx.Commit(ctx)
}

// directory fills the transaction that creates the application. The two
// BTrees come first, so that they are oids 1 and 2 and their records,
// then the root's, lead the transaction's; the people's oids come before
// any bucket's.
func (d *Demo) directory(ctx context.Context, tx *memo) error {
	people, err := btree.Create(ctx, tx, family("OO"), btree.KindBTree)
	if err != nil {
		return err
	}
	counters, err := btree.Create(ctx, tx, family("IO"), btree.KindBTree)
	if err != nil {
		return err
	}
	d.People, d.Counters = people.OID(), counters.OID()
	for _, p := range []*zodb.OID{&d.Settings, &d.Notes, &d.Report} {
		if *p, err = tx.NewOID(ctx); err != nil {
			return err
		}
	}
	logins, err := d.peopleOIDs(ctx, tx)
	if err != nil {
		return err
	}
	root := pickle.DictOf("data", pickle.DictOf(
		"people", people.Ref(),
		"counters", counters.Ref(),
		"settings", record.RefTo(d.Settings, record.ClassPersistentMapping),
		"notes", record.RefTo(d.Notes, record.ClassPersistentList),
		"report", record.RefTo(d.Report, record.ClassBlob),
		"favourite", record.WeakRef{OID: d.Bob}.Value(),
		"archive", crossRef("archive", zodb.OIDFromUint64(7), personClass),
	))
	if err := tx.Store(d.Root, record.ClassPersistentMapping, root); err != nil {
		return err
	}
	if err := tx.Store(d.Settings, record.ClassPersistentMapping, d.settings()); err != nil {
		return err
	}
	if err := tx.Store(d.Notes, record.ClassPersistentList, pickle.DictOf("data", &pickle.List{
		"Objects are shown without their classes: nothing is imported or run.",
		"Stored markup is shown as text and never runs: <b>not bold</b> " +
			`<script>document.title='pwned'</script><img src=x onerror="document.title='pwned'">`,
		record.RefTo(d.Alice, personClass),
	})); err != nil {
		return err
	}
	if err := d.report(ctx, tx); err != nil {
		return err
	}

	// People: Person objects keyed by login, inserted in key order.
	for i, login := range logins {
		oid := login.oid
		name, email, friend := fmt.Sprintf("User %d", i), fmt.Sprintf("user%03d@example.org", i), d.Alice
		switch oid {
		case d.Alice:
			name, email, friend = "Alice", "alice@example.org", d.Bob
		case d.Bob:
			name, email = "Bob", "bob@example.org"
		}
		if err := tx.Store(oid, personClass, person(name, email, friend)); err != nil {
			return err
		}
		if _, err := people.Set(ctx, login.name, record.RefTo(oid, personClass)); err != nil {
			return err
		}
	}
	d.PeopleLen = peopleCount

	// Counters: int → int.
	for i := range countersCount {
		if _, err := counters.Set(ctx, int64(i*7), int64(i*i%1009)); err != nil {
			return err
		}
	}
	d.CountersLen = countersCount
	return nil
}

// login is one person's key in the people tree and oid.
type login struct {
	name string
	oid  zodb.OID
}

// peopleOIDs takes the people's oids, Alice's and Bob's first, and
// returns their logins in key order.
func (d *Demo) peopleOIDs(ctx context.Context, tx *memo) ([]login, error) {
	out := make([]login, peopleCount)
	for i := range out {
		oid, err := tx.NewOID(ctx)
		if err != nil {
			return nil, err
		}
		name := fmt.Sprintf("user%03d", i)
		switch i {
		case 0:
			name, d.Alice = "alice", oid
		case 1:
			name, d.Bob = "bob", oid
		}
		out[i] = login{name, oid}
	}
	return out, nil
}

// family returns the BTrees family of the given prefix.
func family(prefix string) btree.Family {
	f, _ := btree.FamilyOf(prefix)
	return f
}

// settings is the state of the settings mapping, with the visits counted
// so far.
func (d *Demo) settings() *pickle.Dict {
	return pickle.DictOf("data", pickle.DictOf(
		"title", "Team directory",
		"page_size", int64(50),
		"ratio", 0.75,
		"public", true,
		"tags", &pickle.List{"zodb", "zeo"},
		"logo", pickle.Bytes("\x89PNG\r\n\x1a\n"),
		"visits", d.visits,
	))
}

// report writes the blob object. Where the storage keeps blobs, its file
// goes in a transaction of its own committed just before tx (db's
// transactions store records, not blob files), as a client's StoreBlob
// writes it; elsewhere tx stores the blob record alone.
func (d *Demo) report(ctx context.Context, tx *memo) error {
	if d.Server.BlobDir() == "" {
		return tx.Store(d.Report, record.ClassBlob, pickle.None)
	}
	data := reportData()
	btx, err := d.writer.Begin(ctx, zeo.TxnMeta{User: "/ alice", Description: "upload the visits report"})
	if err != nil {
		return err
	}
	defer btx.Abort(context.WithoutCancel(ctx))
	if err := btx.StoreBlob(ctx, d.Report, zodb.TID{}, bytes.NewReader(data)); err != nil {
		return err
	}
	if _, err := btx.Vote(ctx); err != nil {
		return err
	}
	if _, err := btx.Finish(ctx); err != nil {
		return err
	}
	d.ReportData = data
	return nil
}

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

// person is the state of a myapp.models.Person: a __dict__ with text, a
// datetime (pickled by reduce with its 10-byte state) and a reference to
// another person.
func person(name, email string, friend zodb.OID) *pickle.Dict {
	joined := &pickle.Object{
		Kind:     pickle.KindReduce,
		Callable: pickle.Global{Module: "datetime", Name: "datetime"},
		Args:     pickle.Tuple{pickle.Bytes("\x07\xe8\x03\x0f\x09\x1e\x00\x00\x00\x00")}, // 2024-03-15 09:30
	}
	return pickle.DictOf("name", name, "email", email, "joined", joined, "friend", record.RefTo(friend, personClass))
}

// crossRef is a reference into another database: ['m', (db, oid, class)].
func crossRef(db string, oid zodb.OID, class string) pickle.PersistentRef {
	return pickle.PersistentRef{ID: &pickle.List{"m", pickle.Tuple{db, pickle.Bytes(oid.Bytes()), record.Global(class)}}}
}
