package zeo_test

import (
	"slices"
	"testing"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/zeo"
)

// transactionalUndo (ZODB 3.2) answers with the bare list of oids. Two
// oids are two 8-byte strings, which must not be mistaken for undo's
// (tid, oids) pair.
func TestUndoOfTwoObjectsByTransactionalUndo(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Profile: "z201-py24"})
	c := dialT(t, srv.Addr(), nil)
	ctx := ctxT(t)
	if m := c.Session().Methods[zeo.OpUndo]; m != "transactionalUndo" {
		t.Fatalf("undo method %q on %s, want transactionalUndo", m, c.Session().Negotiated)
	}
	oids, err := c.NewOIDs(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Commit(ctx, zeo.TxnMeta{Description: "two"},
		zeo.Write{OID: oids[0], Data: []byte("a")}, zeo.Write{OID: oids[1], Data: []byte("b")}); err != nil {
		t.Fatal(err)
	}
	log, err := c.UndoLog(ctx, 0, 1)
	if err != nil || len(log) != 1 {
		t.Fatalf("UndoLog = %+v, %v", log, err)
	}
	res, err := c.Undo(ctx, log[0].ID, zeo.TxnMeta{})
	if err != nil {
		t.Fatalf("Undo: %v", err)
	}
	got := slices.Clone(res.OIDs)
	slices.SortFunc(got, func(a, b zeo.OID) int { return a.Compare(b) })
	if !slices.Equal(got, oids) {
		t.Errorf("Undo reverted %v, want %v", res.OIDs, oids)
	}
}
