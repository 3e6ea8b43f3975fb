package btree

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strconv"
	"testing"

	"github.com/gozeo/gozeo/pickle"
)

// TestGoldenShapes replays sequences of inserts and deletes that
// testdata/python/btrees_cross.py applied to the real BTrees C code
// (BTrees 4.3.1) and compares the trees: every node's separating keys, every
// bucket's first and last key, size and next link, each node's
// firstbucket. Same shapes mean the same splits, at the same places, as
// BTrees makes them.
func TestGoldenShapes(t *testing.T) {
	data, err := os.ReadFile("testdata/btrees_golden.json")
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var golden struct {
		Cases []struct {
			Name  string
			Class string
			Ops   [][]any
			Len   int
			Shape any
		}
	}
	if err := dec.Decode(&golden); err != nil {
		t.Fatal(err)
	}
	if len(golden.Cases) < 5 {
		t.Fatalf("%d cases", len(golden.Cases))
	}
	ctx := context.Background()
	for _, c := range golden.Cases {
		t.Run(c.Name, func(t *testing.T) {
			fam, kind, ok := ParseClass(c.Class)
			if !ok {
				t.Fatalf("class %s", c.Class)
			}
			db := newMemDB()
			tr, err := Create(ctx, db, fam, kind)
			if err != nil {
				t.Fatal(err)
			}
			for i, op := range c.Ops {
				key := fromJSON(op[1])
				switch op[0] {
				case "set":
					_, err = tr.Set(ctx, key, fromJSON(op[2]))
				case "ins":
					_, err = tr.Insert(ctx, key)
				case "del":
					var ok bool
					ok, err = tr.Delete(ctx, key)
					if !ok && err == nil {
						t.Fatalf("op %d: %v not found", i, op)
					}
				}
				if err != nil {
					t.Fatalf("op %d %v: %v", i, op, err)
				}
			}
			if err := tr.Check(ctx); err != nil {
				t.Fatal(err)
			}
			if n, err := tr.Len(ctx); n != c.Len || err != nil {
				t.Errorf("Len = %d, %v; want %d", n, err, c.Len)
			}
			got := canon(t, goShape(t, tr))
			want := canon(t, c.Shape)
			if got != want {
				t.Errorf("shapes differ\n got %.600s\nwant %.600s", got, want)
			}
		})
	}
}

// fromJSON turns a golden key or value into what a Go caller passes.
func fromJSON(v any) pickle.Value {
	switch v := v.(type) {
	case json.Number:
		i, err := strconv.ParseInt(string(v), 10, 64)
		if err != nil {
			panic(err)
		}
		return i
	}
	return v
}

// toJSON is the inverse of fromJSON for keys.
func toJSON(v pickle.Value) any {
	if i, ok := v.(int64); ok {
		return json.Number(strconv.FormatInt(i, 10))
	}
	return v
}

// goShape is btrees_cross.py's shape() of a Go-written tree. A root with a
// single bucket of its own shows as inline, as it does for a tree that
// Python holds in memory, where buckets have no oids.
func goShape(t *testing.T, tr *Tree) any {
	ctx := context.Background()
	root, err := tr.load(ctx, tr.oid)
	if err != nil {
		t.Fatal(err)
	}
	if len(root.node.Children) == 0 {
		return nil
	}
	if len(root.node.Children) == 1 {
		c, err := tr.child(ctx, root, 0)
		if err != nil {
			t.Fatal(err)
		}
		if c.bucket != nil {
			return map[string]any{"inline": bucketShape(c.bucket)}
		}
	}
	var node func(o *object) any
	node = func(o *object) any {
		n := o.node
		keys := []any{}
		for _, k := range n.Keys {
			keys = append(keys, toJSON(k))
		}
		kids := []any{}
		for i := range n.Children {
			c, err := tr.child(ctx, o, i)
			if err != nil {
				t.Fatal(err)
			}
			if c.node != nil {
				kids = append(kids, node(c))
			} else {
				kids = append(kids, bucketShape(c.bucket))
			}
		}
		leftmost := n.Children[0].OID
		for c := o; ; {
			if c, err = tr.child(ctx, c, 0); err != nil {
				t.Fatal(err)
			}
			if c.node == nil {
				break
			}
			leftmost = c.node.Children[0].OID
		}
		first := n.FirstBucket == leftmost
		return map[string]any{"keys": keys, "kids": kids, "first": first}
	}
	return node(root)
}

func bucketShape(b *BucketState) any {
	var first, last any
	if len(b.Keys) > 0 {
		first, last = toJSON(b.Keys[0]), toJSON(b.Keys[len(b.Keys)-1])
	}
	return map[string]any{"first": first, "last": last, "len": len(b.Keys), "next": b.HasNext}
}
