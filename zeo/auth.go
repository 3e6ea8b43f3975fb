package zeo

import (
	"context"
	"errors"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zrpc"
)

// authenticate runs the digest exchange (docs/protocol.md, Authentication) when
// the server asks for it: getAuthProtocol → auth_get_challenge → auth_response,
// and on success switches both directions of the connection to MAC mode. The
// switch happens on the read goroutine as the True reply is read (the reply
// itself is the last frame without a MAC), so no frame can slip between.
func (c *Client) authenticate(ctx context.Context, s *session) error {
	v, err := c.callOn(ctx, s, op{method: "getAuthProtocol"})
	if err != nil {
		return c.stepError("getAuthProtocol", err)
	}
	if pickle.IsNone(v) {
		return nil
	}
	proto := asString(v)
	s.authProtocol = proto
	server, ver := s.addr, s.neg.Chosen
	if proto != "digest" {
		return &AuthError{Reason: "the server asks for authentication protocol " + pickle.Repr(v) + ", which this client does not implement (only \"digest\")", Server: server, Version: ver}
	}
	if !s.neg.Chosen.HasMethod("auth_get_challenge") {
		return c.unsupported("digest authentication", "auth_get_challenge")
	}
	cred := c.opts.Credentials
	if cred == nil {
		return &AuthError{Reason: "the server requires digest authentication and no credentials were given; set Options.Credentials", Server: server, Version: ver}
	}

	v, err = c.callOn(ctx, s, op{method: "auth_get_challenge"})
	if err != nil {
		return c.stepError("auth_get_challenge", err)
	}
	t, ok := pickle.AsTuple(v)
	if !ok || len(t) != 3 {
		return c.stepError("auth_get_challenge", &shapeError{method: "auth_get_challenge", want: "(realm, challenge, nonce)", got: v})
	}
	realm, challenge, nonce := asString(t[0]), asString(t[1]), asString(t[2])
	if cred.Realm != "" && cred.Realm != realm {
		return &AuthError{User: cred.User, Realm: cred.Realm, Reason: "the server's realm is " + pickle.Repr(t[0]) + ", not the one the credentials are for; check Credentials.Realm", Server: server, Version: ver}
	}
	hup := zrpc.DigestHash(cred.User, realm, cred.Password)
	response := zrpc.DigestResponse(hup, challenge)
	key := zrpc.DigestSessionKey(hup, nonce)

	v, err = s.conn.CallWith(ctx, zrpc.CallOptions{OnReply: func(m *zrpc.Message) {
		if yes, ok := pickle.AsBool(m.Args); ok && yes && !isErrorReply(m) {
			s.conn.StartMAC(key)
		}
	}}, "auth_response", pickle.Tuple{cred.User, challenge, response})
	if err != nil {
		err = c.mapError(err, op{method: "auth_response"})
		var se *ServerError
		if errors.As(err, &se) && (se.Class == "exceptions.LookupError" || se.Class == "builtins.LookupError") {
			return &AuthError{User: cred.User, Realm: realm, Reason: "the server knows no such user (" + se.Message + ")", Server: server, Version: ver, Remote: se.Remote}
		}
		return c.stepError("auth_response", err)
	}
	if ok, _ := pickle.AsBool(v); !ok {
		return &AuthError{User: cred.User, Realm: realm, Reason: "wrong password (the server rejected the digest response)", Server: server, Version: ver}
	}
	s.authenticated = true
	c.log.Debug("zeo: authenticated", "user", cred.User, "realm", realm)
	return nil
}
