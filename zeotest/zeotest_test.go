package zeotest_test

import (
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zeotest"
	"github.com/gozeo/gozeo/zodb"
)

// The documented constants are exactly the profiles, oldest first.
func TestProfileConstants(t *testing.T) {
	want := []zeotest.Profile{zeotest.Z201Py24, zeotest.Z303Py24, zeotest.Z308Py24, zeotest.Z308Py27, zeotest.Z309Py26,
		zeotest.Z3101Py27, zeotest.Z4Py27, zeotest.Z4Py3, zeotest.Z5Py3, zeotest.M5Py3}
	if got := zeotest.Profiles(); !slices.Equal(got, want) {
		t.Fatalf("Profiles() = %v, want the constants %v", got, want)
	}
	for _, p := range want {
		if p.Release() == "" || p.Version() == "" || (p.Python() != 2 && p.Python() != 3) {
			t.Errorf("%s: release %q version %q python %d", p, p.Release(), p.Version(), p.Python())
		}
	}
	if zeotest.Profile("z9").Version() != "" {
		t.Error("an unknown profile has a version")
	}
}

// Every profile starts, a client negotiates its version, and reads a
// seeded object back as it was encoded.
func TestEveryProfileSeedAndLoad(t *testing.T) {
	for _, p := range zeotest.Profiles() {
		t.Run(string(p), func(t *testing.T) {
			srv := zeotest.Start(t, &zeotest.Options{Profile: p})
			oid := zodb.OIDFromUint64(7)
			state := pickle.DictOf("name", "alice", "n", int64(3))
			if _, err := srv.SeedObject(t.Context(), oid, "app.models.User", state); err != nil {
				t.Fatal(err)
			}
			c := srv.Client(t, nil)
			if got := c.Session().Announced; got != p.Version() {
				t.Errorf("announced %s, want %s", got, p.Version())
			}
			rev, err := c.Load(t.Context(), oid)
			if err != nil {
				t.Fatal(err)
			}
			want, err := srv.Record("app.models.User", state)
			if err != nil || string(rev.Data) != string(want) {
				t.Fatalf("loaded %q, seeded %q (%v)", rev.Data, want, err)
			}
			rec, err := record.Decode(rev.Data)
			if err != nil || rec.Class != "app.models.User" {
				t.Fatalf("record %+v, %v", rec, err)
			}
		})
	}
}

func TestUnknownProfile(t *testing.T) {
	_, err := zeotest.NewServer(&zeotest.Options{Profile: "z9-py4"})
	if err == nil || !strings.Contains(err.Error(), "z5-py3") {
		t.Fatalf("got %v, want an error listing the profiles", err)
	}
}

func TestRecordNeedsModule(t *testing.T) {
	srv := zeotest.Start(t, nil)
	for _, class := range []string{"User", ".User", "app."} {
		if _, err := srv.Record(class, pickle.None); err == nil {
			t.Errorf("%q: no error", class)
		}
	}
}

// A seed is a commit connected clients hear of.
func TestSeedInvalidates(t *testing.T) {
	srv := zeotest.Start(t, nil)
	c := srv.Client(t, nil)
	sub := c.Subscribe()
	defer sub.Close()
	oid := zodb.OIDFromUint64(1)
	tid, err := srv.Seed(t.Context(), oid, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	select {
	case ev := <-sub.Events():
		if ev.TID != tid || !slices.Equal(ev.OIDs, []zodb.OID{oid}) {
			t.Fatalf("event %+v, want %s changing %s", ev, tid, oid)
		}
	case <-t.Context().Done():
		t.Fatal("no event")
	}
}

func TestReadOnly(t *testing.T) {
	srv := zeotest.Start(t, &zeotest.Options{ReadOnly: true, Profile: zeotest.Z309Py26})
	if _, err := srv.Seed(t.Context(), zodb.OIDFromUint64(1), []byte("fixture")); err != nil {
		t.Fatalf("seeding a read-only server: %v", err)
	}
	c := srv.Client(t, &zeo.Options{ReadOnly: true})
	_, err := c.Commit(t.Context(), zeo.TxnMeta{}, zeo.Write{OID: zodb.OIDFromUint64(2), Data: []byte("x")})
	if !errors.Is(err, zeo.ErrReadOnly) {
		t.Fatalf("commit: %v, want ErrReadOnly", err)
	}
}

// Restart drops the clients; one with reconnection on comes back, and the
// data stayed.
func TestRestart(t *testing.T) {
	srv := zeotest.Start(t, &zeotest.Options{Profile: zeotest.Z4Py27})
	oid := zodb.OIDFromUint64(1)
	if _, err := srv.Seed(t.Context(), oid, []byte("kept")); err != nil {
		t.Fatal(err)
	}
	c := srv.Client(t, &zeo.Options{Reconnect: zeo.ReconnectPolicy{MinDelay: 5 * time.Millisecond}})
	if err := srv.Restart(); err != nil {
		t.Fatal(err)
	}
	rev, err := c.Load(t.Context(), oid)
	if err != nil || string(rev.Data) != "kept" {
		t.Fatalf("after restart: %q, %v", rev.Data, err)
	}
}

// A stalled call is bounded by the caller's context; a corrupt reply ends
// the connection with a decode error.
func TestFaults(t *testing.T) {
	srv := zeotest.Start(t, nil)
	c := srv.Client(t, &zeo.Options{Reconnect: zeo.ReconnectPolicy{Disabled: true}})
	srv.SetFaults(zeotest.Fault{Method: "loadBefore", Action: zeotest.CorruptFrame})
	if _, err := c.Load(t.Context(), zodb.OIDFromUint64(1)); err == nil {
		t.Fatal("a corrupt reply loaded")
	}
	if zeotest.Close.String() != "close" || zeotest.FaultAction(42).String() != "FaultAction(42)" {
		t.Errorf("names: %s %s", zeotest.Close, zeotest.FaultAction(42))
	}
}

// Every generation with blobs serves them out of the box, and a client
// sharing the server's directory (SharedBlobDir with Server.BlobDir) reads
// what another stored over the connection. Generations before blobs, and
// NoBlobs, have no directory, and the client refuses blob operations.
func TestBlobs(t *testing.T) {
	for _, p := range zeotest.Profiles() {
		t.Run(string(p), func(t *testing.T) {
			srv := zeotest.Start(t, &zeotest.Options{Profile: p})
			c := srv.Client(t, &zeo.Options{BlobDir: t.TempDir()})
			hasBlobs := c.Session().Capabilities.Blobs
			if (srv.BlobDir() != "") != hasBlobs {
				t.Fatalf("BlobDir() = %q; the version's Blobs capability is %v", srv.BlobDir(), hasBlobs)
			}
			oid, err := c.NewOID(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			tx, err := c.Begin(t.Context(), zeo.TxnMeta{})
			if err != nil {
				t.Fatal(err)
			}
			defer tx.Abort(t.Context())
			content := strings.Repeat("0123456789", 12345)
			err = tx.StoreBlob(t.Context(), oid, zeo.TID{}, strings.NewReader(content))
			if !hasBlobs {
				if !errors.Is(err, zeo.ErrUnsupported) {
					t.Fatalf("StoreBlob on %s: %v, want ErrUnsupported", p, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if _, err := tx.Vote(t.Context()); err != nil {
				t.Fatal(err)
			}
			tid, err := tx.Finish(t.Context())
			if err != nil {
				t.Fatal(err)
			}
			shared := srv.Client(t, &zeo.Options{BlobDir: srv.BlobDir(), SharedBlobDir: true})
			b, err := shared.LoadBlob(t.Context(), oid, tid)
			if err != nil {
				t.Fatal(err)
			}
			defer b.Close()
			got, err := io.ReadAll(b)
			if err != nil || string(got) != content {
				t.Fatalf("read %d bytes (%v), stored %d", len(got), err, len(content))
			}
		})
	}
	srv := zeotest.Start(t, &zeotest.Options{Profile: zeotest.Z5Py3, NoBlobs: true})
	c := srv.Client(t, &zeo.Options{BlobDir: t.TempDir()})
	if _, err := c.LoadBlob(t.Context(), zodb.OIDFromUint64(1), zodb.TID{}); srv.BlobDir() != "" || !errors.Is(err, zeo.ErrUnsupported) {
		t.Errorf("NoBlobs: BlobDir %q, LoadBlob %v; want none and ErrUnsupported", srv.BlobDir(), err)
	}
}
