package zrpcserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/gozeo/gozeo/zrpc"
)

// ErrRuok is returned by Handshake when the client sent the "ruok" status
// probe instead of a version (ZEO 4.1+, docs/protocol.md, Handshake): the
// server answers with one frame of JSON status and closes the connection.
var ErrRuok = errors.New("zrpcserver: client sent the ruok status probe instead of a protocol version")

// handshakeMaxFrame bounds the client's first frame: a version string has
// 2 to 5 bytes, and "ruok" 4.
const handshakeMaxFrame = 64

// Handshake performs the server side of the version exchange as
// generation gen, announcing announce (normally Announce(gen); another
// string imitates a misconfigured server, such as ZEO 5's
// ZEO_SERVER_PROTOCOL hook): it sends the announcement, reads the
// client's reply and applies AcceptVersion. It returns the version the
// connection speaks, a *zrpc.NegotiationError for a reply gen does not
// accept (real servers then close the connection without a word), or
// ErrRuok when the client sent the status probe and gen answers it.
//
// fr and fw read and write conn; ctx bounds the exchange through conn's
// deadlines, which are cleared afterwards.
func Handshake(ctx context.Context, conn net.Conn, fr *zrpc.FrameReader, fw *zrpc.FrameWriter, gen Generation, announce zrpc.Version) (zrpc.Version, error) {
	if !gen.Valid() {
		return "", fmt.Errorf("zrpcserver: handshake: unknown generation %d", gen)
	}
	if err := ctx.Err(); err != nil {
		return "", &zrpc.HandshakeError{Side: "server", Op: "start", Err: context.Cause(ctx), Context: err}
	}
	var mu sync.Mutex
	finished := false
	if d, ok := ctx.Deadline(); ok {
		conn.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() {
		mu.Lock()
		defer mu.Unlock()
		if !finished {
			conn.SetDeadline(time.Unix(1, 0)) // in the past: wake blocked I/O now
		}
	})
	v, err := exchange(fr, fw, gen, announce)
	stop()
	mu.Lock()
	finished = true
	conn.SetDeadline(time.Time{})
	mu.Unlock()

	var he *zrpc.HandshakeError
	if err != nil && errors.As(err, &he) && he.Context == nil && ctx.Err() != nil {
		he.Context = ctx.Err()
	}
	return v, err
}

func exchange(fr *zrpc.FrameReader, fw *zrpc.FrameWriter, gen Generation, announce zrpc.Version) (zrpc.Version, error) {
	fail := func(op string, err error) error {
		return &zrpc.HandshakeError{Side: "server", Op: op, Err: err}
	}
	if err := fw.WriteFrame([]byte(announce)); err != nil {
		return "", fail("announce version "+string(announce), err)
	}
	if err := fw.Flush(); err != nil {
		return "", fail("announce version "+string(announce), err)
	}
	saved := fr.MaxFrameSize()
	fr.SetMaxFrameSize(handshakeMaxFrame)
	raw, err := fr.ReadFrame()
	fr.SetMaxFrameSize(saved)
	if err != nil {
		return "", fail("read the client's version", err)
	}
	if string(raw) == "ruok" && Ruok(gen) {
		return "", ErrRuok
	}
	return AcceptVersion(gen, zrpc.Version(raw))
}
