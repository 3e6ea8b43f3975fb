package zeo_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/gozeo/gozeo/internal/testserver"
	"github.com/gozeo/gozeo/zeo"
)

// ZODB 3.2 announces Z201, as ZODB 3.3.0 does, but only 3.3.0 has
// loadBefore: the refusal names the versions that have it, not Z201.
func TestUnsupportedNamesOtherVersions(t *testing.T) {
	srv := testserver.Start(t, testserver.Options{Profile: "z201-py24"})
	c := dialT(t, srv.Addr(), nil)
	_, err := c.LoadBefore(ctxT(t), oid(1), zeo.TID{9})
	var ue *zeo.UnsupportedError
	if !errors.As(err, &ue) || len(ue.Since) == 0 {
		t.Fatalf("LoadBefore on ZODB 3.2 = %v, want an *UnsupportedError naming versions", err)
	}
	if slices.Contains(ue.Since, ue.Version) || !slices.Contains(ue.Since, zeo.Version("Z303")) {
		t.Errorf("Since = %v for a %s server", ue.Since, ue.Version)
	}
}
