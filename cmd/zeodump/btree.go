package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/gozeo/gozeo/btree"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zodb"
)

// dumpBTree prints the items of the BTree, TreeSet, Bucket or Set at oid
// in key order, as of the dump's snapshot: -btree. The pretty form shows
// "key: value" (the key alone for a set) and stops after limit items
// (0: no limit); with -json each item is a line {"key": k, "value": v}
// ({"key": k} for a set) in record's JSON view.
func (d *dumper) dumpBTree(ctx context.Context, oid zodb.OID, limit int) error {
	tr, err := btree.Open(ctx, d.snap, oid)
	if errors.Is(err, btree.ErrNotBTree) {
		return fmt.Errorf("-btree %s: %w (use -oid to see the object)", oid.Repr(), err)
	}
	if err != nil {
		return err
	}
	if !d.json {
		fmt.Fprintf(d.w, "%s  oid %s  as of %s (%s UTC)\n", tr.Class(), oid.Repr(), d.snap.At(), d.snap.At().TimeString())
	}
	opts := &record.JSONOptions{RefClass: func(oid zodb.OID) string { return d.refClass(ctx, oid) }}
	set := tr.Kind().IsSet()
	n := 0
	for it, err := range tr.All(ctx) {
		if err != nil {
			return fmt.Errorf("-btree %s after %d items: %w", oid.Repr(), n, err)
		}
		if limit > 0 && n == limit {
			d.summary("stopped after %d items (-n); -n 0 shows them all.", limit)
			return nil
		}
		n++
		d.progress.tick("%d items", n)
		if d.json {
			if err := d.jsonItem(it, set, opts); err != nil {
				return err
			}
			continue
		}
		line := "  " + pretty(it.Key, "    ", d.maxItems)
		if !set {
			line += ": " + pretty(it.Value, "    ", d.maxItems)
		}
		fmt.Fprintln(d.w, line)
	}
	d.summary("%d items.", n)
	return nil
}

// jsonItem prints one item as a line {"key": k, "value": v}, or {"key": k}
// for a set.
func (d *dumper) jsonItem(it btree.Item, set bool, opts *record.JSONOptions) error {
	b := append(make([]byte, 0, 64), `{"key":`...)
	b, err := record.AppendJSON(b, it.Key, opts)
	if err != nil {
		return fmt.Errorf("key %s: %w", pickle.Repr(it.Key), err)
	}
	if !set {
		b = append(b, `,"value":`...)
		if b, err = record.AppendJSON(b, it.Value, opts); err != nil {
			return fmt.Errorf("value of key %s: %w", pickle.Repr(it.Key), err)
		}
	}
	return d.writeLine(append(b, '}'))
}
