package authdb

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxFileSize bounds what Load and Parse read: a password file is a few lines
// per user, so anything larger is a wrong path, not a database.
const maxFileSize = 16 << 20

// SyntaxError reports a line of a database file that is not
// "realm <name>" (first line only) or "<user>: <40 hex digits>".
type SyntaxError struct {
	File string // file name as given to Load or Parse
	Line int    // 1-based line number
	Msg  string // what is wrong with the line
}

func (e *SyntaxError) Error() string {
	return fmt.Sprintf("authdb: %s:%d: %s; expected \"<user>: <40 hex digits>\" (and optionally \"realm <name>\" as the first line), as zeopasswd writes", e.File, e.Line, e.Msg)
}

// Load reads the database file at path. A missing or unreadable file is an
// error naming the file and wrapping the os error (errors.Is(err,
// fs.ErrNotExist) holds for a missing one); a malformed line is a
// *SyntaxError with its line number.
func Load(path string) (*DB, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("authdb: cannot read the password database %q: %w; "+
			"create it with zeopasswd (or authdb.New(realm).Add(...) and Save) or fix the authentication-database path", path, err)
	}
	defer f.Close()
	return Parse(f, path)
}

// Parse reads a database from r; name is used in error messages. Blank
// lines are skipped. Inputs over 16 MiB are refused.
func Parse(r io.Reader, name string) (*DB, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxFileSize+1))
	if err != nil {
		return nil, fmt.Errorf("authdb: reading %s: %w", name, err)
	}
	if len(data) > maxFileSize {
		return nil, fmt.Errorf("authdb: %s is larger than %d bytes; that is not a password database", name, maxFileSize)
	}
	db := New("")
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, maxFileSize+1)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		// ZEO only honours the realm line when it is the very first line.
		if n == 1 && strings.HasPrefix(sc.Text(), "realm ") {
			db.realm = strings.TrimSpace(line[len("realm"):])
			continue
		}
		user, hash, ok := strings.Cut(line, ":")
		if !ok {
			return nil, &SyntaxError{File: name, Line: n, Msg: "no colon after the user name"}
		}
		hash = strings.TrimSpace(hash)
		if user == "" {
			return nil, &SyntaxError{File: name, Line: n, Msg: "empty user name"}
		}
		if !isHexDigest(hash) {
			return nil, &SyntaxError{File: name, Line: n, Msg: fmt.Sprintf("hash of user %q is not 40 hex digits", user)}
		}
		if _, dup := db.users[user]; dup {
			return nil, &SyntaxError{File: name, Line: n, Msg: fmt.Sprintf("user %q listed twice", user)}
		}
		db.users[user] = hash
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("authdb: reading %s: %w", name, err)
	}
	return db, nil
}

func isHexDigest(s string) bool {
	if len(s) != 40 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// Write writes the database in zeopasswd's format: the realm line when there
// is a realm, then users in sorted order.
func (db *DB) Write(w io.Writer) error {
	db.mu.RLock()
	var b strings.Builder
	if db.realm != "" {
		b.WriteString("realm " + db.realm + "\n")
	}
	db.mu.RUnlock()
	for _, u := range db.Users() {
		h, _ := db.Hash(u)
		b.WriteString(u + ": " + h + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// Save writes the database to path (created or truncated, mode 0600 since
// the hashes are as good as passwords to an attacker).
func (db *DB) Save(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("authdb: cannot write the password database: %w", err)
	}
	werr := db.Write(f)
	cerr := f.Close()
	if err := errors.Join(werr, cerr); err != nil {
		return fmt.Errorf("authdb: writing %s: %w", path, err)
	}
	return nil
}
