package zeoweb

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zodb"
)

// mapLoader serves records from a map, for trees built in tests.
type mapLoader map[zodb.OID][]byte

func (m mapLoader) Load(_ context.Context, oid zodb.OID) (*record.Record, error) {
	data, ok := m[oid]
	if !ok {
		return nil, errors.New("no such object")
	}
	return record.Decode(data)
}

func (m mapLoader) LoadMany(ctx context.Context, oids []zodb.OID) ([]*record.Record, error) {
	out := make([]*record.Record, len(oids))
	for i, oid := range oids {
		rec, err := m.Load(ctx, oid)
		if err != nil {
			return nil, err
		}
		out[i] = rec
	}
	return out, nil
}

// Any record, however odd, renders within bounds and without markup from
// its data; as a container, it pages or fails with an error.
func FuzzRenderRecord(f *testing.F) {
	opts := pickle.EncoderOptions{Protocol: 3, Dialect: pickle.Python3, Memo: true}
	seed := func(module, name string, state pickle.Value) {
		data, err := record.Encode(pickle.Tuple{pickle.Global{Module: module, Name: name}, pickle.None}, state, opts)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	ref := pickle.PersistentRef{ID: pickle.Tuple{pickle.Bytes(zodb.OIDFromUint64(1).Bytes()), pickle.Global{Module: "BTrees.OOBTree", Name: "OOBucket"}}}
	seed("persistent.mapping", "PersistentMapping", pickle.DictOf("data", pickle.DictOf("a", int64(1), "<script>", ref)))
	seed("BTrees.OOBTree", "OOBTree", pickle.Tuple{pickle.Tuple{ref}, ref})
	seed("BTrees.OOBTree", "OOBTree", pickle.Tuple{pickle.Tuple{pickle.Tuple{pickle.Tuple{"a", int64(1), "b", int64(2)}}}})
	seed("BTrees.OOBTree", "OOBucket", pickle.Tuple{pickle.Tuple{"a", int64(1)}, ref})
	seed("BTrees.IIBTree", "IITreeSet", pickle.Tuple{pickle.Tuple{ref, int64(5), ref}, ref})
	seed("persistent.list", "PersistentList", pickle.DictOf("data", &pickle.List{"x", &pickle.List{"w", pickle.Tuple{pickle.Bytes("12345678")}}}))
	pages, err := parseTemplates()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rec, err := record.Decode(data)
		if err != nil {
			return
		}
		l := newLayout(view{}, limitsFor(1))
		n := l.value(rec.State, 0)
		if l.nodes > l.lim.Nodes+l.lim.Items+1 {
			t.Fatalf("%d nodes laid out, limit %d", l.nodes, l.lim.Nodes)
		}
		var b strings.Builder
		if err := pages["object"].ExecuteTemplate(&b, "node", n); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(strings.ToLower(b.String()), "<script") {
			t.Fatalf("markup from the data in %q", b.String())
		}
		// The record as every object of a small database, so that a
		// tree's references lead back to it: walks must end.
		ld := mapLoader{zodb.OIDFromUint64(0): data, zodb.OIDFromUint64(1): data}
		if c, err := openContainer(t.Context(), ld, zodb.OIDFromUint64(0), rec); err == nil && c != nil {
			ctx := t.Context()
			_, _, _ = c.Len(ctx)
			if k, err := c.Key(ctx, "m"); err == nil {
				_, _ = c.Page(ctx, k, 10)
			}
			if _, err := c.Page(ctx, nil, 10); err != nil {
				return
			}
			_, _ = c.Page(ctx, "m", 10)
			_, _ = c.Page(ctx, int64(3), 10)
		}
	})
}

func TestDiffLines(t *testing.T) {
	a := strings.Split("class C\n{\n  a: 1\n  b: 2\n  c: 3\n  d: 4\n  e: 5\n  f: 6\n  g: 7\n  h: 8\n}", "\n")
	b := strings.Split("class C\n{\n  a: 1\n  b: 2\n  c: 3\n  d: 40\n  e: 5\n  f: 6\n  g: 7\n  h: 8\n  i: 9\n}", "\n")
	lines, cut := diffLines(a, b)
	var got []string
	for _, l := range lines {
		got = append(got, l.Op+l.Text)
	}
	want := "…| " + "  a: 1| " + "  b: 2| " + "  c: 3|-  d: 4|+  d: 40| " + "  e: 5| " + "  f: 6| " + "  g: 7| " + "  h: 8|+  i: 9| }"
	if cut || strings.Join(got, "|") != want {
		t.Errorf("diff (cut %v):\n%s\nwant\n%s", cut, strings.Join(got, "|"), want)
	}
	if lines, _ := diffLines(a, a); len(lines) != 1 || lines[0].Op != "…" {
		t.Errorf("diff of equal texts: %v", lines)
	}
}
