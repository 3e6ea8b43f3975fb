package main

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/gozeo/gozeo/db"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// dumper prints records read through one client.
type dumper struct {
	c *zeo.Client
	// snap is what -oid, -btree and graph walks read through: the
	// database as of -tid, or as of the newest transaction when the dump
	// started, so that a walk is never torn by a concurrent commit.
	snap *db.Snapshot
	w    io.Writer
	// raw prints records as hex dumps instead of decoding them.
	raw bool
	// json prints one JSON object per record (see jsonl.go).
	json bool
	// maxItems bounds the items printed per container (0: all).
	maxItems int
	// failed counts objects that could not be loaded.
	failed int
	// refClasses caches the class of objects that references name by oid
	// alone (-json).
	refClasses map[zodb.OID]string
	progress   *progress
}

// load returns oid's revision as of the dump's snapshot.
func (d *dumper) load(ctx context.Context, oid zodb.OID) (zeo.Revision, error) {
	return d.snap.LoadRaw(ctx, oid)
}

// dumpObject prints one object's revision: -oid.
func (d *dumper) dumpObject(ctx context.Context, oid zodb.OID) error {
	rev, err := d.load(ctx, oid)
	if err != nil {
		return err
	}
	if d.json {
		return d.jsonRecord(ctx, oid, rev.Serial, rev.Data)
	}
	d.printRevision(oid, rev)
	d.printRecord(rev.Data, "  ")
	return nil
}

func (d *dumper) printRevision(oid zodb.OID, rev zeo.Revision) {
	fmt.Fprintf(d.w, "oid %s  serial %s  %s UTC  %d bytes\n", oid.Repr(), rev.Serial, rev.Serial.TimeString(), len(rev.Data))
	if rev.Next != (zodb.TID{}) {
		fmt.Fprintf(d.w, "  replaced by transaction %s (%s UTC)\n", rev.Next, rev.Next.TimeString())
	}
}

// printRecord prints a record's class and state, or why it cannot be
// decoded, or its hex dump with -raw. It returns the decoded record (nil
// if it is not one) so that a graph walk can follow its references.
func (d *dumper) printRecord(data []byte, indent string) *record.Record {
	if d.raw {
		for line := range strings.Lines(hex.Dump(data)) {
			fmt.Fprint(d.w, indent, line)
		}
		return nil
	}
	rec, err := record.Decode(data)
	if err != nil {
		fmt.Fprintf(d.w, "%scannot decode the record: %v\n", indent, err)
		fmt.Fprintf(d.w, "%s(%d bytes, starting %s; -raw shows them all)\n", indent, len(data), hexPrefix(data, 16))
		return nil
	}
	if rec.Class != "" {
		fmt.Fprintf(d.w, "%sclass %s", indent, rec.Class)
	} else {
		fmt.Fprintf(d.w, "%sclass metadata (no form ZODB writes) %s", indent, pretty(rec.ClassMeta, indent, d.maxItems))
	}
	if rec.ClassArgs != nil {
		fmt.Fprintf(d.w, "  args %s", pretty(rec.ClassArgs, indent, d.maxItems))
	}
	fmt.Fprintf(d.w, "\n%sstate %s\n", indent, pretty(rec.State, indent, d.maxItems))
	if rec.Trailing > 0 {
		fmt.Fprintf(d.w, "%s(%d bytes follow the state pickle)\n", indent, rec.Trailing)
	}
	return rec
}

func hexPrefix(data []byte, n int) string {
	if len(data) <= n {
		return hex.EncodeToString(data)
	}
	return hex.EncodeToString(data[:n]) + "…"
}

// walkTransactions prints the storage's transactions from start on, and
// their records, stopping after limit records (0: no limit).
func (d *dumper) walkTransactions(ctx context.Context, start zodb.TID, limit int) error {
	it, err := d.c.Iterator(ctx, start, zodb.TID{})
	if err != nil {
		return err
	}
	defer it.Close()
	txns, records := 0, 0
	for {
		txn, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		txns++
		if !d.json {
			d.printTxn(txn)
		}
		recs, err := it.Records(ctx, txn)
		if err != nil {
			return err
		}
		for _, r := range recs {
			if limit > 0 && records == limit {
				d.summary("stopped after %d records (-n).", limit)
				return nil
			}
			records++
			d.progress.tick("%d transactions, %d records, at %s", txns, records, txn.TID)
			if d.json {
				if err := d.jsonRecord(ctx, r.OID, txn.TID, r.Data); err != nil {
					return err
				}
				continue
			}
			d.printDataRecord(r)
		}
		if !d.json {
			fmt.Fprintln(d.w)
		}
	}
	d.summary("%d transactions, %d records.", txns, records)
	return nil
}

func (d *dumper) printTxn(txn *zeo.TxnInfo) {
	fmt.Fprintf(d.w, "transaction %s  %s UTC", txn.TID, txn.TID.TimeString())
	if txn.Status != "" && txn.Status != " " {
		fmt.Fprintf(d.w, "  status %q", txn.Status)
	}
	fmt.Fprintf(d.w, "\n  user %q  description %q\n", txn.User, txn.Description)
	if len(txn.Extension) > 0 {
		fmt.Fprintf(d.w, "  extension %v\n", txn.Extension)
	}
}

func (d *dumper) printDataRecord(r zeo.DataRecord) {
	fmt.Fprintf(d.w, "  oid %s  %d bytes", r.OID.Repr(), len(r.Data))
	if r.DataTxn != (zodb.TID{}) {
		fmt.Fprintf(d.w, "  (data of transaction %s: an undo or a restore)", r.DataTxn)
	}
	fmt.Fprintln(d.w)
	if r.Data == nil {
		fmt.Fprintln(d.w, "    no data: the object was deleted, or its creation undone")
		return
	}
	d.printRecord(r.Data, "    ")
}

// walkGraph prints the objects reachable from the root (oid 0), breadth
// first, following the persistent references of each record, up to limit
// objects (0: no limit). It is the fallback for servers without a
// transaction iterator (before ZODB 3.9).
func (d *dumper) walkGraph(ctx context.Context, limit int) error {
	queue := []zodb.OID{zodb.ZeroOID}
	seen := map[zodb.OID]bool{zodb.ZeroOID: true}
	n := 0
	for len(queue) > 0 {
		if limit > 0 && n == limit {
			d.summary("stopped after %d objects (-n); %d more found and not shown.", limit, len(queue))
			return nil
		}
		oid := queue[0]
		queue = queue[1:]
		n++
		d.progress.tick("%d objects, %d more found", n, len(queue))
		rev, err := d.load(ctx, oid)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, zeo.ErrDisconnected) {
				return err
			}
			if oid == zodb.ZeroOID && errors.Is(err, zeo.ErrNotFound) {
				d.summary("the storage has no root object (oid 0x00): it is empty.")
				return nil
			}
			d.failed++
			if d.json {
				fmt.Fprintf(d.progress.w, "zeodump: oid %s: cannot load: %v\n", oid.Repr(), err)
			} else {
				fmt.Fprintf(d.w, "oid %s  cannot load: %v\n\n", oid.Repr(), err)
			}
			continue
		}
		var rec *record.Record
		if d.json {
			if err := d.jsonRecord(ctx, oid, rev.Serial, rev.Data); err != nil {
				return err
			}
			rec, _ = record.Decode(rev.Data)
		} else {
			d.printRevision(oid, rev)
			rec = d.printRecord(rev.Data, "  ")
			if d.raw {
				rec, _ = record.Decode(rev.Data) // -raw still follows references
			}
			fmt.Fprintln(d.w)
		}
		if rec == nil {
			continue
		}
		for _, r := range rec.Refs {
			if r.Local() && !seen[r.OID] {
				seen[r.OID] = true
				queue = append(queue, r.OID)
			}
		}
	}
	d.summary("%d objects reachable from the root.", n)
	return nil
}

// summary ends a walk: on stdout, or on stderr with -json, whose stdout
// holds records only.
func (d *dumper) summary(format string, args ...any) {
	w := d.w
	if d.json {
		w = d.progress.w
	}
	d.progress.done()
	if !d.json && strings.HasPrefix(format, "stopped") {
		fmt.Fprintln(w)
	}
	fmt.Fprintf(w, format+"\n", args...)
}
