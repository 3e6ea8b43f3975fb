package zeo_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/gozeo/gozeo/zeo"
	"github.com/gozeo/gozeo/zodb"
)

// generation is what the tests know of one capture prefix (from the
// .log files recorded alongside the captures).
type generation struct {
	prefix     string
	announced  zeo.Version
	encoding   string    // after the first reply
	dataLen    int       // size of the recorded data records
	load       [2]string // rev1, rev2 tids of the load scenario
	loadBefore [2]string
	history    [2]string
	conflict   [3]string // rev1, rev2, A's commit
	inval      [3]string // rev1, rev2, A's commit
	commit3    string
}

var generations = []generation{
	{prefix: "zeo5", announced: zeo.Z5, encoding: "pickle-py3", dataLen: 92,
		load:       [2]string{"040d40e293519211", "040d40e293563ddd"},
		loadBefore: [2]string{"040d40e298232cdd", "040d40e29826cf33"},
		history:    [2]string{"040d40e29cee5611", "040d40e29cf23033"},
		conflict:   [3]string{"040d40e2a1c03922", "040d40e2a1c36644", "040d40e2a1da5b55"},
		inval:      [3]string{"040d40e2ab7abb66", "040d40e2ab7d78ee", "040d40e2ab8f4edd"},
		commit3:    "040d40e28e8ed077"},
	{prefix: "zeo5msgpack", announced: zeo.M5, encoding: "msgpack", dataLen: 92,
		load:       [2]string{"040d40e2c5259000", "040d40e2c5293311"},
		loadBefore: [2]string{"040d40e2ca12d366", "040d40e2ca168cee"},
		history:    [2]string{"040d40e2cef86033", "040d40e2cefbfd44"},
		conflict:   [3]string{"040d40e2d38d9022", "040d40e2d3903277", "040d40e2d3a1c999"},
		inval:      [3]string{"040d40e2dd25e422", "040d40e2dd293c00", "040d40e2dd3f28ee"},
		commit3:    "040d40e2c05b55ee"},
	{prefix: "zeo310", announced: zeo.Z3101, encoding: "pickle-py2", dataLen: 80,
		load:       [2]string{"040d40e336ca1a66", "040d40e336cf38bb"},
		loadBefore: [2]string{"040d40e33c3bb600", "040d40e33c6beb55"},
		history:    [2]string{"040d40e3421ac577", "040d40e3424ae277"},
		conflict:   [3]string{"040d40e347cb4a11", "040d40e347ce3111", "040d40e349046600"},
		inval:      [3]string{"040d40e352cef433", "040d40e353000822", "040d40e354369844"},
		commit3:    "040d40e331ad4fee"},
	{prefix: "zeo38", announced: zeo.Z308, encoding: "pickle-py2", dataLen: 80,
		load:       [2]string{"040d40e3a95768dd", "040d40e3a98bf066"},
		loadBefore: [2]string{"040d40e3af290e11", "040d40e3af5da0cc"},
		history:    [2]string{"040d40e3b4bf5177", "040d40e3b4f27a55"},
		conflict:   [3]string{"040d40e3ba67f2ee", "040d40e3ba6b7ecc", "040d40e3bba79355"},
		inval:      [3]string{"040d40e3c588e6bb", "040d40e3c5bd7666", "040d40e3c6c802aa"},
		commit3:    "040d40e3a44617cc"},
}

func tid(t testing.TB, s string) zeo.TID {
	t.Helper()
	v, err := zodb.ParseTID(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func oid(v uint64) zeo.OID { return zodb.OIDFromUint64(v) }

func ctxT(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func dialScripted(t testing.TB, srv *scriptedServer, opts *zeo.Options) *zeo.Client {
	t.Helper()
	c, err := zeo.Dial(ctxT(t), srv.Addr(), opts)
	if err != nil {
		t.Fatalf("Dial: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestCaptureHandshake(t *testing.T) {
	for _, g := range generations {
		t.Run(g.prefix, func(t *testing.T) {
			srv := startScripted(t, g.prefix+"-handshake")
			c := dialScripted(t, srv, nil)
			s := c.Session()
			if s.Announced != g.announced || s.Negotiated != g.announced {
				t.Errorf("announced %s negotiated %s, want %s for both", s.Announced, s.Negotiated, g.announced)
			}
			if s.Encoding != g.encoding {
				t.Errorf("encoding %q, want %q", s.Encoding, g.encoding)
			}
			if s.Reason == "" {
				t.Error("no reason given for the negotiated version")
			}
			info := c.ServerInfo()
			if info.Name == "" || info.Raw["name"] == nil {
				t.Errorf("get_info not read: %+v", info)
			}
			last, err := c.LastTransaction(ctxT(t))
			if err != nil {
				t.Fatal(err)
			}
			if last != (zeo.TID{}) {
				t.Errorf("LastTransaction = %s, want z64 (empty storage)", last)
			}
		})
	}
}

func TestCaptureLoad(t *testing.T) {
	for _, g := range generations {
		t.Run(g.prefix, func(t *testing.T) {
			srv := startScripted(t, g.prefix+"-load")
			c := dialScripted(t, srv, nil)
			if got := c.Session().ConnectTID; g.prefix != "zeo38" && got != tid(t, g.load[1]) {
				t.Errorf("connect tid %s, want %s", got, g.load[1])
			}
			for _, o := range []uint64{0xcc, 0xcd, 0xce} {
				r, err := c.Load(ctxT(t), oid(o))
				if err != nil {
					t.Fatalf("Load(%x): %v", o, err)
				}
				if r.Serial != tid(t, g.load[1]) || len(r.Data) != g.dataLen {
					t.Errorf("Load(%x) = serial %s, %d bytes; want %s, %d", o, r.Serial, len(r.Data), g.load[1], g.dataLen)
				}
			}
		})
	}
}

func TestCapturePOSKeyError(t *testing.T) {
	for _, g := range generations {
		t.Run(g.prefix, func(t *testing.T) {
			srv := startScripted(t, g.prefix+"-poskeyerror")
			c := dialScripted(t, srv, nil)
			_, err := c.Load(ctxT(t), oid(0x7fffffff))
			var nf *zeo.NotFoundError
			if !errors.As(err, &nf) || !errors.Is(err, zeo.ErrNotFound) {
				t.Fatalf("Load of a missing oid: %v, want a *NotFoundError", err)
			}
			if nf.OID != oid(0x7fffffff) || nf.Server != srv.Addr() || nf.Version != g.announced {
				t.Errorf("error fields: %+v", nf)
			}
			if c.Err() != nil {
				t.Errorf("connection lost after a POSKeyError: %v", c.Err())
			}
		})
	}
}

func TestCaptureLoadBefore(t *testing.T) {
	for _, g := range generations {
		t.Run(g.prefix, func(t *testing.T) {
			srv := startScripted(t, g.prefix+"-loadbefore")
			c := dialScripted(t, srv, nil)
			ctx := ctxT(t)
			o := oid(0x130)
			rev1, rev2 := tid(t, g.loadBefore[0]), tid(t, g.loadBefore[1])
			r, err := c.LoadBefore(ctx, o, rev2)
			if err != nil || r.Serial != rev1 || r.Next != rev2 {
				t.Errorf("LoadBefore(rev2) = %s next %s, %v; want %s next %s", r.Serial, r.Next, err, rev1, rev2)
			}
			r, err = c.LoadBefore(ctx, o, zodb.TIDFromUint64(rev2.Uint64()+1))
			if err != nil || r.Serial != rev2 || r.Next != (zeo.TID{}) {
				t.Errorf("LoadBefore(rev2+1) = %s next %s, %v; want %s, no next", r.Serial, r.Next, err, rev2)
			}
			_, err = c.LoadBefore(ctx, o, rev1)
			var nf *zeo.NotFoundError
			if !errors.As(err, &nf) || nf.Before != rev1 {
				t.Errorf("LoadBefore(rev1) = %v, want NotFoundError with Before", err)
			}
			data, err := c.LoadSerial(ctx, o, rev1)
			if err != nil || len(data) != g.dataLen {
				t.Errorf("LoadSerial(rev1) = %d bytes, %v", len(data), err)
			}
			bad := zodb.TIDFromUint64(rev1.Uint64() - 1)
			_, err = c.LoadSerial(ctx, o, bad)
			if !errors.As(err, &nf) || nf.Serial != bad || nf.OID != o {
				t.Errorf("LoadSerial(unknown) = %v, want NotFoundError with Serial", err)
			}
		})
	}
}

func TestCaptureHistory(t *testing.T) {
	for _, g := range generations {
		t.Run(g.prefix, func(t *testing.T) {
			srv := startScripted(t, g.prefix+"-history")
			c := dialScripted(t, srv, nil)
			h, err := c.History(ctxT(t), oid(0x194), 1)
			if err != nil || len(h) != 1 || h[0].TID != tid(t, g.history[1]) {
				t.Fatalf("History(1) = %+v, %v", h, err)
			}
			h, err = c.History(ctxT(t), oid(0x194), 5)
			if err != nil || len(h) != 2 || h[1].TID != tid(t, g.history[0]) {
				t.Fatalf("History(5) = %+v, %v", h, err)
			}
			if h[0].User != "capture" || h[0].Description != "setup rev 2" || h[0].Size != int64(g.dataLen) || h[0].Time.Year() < 2020 {
				t.Errorf("history entry %+v", h[0])
			}
		})
	}
}

func TestCaptureNewOIDs(t *testing.T) {
	for _, g := range generations {
		t.Run(g.prefix, func(t *testing.T) {
			srv := startScripted(t, g.prefix+"-new_oids")
			c := dialScripted(t, srv, nil)
			oids, err := c.NewOIDs(ctxT(t), 100)
			if err != nil || len(oids) != 100 || oids[0] != oid(1) || oids[99] != oid(100) {
				t.Fatalf("NewOIDs(100) = %v..., %v", oids[:min(len(oids), 2)], err)
			}
			more, err := c.NewOIDs(ctxT(t), 3)
			if err != nil || len(more) != 3 || more[0] != oid(0x65) || more[2] != oid(0x67) {
				t.Fatalf("NewOIDs(3) = %v, %v", more, err)
			}
		})
	}
}

func TestCaptureCommit(t *testing.T) {
	for _, g := range generations {
		t.Run(g.prefix, func(t *testing.T) {
			srv := startScripted(t, g.prefix+"-commit3")
			c := dialScripted(t, srv, nil)
			ctx := ctxT(t)
			sub := c.Subscribe()
			oids, err := c.NewOIDs(ctx, 3)
			if err != nil || oids[0] != oid(0x68) {
				t.Fatalf("NewOIDs = %v, %v", oids, err)
			}
			tx, err := c.Begin(ctx, zeo.TxnMeta{User: "capture", Description: "commit 3 objects"})
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range oids {
				if err := tx.Store(ctx, o, zeo.TID{}, []byte("data")); err != nil {
					t.Fatal(err)
				}
			}
			rs, err := tx.Vote(ctx)
			if err != nil {
				t.Fatalf("Vote: %v", err)
			}
			want := tid(t, g.commit3)
			if g.prefix == "zeo310" || g.prefix == "zeo38" {
				if len(rs) != 3 || rs[0].OID != oids[0] || rs[0].Serial != want {
					t.Errorf("serialnos results %+v", rs)
				}
			} else if len(rs) != 0 {
				t.Errorf("ZEO 5 vote results %+v, want none", rs)
			}
			got, err := tx.Finish(ctx)
			if err != nil || got != want {
				t.Fatalf("Finish = %s, %v; want %s", got, err, want)
			}
			if err := tx.Abort(ctx); err != nil {
				t.Errorf("Abort after Finish: %v", err)
			}
			ev := <-sub.Events()
			if ev.TID != want || !ev.Local || len(ev.OIDs) != 3 {
				t.Errorf("local invalidation %+v", ev)
			}
			if c.LastTID() != want {
				t.Errorf("LastTID %s after commit %s", c.LastTID(), want)
			}
			// ZEO 5 sends info() before every tpc_finish reply; 3.x only when
			// it invalidated something, which new objects are not.
			if info := c.ServerInfo(); (g.prefix == "zeo5" || g.prefix == "zeo5msgpack") && info.Length != 3 {
				t.Errorf("info() after commit not applied: %+v", info)
			}
		})
	}
}

func TestCaptureConflict(t *testing.T) {
	for _, g := range generations {
		t.Run(g.prefix, func(t *testing.T) {
			srv := startScripted(t, g.prefix+"-conflict")
			a := dialScripted(t, srv, nil)
			b := dialScripted(t, srv, nil)
			ctx := ctxT(t)
			o := oid(0x1f8)
			rev2, committed := tid(t, g.conflict[1]), tid(t, g.conflict[2])
			subB := b.Subscribe()
			ra, err := a.Load(ctx, o)
			if err != nil || ra.Serial != rev2 {
				t.Fatalf("A Load = %s, %v", ra.Serial, err)
			}
			rb, err := b.Load(ctx, o)
			if err != nil || rb.Serial != rev2 {
				t.Fatalf("B Load = %s, %v", rb.Serial, err)
			}
			got, err := a.Commit(ctx, zeo.TxnMeta{User: "capture", Description: "A wins"}, zeo.Write{OID: o, Serial: ra.Serial, Data: []byte("A")})
			if err != nil || got != committed {
				t.Fatalf("A Commit = %s, %v", got, err)
			}
			_, err = b.Commit(ctx, zeo.TxnMeta{User: "capture", Description: "B loses"}, zeo.Write{OID: o, Serial: rb.Serial, Data: []byte("B")})
			var ce *zeo.ConflictError
			if !errors.As(err, &ce) || !errors.Is(err, zeo.ErrConflict) {
				t.Fatalf("B Commit = %v, want a *ConflictError", err)
			}
			if !ce.OIDKnown || ce.OID != o || ce.Committed != committed || ce.Read != rev2 || ce.Class != "persistent.mapping.PersistentMapping" {
				t.Errorf("conflict fields %+v", ce)
			}
			if errors.Is(err, zeo.ErrReadConflict) {
				t.Error("a write conflict matches ErrReadConflict")
			}
			ev := <-subB.Events()
			if ev.TID != committed || len(ev.OIDs) != 1 || ev.OIDs[0] != o || ev.Local {
				t.Errorf("B's invalidation %+v", ev)
			}
			t.Logf("%v", err)
		})
	}
}

func TestCaptureInvalidation(t *testing.T) {
	for _, g := range generations {
		t.Run(g.prefix, func(t *testing.T) {
			srv := startScripted(t, g.prefix+"-invalidation")
			a := dialScripted(t, srv, nil)
			// The scripted server sends B's invalidation with the reply to
			// B's next call, the reload: B's cache must not answer it.
			b := dialScripted(t, srv, &zeo.Options{CacheSize: -1})
			ctx := ctxT(t)
			rev2, committed := tid(t, g.inval[1]), tid(t, g.inval[2])
			subA, subB := a.Subscribe(), b.Subscribe()
			o1, o2 := oid(0x25c), oid(0x25d)
			for _, o := range []zeo.OID{o1, o2} {
				if r, err := b.Load(ctx, o); err != nil || r.Serial != rev2 {
					t.Fatalf("B Load %s = %s, %v", o, r.Serial, err)
				}
			}
			got, err := a.Commit(ctx, zeo.TxnMeta{User: "capture", Description: "invalidate 2"},
				zeo.Write{OID: o1, Serial: rev2, Data: []byte("1")}, zeo.Write{OID: o2, Serial: rev2, Data: []byte("2")})
			if err != nil || got != committed {
				t.Fatalf("A Commit = %s, %v", got, err)
			}
			r, err := b.Load(ctx, o1)
			if err != nil || r.Serial != committed {
				t.Fatalf("B reload = %s, %v", r.Serial, err)
			}
			ev := <-subB.Events()
			if ev.TID != committed || len(ev.OIDs) != 2 || ev.OIDs[0] != o1 || ev.OIDs[1] != o2 {
				t.Errorf("B's invalidation %+v", ev)
			}
			if b.LastTID() != committed {
				t.Errorf("B LastTID %s", b.LastTID())
			}
			evA := <-subA.Events()
			if evA.TID != committed || !evA.Local {
				t.Errorf("A's own commit event %+v", evA)
			}
		})
	}
}

func TestCaptureDigestAuth(t *testing.T) {
	for _, prefix := range []string{"zeo310auth", "zeo38auth"} {
		t.Run(prefix, func(t *testing.T) {
			srv := startScripted(t, prefix+"-handshake")
			srv.authUser, srv.authPassword = "alice", "secret"
			c := dialScripted(t, srv, &zeo.Options{Credentials: &zeo.Credentials{User: "alice", Password: "secret", Realm: "zeorealm"}})
			s := c.Session()
			if s.AuthProtocol != "digest" || !s.Authenticated {
				t.Errorf("session %+v", s)
			}
			if _, err := c.LastTransaction(ctxT(t)); err != nil {
				t.Fatalf("a MAC'd call after auth: %v", err)
			}
			srv.mu.Lock()
			verified := srv.macOK
			srv.mu.Unlock()
			if verified < 3 { // register, get_info, lastTransaction at least
				t.Errorf("server verified %d MAC'd frames from the client", verified)
			}
		})
	}
}

func TestCaptureDigestAuthFailures(t *testing.T) {
	cases := []struct {
		name string
		cred *zeo.Credentials
		want string
	}{
		{"wrong password", &zeo.Credentials{User: "alice", Password: "guess"}, "wrong password"},
		{"no credentials", nil, "no credentials"},
		{"other realm", &zeo.Credentials{User: "alice", Password: "secret", Realm: "elsewhere"}, "realm"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := startScripted(t, "zeo310auth-handshake")
			srv.authUser, srv.authPassword = "alice", "secret"
			_, err := zeo.Dial(ctxT(t), srv.Addr(), &zeo.Options{Credentials: tc.cred})
			var ae *zeo.AuthError
			if !errors.As(err, &ae) || !errors.Is(err, zeo.ErrAuth) {
				t.Fatalf("Dial = %v, want an *AuthError", err)
			}
			if !contains(err.Error(), tc.want) {
				t.Errorf("error %q does not say %q", err, tc.want)
			}
		})
	}
}

func contains(s, sub string) bool {
	return len(sub) == 0 || (len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0))
}

func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}
