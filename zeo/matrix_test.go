package zeo_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/internal/zrpcserver"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// The proof of "unchanged for its user against every generation": every
// test-server profile × every operation, through the public API only.

func profiles(t *testing.T) []testserver.Profile {
	ps := testserver.Profiles()
	if len(ps) == 0 {
		t.Fatal("no test server profiles")
	}
	return ps
}

func isZEO5(p testserver.Profile) bool { return p.Announce().IsZEO5() }

func dialT(t testing.TB, addr string, opts *zeo.Options) *zeo.Client {
	t.Helper()
	c, err := zeo.Dial(ctxT(t), addr, opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// seed writes two revisions of n new objects and returns their oids and
// the two tids.
func seed(t testing.TB, srv *testserver.Server, n int) ([]zeo.OID, zeo.TID, zeo.TID) {
	t.Helper()
	ctx := ctxT(t)
	first := map[zodb.OID][]byte{}
	second := map[zodb.OID][]byte{}
	var oids []zeo.OID
	for i := 0; i < n; i++ {
		o := zodb.OIDFromUint64(uint64(0x1000 + i))
		oids = append(oids, o)
		first[o] = fmt.Appendf(nil, "rev1 of %d", i)
		second[o] = fmt.Appendf(nil, "rev2 of %d", i)
	}
	t1, err := srv.Store().SeedMany(ctx, first)
	if err != nil {
		t.Fatal(err)
	}
	t2, err := srv.Store().SeedMany(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	return oids, t1, t2
}

func TestMatrix(t *testing.T) {
	for _, p := range profiles(t) {
		t.Run(p.Name, func(t *testing.T) {
			t.Parallel()
			t.Run("reads", func(t *testing.T) { matrixReads(t, p) })
			t.Run("commit", func(t *testing.T) { matrixCommit(t, p) })
			t.Run("conflict", func(t *testing.T) { matrixConflict(t, p) })
			t.Run("read-conflict", func(t *testing.T) { matrixReadConflict(t, p) })
			t.Run("not-found", func(t *testing.T) { matrixNotFound(t, p) })
			t.Run("read-only", func(t *testing.T) { matrixReadOnly(t, p) })
			t.Run("undo", func(t *testing.T) { matrixUndo(t, p) })
			t.Run("delete-pack-iterate", func(t *testing.T) { matrixDeletePackIterate(t, p) })
			t.Run("invalidations", func(t *testing.T) { matrixInvalidations(t, p) })
			t.Run("unsupported", func(t *testing.T) { matrixUnsupported(t, p) })
			t.Run("security", func(t *testing.T) { matrixSecurity(t, p) })
			t.Run("concurrent", func(t *testing.T) { matrixConcurrent(t, p) })
			t.Run("failures", func(t *testing.T) { matrixFailures(t, p) })
		})
	}
}

func matrixReads(t *testing.T, p testserver.Profile) {
	srv := testserver.Start(t, testserver.Options{Profile: p.Name})
	oids, t1, t2 := seed(t, srv, 5)
	c := dialT(t, srv.Addr(), nil)
	ctx := ctxT(t)
	s := c.Session()
	if s.Announced != p.Announce() || s.Negotiated == "" || s.Reason == "" {
		t.Errorf("session %+v", s)
	}
	wantEnc := "pickle-py2"
	switch {
	case p.Announce() == zeo.M5:
		wantEnc = "msgpack"
	case p.Python == 3:
		wantEnc = "pickle-py3"
	}
	if s.Encoding != wantEnc {
		t.Errorf("encoding %s, want %s", s.Encoding, wantEnc)
	}
	if s.ConnectTID != t2 || c.LastTID() != t2 {
		t.Errorf("connect tid %s, LastTID %s; want %s", s.ConnectTID, c.LastTID(), t2)
	}
	if info := c.ServerInfo(); info.Length < 5 {
		t.Errorf("get_info %+v", info)
	}
	r, err := c.Load(ctx, oids[0])
	if err != nil || string(r.Data) != "rev2 of 0" || r.Serial != t2 {
		t.Fatalf("Load = %q %s, %v", r.Data, r.Serial, err)
	}
	if c.Supports(zeo.OpLoadBefore) { // not before ZODB 3.3
		r, err = c.LoadBefore(ctx, oids[0], t2)
		if err != nil || string(r.Data) != "rev1 of 0" || r.Serial != t1 || r.Next != t2 {
			t.Errorf("LoadBefore = %q %s next %s, %v", r.Data, r.Serial, r.Next, err)
		}
	}
	data, err := c.LoadSerial(ctx, oids[1], t1)
	if err != nil || string(data) != "rev1 of 1" {
		t.Errorf("LoadSerial = %q, %v", data, err)
	}
	h, err := c.History(ctx, oids[0], 10)
	if err != nil || len(h) != 2 || h[0].TID != t2 || h[1].TID != t1 {
		t.Errorf("History = %+v, %v", h, err)
	}
	last, err := c.LastTransaction(ctx)
	if err != nil || last != t2 {
		t.Errorf("LastTransaction = %s, %v", last, err)
	}
	objs, err := c.LoadMany(ctx, oids)
	if err != nil || len(objs) != 5 || string(objs[4].Data) != "rev2 of 4" {
		t.Errorf("LoadMany = %v, %v", objs, err)
	}
	got, err := c.NewOIDs(ctx, 150) // two batches of 100
	if err != nil || len(got) != 150 {
		t.Fatalf("NewOIDs = %d, %v", len(got), err)
	}
	seen := map[zeo.OID]bool{}
	for _, o := range append(got, oids...) {
		if seen[o] {
			t.Fatalf("oid %s handed out twice", o)
		}
		seen[o] = true
	}
}

func matrixCommit(t *testing.T, p testserver.Profile) {
	srv := testserver.Start(t, testserver.Options{Profile: p.Name})
	c := dialT(t, srv.Addr(), nil)
	ctx := ctxT(t)
	oids, err := c.NewOIDs(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	tx, err := c.Begin(ctx, zeo.TxnMeta{User: "ünïcode user", Description: "ten objects", Extension: map[string]any{"app": "matrix", "n": 10}})
	if err != nil {
		t.Fatal(err)
	}
	for i, o := range oids {
		if err := tx.Store(ctx, o, zeo.TID{}, fmt.Appendf(nil, "object %d \x00\xff", i)); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := tx.Vote(ctx)
	if err != nil {
		t.Fatalf("Vote: %v", err)
	}
	tid, err := tx.Finish(ctx)
	if err != nil {
		t.Fatalf("Finish: %v", err)
	}
	if !isZEO5(p) && (len(rs) != 10 || rs[0].Serial != tid) {
		t.Errorf("serialnos results %+v (tid %s)", rs, tid)
	}
	if tx.Abort(ctx) != nil {
		t.Error("Abort after Finish failed")
	}
	for i, o := range oids {
		r, err := c.Load(ctx, o)
		if err != nil || r.Serial != tid || string(r.Data) != fmt.Sprintf("object %d \x00\xff", i) {
			t.Fatalf("Load %s = %q %s, %v", o, r.Data, r.Serial, err)
		}
	}
	h, err := c.History(ctx, oids[0], 1)
	if err != nil || len(h) != 1 || h[0].User != "ünïcode user" || h[0].Description != "ten objects" {
		t.Errorf("History = %+v, %v", h, err)
	}
	// Abort leaves nothing behind, and the connection takes a new
	// transaction afterwards.
	tx, err = c.Begin(ctx, zeo.TxnMeta{})
	if err != nil {
		t.Fatal(err)
	}
	tx.Store(ctx, oids[0], tid, []byte("never"))
	if err := tx.Abort(ctx); err != nil {
		t.Fatal(err)
	}
	if r, _ := c.Load(ctx, oids[0]); string(r.Data) != "object 0 \x00\xff" {
		t.Errorf("aborted store visible: %q", r.Data)
	}
	tid2, err := c.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oids[0], Serial: tid, Data: []byte("v2")})
	if err != nil || tid2.Compare(tid) <= 0 {
		t.Fatalf("Commit after abort = %s, %v", tid2, err)
	}
}

func matrixConflict(t *testing.T, p testserver.Profile) {
	srv := testserver.Start(t, testserver.Options{Profile: p.Name})
	oids, _, t2 := seed(t, srv, 1)
	a := dialT(t, srv.Addr(), nil)
	b := dialT(t, srv.Addr(), nil)
	ctx := ctxT(t)
	won, err := a.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oids[0], Serial: t2, Data: []byte("a")})
	if err != nil {
		t.Fatal(err)
	}
	_, err = b.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oids[0], Serial: t2, Data: []byte("b")})
	var ce *zeo.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, zeo.ErrConflict) || errors.Is(err, zeo.ErrReadConflict) {
		t.Fatalf("conflicting commit: %v", err)
	}
	if !ce.OIDKnown || ce.OID != oids[0] || ce.Read != t2 || ce.Committed != won || ce.Version != b.Session().Negotiated || ce.Server != srv.Addr() {
		t.Errorf("conflict %+v", ce)
	}
	for _, want := range []string{ce.OID.Repr(), t2.Repr(), won.Repr(), srv.Addr()} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("message %q lacks %q", err, want)
		}
	}
	// The loser's connection is still usable.
	if r, err := b.Load(ctx, oids[0]); err != nil || r.Serial != won {
		t.Errorf("Load after conflict = %s, %v", r.Serial, err)
	}
}

func matrixReadConflict(t *testing.T, p testserver.Profile) {
	srv := testserver.Start(t, testserver.Options{Profile: p.Name})
	oids, _, t2 := seed(t, srv, 2)
	a := dialT(t, srv.Addr(), nil)
	b := dialT(t, srv.Addr(), nil)
	ctx := ctxT(t)
	tx, err := a.Begin(ctx, zeo.TxnMeta{})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Abort(ctx)
	err = tx.CheckCurrentSerial(ctx, oids[0], t2)
	if !a.Supports(zeo.OpCheckCurrentSerial) {
		if !errors.Is(err, zeo.ErrUnsupported) {
			t.Fatalf("CheckCurrentSerial on %s: %v", a.Session().Negotiated, err)
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.Store(ctx, oids[1], t2, []byte("writes 1, read 0")); err != nil {
		t.Fatal(err)
	}
	// b changes oids[0] before a votes.
	if _, err := b.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oids[0], Serial: t2, Data: []byte("b")}); err != nil {
		t.Fatal(err)
	}
	_, err = tx.Vote(ctx)
	var rce *zeo.ReadConflictError
	if !errors.As(err, &rce) || !errors.Is(err, zeo.ErrReadConflict) || !errors.Is(err, zeo.ErrConflict) {
		t.Fatalf("Vote = %v, want a read conflict", err)
	}
	if rce.OID != oids[0] {
		t.Errorf("read conflict on %s, want %s", rce.OID, oids[0])
	}
}

func matrixNotFound(t *testing.T, p testserver.Profile) {
	srv := testserver.Start(t, testserver.Options{Profile: p.Name})
	oids, t1, _ := seed(t, srv, 1)
	c := dialT(t, srv.Addr(), nil)
	ctx := ctxT(t)
	missing := zodb.OIDFromUint64(0xdead)
	var nf *zeo.NotFoundError
	if _, err := c.Load(ctx, missing); !errors.As(err, &nf) || nf.OID != missing || nf.Server != srv.Addr() {
		t.Errorf("Load(missing) = %v", err)
	}
	if c.Supports(zeo.OpLoadBefore) {
		if _, err := c.LoadBefore(ctx, oids[0], t1); !errors.As(err, &nf) || nf.Before != t1 {
			t.Errorf("LoadBefore(first tid) = %v", err)
		}
	}
	bad := zodb.TIDFromUint64(t1.Uint64() - 1)
	if _, err := c.LoadSerial(ctx, oids[0], bad); !errors.As(err, &nf) || nf.Serial != bad {
		t.Errorf("LoadSerial(bad) = %v", err)
	}
	if _, err := c.History(ctx, missing, 1); !errors.Is(err, zeo.ErrNotFound) {
		t.Errorf("History(missing) = %v", err)
	}
	if c.Err() != nil {
		t.Errorf("connection lost: %v", c.Err())
	}
}

func matrixReadOnly(t *testing.T, p testserver.Profile) {
	srv := testserver.Start(t, testserver.Options{Profile: p.Name, ReadOnly: true})
	oids, _, t2 := seed(t, srv, 1)
	ctx := ctxT(t)
	_, err := zeo.Dial(ctx, srv.Addr(), nil)
	var ro *zeo.ReadOnlyError
	if !errors.As(err, &ro) || !errors.Is(err, zeo.ErrReadOnly) || ro.Local {
		t.Fatalf("Dial read-write to a read-only server: %v", err)
	}
	c := dialT(t, srv.Addr(), &zeo.Options{ReadOnlyFallback: true})
	if s := c.Session(); !s.ReadOnly || !s.ReadOnlyFallback {
		t.Errorf("fallback session %+v", s)
	}
	if r, err := c.Load(ctx, oids[0]); err != nil || r.Serial != t2 {
		t.Errorf("Load on a read-only connection: %v", err)
	}
	if _, err := c.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oids[0], Serial: t2, Data: []byte("x")}); !errors.As(err, &ro) || !ro.Local {
		t.Errorf("Commit on a read-only connection: %v", err)
	}
	// A read-only registration on a writable server.
	w := testserver.Start(t, testserver.Options{Profile: p.Name})
	rc := dialT(t, w.Addr(), &zeo.Options{ReadOnly: true})
	if _, err := rc.Begin(ctx, zeo.TxnMeta{}); !errors.Is(err, zeo.ErrReadOnly) {
		t.Errorf("Begin on a ReadOnly client: %v", err)
	}
}

func matrixUndo(t *testing.T, p testserver.Profile) {
	srv := testserver.Start(t, testserver.Options{Profile: p.Name})
	c := dialT(t, srv.Addr(), nil)
	ctx := ctxT(t)
	o, _ := c.NewOID(ctx)
	var serial zeo.TID
	for _, v := range []string{"v1", "v2", "v3"} {
		tid, err := c.Commit(ctx, zeo.TxnMeta{Description: v}, zeo.Write{OID: o, Serial: serial, Data: []byte(v)})
		if err != nil {
			t.Fatal(err)
		}
		serial = tid
	}
	log, err := c.UndoLog(ctx, 0, 10)
	if err != nil || len(log) != 3 || log[0].Description != "v3" || len(log[0].ID) == 0 {
		t.Fatalf("UndoLog = %+v, %v", log, err)
	}
	info, err := c.UndoInfo(ctx, 0, 10, nil)
	if err != nil || len(info) != 3 {
		t.Errorf("UndoInfo = %+v, %v", info, err)
	}
	// v2 cannot be undone: v3 changed the object since.
	_, err = c.Undo(ctx, log[1].ID, zeo.TxnMeta{})
	var ue *zeo.UndoError
	if !errors.As(err, &ue) || !errors.Is(err, zeo.ErrUndo) {
		t.Errorf("conflicting undo: %v", err)
	}
	res, err := c.Undo(ctx, log[0].ID, zeo.TxnMeta{Description: "undo v3"})
	if err != nil {
		t.Fatalf("Undo: %v", err)
	}
	if len(res.OIDs) != 1 || res.OIDs[0] != o {
		t.Errorf("Undo reverted %v", res.OIDs)
	}
	if r, err := c.Load(ctx, o); err != nil || string(r.Data) != "v2" || r.Serial != res.TID {
		t.Errorf("after undo: %q %s, %v (undo tid %s)", r.Data, r.Serial, err, res.TID)
	}
}

func matrixDeletePackIterate(t *testing.T, p testserver.Profile) {
	srv := testserver.Start(t, testserver.Options{Profile: p.Name})
	oids, t1, t2 := seed(t, srv, 2)
	c := dialT(t, srv.Addr(), nil)
	ctx := ctxT(t)
	if c.Supports(zeo.OpIterator) {
		it, err := c.Iterator(ctx, zeo.TID{}, zeo.TID{})
		if err != nil {
			t.Fatal(err)
		}
		var tids []zeo.TID
		for {
			txn, err := it.Next(ctx)
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			tids = append(tids, txn.TID)
			recs, err := it.Records(ctx, txn)
			if err != nil || len(recs) != 2 {
				t.Fatalf("Records(%s) = %+v, %v", txn.TID, recs, err)
			}
		}
		it.Close()
		if !slices.Equal(tids, []zeo.TID{t1, t2}) {
			t.Errorf("iterated %v, want [%s %s]", tids, t1, t2)
		}
	}
	if c.Supports(zeo.OpDelete) {
		tx, err := c.Begin(ctx, zeo.TxnMeta{})
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.Delete(ctx, oids[1], t2); err != nil {
			t.Fatal(err)
		}
		if _, err := tx.Finish(ctx); err != nil {
			t.Fatalf("Finish of a delete: %v", err)
		}
		if _, err := c.Load(ctx, oids[1]); !errors.Is(err, zeo.ErrNotFound) {
			t.Errorf("Load after delete: %v", err)
		}
	}
	if err := c.Pack(ctx, time.Now().Add(time.Hour)); err != nil {
		t.Fatalf("Pack: %v", err)
	}
	if _, err := c.LoadSerial(ctx, oids[0], t1); !errors.Is(err, zeo.ErrNotFound) {
		t.Errorf("old revision survived pack: %v", err)
	}
	if r, err := c.Load(ctx, oids[0]); err != nil || r.Serial != t2 {
		t.Errorf("current revision after pack: %v", err)
	}
}

func matrixInvalidations(t *testing.T, p testserver.Profile) {
	srv := testserver.Start(t, testserver.Options{Profile: p.Name})
	oids, _, t2 := seed(t, srv, 3)
	writer := dialT(t, srv.Addr(), nil)
	reader := dialT(t, srv.Addr(), nil)
	ctx := ctxT(t)
	sub := reader.Subscribe()
	if sub.Since() != t2 {
		t.Errorf("Since %s, want %s", sub.Since(), t2)
	}
	var commits []zeo.TID
	serials := map[zeo.OID]zeo.TID{oids[0]: t2, oids[1]: t2, oids[2]: t2}
	for i := 0; i < 5; i++ {
		other := oids[1+i%2]
		tid, err := writer.Commit(ctx, zeo.TxnMeta{},
			zeo.Write{OID: oids[0], Serial: serials[oids[0]], Data: fmt.Appendf(nil, "%d", i)},
			zeo.Write{OID: other, Serial: serials[other], Data: fmt.Appendf(nil, "other %d", i)})
		if err != nil {
			t.Fatal(err)
		}
		serials[oids[0]], serials[other] = tid, tid
		commits = append(commits, tid)
	}
	serial := serials[oids[0]]
	var got []zeo.TID
	for len(got) < len(commits) {
		select {
		case ev, ok := <-sub.Events():
			if !ok {
				t.Fatalf("subscription ended: %v", sub.Err())
			}
			if ev.Local || len(ev.OIDs) != 2 || !slices.Contains(ev.OIDs, oids[0]) {
				t.Errorf("event %+v", ev)
			}
			got = append(got, ev.TID)
		case <-ctx.Done():
			t.Fatalf("got %v of %v", got, commits)
		}
	}
	if !slices.Equal(got, commits) {
		t.Errorf("events %v, want %v", got, commits)
	}
	if reader.LastTID() != commits[len(commits)-1] {
		t.Errorf("reader LastTID %s", reader.LastTID())
	}
	// The writer's own commits, in order, marked Local.
	wsub := writer.Subscribe()
	tid, err := writer.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oids[0], Serial: serial, Data: []byte("last")})
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-wsub.Events(); ev.TID != tid || !ev.Local {
		t.Errorf("writer's own event %+v", ev)
	}
	// A client connecting now sees nothing at or before the connect tid.
	late := dialT(t, srv.Addr(), nil)
	lsub := late.Subscribe()
	next, err := writer.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oids[0], Serial: tid, Data: []byte("after")})
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-lsub.Events(); ev.TID != next {
		t.Errorf("late client's first event %s, want %s", ev.TID, next)
	}
}

func matrixUnsupported(t *testing.T, p testserver.Profile) {
	srv := testserver.Start(t, testserver.Options{Profile: p.Name})
	oids, _, t2 := seed(t, srv, 1)
	c := dialT(t, srv.Addr(), nil)
	ctx := ctxT(t)
	v := c.Session().Negotiated
	checks := 0
	for _, op := range zeo.Operations() {
		if c.Supports(op) {
			continue
		}
		checks++
		var err error
		switch op {
		case zeo.OpLoadBefore:
			_, err = c.LoadBefore(ctx, oids[0], t2)
		case zeo.OpIterator:
			_, err = c.Iterator(ctx, zeo.TID{}, zeo.TID{})
		case zeo.OpDelete, zeo.OpCheckCurrentSerial:
			tx, berr := c.Begin(ctx, zeo.TxnMeta{})
			if berr != nil {
				t.Fatal(berr)
			}
			if op == zeo.OpDelete {
				err = tx.Delete(ctx, oids[0], t2)
			} else {
				err = tx.CheckCurrentSerial(ctx, oids[0], t2)
			}
			tx.Abort(ctx)
		default:
			t.Errorf("%s unsupported on %s: not expected", op, v)
			continue
		}
		var ue *zeo.UnsupportedError
		if !errors.As(err, &ue) || !errors.Is(err, zeo.ErrUnsupported) || ue.Version != v || !strings.Contains(err.Error(), "not supported by "+string(v)) {
			t.Errorf("%s on %s: %v", op, v, err)
		}
	}
	// Z303 and Z308 lack deleteObject, the iterator and
	// checkCurrentSerial; Z309 only checkCurrentSerial; ZODB 3.2 (Z201)
	// loadBefore as well.
	if want := map[zeo.Version]int{zeo.Z201: 4, zeo.Z303: 3, zeo.Z308: 3, zeo.Z309: 1}[v]; checks != want {
		t.Errorf("%d unsupported operations on %s", checks, v)
	}
	// Nothing was sent: the connection is alive and well.
	if r, err := c.Load(ctx, oids[0]); err != nil || r.Serial != t2 {
		t.Errorf("Load after refusals: %v", err)
	}
	// Pinning an old version on a newer server (one that accepts Z308).
	if v != zeo.Z308 && zrpcserver.Accepts(p.Generation, zeo.Z308) {
		old := dialT(t, srv.Addr(), &zeo.Options{Versions: []zeo.Version{zeo.Z308}})
		if old.Session().Negotiated != zeo.Z308 {
			t.Fatalf("pinned Z308: negotiated %s", old.Session().Negotiated)
		}
		if old.Supports(zeo.OpDelete) {
			t.Error("Delete supported under Z308")
		}
		tid, err := old.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oids[0], Serial: t2, Data: []byte("via Z308")})
		if err != nil {
			t.Fatalf("commit under Z308: %v", err)
		}
		if r, err := old.Load(ctx, oids[0]); err != nil || r.Serial != tid {
			t.Errorf("Load under Z308: %v", err)
		}
		h, err := old.History(ctx, oids[0], 5)
		if err != nil || len(h) != 3 {
			t.Errorf("History under Z308: %+v, %v", h, err)
		}
	}
}

func matrixSecurity(t *testing.T, p testserver.Profile) {
	ctx := ctxT(t)
	if isZEO5(p) {
		serverCfg, clientCfg := testserver.TLSPair(t)
		srv := testserver.Start(t, testserver.Options{Profile: p.Name, TLS: serverCfg})
		c := dialT(t, srv.Addr(), &zeo.Options{TLS: clientCfg})
		if !c.Session().TLS {
			t.Error("session not marked TLS")
		}
		o, _ := c.NewOID(ctx)
		if _, err := c.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: o, Data: []byte("over TLS")}); err != nil {
			t.Fatalf("commit over TLS: %v", err)
		}
		// Without a client certificate the server refuses.
		noCert := clientCfg.Clone()
		noCert.Certificates = nil
		if _, err := zeo.Dial(ctx, srv.Addr(), &zeo.Options{TLS: noCert}); err == nil {
			t.Error("TLS without a client certificate accepted")
		}
		// Without TLS at all the client waits for a version that never
		// comes: the context bounds it.
		sctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if _, err := zeo.Dial(sctx, srv.Addr(), nil); err == nil {
			t.Error("plain connection to a TLS server succeeded")
		}
		return
	}
	srv := testserver.Start(t, testserver.Options{Profile: p.Name, Auth: &testserver.Auth{Realm: "zeorealm", Users: map[string]string{"alice": "secret"}}})
	c := dialT(t, srv.Addr(), &zeo.Options{Credentials: &zeo.Credentials{User: "alice", Password: "secret", Realm: "zeorealm"}})
	if s := c.Session(); s.AuthProtocol != "digest" || !s.Authenticated {
		t.Errorf("session %+v", s)
	}
	o, _ := c.NewOID(ctx)
	if _, err := c.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: o, Data: []byte("authenticated")}); err != nil {
		t.Fatalf("commit over MAC'd frames: %v", err)
	}
	for name, cred := range map[string]*zeo.Credentials{
		"wrong password": {User: "alice", Password: "nope"},
		"unknown user":   {User: "mallory", Password: "secret"},
		"none":           nil,
	} {
		_, err := zeo.Dial(ctx, srv.Addr(), &zeo.Options{Credentials: cred})
		var ae *zeo.AuthError
		if !errors.As(err, &ae) || !errors.Is(err, zeo.ErrAuth) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func matrixConcurrent(t *testing.T, p testserver.Profile) {
	srv := testserver.Start(t, testserver.Options{Profile: p.Name})
	oids, _, _ := seed(t, srv, 16)
	c := dialT(t, srv.Addr(), nil)
	w := dialT(t, srv.Addr(), nil)
	ctx := ctxT(t)
	var wg sync.WaitGroup
	errs := make(chan error, 100)
	for g := 0; g < 32; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 20; i++ {
				o := oids[(g+i)%len(oids)]
				r, err := c.Load(ctx, o)
				if err != nil {
					errs <- err
					return
				}
				if !strings.HasPrefix(string(r.Data), "rev") && !strings.HasPrefix(string(r.Data), "w") {
					errs <- fmt.Errorf("Load %s = %q", o, r.Data)
					return
				}
			}
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; i < 5; i++ {
			r, err := w.Load(ctx, oids[0])
			if err == nil {
				_, err = w.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oids[0], Serial: r.Serial, Data: fmt.Appendf(nil, "w%d", i)})
			}
			if err != nil {
				errs <- err
				return
			}
		}
	}()
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	// After the writer is done and c has synced with the server (a
	// round trip, whose reply follows every invalidation sent before
	// it), a load reflects the writer's last commit. Without the sync c
	// may still be reading the invalidation: ZEO promises no more.
	if _, err := c.LastTransaction(ctx); err != nil {
		t.Fatal(err)
	}
	if r, err := c.Load(ctx, oids[0]); err != nil || string(r.Data) != "w4" {
		t.Errorf("final Load = %q, %v", r.Data, err)
	}
}

func matrixFailures(t *testing.T, p testserver.Profile) {
	ctx := ctxT(t)
	srv := testserver.Start(t, testserver.Options{Profile: p.Name})
	oids, _, t2 := seed(t, srv, 1)

	// The connection is dropped during a load, with reconnection off (a
	// tool's mode): the client is done.
	noReconnect := &zeo.Options{Reconnect: zeo.ReconnectPolicy{Disabled: true}}
	c := dialT(t, srv.Addr(), noReconnect)
	loadMethod := c.Session().Methods[zeo.OpLoad] // loadEx, load (ZODB 3.2) or loadBefore (ZEO 5)
	srv.SetFaults(testserver.Faults{Rules: []testserver.FaultRule{{Method: loadMethod, Action: testserver.FaultClose}}})
	_, err := c.Load(ctx, oids[0])
	var de *zeo.DisconnectedError
	if !errors.As(err, &de) || !errors.Is(err, zeo.ErrDisconnected) || de.Method != loadMethod {
		t.Errorf("load on a dropped connection: %v", err)
	}
	if _, err := c.Load(ctx, oids[0]); !errors.As(err, &de) || !de.NotSent || !de.NoReconnect {
		t.Errorf("later call: %v, want a DisconnectedError saying it was not sent", err)
	}
	<-c.Done()

	// An undecodable reply.
	srv.SetFaults(testserver.Faults{Rules: []testserver.FaultRule{{Method: loadMethod, Action: testserver.FaultCorruptFrame}}})
	c = dialT(t, srv.Addr(), noReconnect)
	_, err = c.Load(ctx, oids[0])
	var ue *zeo.UndecodableMessageError
	if !errors.As(err, &ue) || !errors.Is(err, zeo.ErrUndecodable) || !errors.Is(err, zeo.ErrDisconnected) {
		t.Errorf("corrupt reply: %v", err)
	}

	// The connection is dropped while tpc_finish is in flight.
	srv.SetFaults(testserver.Faults{Rules: []testserver.FaultRule{{Method: "tpc_finish", Action: testserver.FaultClose}}})
	c = dialT(t, srv.Addr(), nil)
	_, err = c.Commit(ctx, zeo.TxnMeta{}, zeo.Write{OID: oids[0], Serial: t2, Data: []byte("maybe")})
	var cu *zeo.CommitOutcomeUnknownError
	if !errors.As(err, &cu) || !errors.Is(err, zeo.ErrCommitOutcomeUnknown) || !errors.Is(err, zeo.ErrDisconnected) {
		t.Fatalf("disconnect during tpc_finish: %v", err)
	}
	srv.SetFaults(testserver.Faults{})
	// The server dropped the connection instead of finishing: once the
	// client has reconnected, the storage shows it was not committed.
	if out, err := cu.Resolve(ctx); err != nil || out.Outcome != zeo.OutcomeNotCommitted {
		t.Errorf("Resolve = %+v, %v; want not committed", out, err)
	}

	// Protocol mismatch: the client allows only a version this server
	// does not accept.
	var pin zeo.Version = zeo.Z5
	if isZEO5(p) {
		pin = zeo.Z4
	}
	_, err = zeo.Dial(ctx, srv.Addr(), &zeo.Options{Versions: []zeo.Version{pin}})
	var pm *zeo.ProtocolMismatchError
	if !errors.As(err, &pm) || !errors.Is(err, zeo.ErrProtocolMismatch) || pm.Announced != p.Announce() {
		t.Errorf("mismatch: %v", err)
	}

	// A context that ends stops a call without breaking the connection.
	srv.SetFaults(testserver.Faults{Rules: []testserver.FaultRule{{Method: loadMethod, Action: testserver.FaultDelay, Delay: 200 * time.Millisecond}}})
	c = dialT(t, srv.Addr(), nil)
	sctx, cancel := context.WithTimeout(ctx, 20*time.Millisecond)
	_, err = c.Load(sctx, oids[0])
	cancel()
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Load past its deadline: %v", err)
	}
	srv.SetFaults(testserver.Faults{})
	if _, err := c.Load(ctx, oids[0]); err != nil {
		t.Errorf("Load after a timed-out one: %v", err)
	}
}
