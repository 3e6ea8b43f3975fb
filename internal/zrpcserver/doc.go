// Package zrpcserver is the server side of the ZEO wire protocol that only
// a Go server imitating a ZEO release needs: the release lines
// ([Generation]) with their handshake rules, the server side of the
// version exchange, the encodings and error-reply shapes each release
// writes. zrpc keeps what a client speaks; both read the one table of
// release lines in internal/releases (docs/protocol.md, Handshake).
package zrpcserver
