package zeoweb

import (
	"cmp"
	"context"
	"encoding/base64"
	"math/big"
	"slices"
	"strconv"
	"strings"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
)

// item is one key (and value, nil for sets) of a container.
type item struct {
	Key   pickle.Value
	Value pickle.Value
}

// itemPage is a page of a container's items in key order.
type itemPage struct {
	Items []item
	// Next is the first key of the following page; HasNext is false on
	// the last page.
	Next    pickle.Value
	HasNext bool
}

// container is a collection the items page can walk: a BTree family
// tree or bucket (loaded bucket by bucket), or a mapping or list held in
// one record.
type container interface {
	// Kind names it for the page: "BTree", "bucket", "mapping", "list".
	Kind() string
	// Keyed is false for sequences (paged by position, no jump-to-key).
	Keyed() bool
	// Len counts the items; exact is false when ctx ended first and n
	// is a lower bound.
	Len(ctx context.Context) (n int, exact bool, err error)
	// Page returns up to n items from the first key ≥ from (from nil:
	// the first key; for sequences from is the position).
	Page(ctx context.Context, from pickle.Value, n int) (itemPage, error)
}

// containerOf recognizes the containers of a record: BTrees (walked
// through sn), and mappings and lists kept in the state's "data" (or
// "_container") entry, as persistent.mapping and persistent.list do.
func containerOf(rec *record.Record, sn loader) container {
	if strings.HasPrefix(rec.Class, "BTrees.") {
		name := rec.Class[strings.LastIndexByte(rec.Class, '.')+1:]
		set := strings.HasSuffix(name, "Set")
		switch {
		case strings.HasSuffix(name, "BTree") || strings.HasSuffix(name, "TreeSet"):
			return &treeContainer{sn: sn, class: rec.Class, state: rec.State, set: set}
		case strings.HasSuffix(name, "Bucket") || strings.HasSuffix(name, "Set"):
			return &treeContainer{sn: sn, class: rec.Class, state: pickle.Tuple{pickle.Tuple{rec.State}}, set: set, bucket: true}
		}
	}
	d, ok := rec.State.(*pickle.Dict)
	if !ok {
		return nil
	}
	for _, key := range []string{"data", "_container"} {
		v, ok := d.GetString(key)
		if !ok {
			v, ok = d.Get(pickle.ByteString(key))
		}
		if !ok {
			continue
		}
		switch x := v.(type) {
		case *pickle.Dict:
			return &mappingContainer{d: x}
		case *pickle.List:
			return &listContainer{l: *x}
		}
	}
	return nil
}

// mappingContainer is a dict held in one record (PersistentMapping).
type mappingContainer struct {
	d      *pickle.Dict
	sorted []pickle.DictItem
}

func (m *mappingContainer) Kind() string { return "mapping" }
func (m *mappingContainer) Keyed() bool  { return true }
func (m *mappingContainer) Len(context.Context) (int, bool, error) {
	return m.d.Len(), true, nil
}

func (m *mappingContainer) Page(_ context.Context, from pickle.Value, n int) (itemPage, error) {
	if m.sorted == nil {
		m.sorted = slices.Clone(m.d.Items())
		slices.SortStableFunc(m.sorted, func(a, b pickle.DictItem) int { return compareKeys(a.Key, b.Key) })
	}
	i := 0
	if from != nil {
		i, _ = slices.BinarySearchFunc(m.sorted, from, func(it pickle.DictItem, k pickle.Value) int { return compareKeys(it.Key, k) })
	}
	var p itemPage
	for ; i < len(m.sorted) && len(p.Items) < n; i++ {
		p.Items = append(p.Items, item{Key: m.sorted[i].Key, Value: m.sorted[i].Value})
	}
	if i < len(m.sorted) {
		p.Next, p.HasNext = m.sorted[i].Key, true
	}
	return p, nil
}

// listContainer is a list held in one record (PersistentList), paged by
// position.
type listContainer struct{ l []pickle.Value }

func (c *listContainer) Kind() string { return "list" }
func (c *listContainer) Keyed() bool  { return false }
func (c *listContainer) Len(context.Context) (int, bool, error) {
	return len(c.l), true, nil
}

func (c *listContainer) Page(_ context.Context, from pickle.Value, n int) (itemPage, error) {
	i, _ := pickle.AsInt(from)
	i = max(i, 0)
	var p itemPage
	for ; int(i) < len(c.l) && len(p.Items) < n; i++ {
		p.Items = append(p.Items, item{Key: i, Value: c.l[i]})
	}
	if int(i) < len(c.l) {
		p.Next, p.HasNext = i, true
	}
	return p, nil
}

// encodeKey writes a key for a URL: the pickle of it, base64url. Keys are
// pickle values of any shape (text, bytes, numbers, tuples), and the
// decoder executes nothing, so this round-trips them all safely.
func encodeKey(k pickle.Value) string {
	b, err := pickle.Marshal(k, pickle.EncoderOptions{Protocol: 3, Dialect: pickle.Python3})
	if err != nil {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString(b)
}

// maxKeyToken bounds the ?from= token decoded.
const maxKeyToken = 4096

func decodeKey(s string) (pickle.Value, error) {
	if len(s) > maxKeyToken {
		return nil, badRequestf("?from= is too long")
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, badRequestf("?from= is not a key token")
	}
	v, err := pickle.Unmarshal(b)
	if err != nil {
		return nil, badRequestf("?from= is not a key token: " + err.Error())
	}
	return v, nil
}

// parseJumpKey reads a key typed into "jump to key": an integer if it
// reads as one, otherwise the text (compareKeys orders text and byte
// strings together, so it finds Python 2 str keys as well).
func parseJumpKey(s string) pickle.Value {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n
	}
	return s
}

// compareKeys orders keys as BTrees do for the usual key types: numbers
// by value, text and byte strings by their bytes, tuples item by item;
// values of different kinds by kind.
func compareKeys(a, b pickle.Value) int {
	ra, rb := keyRank(a), keyRank(b)
	if ra != rb {
		return cmp.Compare(ra, rb)
	}
	switch ra {
	case 1:
		return compareNumbers(a, b)
	case 2:
		return strings.Compare(keyString(a), keyString(b))
	case 3:
		ta, _ := pickle.AsTuple(a)
		tb, _ := pickle.AsTuple(b)
		for i := range min(len(ta), len(tb)) {
			if c := compareKeys(ta[i], tb[i]); c != 0 {
				return c
			}
		}
		return cmp.Compare(len(ta), len(tb))
	}
	return strings.Compare(pickle.Repr(a), pickle.Repr(b))
}

func keyRank(v pickle.Value) int {
	switch v.(type) {
	case pickle.NoneType, nil:
		return 0
	case bool, int64, int, *big.Int, float64:
		return 1
	case string, pickle.ByteString, pickle.Bytes, pickle.Unicode:
		return 2
	case pickle.Tuple, *pickle.List:
		return 3
	}
	return 4
}

func keyString(v pickle.Value) string {
	if s, ok := pickle.AsText(v); ok {
		return s
	}
	b, _ := pickle.AsBytes(v)
	return string(b)
}

func compareNumbers(a, b pickle.Value) int {
	ia, okA := pickle.AsInt(a)
	ib, okB := pickle.AsInt(b)
	if okA && okB {
		return cmp.Compare(ia, ib)
	}
	fa, _ := pickle.AsFloat(a)
	fb, _ := pickle.AsFloat(b)
	if ba, ok := a.(*big.Int); ok {
		fa, _ = new(big.Float).SetInt(ba).Float64()
	}
	if bb, ok := b.(*big.Int); ok {
		fb, _ = new(big.Float).SetInt(bb).Float64()
	}
	return cmp.Compare(fa, fb)
}
