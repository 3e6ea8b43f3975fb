package testserver

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"sort"

	"github.com/gozeo/gozeo/internal/testserver/authdb"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zrpc"
)

// authState is the server's digest authentication setup (docs/protocol.md,
// Authentication).
type authState struct {
	realm string // configured realm; "" is Python's None
	db    *authdb.DB
	path  string // where the database was read from ("" for none)
}

// setupAuth loads (or writes and loads) the password database and applies
// the start-up rules of a real server: a database that cannot be read
// stops the server (a real deployment once died silently in a respawn loop
// for want of this message), and so does a realm that differs from the
// database's.
func (s *Server) setupAuth(a *Auth) (*authState, error) {
	if !s.prof.caps().Auth {
		return nil, fmt.Errorf("testserver: profile %s (%s) has no digest authentication: ZEO 5 removed it; use TLS with client certificates (Options.TLS)", s.prof.Name, s.prof.Release)
	}
	st := &authState{realm: a.Realm, path: a.DBPath}
	switch {
	case a.DBPath != "" && a.Users != nil:
		return nil, errors.New("testserver: Auth.DBPath and Auth.Users both set; give the database file or the users, not both")
	case a.Users != nil:
		db := authdb.New(a.Realm)
		names := make([]string, 0, len(a.Users))
		for u := range a.Users {
			names = append(names, u)
		}
		sort.Strings(names)
		for _, u := range names {
			if err := db.Add(u, a.Users[u]); err != nil {
				return nil, fmt.Errorf("testserver: Auth.Users: %w", err)
			}
		}
		f, err := s.tempFile("gozeo-auth-*.db")
		if err != nil {
			return nil, fmt.Errorf("testserver: writing the password database: %w", err)
		}
		name := f.Name()
		werr := db.Write(f)
		if err := errors.Join(werr, f.Close()); err != nil {
			return nil, fmt.Errorf("testserver: writing the password database %s: %w", name, err)
		}
		st.path = name
		fallthrough
	case st.path != "":
		db, err := authdb.Load(st.path)
		if err != nil {
			return nil, fmt.Errorf("testserver: authentication is configured but the server cannot start: %w", err)
		}
		st.db = db
	default:
		// No file: an empty database without a realm, as a real server
		// has when no authentication-database is given.
		st.db = authdb.New("")
	}
	if err := st.db.CheckRealm(a.Realm); err != nil {
		where := "the empty database (no Auth.DBPath or Auth.Users)"
		if st.path != "" {
			where = st.path
		}
		return nil, fmt.Errorf("testserver: authentication realm check failed for %s: %w", where, err)
	}
	if a.Realm == "" && st.db.Realm() != "" {
		// A real server compares None with the file's realm and refuses.
		return nil, fmt.Errorf("testserver: the password database %s has realm %q but no Auth.Realm is configured; set Auth.Realm to %q", st.path, st.db.Realm(), st.db.Realm())
	}
	return st, nil
}

// authGetChallenge() → (realm, challenge, nonce): 40-char hex SHA-1
// digests; the nonce also keys the session.
func (s *session) authGetChallenge(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("auth_get_challenge", args, 0, 0); err != nil {
		return nil, err
	}
	var seed [16]byte
	rand.Read(seed[:])
	sum := sha1.Sum([]byte(s.fc.RemoteAddr().String() + string(seed[:])))
	challenge := hex.EncodeToString(sum[:])
	s.mu.Lock()
	// Real servers hash the same inputs within one second for both, so
	// the two are normally equal.
	s.challenge, s.nonce = challenge, challenge
	s.mu.Unlock()
	var realm pickle.Value = pickle.None
	if r := s.srv.auth.realm; r != "" {
		realm = text(r)
	}
	return pickle.Tuple{realm, text(challenge), text(challenge)}, nil
}

// authResponse((user, challenge, response)) → True / False, and MAC'd
// frames in both directions after a True whose reply itself goes out
// plain. Without a configured realm the server answers 1 whatever the
// password (ZEO's _finish_auth), and MACs only a right one.
func (s *session) authResponse(c *call, args pickle.Tuple) (pickle.Value, error) {
	if err := s.prof.arity("auth_response", args, 1, 0); err != nil {
		return nil, err
	}
	t, ok := pickle.AsTuple(args[0])
	if !ok || len(t) != 3 {
		return nil, s.prof.builtinErr("ValueError", text("need more than "+fmt.Sprint(len(t))+" values to unpack"))
	}
	user, challenge, response := argRaw(t[0]), argRaw(t[1]), argRaw(t[2])
	a := s.srv.auth
	hup, known := a.db.Hash(user)
	if !known {
		return nil, s.prof.builtinErr("LookupError", text("No such user: "+user))
	}
	s.mu.Lock()
	want, nonce := s.challenge, s.nonce
	s.mu.Unlock()
	if want == "" || challenge != want {
		return nil, s.prof.builtinErr("ValueError", text("invalid challenge"))
	}
	good := zrpc.DigestResponse(hup, challenge) == response
	if good {
		// Queue the plain reply first, then switch MAC on: frames queued
		// after StartMAC carry a MAC, and the next frame read must.
		if err := s.conn.Reply(s.ctx, c.id, s.authResult(good)); err != nil {
			return nil, errDeferred
		}
		s.conn.StartMAC(zrpc.DigestSessionKey(hup, nonce))
		s.mu.Lock()
		s.authed = true
		s.mu.Unlock()
		s.log.Info("testserver: client authenticated", "user", user)
		if c.async {
			return pickle.None, nil
		}
		return nil, errDeferred
	}
	s.log.Info("testserver: wrong password", "user", user)
	return s.authResult(false), nil
}

// authResult is what auth_response returns: the bool, or 1 when no realm
// is configured (authentication is then not enforced).
func (s *session) authResult(good bool) pickle.Value {
	if s.srv.auth.realm == "" {
		return int64(1)
	}
	return good
}
