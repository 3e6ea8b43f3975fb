package testserver

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/internal/testserver/authdb"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zrpc"
)

// authenticate runs the digest exchange (docs/protocol.md, Authentication) and
// switches the connection to MAC mode on success, returning auth_response's
// value.
func (c *testClient) authenticate(user, realm, password string) (pickle.Value, error) {
	c.t.Helper()
	if p := c.mustCall("getAuthProtocol"); p != "digest" && pickle.Repr(p) != "'digest'" {
		c.t.Fatalf("getAuthProtocol returned %s", pickle.Repr(p))
	}
	ch, _ := pickle.AsTuple(c.mustCall("auth_get_challenge"))
	challenge, _ := pickle.AsText(ch[1])
	nonce, _ := pickle.AsText(ch[2])
	hup := zrpc.DigestHash(user, realm, password)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	return c.conn.CallWith(ctx, zrpc.CallOptions{OnReply: func(r *zrpc.Message) {
		if r.Args == true {
			c.conn.StartMAC(zrpc.DigestSessionKey(hup, nonce))
		}
	}}, "auth_response", pickle.Tuple{user, challenge, zrpc.DigestResponse(hup, challenge)})
}

// rawCall sends one call on a connection without zrpc.Conn and reads
// the next frame as its reply.
func (c *testClient) rawCall(enc zrpc.Encoding, method string, args ...pickle.Value) *zrpc.Message {
	c.t.Helper()
	p, err := enc.AppendMessage(nil, &zrpc.Message{ID: int64(1), Method: method, Args: pickle.Tuple(args)})
	if err != nil {
		c.t.Fatal(err)
	}
	c.fw.WriteFrame(p)
	c.fw.Flush()
	r, err := c.fr.ReadFrame()
	if err != nil {
		c.t.Fatalf("%s: %v", method, err)
	}
	m, err := enc.DecodeMessage(r)
	if err != nil {
		c.t.Fatal(err)
	}
	return m
}

func TestDigestAuth(t *testing.T) {
	for _, profile := range []string{"z308-py24", "z3101-py27", "z4-py3"} {
		t.Run(profile, func(t *testing.T) {
			srv := Start(t, Options{Profile: profile, Auth: &Auth{Realm: "zeo", Users: map[string]string{"alice": "secret"}}})

			good := dial(t, srv)
			if v, err := good.authenticate("alice", "zeo", "secret"); err != nil || v != true {
				t.Fatalf("right password: %s, %v", pickle.Repr(v), err)
			}
			// Every frame is MAC'd from now on, both ways.
			good.mustCall("register", "1", false)
			good.mustCall("lastTransaction")

			bad := dial(t, srv)
			if v, err := bad.authenticate("alice", "zeo", "wrong"); err != nil || v != false {
				t.Fatalf("wrong password: %s, %v", pickle.Repr(v), err)
			}
			if _, err := bad.call("register", "1", false); remoteClass(t, err) != "ZEO.Exceptions.AuthError" {
				t.Fatalf("register without authentication: %v", err)
			}

			unknown := dial(t, srv)
			if _, err := unknown.authenticate("bob", "zeo", "x"); remoteClass(t, err) != srv.Profile().builtins()+".LookupError" {
				t.Fatalf("unknown user: %v", err)
			}

			// A plain frame after authentication drops the client.
			plain := rawDial(t, srv, nil)
			plain.answer(plain.server)
			enc := zrpc.NewPickleEncoding(zrpc.Z308Client.Style())
			plain.rawCall(enc, "getAuthProtocol")
			ch, _ := pickle.AsTuple(plain.rawCall(enc, "auth_get_challenge").Args)
			challenge, _ := pickle.AsText(ch[1])
			hup := zrpc.DigestHash("alice", "zeo", "secret")
			if r := plain.rawCall(enc, "auth_response", pickle.Tuple{"alice", challenge, zrpc.DigestResponse(hup, challenge)}); r.Args != true {
				t.Fatalf("auth_response: %s", pickle.Repr(r.Args))
			}
			p, _ := enc.AppendMessage(nil, &zrpc.Message{ID: int64(9), Method: "register", Args: pickle.Tuple{"1", false}})
			plain.fw.WriteFrame(p)
			plain.fw.Flush()
			if _, err := plain.fr.ReadFrame(); err == nil {
				t.Fatal("an unMAC'd frame after authentication was answered")
			}
		})
	}
}

func TestAuthDatabaseMissingStopsServer(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "no-such.db")
	_, err := New(Options{Profile: "z3101-py27", Auth: &Auth{Realm: "zeo", DBPath: missing}})
	if err == nil {
		t.Fatal("New started without its password database")
	}
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), missing) || !strings.Contains(err.Error(), "zeopasswd") {
		t.Fatalf("the error must name the file and what to do: %v", err)
	}
	unreadable := t.TempDir() // a directory cannot be read as a database
	if _, err := New(Options{Profile: "z3101-py27", Auth: &Auth{Realm: "zeo", DBPath: unreadable}}); err == nil || !strings.Contains(err.Error(), unreadable) {
		t.Fatalf("unreadable database: %v", err)
	}
}

func TestAuthRealmRules(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "auth.db")
	db := authdb.New("other")
	db.Add("alice", "secret")
	if err := db.Save(path); err != nil {
		t.Fatal(err)
	}
	if _, err := New(Options{Profile: "z4-py27", Auth: &Auth{Realm: "zeo", DBPath: path}}); err == nil || !strings.Contains(err.Error(), "does not match") {
		t.Fatalf("realm mismatch: %v", err)
	}
	// A realm configured without a database: the empty database has no
	// realm, so the server refuses to start, like a real one.
	if _, err := New(Options{Profile: "z4-py27", Auth: &Auth{Realm: "zeo"}}); err == nil {
		t.Fatal("a realm with an empty database was accepted")
	}
	// No realm, no database: digest is announced, the challenge's realm
	// is None, and register works without authenticating.
	srv := Start(t, Options{Profile: "z4-py27", Auth: &Auth{}})
	c := dial(t, srv)
	if p := c.mustCall("getAuthProtocol"); pickle.Repr(p) != "'digest'" {
		t.Fatalf("getAuthProtocol: %s", pickle.Repr(p))
	}
	ch, _ := pickle.AsTuple(c.mustCall("auth_get_challenge"))
	if !pickle.IsNone(ch[0]) {
		t.Fatalf("realm %s, want None", pickle.Repr(ch[0]))
	}
	c.mustCall("register", "1", false)
	// ZEO 5 has no digest authentication.
	if _, err := New(Options{Profile: "z5-py3", Auth: &Auth{Realm: "zeo", Users: map[string]string{"a": "b"}}}); err == nil {
		t.Fatal("ZEO 5 profile accepted digest authentication")
	}
}

func TestAuthUsersFileIsRemovedAtClose(t *testing.T) {
	srv, err := New(Options{Profile: "z3101-py27", Auth: &Auth{Realm: "zeo", Users: map[string]string{"alice": "secret"}}})
	if err != nil {
		t.Fatal(err)
	}
	path := srv.auth.path
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("the users were not written to a database file: %v", err)
	}
	srv.Close()
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("the temporary database %s outlived the server: %v", path, err)
	}
}
