package main

import (
	"context"
	"encoding/hex"
	"strconv"

	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zodb"
)

// jsonRecord prints one record as a line of JSON:
//
//	{"oid": "...", "tid": "...", "class": "module.Name", "state": <view>}
//
// with the state in record's JSON view, complete whatever its size. A
// record that does not decode gives "error" and its bytes as "data" (hex);
// a deleted object (a transaction record without data) "class" and
// "state" null and "deleted" true; class metadata of no form ZODB writes
// "class" null and "class_meta".
func (d *dumper) jsonRecord(ctx context.Context, oid zodb.OID, tid zodb.TID, data []byte) error {
	b := make([]byte, 0, 64+2*len(data))
	b = append(b, `{"oid":"`...)
	b = append(b, oid.String()...)
	b = append(b, `","tid":"`...)
	b = append(b, tid.String()...)
	b = append(b, '"')
	if data == nil {
		b = append(b, `,"class":null,"state":null,"deleted":true}`...)
		return d.writeLine(b)
	}
	rec, err := record.Decode(data)
	if err == nil {
		opts := &record.JSONOptions{RefClass: func(oid zodb.OID) string { return d.refClass(ctx, oid) }}
		var view []byte
		if view, err = record.AppendJSON(nil, rec.State, opts); err == nil {
			if rec.Class != "" {
				b = append(b, `,"class":`...)
				b = strconv.AppendQuote(b, rec.Class)
			} else {
				b = append(b, `,"class":null,"class_meta":`...)
				b, _ = record.AppendJSON(b, rec.ClassMeta, nil)
			}
			b = append(b, `,"state":`...)
			b = append(b, view...)
			return d.writeLine(append(b, '}'))
		}
	}
	b = append(b, `,"error":`...)
	b = strconv.AppendQuote(b, err.Error())
	b = append(b, `,"data":"`...)
	b = hex.AppendEncode(b, data)
	return d.writeLine(append(b, `"}`...))
}

func (d *dumper) writeLine(b []byte) error {
	_, err := d.w.Write(append(b, '\n'))
	return err
}

// refClass returns the class of object oid for a reference that does not
// name it (ZODB writes a bare oid for classes with __getnewargs__), read
// from its record through the dump's snapshot.
func (d *dumper) refClass(ctx context.Context, oid zodb.OID) string {
	if c, ok := d.refClasses[oid]; ok {
		return c
	}
	var class string
	if rev, err := d.load(ctx, oid); err == nil {
		class = record.ClassOf(rev.Data)
	}
	if d.refClasses == nil {
		d.refClasses = make(map[zodb.OID]string)
	}
	d.refClasses[oid] = class
	return class
}
