package authdb

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The digest vector of docs/protocol.md, Test vectors (computed by Python):
// alice / zeo / secret.
const aliceZeoSecret = "8c869e1f68b10efcf6140495cfa04c2c98ac8e1c"

func TestHashPasswordVector(t *testing.T) {
	if got := HashPassword("alice", "zeo", "secret"); got != aliceZeoSecret {
		t.Errorf("HashPassword = %s, want %s", got, aliceZeoSecret)
	}
}

func TestLoad(t *testing.T) {
	path := filepath.Join(t.TempDir(), "passwd")
	content := "realm zeo\nalice: " + aliceZeoSecret + "\nbob:  " + strings.Repeat("ab", 20) + "  \n\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	db, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if db.Realm() != "zeo" {
		t.Errorf("Realm() = %q", db.Realm())
	}
	if h, ok := db.Hash("alice"); !ok || h != aliceZeoSecret {
		t.Errorf("Hash(alice) = %q, %v", h, ok)
	}
	if h, ok := db.Hash("bob"); !ok || h != strings.Repeat("ab", 20) {
		t.Errorf("Hash(bob) = %q, %v (surrounding spaces must go)", h, ok)
	}
	if _, ok := db.Hash("carol"); ok {
		t.Error("Hash(carol) found a user that is not there")
	}
	if got := db.Users(); len(got) != 2 || got[0] != "alice" || got[1] != "bob" {
		t.Errorf("Users() = %v", got)
	}
}

func TestLoadWithoutRealm(t *testing.T) {
	db, err := Parse(strings.NewReader("alice: "+aliceZeoSecret+"\n"), "mem")
	if err != nil {
		t.Fatal(err)
	}
	if db.Realm() != "" {
		t.Errorf("Realm() = %q, want none", db.Realm())
	}
	// A realm line anywhere but first is not a realm line.
	_, err = Parse(strings.NewReader("alice: "+aliceZeoSecret+"\nrealm zeo\n"), "mem")
	var se *SyntaxError
	if !errors.As(err, &se) || se.Line != 2 {
		t.Errorf("late realm line: error = %v, want SyntaxError at line 2", err)
	}
}

func TestLoadMissingFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "no-such-passwd")
	_, err := Load(path)
	if err == nil {
		t.Fatal("Load of a missing file succeeded")
	}
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("error %v does not wrap fs.ErrNotExist", err)
	}
	msg := err.Error()
	for _, want := range []string{path, "zeopasswd", "fix the"} {
		if !strings.Contains(msg, want) {
			t.Errorf("error %q does not mention %q", msg, want)
		}
	}
}

func TestLoadDirectoryIsAnError(t *testing.T) {
	dir := t.TempDir()
	if _, err := Load(dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("Load(directory) error = %v, want one naming %s", err, dir)
	}
}

func TestSyntaxErrors(t *testing.T) {
	cases := []struct {
		content string
		line    int
		msg     string
	}{
		{"realm zeo\nalice " + aliceZeoSecret + "\n", 2, "no colon"},
		{"alice: " + aliceZeoSecret + "\n: " + aliceZeoSecret + "\n", 2, "empty user"},
		{"alice: xyz\n", 1, "not 40 hex"},
		{"realm zeo\n\nalice: " + aliceZeoSecret[:39] + "\n", 3, "not 40 hex"},
		{"alice: " + aliceZeoSecret + "\nalice: " + aliceZeoSecret + "\n", 2, "twice"},
	}
	for _, c := range cases {
		_, err := Parse(strings.NewReader(c.content), "passwd")
		var se *SyntaxError
		if !errors.As(err, &se) {
			t.Errorf("%q: error = %v, want *SyntaxError", c.content, err)
			continue
		}
		if se.Line != c.line || !strings.Contains(se.Error(), c.msg) || !strings.Contains(se.Error(), "passwd:") {
			t.Errorf("%q: got %v, want line %d mentioning %q", c.content, se, c.line, c.msg)
		}
	}
}

func TestAddSaveLoadRoundTrip(t *testing.T) {
	db := New("zeorealm")
	if err := db.Add("alice", "secret"); err != nil {
		t.Fatal(err)
	}
	if err := db.Add("alice", "other"); err == nil {
		t.Error("second Add of alice succeeded")
	}
	for _, bad := range []string{"", "a:b", "a\nb", " a"} {
		if err := db.Add(bad, "x"); err == nil {
			t.Errorf("Add(%q) succeeded", bad)
		}
	}
	if h, _ := db.Hash("alice"); h != HashPassword("alice", "zeorealm", "secret") {
		t.Errorf("Add stored %s", h)
	}
	var buf bytes.Buffer
	if err := db.Write(&buf); err != nil {
		t.Fatal(err)
	}
	want := "realm zeorealm\nalice: " + HashPassword("alice", "zeorealm", "secret") + "\n"
	if buf.String() != want {
		t.Errorf("Write wrote %q, want %q", buf.String(), want)
	}
	path := filepath.Join(t.TempDir(), "passwd")
	if err := db.Save(path); err != nil {
		t.Fatal(err)
	}
	back, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if back.Realm() != "zeorealm" {
		t.Errorf("realm after round trip = %q", back.Realm())
	}
	if h, _ := back.Hash("alice"); h != HashPassword("alice", "zeorealm", "secret") {
		t.Errorf("hash after round trip = %s", h)
	}
}

func TestNoRealmHashesNone(t *testing.T) {
	db := New("")
	_ = db.Add("alice", "secret")
	h, _ := db.Hash("alice")
	if h != HashPassword("alice", "None", "secret") {
		t.Errorf("no-realm hash = %s, want SHA-1 of alice:None:secret as ZEO computes it", h)
	}
	var buf bytes.Buffer
	_ = db.Write(&buf)
	if strings.HasPrefix(buf.String(), "realm") {
		t.Errorf("a database without realm wrote a realm line: %q", buf.String())
	}
}

func TestCheckRealm(t *testing.T) {
	db := New("zeo")
	if err := db.CheckRealm("zeo"); err != nil {
		t.Errorf("matching realm: %v", err)
	}
	if err := db.CheckRealm(""); err != nil {
		t.Errorf("no configured realm: %v", err)
	}
	err := New("").CheckRealm("zeo")
	var rm *RealmMismatchError
	if !errors.As(err, &rm) || rm.Database != "" || rm.Configured != "zeo" {
		t.Fatalf("CheckRealm error = %v", err)
	}
	if !strings.Contains(err.Error(), "realm None does not match") {
		t.Errorf("message %q does not say what ZEO says", err)
	}
	if err := db.CheckRealm("other"); err == nil {
		t.Error("different realms passed")
	}
}

func FuzzParse(f *testing.F) {
	f.Add("realm zeo\nalice: " + aliceZeoSecret + "\n")
	f.Add("alice:" + aliceZeoSecret)
	f.Add("realm \n\n:\n")
	f.Fuzz(func(t *testing.T, s string) {
		db, err := Parse(strings.NewReader(s), "fuzz")
		if err != nil {
			return
		}
		// Whatever parses must write and parse back to the same users.
		var buf bytes.Buffer
		if err := db.Write(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := Parse(&buf, "again")
		if err != nil {
			t.Fatalf("re-parse of %q: %v", buf.String(), err)
		}
		for _, u := range db.Users() {
			h1, _ := db.Hash(u)
			h2, ok := back.Hash(u)
			if !ok || h1 != h2 {
				t.Fatalf("user %q lost in round trip", u)
			}
		}
	})
}
