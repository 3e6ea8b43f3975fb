package demodb

import (
	"bytes"
	"context"
	"io"
	"testing"
	"time"

	"github.com/gozeo/gozeo/btree"
	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// reader is a Loader over a plain client's current loads, which every
// generation has (db's snapshots need loadBefore).
type reader struct{ c *zeo.Client }

func (r reader) Load(ctx context.Context, oid zodb.OID) (*record.Record, error) {
	rev, err := r.c.Load(ctx, oid)
	if err != nil {
		return nil, err
	}
	return record.Decode(rev.Data)
}

func (r reader) LoadMany(ctx context.Context, oids []zodb.OID) ([]*record.Record, error) {
	out := make([]*record.Record, len(oids))
	for i, oid := range oids {
		var err error
		if out[i], err = r.Load(ctx, oid); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func start(t *testing.T, profile string) (*Demo, *zeo.Client) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	d, err := Start(ctx, profile)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	c, err := zeo.Dial(ctx, d.Addr, &zeo.Options{ReadOnly: true, Label: "demodb-test", BlobDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return d, c
}

// On every generation the demo writes the same objects at the same oids,
// in the format the generation's ZODB writes; its BTrees pass BTrees'
// own checks and hold every item in key order.
func TestEveryGeneration(t *testing.T) {
	for _, p := range testserver.Profiles() {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			d, c := start(t, p.Name)
			ctx := t.Context()
			want := record.Py3
			if p.Python == 2 {
				want = record.Py2
			}
			if d.Format != want {
				t.Errorf("format %v, want %v", d.Format, want)
			}
			oids := []zodb.OID{d.Root, d.People, d.Counters, d.Settings, d.Notes, d.Report, d.Alice, d.Bob}
			for i, oid := range oids {
				if oid != zodb.OIDFromUint64(uint64(i)) {
					t.Errorf("oids %v: want 0 to 7 in that order", oids)
					break
				}
			}
			classes := map[zodb.OID]string{
				d.Root: record.ClassPersistentMapping, d.Settings: record.ClassPersistentMapping,
				d.People: "BTrees.OOBTree.OOBTree", d.Counters: "BTrees.IOBTree.IOBTree",
				d.Notes: record.ClassPersistentList, d.Report: record.ClassBlob, d.Alice: personClass, d.Bob: personClass,
			}
			for oid, class := range classes {
				rev, err := c.Load(ctx, oid)
				if err != nil {
					t.Fatalf("oid %v: %v", oid, err)
				}
				if f, ok := record.FormatOf(rev.Data); !ok || f != want {
					t.Errorf("oid %v written as %v, want %v", oid, f, want)
				}
				rec, err := record.Decode(rev.Data)
				if err != nil || rec.Class != class {
					t.Errorf("oid %v: class %q (%v), want %s", oid, rec.Class, err, class)
				}
			}

			root, err := reader{c}.Load(ctx, d.Root)
			if err != nil {
				t.Fatal(err)
			}
			refs := map[string]bool{}
			for _, r := range root.Refs {
				switch {
				case r.Weak && r.OID == d.Bob:
					refs["weak"] = true
				case r.Database == "archive":
					refs["cross"] = true
				case r.OID == d.People && r.Class == "BTrees.OOBTree.OOBTree":
					refs["people"] = true
				}
			}
			if len(refs) != 3 {
				t.Errorf("the root's references %v lack one of people, weak, cross", root.Refs)
			}

			for _, tc := range []struct {
				oid        zodb.OID
				n          int
				first      pickle.Value
				wantBucket bool
			}{{d.People, d.PeopleLen, "alice", true}, {d.Counters, d.CountersLen, int64(0), true}} {
				tree, err := btree.Open(ctx, reader{c}, tc.oid)
				if err != nil {
					t.Fatal(err)
				}
				if err := tree.Check(ctx); err != nil {
					t.Errorf("oid %v: %v", tc.oid, err)
				}
				n, err := tree.Len(ctx)
				if err != nil || n != tc.n {
					t.Errorf("oid %v: %d items (%v), want %d", tc.oid, n, err, tc.n)
				}
				for it, err := range tree.All(ctx) {
					if k, _ := pickle.AsText(it.Key); err != nil || k != tc.first && it.Key != tc.first {
						t.Errorf("oid %v: first key %#v (%v), want %#v", tc.oid, it.Key, err, tc.first)
					}
					break
				}
			}
			v, ok, err := mustOpen(t, c, d.People).Get(ctx, "bob")
			if err != nil || !ok || record.ParseRef(v.(pickle.PersistentRef).ID).OID != d.Bob {
				t.Errorf("people[bob] = %v, %v, %v", v, ok, err)
			}
			v, ok, err = mustOpen(t, c, d.Counters).Get(ctx, int64(700))
			if err != nil || !ok || v != int64(100*100%1009) {
				t.Errorf("counters[700] = %v, %v, %v", v, ok, err)
			}

			// Bob changed after the directory was created.
			bob, err := c.Load(ctx, d.Bob)
			if err != nil || bob.Serial != d.BobChanged || !bytes.Contains(bob.Data, []byte("bob@example.com")) {
				t.Errorf("Bob: serial %v (%v), want %v", bob.Serial, err, d.BobChanged)
			}
			if !(d.Created.Uint64() < d.BobChanged.Uint64()) {
				t.Errorf("created %v, Bob changed %v", d.Created, d.BobChanged)
			}

			// The blob's file, where the generation keeps them.
			if hasBlobs := d.Server.BlobDir() != ""; hasBlobs != (d.ReportData != nil) {
				t.Fatalf("blob dir %q, report data %d bytes", d.Server.BlobDir(), len(d.ReportData))
			}
			if d.ReportData != nil {
				rev, err := c.Load(ctx, d.Report)
				if err != nil {
					t.Fatal(err)
				}
				b, err := c.LoadBlob(ctx, d.Report, rev.Serial)
				if err != nil {
					t.Fatal(err)
				}
				defer b.Close()
				got, err := io.ReadAll(b)
				if err != nil || !bytes.Equal(got, d.ReportData) {
					t.Errorf("blob file: %d bytes (%v), want %d", len(got), err, len(d.ReportData))
				}
			}
		})
	}
}

func mustOpen(t *testing.T, c *zeo.Client, oid zodb.OID) *btree.Tree {
	t.Helper()
	tree, err := btree.Open(t.Context(), reader{c}, oid)
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// The trees have the shapes BTrees gives them when their keys are added
// in order: each bucket split in half as it passed the family's size, so
// every bucket but the last holds half of it, all under one root node.
func TestTreeShapes(t *testing.T) {
	d, c := start(t, "z5-py3")
	r := reader{c}
	for _, oid := range []zodb.OID{d.People, d.Counters} {
		rec, err := r.Load(t.Context(), oid)
		if err != nil {
			t.Fatal(err)
		}
		fam, kind, _ := btree.ParseClass(rec.Class)
		st, err := btree.ParseTreeState(fam, kind, rec.State)
		if err != nil {
			t.Fatal(err)
		}
		half := (fam.MaxLeafSize + 1) / 2
		var sizes []int
		for _, ch := range st.Children {
			b, err := r.Load(t.Context(), ch.OID)
			if err != nil {
				t.Fatal(err)
			}
			if b.Class != fam.Class(btree.KindBucket) {
				t.Fatalf("oid %v: child %v of class %s", oid, ch.OID, b.Class)
			}
			bs, err := btree.ParseBucketState(fam, btree.KindBucket, b.State)
			if err != nil {
				t.Fatal(err)
			}
			sizes = append(sizes, len(bs.Keys))
		}
		for i, n := range sizes {
			if i < len(sizes)-1 && n != half || n > fam.MaxLeafSize || n < half {
				t.Errorf("oid %v (%s): bucket sizes %v, want %d each and the last %d to %d", oid, rec.Class, sizes, half, half, fam.MaxLeafSize)
				break
			}
		}
		if len(sizes) < 2 {
			t.Errorf("oid %v: %d buckets", oid, len(sizes))
		}
	}
}

// Visit, Put and Write commit on top of what is there, and what they
// wrote reads back, on generations with and without loadBefore.
func TestChanges(t *testing.T) {
	for _, profile := range []string{"z5-py3", "z201-py24"} {
		t.Run(profile, func(t *testing.T) {
			d, c := start(t, profile)
			ctx := t.Context()
			for range 2 {
				if _, err := d.Visit(ctx); err != nil {
					t.Fatal(err)
				}
			}
			rev, err := c.Load(ctx, d.Settings)
			if err != nil {
				t.Fatal(err)
			}
			m, err := record.Decode(rev.Data)
			if err != nil {
				t.Fatal(err)
			}
			mapping, err := record.DecodeMapping(m.State)
			if err != nil {
				t.Fatal(err)
			}
			if v, ok := mapping.Data.Get("visits"); !ok || v != int64(2) {
				t.Errorf("visits %v", v)
			}

			oid, err := d.Put(ctx, "myapp", "Note", pickle.DictOf("text", "hello"))
			if err != nil {
				t.Fatal(err)
			}
			tid, err := d.Write(ctx, "edit", Object{oid, "myapp", "Note", pickle.DictOf("text", "again")})
			if err != nil {
				t.Fatal(err)
			}
			rev, err = c.Load(ctx, oid)
			if err != nil || rev.Serial != tid || !bytes.Contains(rev.Data, []byte("again")) || record.ClassOf(rev.Data) != "myapp.Note" {
				t.Errorf("the note: %v, serial %v want %v: %q", err, rev.Serial, tid, rev.Data)
			}
		})
	}
}
