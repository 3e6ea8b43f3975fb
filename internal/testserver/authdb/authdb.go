// Package authdb reads and writes the password database of ZEO's "digest"
// authentication (ZODB 3.2 … ZEO 4.x; docs/protocol.md, Authentication), the
// file a server's authentication-database option names and zeopasswd maintains.
//
// The format: an optional first line "realm <name>", then one line per user,
// "<username>: <hash>", where hash is the 40 lowercase hex digits of
// SHA-1("<username>:<realm>:<password>"). The test server looks users up with
// [DB.Hash] and checks its configured realm with [DB.CheckRealm].
package authdb

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/gozeo/gozeo/zrpc"
)

// DB is a password database: a realm and a hash per user. A DB is safe for
// concurrent use.
type DB struct {
	mu    sync.RWMutex
	realm string
	users map[string]string
}

// New returns an empty database for realm. An empty realm means "no realm",
// what ZEO calls None: the file then has no realm line.
func New(realm string) *DB {
	return &DB{realm: realm, users: make(map[string]string)}
}

// Realm returns the realm of the database, "" when it has none (the server
// then announces realm None).
func (db *DB) Realm() string {
	db.mu.RLock()
	defer db.mu.RUnlock()
	return db.realm
}

// Hash returns the stored hash of user: 40 hex digits of
// SHA-1("user:realm:password"), the h_up of the digest exchange. The boolean
// is false for an unknown user (where a ZEO server answers LookupError
// "No such user: <user>").
func (db *DB) Hash(user string) (string, bool) {
	db.mu.RLock()
	defer db.mu.RUnlock()
	h, ok := db.users[user]
	return h, ok
}

// Users returns the user names in sorted order.
func (db *DB) Users() []string {
	db.mu.RLock()
	defer db.mu.RUnlock()
	names := make([]string, 0, len(db.users))
	for u := range db.users {
		names = append(names, u)
	}
	sort.Strings(names)
	return names
}

// Add stores the hash of password for a new user, computed with the
// database's realm (see [HashPassword]). It fails if the user already exists
// or if the name could not be written back to the file (empty, or holding a
// colon or a line break).
func (db *DB) Add(user, password string) error {
	if err := checkUserName(user); err != nil {
		return err
	}
	db.mu.Lock()
	defer db.mu.Unlock()
	if _, ok := db.users[user]; ok {
		return fmt.Errorf("authdb: user %q already exists", user)
	}
	db.users[user] = HashPassword(user, db.realm, password)
	return nil
}

// CheckRealm compares the database's realm with the realm a server is
// configured with, as a ZEO server does at start-up: when configured is
// non-empty and differs, the server refuses to start, and CheckRealm returns
// a *RealmMismatchError saying so. An empty configured realm always passes.
func (db *DB) CheckRealm(configured string) error {
	realm := db.Realm()
	if configured == "" || realm == configured {
		return nil
	}
	return &RealmMismatchError{Database: realm, Configured: configured}
}

// HashPassword returns the hash a database line holds, the h_up of
// [zrpc.DigestHash] that clients compute too. Like ZEO's
// DigestDatabase, an empty realm (None) is spelled "None" in the hashed
// string.
func HashPassword(user, realm, password string) string {
	if realm == "" {
		realm = "None"
	}
	return zrpc.DigestHash(user, realm, password)
}

func checkUserName(user string) error {
	if user == "" || strings.ContainsAny(user, ":\r\n") || strings.TrimSpace(user) != user {
		return fmt.Errorf("authdb: user name %q cannot be stored: it must be non-empty, without colons, line breaks or surrounding spaces", user)
	}
	return nil
}

// RealmMismatchError reports a database whose realm differs from the realm
// the server is configured with.
type RealmMismatchError struct {
	Database   string // realm of the database, "" for none
	Configured string // realm the server is configured with
}

func (e *RealmMismatchError) Error() string {
	db := "None"
	if e.Database != "" {
		db = fmt.Sprintf("%q", e.Database)
	}
	return fmt.Sprintf("authdb: password database realm %s does not match the configured realm %q; "+
		"rebuild the database for that realm (zeopasswd --realm) or configure the database's realm", db, e.Configured)
}
