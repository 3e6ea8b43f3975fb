package conform

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// writeChecks commit on the storage. They run in order: the commit check
// makes the two revisions of a scratch object the later ones look at, the
// blob checks (blob.go) run where the server has blobs, and pack, last,
// drops the older revision.
var writeChecks = []check{
	{name: "new_oids", ops: []zeo.Operation{zeo.OpNewOIDs}, run: checkNewOIDs},
	{name: "commit: two revisions, another client told", ops: []zeo.Operation{zeo.OpNewOIDs, zeo.OpStore, zeo.OpLoad}, run: checkCommit},
	{name: "loadSerial of the older revision", ops: []zeo.Operation{zeo.OpLoadSerial}, run: needsCommit(checkLoadSerial)},
	{name: "loadBefore the newer revision", ops: []zeo.Operation{zeo.OpLoadBefore}, run: needsCommit(checkLoadBefore)},
	{name: "history, newest first", ops: []zeo.Operation{zeo.OpHistory}, run: needsCommit(checkHistory)},
	{name: "conflict: a store based on the older revision", ops: []zeo.Operation{zeo.OpStore}, run: needsCommit(checkConflict)},
	{name: "read conflict: checkCurrentSerialInTransaction", ops: []zeo.Operation{zeo.OpCheckCurrentSerial, zeo.OpNewOIDs, zeo.OpStore}, run: needsCommit(checkReadConflict)},
	{name: "iterator over the two commits", ops: []zeo.Operation{zeo.OpIterator}, run: needsCommit(checkIterator)},
	{name: "undo of the newer revision", ops: []zeo.Operation{zeo.OpUndoLog, zeo.OpUndo, zeo.OpLoad}, run: needsCommit(checkUndo)},
	{name: "blobs: a missing blob is not found", run: checkBlobMissing},
	{name: "blobs: store a blob, another client loads it", run: checkBlobRoundTrip},
	{name: "pack drops the replaced revision", ops: []zeo.Operation{zeo.OpPack, zeo.OpLoadSerial}, run: needsCommit(checkPack)},
}

// needsCommit skips a check when the commit check did not make the
// scratch object.
func needsCommit(f func(context.Context, *env) Result) func(context.Context, *env) Result {
	return func(ctx context.Context, e *env) Result {
		if e.tid2 == (zeo.TID{}) {
			return skip("needs the scratch object of the commit check, which failed")
		}
		return f(ctx, e)
	}
}

// scratchRecord is a ZODB record of a class no application has, so that
// a server trying to resolve a conflict on it gives up, as it must.
func scratchRecord(n int64, run string) []byte {
	meta := pickle.Tuple{pickle.Global{Module: "gozeo.conform", Name: "Scratch"}, pickle.None}
	state := pickle.DictOf(pickle.ByteString("n"), n, pickle.ByteString("run"), pickle.ByteString(run))
	data, err := record.Encode(meta, state, pickle.EncoderOptions{Protocol: 1, Dialect: pickle.Python2, Memo: true})
	if err != nil {
		panic(err) // a fixed literal: cannot fail
	}
	return data
}

func checkNewOIDs(ctx context.Context, e *env) Result {
	oids, err := e.c.NewOIDs(ctx, 3)
	sent := "new_oids(3)"
	if err != nil {
		return fail(sent, errText(err), "3 new oids")
	}
	seen := map[zodb.OID]bool{}
	for _, o := range oids {
		if seen[o] || o == zodb.ZeroOID {
			return fail(sent, fmt.Sprint(oids), "distinct oids other than the root's")
		}
		seen[o] = true
	}
	return pass(sent, fmt.Sprint(oids))
}

func checkCommit(ctx context.Context, e *env) Result {
	var buf [4]byte
	rand.Read(buf[:])
	run := hex.EncodeToString(buf[:])
	oid, err := e.c.NewOID(ctx)
	if err != nil {
		return fail("new_oids()", errText(err), "a new oid")
	}
	e.oid, e.data1, e.data2 = oid, scratchRecord(1, run), scratchRecord(2, run)
	e.desc2 = "gozeo conformance " + run + ": revision 2"
	last, err := e.c.LastTransaction(ctx)
	if err != nil {
		return fail("lastTransaction()", errText(err), "the last tid")
	}

	sent := fmt.Sprintf("tpc_begin, storea(%s, z64, %d bytes), vote, tpc_finish", oid, len(e.data1))
	tid1, err := e.c.Commit(ctx, zeo.TxnMeta{User: "gozeo", Description: "gozeo conformance " + run + ": revision 1"},
		zeo.Write{OID: oid, Data: e.data1})
	if err != nil {
		return fail(sent, errText(err), "the new transaction's tid")
	}
	if tid1.Compare(last) <= 0 {
		return fail(sent, tid1.String(), "a tid after the last one, "+last.String())
	}

	// Another client hears of the second commit.
	observer, err := zeo.Dial(ctx, e.opts.Addr, &e.copts)
	if err != nil {
		return fail("a second connection", errText(err), "a connection")
	}
	defer observer.Close()
	sub := observer.Subscribe()
	defer sub.Close()

	sent = fmt.Sprintf("a store of %s based on %s, committed", oid, tid1)
	tid2, err := e.c.Commit(ctx, zeo.TxnMeta{User: "gozeo", Description: e.desc2},
		zeo.Write{OID: oid, Serial: tid1, Data: e.data2})
	if err != nil {
		return fail(sent, errText(err), "the new transaction's tid")
	}
	rev, err := e.c.Load(ctx, oid)
	if err != nil || rev.Serial != tid2 || !bytes.Equal(rev.Data, e.data2) {
		return fail(sent+", then loaded", describe(rev, err), fmt.Sprintf("the %d bytes stored, serial %s", len(e.data2), tid2))
	}
	for {
		select {
		case ev := <-sub.Events():
			if ev.TID.Compare(tid2) < 0 {
				continue // the first commit, or another client's
			}
			if ev.TID != tid2 || !slices.Contains(ev.OIDs, oid) {
				return fail(sent+"; another client waits for invalidateTransaction",
					fmt.Sprintf("invalidation %s of %v", ev.TID, ev.OIDs), fmt.Sprintf("invalidateTransaction(%s, [%s])", tid2, oid))
			}
			e.tid1, e.tid2 = tid1, tid2
			return pass(sent, fmt.Sprintf("tids %s, %s; the other client was told of %s", tid1, tid2, tid2))
		case <-ctx.Done():
			return fail(sent+"; another client waits for invalidateTransaction", "nothing", fmt.Sprintf("invalidateTransaction(%s, [%s])", tid2, oid))
		}
	}
}

func checkLoadSerial(ctx context.Context, e *env) Result {
	sent := fmt.Sprintf("loadSerial(%s, %s)", e.oid, e.tid1)
	data, err := e.c.LoadSerial(ctx, e.oid, e.tid1)
	if err != nil || !bytes.Equal(data, e.data1) {
		return fail(sent, fmt.Sprintf("%d bytes, %s", len(data), errText(err)), fmt.Sprintf("the %d bytes of the first revision", len(e.data1)))
	}
	return pass(sent, fmt.Sprintf("%d bytes", len(data)))
}

func checkLoadBefore(ctx context.Context, e *env) Result {
	sent := fmt.Sprintf("loadBefore(%s, %s)", e.oid, e.tid2)
	rev, err := e.c.LoadBefore(ctx, e.oid, e.tid2)
	if err != nil || rev.Serial != e.tid1 || rev.Next != e.tid2 || !bytes.Equal(rev.Data, e.data1) {
		return fail(sent, describe(rev, err), fmt.Sprintf("(first revision's data, %s, %s)", e.tid1, e.tid2))
	}
	return pass(sent, describe(rev, nil))
}

func checkHistory(ctx context.Context, e *env) Result {
	sent := fmt.Sprintf("history(%s, 5)", e.oid)
	h, err := e.c.History(ctx, e.oid, 5)
	if err != nil || len(h) != 2 || h[0].TID != e.tid2 || h[1].TID != e.tid1 || h[0].Description != e.desc2 {
		return fail(sent, describeHistory(h, err), fmt.Sprintf("2 entries [%s %s], the first described %q", e.tid2, e.tid1, e.desc2))
	}
	return pass(sent, describeHistory(h, nil))
}

func checkConflict(ctx context.Context, e *env) Result {
	sent := fmt.Sprintf("a store of %s based on %s, replaced by %s", e.oid, e.tid1, e.tid2)
	want := fmt.Sprintf("ConflictError for %s, serials (%s, %s)", e.oid, e.tid2, e.tid1)
	_, err := e.c.Commit(ctx, zeo.TxnMeta{User: "gozeo", Description: "gozeo conformance: a conflict"},
		zeo.Write{OID: e.oid, Serial: e.tid1, Data: scratchRecord(3, "conflict")})
	var ce *zeo.ConflictError
	if !errors.As(err, &ce) || errors.Is(err, zeo.ErrReadConflict) {
		return fail(sent, errText(err), want)
	}
	if (ce.OIDKnown && ce.OID != e.oid) || (ce.Committed != (zeo.TID{}) && ce.Committed != e.tid2) || (ce.Read != (zeo.TID{}) && ce.Read != e.tid1) {
		return fail(sent, fmt.Sprintf("ConflictError for %s, serials (%s, %s)", ce.OID, ce.Committed, ce.Read), want)
	}
	return pass(sent, errText(err))
}

func checkReadConflict(ctx context.Context, e *env) Result {
	sent := fmt.Sprintf("checkCurrentSerialInTransaction(%s, %s) while %s is current, with a store of a new object, then vote", e.oid, e.tid1, e.tid2)
	other, err := e.c.NewOID(ctx)
	if err != nil {
		return fail("new_oids()", errText(err), "a new oid")
	}
	tx, err := e.c.Begin(ctx, zeo.TxnMeta{User: "gozeo", Description: "gozeo conformance: a read conflict"})
	if err != nil {
		return fail("tpc_begin", errText(err), "a transaction")
	}
	defer tx.Abort(ctx)
	err = tx.CheckCurrentSerial(ctx, e.oid, e.tid1)
	if err == nil {
		err = tx.Store(ctx, other, zeo.TID{}, scratchRecord(4, "read-conflict"))
	}
	if err == nil {
		_, err = tx.Vote(ctx)
	}
	if !errors.Is(err, zeo.ErrReadConflict) {
		return fail(sent, errText(err), fmt.Sprintf("ReadConflictError for %s (zeo.ErrReadConflict)", e.oid))
	}
	return pass(sent, errText(err))
}

func checkIterator(ctx context.Context, e *env) Result {
	sent := fmt.Sprintf("iterator_start(%s, %s), iterator_next, iterator_record_start/next", e.tid1, e.tid2)
	want := fmt.Sprintf("transactions %s and %s, each with a record of %s", e.tid1, e.tid2, e.oid)
	it, err := e.c.Iterator(ctx, e.tid1, e.tid2)
	if err != nil {
		return fail(sent, errText(err), want)
	}
	defer it.Close()
	var got []string
	found := 0
	for {
		txn, err := it.Next(ctx)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fail(sent, errText(err), want)
		}
		recs, err := it.Records(ctx, txn)
		if err != nil {
			return fail(sent, errText(err), want)
		}
		got = append(got, fmt.Sprintf("%s (%d records)", txn.TID, len(recs)))
		for _, r := range recs {
			if r.OID == e.oid && (txn.TID == e.tid1 || txn.TID == e.tid2) {
				found++
			}
		}
	}
	if found != 2 || len(got) != 2 {
		return fail(sent, fmt.Sprint(got), want)
	}
	return pass(sent, fmt.Sprint(got))
}

func checkUndo(ctx context.Context, e *env) Result {
	if !e.c.ServerInfo().SupportsUndo {
		return skip("get_info says the storage does not support undo (for this client's version)")
	}
	recs, err := e.c.UndoLog(ctx, 0, 20)
	if err != nil {
		return fail("undoLog(0, 20)", errText(err), "the last transactions")
	}
	var id []byte
	for _, r := range recs {
		if r.Description == e.desc2 {
			id = r.ID
			break
		}
	}
	if id == nil {
		return fail("undoLog(0, 20)", fmt.Sprintf("%d entries, none described %q", len(recs), e.desc2), "the second commit among the last transactions")
	}
	sent := fmt.Sprintf("undo of transaction %s (id %q)", e.tid2, id)
	res, err := e.c.Undo(ctx, id, zeo.TxnMeta{User: "gozeo", Description: "gozeo conformance: undo"})
	if err != nil || !slices.Contains(res.OIDs, e.oid) {
		return fail(sent, fmt.Sprintf("%v, %s", res.OIDs, errText(err)), fmt.Sprintf("undone oids [%s]", e.oid))
	}
	rev, err := e.c.Load(ctx, e.oid)
	if err != nil || !bytes.Equal(rev.Data, e.data1) || rev.Serial.Compare(e.tid2) <= 0 {
		return fail(sent+", then load", describe(rev, err), fmt.Sprintf("the first revision's %d bytes at a tid after %s", len(e.data1), e.tid2))
	}
	return pass(sent, fmt.Sprintf("undone in %s; the object holds the first revision again", res.TID))
}

func checkPack(ctx context.Context, e *env) Result {
	// Pack to just after the second commit, by the server's clock (the
	// tid's time): the first revision was replaced then.
	at := e.tid2.Time().Add(time.Millisecond)
	sent := fmt.Sprintf("pack(%s), then loadSerial(%s, %s)", at.UTC().Format("15:04:05.000"), e.oid, e.tid1)
	if err := e.c.Pack(ctx, at); err != nil {
		return fail(sent, errText(err), "None")
	}
	data, err := e.c.LoadSerial(ctx, e.oid, e.tid1)
	if !errors.Is(err, zeo.ErrNotFound) {
		return fail(sent, fmt.Sprintf("%d bytes, %s", len(data), errText(err)), "POSKeyError: pack removes revisions replaced before the pack time")
	}
	return pass(sent, errText(err))
}
