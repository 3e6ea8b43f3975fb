package zeoweb

import (
	"cmp"
	"context"
	"encoding/base64"
	"math/big"
	"slices"
	"strings"

	"github.com/gozeo/gozeo/btree"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zodb"
)

// itemPage is a page of a container's items in key order (values are nil
// for sets).
type itemPage struct {
	Items []btree.Item
	// Next is the first key of the following page; HasNext is false on
	// the last page.
	Next    pickle.Value
	HasNext bool
}

// container is a collection the items page can walk: a BTrees container
// (loaded bucket by bucket through package btree), or a mapping or list
// held in one record.
type container interface {
	// Kind names it for the page: "BTree", "Bucket", "mapping", "list"…
	Kind() string
	// Keyed is false for sequences (paged by position, no jump-to-key).
	Keyed() bool
	// Len counts the items; exact is false when ctx ended first and n
	// is a lower bound.
	Len(ctx context.Context) (n int, exact bool, err error)
	// Page returns up to n items from the first key ≥ from (from nil:
	// the first key; for sequences from is the position). On an error
	// the items read before it come with it.
	Page(ctx context.Context, from pickle.Value, n int) (itemPage, error)
	// Key reads a key typed into "jump to key".
	Key(ctx context.Context, s string) (pickle.Value, error)
}

// containerKind names the container rec is without loading anything
// more, "" for none: for the object page's link to the items.
func containerKind(rec *record.Record) string {
	if _, kind, ok := btree.ParseClass(rec.Class); ok {
		return kind.String()
	}
	if c := heldContainer(rec); c != nil {
		return c.Kind()
	}
	return ""
}

// openContainer returns the container object oid is (rec, read through
// l), nil for none: a BTrees container, walked through l, or a mapping or
// list held in the record.
func openContainer(ctx context.Context, l btree.Loader, oid zodb.OID, rec *record.Record) (container, error) {
	if _, _, ok := btree.ParseClass(rec.Class); ok {
		t, err := btree.Open(ctx, l, oid)
		if err != nil {
			return nil, err
		}
		return &treeContainer{t: t}, nil
	}
	if c := heldContainer(rec); c != nil {
		return c, nil
	}
	return nil, nil
}

// heldContainer recognizes mappings and lists kept in the state's "data"
// entry (a mapping's, in ZODB 3.0 and older, in "_container"), whatever the
// class, as record reads persistent.mapping's and persistent.list's; nil
// for none.
func heldContainer(rec *record.Record) container {
	if m, err := record.DecodeMapping(rec.State); err == nil {
		return &mappingContainer{d: m.Data}
	}
	if l, err := record.DecodeList(rec.State); err == nil {
		return &listContainer{l: *l.Data}
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

// Key reads a typed key: an integer if it reads as one, otherwise the
// text (compareKeys orders text and Python 2 byte strings together, so it
// finds str keys as well).
func (m *mappingContainer) Key(_ context.Context, s string) (pickle.Value, error) {
	if n, ok := parseInteger(s); ok {
		return n, nil
	}
	return s, nil
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
		p.Items = append(p.Items, btree.Item{Key: m.sorted[i].Key, Value: m.sorted[i].Value})
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

// Key is not used: a list has no jump-to-key.
func (c *listContainer) Key(context.Context, string) (pickle.Value, error) {
	return nil, badRequestf("a list has positions, not keys")
}

func (c *listContainer) Page(_ context.Context, from pickle.Value, n int) (itemPage, error) {
	i, _ := pickle.AsInt(from)
	i = max(i, 0)
	var p itemPage
	for ; int(i) < len(c.l) && len(p.Items) < n; i++ {
		p.Items = append(p.Items, btree.Item{Key: i, Value: c.l[i]})
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

// compareKeys orders the keys of a mapping: as BTrees orders them where
// Python could compare them (btree.Compare), and otherwise by kind, then
// by repr, so that a mapping of mixed keys still has one order to page
// through.
func compareKeys(a, b pickle.Value) int {
	if c, err := btree.Compare(a, b); err == nil {
		return c
	}
	if ra, rb := keyRank(a), keyRank(b); ra != rb {
		return cmp.Compare(ra, rb)
	}
	return strings.Compare(pickle.Repr(a), pickle.Repr(b))
}

func keyRank(v pickle.Value) int {
	switch v.(type) {
	case pickle.NoneType, nil:
		return 0
	case bool, int64, int, *big.Int, float64:
		return 1
	case string, pickle.Unicode:
		return 2
	case pickle.ByteString, pickle.Bytes, pickle.ByteArray:
		return 3
	case pickle.Tuple, *pickle.List:
		return 4
	}
	return 5
}
