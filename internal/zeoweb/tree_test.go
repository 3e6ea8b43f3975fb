package zeoweb

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gozeo/gozeo/internal/demodb"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zodb"
)

// ooRef is a reference to an object of BTrees.OOBTree's class name.
func ooRef(oid zodb.OID, name string) pickle.PersistentRef {
	return pickle.PersistentRef{ID: pickle.Tuple{pickle.Bytes(oid.Bytes()), pickle.Global{Module: "BTrees.OOBTree", Name: name}}}
}

// Damaged trees show the items read before the damage and say what is
// wrong, on the items page, at once: a bucket chain that goes round
// (buckets whose own keys are out of order: the first one is refused
// whole), a tree that is its own child, a bucket whose state is not a
// bucket's, an empty first bucket, a bucket that is not there.
func TestDamagedTrees(t *testing.T) {
	f := newFixture(t, "z5-py3", Options{})
	ctx := t.Context()
	oids, err := f.demo.NewOIDs(ctx, 4)
	if err != nil {
		t.Fatal(err)
	}
	tree, b1, b2, missing := oids[0], oids[1], oids[2], oids[3]
	put := func(what string, objs ...demodb.Object) zodb.TID {
		t.Helper()
		tid, err := f.demo.Write(ctx, what, objs...)
		if err != nil {
			t.Fatal(err)
		}
		return tid
	}
	twoBuckets := pickle.Tuple{pickle.Tuple{ooRef(b1, "OOBucket"), "m", ooRef(b2, "OOBucket")}, ooRef(b1, "OOBucket")}
	for _, tc := range []struct {
		name  string
		objs  []demodb.Object
		items []string // the keys shown
		says  string
	}{
		{"a chain that goes round", []demodb.Object{
			{OID: tree, Module: "BTrees.OOBTree", Name: "OOBTree", State: twoBuckets},
			{OID: b1, Module: "BTrees.OOBTree", Name: "OOBucket", State: pickle.Tuple{pickle.Tuple{"x", int64(1), "a", int64(2)}, ooRef(b2, "OOBucket")}},
			{OID: b2, Module: "BTrees.OOBTree", Name: "OOBucket", State: pickle.Tuple{pickle.Tuple{"n", int64(3), "p", int64(4)}, ooRef(b1, "OOBucket")}},
		}, nil, "does not rise"},
		{"a tree that is its own child", []demodb.Object{
			{OID: tree, Module: "BTrees.OOBTree", Name: "OOBTree", State: pickle.Tuple{pickle.Tuple{ooRef(tree, "OOBTree"), "m", ooRef(b2, "OOBucket")}, ooRef(b2, "OOBucket")}},
		}, nil, "damaged"},
		{"a bucket that is not one", []demodb.Object{
			{OID: tree, Module: "BTrees.OOBTree", Name: "OOBTree", State: twoBuckets},
			{OID: b1, Module: "BTrees.OOBTree", Name: "OOBucket", State: pickle.Tuple{pickle.Tuple{"a", int64(1)}, ooRef(b2, "OOBucket")}},
			{OID: b2, Module: "BTrees.OOBTree", Name: "OOBucket", State: "<script>alert(1)</script>"},
		}, []string{"a"}, "damaged"},
		{"an empty first bucket", []demodb.Object{
			{OID: tree, Module: "BTrees.OOBTree", Name: "OOBTree", State: twoBuckets},
			{OID: b1, Module: "BTrees.OOBTree", Name: "OOBucket", State: pickle.Tuple{pickle.Tuple{}, ooRef(b2, "OOBucket")}},
			{OID: b2, Module: "BTrees.OOBTree", Name: "OOBucket", State: pickle.Tuple{pickle.Tuple{"n", int64(3)}}},
		}, nil, "damaged"},
		{"a bucket that is not there", []demodb.Object{
			{OID: tree, Module: "BTrees.OOBTree", Name: "OOBTree", State: twoBuckets},
			{OID: b1, Module: "BTrees.OOBTree", Name: "OOBucket", State: pickle.Tuple{pickle.Tuple{"a", int64(1)}, ooRef(missing, "OOBucket")}},
		}, []string{"a"}, "not found"},
	} {
		t.Run(strings.ReplaceAll(tc.name, " ", "_"), func(t *testing.T) {
			// As of the write: the client may not have heard of it yet.
			u := "/obj/" + tree.String() + "/items?at=" + put(tc.name, tc.objs...).String()
			body := f.page(t, u)
			checkNoActiveContent(t, u, body)
			m := regexp.MustCompile(`id="page-error">([^<]*)<`).FindStringSubmatch(body)
			if m == nil || !strings.Contains(text(m[1]), tc.says) {
				t.Errorf("%s: no message saying %q:\n%s", tc.name, tc.says, text(body))
			}
			var keys []string
			for _, k := range keysOf(body) {
				keys = append(keys, unquote(k))
			}
			if strings.Join(keys, " ") != strings.Join(tc.items, " ") {
				t.Errorf("%s: keys shown %v, want %v", tc.name, keys, tc.items)
			}
			if !strings.Contains(body, `id="length-error"`) {
				t.Errorf("%s: the length does not say it failed:\n%s", tc.name, text(body))
			}
			// Jumping into it ends too.
			f.page(t, u+"&key=b")
		})
	}
}

// Jump-to-key reads the typed text as the tree's keys are; text typed
// for integer keys is refused with a message.
func TestJumpKeyTypes(t *testing.T) {
	f := newFixture(t, "z308-py24", Options{}) // Python 2: the people keys are str
	people := "/obj/" + f.demo.People.String() + "/items?n=2&key="
	if k := keysOf(f.page(t, people+"user042")); len(k) != 2 || unquote(k[0]) != "user042" {
		t.Errorf("jump to user042 among py2 str keys: %v", k)
	}
	if k := keysOf(f.page(t, people+"42")); len(k) != 2 || unquote(k[0]) != "alice" {
		t.Errorf("jump to 42 (text, before every letter) among py2 str keys: %v", k)
	}
	counters := "/obj/" + f.demo.Counters.String() + "/items?n=2&key="
	if k := keysOf(f.page(t, counters+"99999999999999999999")); len(k) != 0 {
		t.Errorf("jump past the last integer key: %v", k)
	}
	res, body := f.get(t, counters+"seven")
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(text(body), "are integers") {
		t.Errorf("text typed for integer keys: %s\n%s", res.Status, text(body))
	}
}

// blockingLoader serves a mapLoader but holds the loads of block until
// ctx ends, as a slow server would.
type blockingLoader struct {
	mapLoader
	block zodb.OID
}

func (b blockingLoader) Load(ctx context.Context, oid zodb.OID) (*record.Record, error) {
	if oid == b.block {
		<-ctx.Done()
		return nil, ctx.Err()
	}
	return b.mapLoader.Load(ctx, oid)
}

func (b blockingLoader) LoadMany(ctx context.Context, oids []zodb.OID) ([]*record.Record, error) {
	out := make([]*record.Record, len(oids))
	for i, oid := range oids {
		rec, err := b.Load(ctx, oid)
		if err != nil {
			return nil, err
		}
		out[i] = rec
	}
	return out, nil
}

// A count that would outlast half of the page's time stops there and
// gives a lower bound, so that the page is still shown.
func TestLenLowerBound(t *testing.T) {
	enc := func(name string, state pickle.Value) []byte {
		b, err := record.Encode(pickle.Tuple{pickle.Global{Module: "BTrees.OOBTree", Name: name}, pickle.None}, state, pickle.EncoderOptions{Protocol: 3, Dialect: pickle.Python3})
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	tree, b1, b2 := zodb.OIDFromUint64(1), zodb.OIDFromUint64(2), zodb.OIDFromUint64(3)
	ld := blockingLoader{mapLoader: mapLoader{
		tree: enc("OOBTree", pickle.Tuple{pickle.Tuple{ooRef(b1, "OOBucket"), "m", ooRef(b2, "OOBucket")}, ooRef(b1, "OOBucket")}),
		b1:   enc("OOBucket", pickle.Tuple{pickle.Tuple{"a", int64(1), "b", int64(2), "c", int64(3)}, ooRef(b2, "OOBucket")}),
		b2:   enc("OOBucket", pickle.Tuple{pickle.Tuple{"n", int64(4)}}),
	}, block: b2}
	rec, err := ld.Load(t.Context(), tree)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	c, err := openContainer(ctx, ld, tree, rec)
	if err != nil {
		t.Fatal(err)
	}
	n, exact, err := c.Len(ctx)
	if n != 3 || exact || err != nil || ctx.Err() != nil {
		t.Errorf("Len = %d, exact %v, %v (the page's own context: %v); want a lower bound of 3", n, exact, err, ctx.Err())
	}
}
