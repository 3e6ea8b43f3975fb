package zeo_test

// A scripted ZEO server replaying real captures (internal/captures):
// for every call the client makes it finds the next call of the same
// method the Python client made on the recorded connection and answers
// with the frames the real server sent for it, byte for byte except for
// the reply's msgid, which is spliced to the client's. It is an independent
// check of the client against what real servers of each generation send.

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"sort"
	"sync"
	"testing"

	"github.com/gozeo/gozeo/internal/captures"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zrpc"
)

type capFrame struct {
	captures.Frame
	msg *zrpc.Message // decoded (nil for version frames)
}

// capture is one recorded session file.
type capture struct {
	name  string
	conns [][]*capFrame // client connections in order of their first call
}

func loadCapture(t testing.TB, name string) *capture {
	t.Helper()
	byConn := map[int][]*capFrame{}
	first := map[int]float64{}
	for _, f := range captures.MustLoad(t, name) {
		fr := &capFrame{Frame: f}
		frames := byConn[fr.Conn]
		if len(frames) >= 1 && !(len(frames) == 1 && fr.Dir == "c2s") { // not a version frame
			var err error
			if fr.msg, err = decodeAny(fr.Payload); err != nil {
				t.Fatalf("%s: recorded frame does not decode: %v", name, err)
			}
			if _, ok := first[fr.Conn]; !ok && fr.Dir == "c2s" {
				first[fr.Conn] = fr.T
			}
		}
		byConn[fr.Conn] = append(frames, fr)
	}
	c := &capture{name: name}
	var ids []int
	for id := range first {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return first[ids[i]] < first[ids[j]] })
	for _, id := range ids {
		c.conns = append(c.conns, byConn[id])
	}
	return c
}

var (
	pickleDecoder  = zrpc.NewPickleEncoding(zrpc.PickleStyle{Protocol: 1, Dialect: pickle.Python2})
	msgpackDecoder = zrpc.NewMsgpackEncoding()
)

func decodeAny(p []byte) (*zrpc.Message, error) {
	if len(p) > 0 && p[0] == 0x94 { // msgpack fixarray of 4
		return msgpackDecoder.DecodeMessage(bytes.Clone(p))
	}
	return pickleDecoder.DecodeMessage(bytes.Clone(p))
}

// scriptedServer replays a capture's connections to the clients that
// connect, in order.
type scriptedServer struct {
	t   testing.TB
	cap *capture
	ln  net.Listener
	// auth, when set, makes the server check the digest response against
	// this password and run MAC mode after a successful auth_response.
	authPassword string
	authUser     string
	// lastTID answers a lastTransaction call the recording lacks.
	lastTID [8]byte
	// endConns makes a connection end as its recording does: once the
	// client has made its last recorded call, the server sends the calls
	// recorded after it and closes, as the reconnection captures' server
	// did. It also sends the server calls recorded after a one-way call
	// at once (endVerify after endZeoVerify), since a client may wait for
	// them before its next call.
	endConns bool
	// check, when set, sees each call of the client with the recorded
	// call it was matched to; an error fails the replay.
	check func(got, recorded *zrpc.Message) error

	mu      sync.Mutex
	errs    []error
	wg      sync.WaitGroup
	nextIdx int
	macOK   int // frames of the client verified under MAC
}

func startScripted(t testing.TB, name string) *scriptedServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &scriptedServer{t: t, cap: loadCapture(t, name), ln: ln}
	s.wg.Add(1)
	go s.acceptLoop()
	t.Cleanup(func() {
		ln.Close()
		s.wg.Wait()
		s.mu.Lock()
		defer s.mu.Unlock()
		for _, err := range s.errs {
			t.Errorf("scripted server %s: %v", name, err)
		}
	})
	return s
}

func (s *scriptedServer) Addr() string { return s.ln.Addr().String() }

func (s *scriptedServer) fail(err error) {
	s.mu.Lock()
	s.errs = append(s.errs, err)
	s.mu.Unlock()
}

func (s *scriptedServer) acceptLoop() {
	defer s.wg.Done()
	for {
		nc, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		idx := s.nextIdx
		s.nextIdx++
		s.mu.Unlock()
		if idx >= len(s.cap.conns) {
			s.fail(fmt.Errorf("connection %d: the capture has only %d client connections", idx+1, len(s.cap.conns)))
			nc.Close()
			continue
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer nc.Close()
			if err := s.serve(nc, s.cap.conns[idx], idx == len(s.cap.conns)-1); err != nil {
				s.fail(fmt.Errorf("connection %d: %w", idx+1, err))
			}
		}()
	}
}

// serve replays one recorded connection; last says it is the capture's
// last, which stays open once its recording is played (endConns).
func (s *scriptedServer) serve(nc net.Conn, frames []*capFrame, last bool) error {
	fr := zrpc.NewFrameReader(nc)
	fw := zrpc.NewFrameWriter(nc)
	if len(frames) < 2 || frames[0].Dir != "s2c" || frames[1].Dir != "c2s" {
		return errors.New("recorded connection does not start with the version exchange")
	}
	if err := writeFlush(fw, frames[0].Payload); err != nil {
		return err
	}
	if _, err := fr.ReadFrame(); err != nil {
		return fmt.Errorf("reading the client's version: %w", err)
	}
	rest := frames[2:]
	cursor := 0
	var macKey []byte
	sent := map[*capFrame]bool{} // server calls already sent
	sendCall := func(f *capFrame) error {
		if sent[f] {
			return nil
		}
		sent[f] = true
		return writeFlush(fw, f.Payload)
	}
	// ended reports, with endConns, that the recorded client made no call
	// after cursor; the calls the server made after it are sent first.
	ended := func() (bool, error) {
		if !s.endConns || last {
			return false, nil
		}
		for _, f := range rest[cursor:] {
			if f.Dir == "c2s" {
				return false, nil
			}
		}
		for _, f := range rest[cursor:] {
			if !f.msg.IsReply() {
				if err := sendCall(f); err != nil {
					return true, err
				}
			}
		}
		return true, nil
	}
	for {
		p, err := fr.ReadFrame()
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("reading a call: %w", err)
		}
		if macKey != nil {
			s.mu.Lock()
			s.macOK++
			s.mu.Unlock()
		}
		m, err := decodeAny(p)
		if err != nil {
			return fmt.Errorf("client sent an undecodable frame %q: %w", p, err)
		}
		if m.IsReply() { // heartbeat
			continue
		}
		oneWay := m.Flags&zrpc.FlagAsync != 0
		// Find the recorded call of the same method.
		match := -1
		for i := cursor; i < len(rest); i++ {
			f := rest[i]
			if f.Dir != "c2s" {
				continue
			}
			if f.msg.Method == m.Method {
				match = i
				break
			}
			if f.msg.Flags&zrpc.FlagAsync == 0 && canSynthesize(m.Method) {
				// The recorded client made a call here that this one has
				// not made yet: answer ours without skipping past it.
				break
			}
		}
		if match < 0 {
			if oneWay {
				continue // set_client_label and the like: nothing to answer
			}
			reply, err := s.synthesize(m, p)
			if err != nil {
				return err
			}
			if err := writeFlush(fw, reply); err != nil {
				return err
			}
			continue
		}
		// Server calls recorded in the skipped span still go out.
		for i := cursor; i < match; i++ {
			if rest[i].Dir == "s2c" && !rest[i].msg.IsReply() {
				if err := sendCall(rest[i]); err != nil {
					return err
				}
			}
		}
		rec := rest[match].msg
		cursor = match + 1
		if s.check != nil {
			if err := s.check(m, rec); err != nil {
				return fmt.Errorf("%s: %w", m.Method, err)
			}
		}
		if oneWay {
			if s.endConns {
				// The server calls recorded before the next reply.
				for _, f := range rest[cursor:] {
					if f.Dir == "s2c" && f.msg.IsReply() {
						break
					}
					if f.Dir == "s2c" {
						if err := sendCall(f); err != nil {
							return err
						}
					}
				}
			}
			if done, err := ended(); done || err != nil {
				return err
			}
			continue
		}
		var reply []byte
		for cursor < len(rest) {
			f := rest[cursor]
			cursor++
			if f.Dir == "c2s" {
				continue
			}
			if f.msg.IsReply() && sameID(f.msg.ID, rec.ID) {
				reply = f.Payload
				break
			}
			if !f.msg.IsReply() {
				if err := sendCall(f); err != nil {
					return err
				}
			}
		}
		if reply == nil {
			return fmt.Errorf("no recorded reply to %s", m.Method)
		}
		id, _ := pickle.AsInt(m.ID)
		out, err := spliceMsgID(reply, id)
		if err != nil {
			return err
		}
		authOK := false
		if m.Method == "auth_response" && s.authPassword != "" {
			out, authOK = s.checkAuth(m, out, id)
		}
		if err := writeFlush(fw, out); err != nil {
			return err
		}
		if authOK {
			macKey = s.sessionKey(m)
			fr.SetMACKey(macKey)
			fw.SetMACKey(macKey)
		}
		if done, err := ended(); done || err != nil {
			return err
		}
	}
}

// checkAuth verifies the client's digest response as a real server does
// and turns the recorded True into False when it is wrong.
func (s *scriptedServer) checkAuth(m *zrpc.Message, reply []byte, id int64) ([]byte, bool) {
	args, _ := pickle.AsTuple(m.Args)
	resp, _ := pickle.AsTuple(args[0])
	user, _ := pickle.AsText(resp[0])
	challenge, _ := pickle.AsText(resp[1])
	got, _ := pickle.AsText(resp[2])
	want := zrpc.DigestResponse(zrpc.DigestHash(user, "zeorealm", s.authPassword), challenge)
	if user == s.authUser && got == want {
		return reply, true
	}
	return pickleReply(id, []byte("I00\n")), false
}

func (s *scriptedServer) sessionKey(m *zrpc.Message) []byte {
	args, _ := pickle.AsTuple(m.Args)
	resp, _ := pickle.AsTuple(args[0])
	user, _ := pickle.AsText(resp[0])
	challenge, _ := pickle.AsText(resp[1]) // the recorded nonce equals it
	return zrpc.DigestSessionKey(zrpc.DigestHash(user, "zeorealm", s.authPassword), challenge)
}

// synthesize answers a sync call the recording lacks (the ZODB 3.8 client
// never called lastTransaction).
func (s *scriptedServer) synthesize(m *zrpc.Message, raw []byte) ([]byte, error) {
	id, _ := pickle.AsInt(m.ID)
	switch m.Method {
	case "lastTransaction":
		if len(raw) > 0 && raw[0] == 0x94 {
			return append([]byte{0x94, byte(id), 0x00, 0xa6, '.', 'r', 'e', 'p', 'l', 'y', 0xc4, 8}, s.lastTID[:]...), nil
		}
		return pickleReply(id, append([]byte("U\x08"), s.lastTID[:]...)), nil
	}
	return nil, fmt.Errorf("the capture has no %s call to answer the client's with", m.Method)
}

func canSynthesize(method string) bool { return method == "lastTransaction" }

// pickleReply builds a protocol-1 reply (id, 0, '.reply', value).
func pickleReply(id int64, value []byte) []byte {
	out := []byte("(K")
	out = append(out, byte(id))
	out = append(out, "K\x00U\x06.reply"...)
	out = append(out, value...)
	return append(out, "t."...)
}

func sameID(a, b pickle.Value) bool { return pickle.Repr(a) == pickle.Repr(b) }

func writeFlush(fw *zrpc.FrameWriter, p []byte) error {
	if err := fw.WriteFrame(p); err != nil {
		return err
	}
	return fw.Flush()
}

// spliceMsgID replaces the msgid of a recorded reply by id, leaving every
// other byte as the server wrote it.
func spliceMsgID(p []byte, id int64) ([]byte, error) {
	if len(p) > 0 && p[0] == 0x94 { // msgpack: 94 <msgid> <flags> a6 ".reply"
		i := bytes.Index(p, []byte("\xa6.reply"))
		if i < 2 {
			return nil, fmt.Errorf("msgpack reply without .reply: %x", p)
		}
		var idb []byte
		switch {
		case id < 128:
			idb = []byte{byte(id)}
		default:
			idb = []byte{0xcd, byte(id >> 8), byte(id)}
		}
		return concat(p[:1], idb, p[i-1:]), nil
	}
	start := 1
	if len(p) > 2 && p[0] == 0x80 {
		start = 3
	}
	if p[start-1] != '(' {
		return nil, fmt.Errorf("pickled reply does not start with a MARK: %q", p)
	}
	i := bytes.Index(p, []byte("U\x06.reply"))
	if i < 0 {
		i = bytes.Index(p, []byte("X\x06\x00\x00\x00.reply"))
	}
	if i < 2 || p[i-2] != 'K' {
		return nil, fmt.Errorf("pickled reply without K flags before .reply: %q", p)
	}
	var idb []byte
	switch {
	case id < 256:
		idb = []byte{'K', byte(id)}
	default:
		idb = []byte{'J', 0, 0, 0, 0}
		binary.LittleEndian.PutUint32(idb[1:], uint32(id))
	}
	return concat(p[:start], idb, p[i-2:]), nil
}

func concat(parts ...[]byte) []byte {
	var out []byte
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
