// Package zeotest starts ZEO servers for the tests of Go code that talks
// ZEO, as net/http/httptest does for HTTP. The servers are written in Go
// and imitate real server generations, from ZODB 3.2 on Python 2.4 to ZEO
// 6 with msgpack, so a test needs no Python and no network beyond
// loopback.
//
// # A server per test
//
// Start starts a server on a free loopback port and stops it when the test
// ends; Client dials it with the gozeo client and closes that client when
// the test ends:
//
//	func TestGreeting(t *testing.T) {
//		srv := zeotest.Start(t, &zeotest.Options{Profile: zeotest.Z5Py3})
//		oid := zodb.OIDFromUint64(1)
//		if _, err := srv.Seed(t.Context(), oid, []byte("hello")); err != nil {
//			t.Fatal(err)
//		}
//		c := srv.Client(t, nil)
//		rev, err := c.Load(t.Context(), oid)
//		...
//	}
//
// Code under test that takes an address rather than a *zeo.Client gets
// srv.Addr(). Programs and Example functions, which have no testing.TB,
// use NewServer and Close instead.
//
// # Generations
//
// A [Profile] names the server generation to imitate: what it announces
// and accepts in the handshake, its methods, the pickles it writes, the
// shape of its errors and invalidations. [Profiles] lists them oldest
// first; running the same test against several is how code is checked
// against the servers its users run:
//
//	for _, p := range []zeotest.Profile{zeotest.Z3101Py27, zeotest.Z5Py3} {
//		t.Run(string(p), func(t *testing.T) {
//			srv := zeotest.Start(t, &zeotest.Options{Profile: p})
//			...
//		})
//	}
//
// # Data
//
// A new server's storage is empty. [Server.Seed] commits a raw ZODB
// record (the class pickle and the state pickle, as a storage keeps them);
// [Server.SeedObject] builds that record from a class name and a state, in
// the pickle dialect and protocol of the profile's Python, as ZODB writes
// it. Each seed is one committed transaction, which connected clients are
// told about as of any other commit.
//
// # Blobs
//
// Servers of the generations that have blobs (ZODB 3.8, Z308, and later)
// serve them from a temporary blob directory, removed at Close. A client
// given a blob cache directory of its own stores and loads them as from a
// real server, in 59000-byte chunks both ways:
//
//	srv := zeotest.Start(t, &zeotest.Options{Profile: zeotest.Z3101Py27})
//	c := srv.Client(t, &zeo.Options{BlobDir: t.TempDir()})
//	tx, err := c.Begin(ctx, zeo.TxnMeta{})
//	err = tx.StoreBlob(ctx, oid, zeo.TID{}, file)
//	...
//	b, err := c.LoadBlob(ctx, oid, tid)
//
// [Server.BlobDir] is the server's own directory, for a client with
// zeo.Options.SharedBlobDir. [Options.NoBlobs] serves a storage without
// blobs, to test code that must cope with one.
//
// # Faults
//
// [Server.SetFaults] makes the server misbehave from then on: close the
// connection when a method is called, delay a call or only its reply,
// stall, answer with a frame no decoder reads, or write garbage.
// [Server.Restart] drops every client and listens again on the same
// address with the same data, as a restarted server would; clients with
// reconnection on come back.
//
// The servers are faithful where a client can tell, but they are not real
// servers: there is no restorea, and ZODB 3.2's non-transactional undo is
// not imitated. To check code against a real
// server, run the same tests with its address; cmd/zeoconform checks what
// a server does.
package zeotest
