package zrpc_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zrpc"
)

// A client answers what the server announced in its first frame, within
// the versions it allows (nil: every version this package speaks).
func ExampleNegotiate() {
	for _, c := range []struct {
		server  zrpc.Version
		allowed []zrpc.Version
	}{
		{zrpc.Z3101, nil},
		{zrpc.Z4, []zrpc.Version{zrpc.Z308, zrpc.Z309}},
		{zrpc.Z5, nil},
		{zrpc.M5, []zrpc.Version{zrpc.Z5}},
		{zrpc.Z5, []zrpc.Version{zrpc.M5, zrpc.Z5}},
	} {
		n, err := zrpc.Negotiate(c.server, c.allowed)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s -> %s: %s\n", n.Server, n.Chosen, n.Reason)
	}

	// A ZEO 5 server accepts no ZEO 4 client.
	_, err := zrpc.Negotiate(zrpc.Z5, []zrpc.Version{zrpc.Z3101, zrpc.Z4})
	fmt.Println(errors.Is(err, zrpc.ErrProtocolMismatch))
	fmt.Println(err)
	// Output:
	// Z3101 -> Z3101: server announced Z3101; replied Z3101, the highest version both sides speak
	// Z4 -> Z309: server announced Z4; replied Z309, the highest allowed version that server accepts (Z4 itself is not allowed)
	// Z5 -> Z5: server announced Z5; replied Z5, the highest version both sides speak
	// M5 -> Z5: server announced M5; replied Z5 because M5 is not allowed, and ZEO 5.1+ servers use the encoding of the client's letter
	// Z5 -> Z5: server announced Z5; replied Z5, the highest version both sides speak
	// true
	// zrpc: protocol version mismatch: server announced Z5 (a ZEO 5.0 server accepts [Z5], a ZEO 5.1+ / 6.x (pickle) server accepts any letter followed by 5); none of the allowed versions [Z3101 Z4] is accepted; allow one of [Z5] to talk to this server
}

// Servers adapt to the version the client replied, so feature gates ask
// the negotiated version what the connection can do.
func ExampleVersion_Capabilities() {
	for _, v := range []zrpc.Version{zrpc.Z200, zrpc.Z309, zrpc.Z3101, zrpc.Z5, zrpc.M5} {
		c := v.Capabilities()
		fmt.Printf("%-5s loadBefore=%-5v blobs=%-5v errorFlag2=%-5v storeResultsInVote=%-5v msgpack=%v\n",
			v, c.LoadBefore, c.Blobs, c.ErrorFlag2, c.StoreResultsInVote, c.Msgpack)
	}
	// Output:
	// Z200  loadBefore=false blobs=false errorFlag2=false storeResultsInVote=false msgpack=false
	// Z309  loadBefore=true  blobs=true  errorFlag2=false storeResultsInVote=false msgpack=false
	// Z3101 loadBefore=true  blobs=true  errorFlag2=false storeResultsInVote=false msgpack=false
	// Z5    loadBefore=true  blobs=true  errorFlag2=true  storeResultsInVote=true  msgpack=false
	// M5    loadBefore=true  blobs=true  errorFlag2=true  storeResultsInVote=true  msgpack=true
}

// Calling a method the server does not have makes it drop the connection,
// so a client checks first.
func ExampleVersion_HasMethod() {
	for _, method := range []string{"loadEx", "loadBefore", "checkCurrentSerialInTransaction", "ping"} {
		fmt.Printf("%-31s Z309 %-5v Z3101 %-5v Z5 %v\n", method,
			zrpc.Z309.HasMethod(method), zrpc.Z3101.HasMethod(method), zrpc.Z5.HasMethod(method))
	}
	// Output:
	// loadEx                          Z309 true  Z3101 true  Z5 false
	// loadBefore                      Z309 true  Z3101 true  Z5 true
	// checkCurrentSerialInTransaction Z309 false Z3101 true  Z5 true
	// ping                            Z309 false Z3101 false Z5 true
}

// Frames are a 4-byte big-endian length and the payload. A FrameWriter
// gathers frames until Flush; a FrameReader gives them back one by one and
// io.EOF at a clean end of stream.
func ExampleFrameWriter() {
	var stream bytes.Buffer
	fw := zrpc.NewFrameWriter(&stream)
	for _, payload := range []string{"Z3101", "(K\x00I00\nU\x0fgetAuthProtocol)t."} {
		if err := fw.WriteFrame([]byte(payload)); err != nil {
			log.Fatal(err)
		}
	}
	fmt.Println("buffered:", fw.Buffered(), "written:", stream.Len())
	if err := fw.Flush(); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("stream: %q\n", stream.Bytes())

	fr := zrpc.NewFrameReader(&stream)
	for {
		payload, err := fr.ReadFrame()
		if err == io.EOF {
			break
		}
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("frame: %q\n", payload)
	}
	// Output:
	// buffered: 40 written: 0
	// stream: "\x00\x00\x00\x05Z3101\x00\x00\x00\x1b(K\x00I00\nU\x0fgetAuthProtocol)t."
	// frame: "Z3101"
	// frame: "(K\x00I00\nU\x0fgetAuthProtocol)t."
}

// The digest authentication of ZODB 3.2 to ZEO 4 with the test vector of
// docs/protocol.md, Test vectors: user alice, realm zeo, password secret.
func ExampleDigestResponse() {
	const (
		challenge = "5ccb6db4fa8e0d6cc6c266b2dc050a4698944d0b"
		nonce     = "7c026d4d47713939267cbc06c37ca8c996d2a027" // third item of auth_get_challenge's reply
	)
	hup := zrpc.DigestHash("alice", "zeo", "secret")
	fmt.Println("h_up:    ", hup)
	fmt.Println("response:", zrpc.DigestResponse(hup, challenge))
	key := zrpc.DigestSessionKey(hup, nonce)
	fmt.Printf("key:      %x + %q (%d bytes)\n", key[:20], key[20:], len(key))
	// Output:
	// h_up:     8c869e1f68b10efcf6140495cfa04c2c98ac8e1c
	// response: 47b0a86b82d7b60a88ed192fd1a95fdd324d879e
	// key:      dd59d3615280d35f49a26a70447a96f60cdca718 + "8c869e1f68b10efcf6140495cfa04c2c98ac8e1c" (60 bytes)
}

// After a successful auth_response both sides install the session key, and
// every later frame carries the MAC flag and an HMAC-SHA1 of the stream so
// far (docs/protocol.md, MAC'd frames, Authentication).
func ExampleFrameWriter_SetMACKey() {
	hup := zrpc.DigestHash("alice", "zeo", "secret")
	key := zrpc.DigestSessionKey(hup, "7c026d4d47713939267cbc06c37ca8c996d2a027")

	var stream bytes.Buffer
	fw := zrpc.NewFrameWriter(&stream)
	fw.SetMACKey(key)
	for _, payload := range []string{"(K\x03K\x00U\x08register(U\x011I00\ntt.", "(K\x04K\x00U\x0flastTransaction)t."} {
		if err := fw.WriteFrame([]byte(payload)); err != nil {
			log.Fatal(err)
		}
	}
	if err := fw.Flush(); err != nil {
		log.Fatal(err)
	}
	wire := stream.Bytes()
	fmt.Printf("first frame:  prefix %x, MAC %x\n", wire[:4], wire[4:24])
	second := wire[4+20+0x1a:]
	fmt.Printf("second frame: prefix %x, MAC %x\n", second[:4], second[4:24])

	fr := zrpc.NewFrameReader(&stream)
	fr.SetMACKey(key)
	for range 2 {
		payload, err := fr.ReadFrame()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("verified: %q\n", payload)
	}
	// Output:
	// first frame:  prefix 8000001a, MAC e463b61ad17efcbd2b6664e2193b68e0c94d36bd
	// second frame: prefix 80000019, MAC ebe128bfb6ade12760cae8d3e07d5cdeeac7653f
	// verified: "(K\x03K\x00U\bregister(U\x011I00\ntt."
	// verified: "(K\x04K\x00U\x0flastTransaction)t."
}

// The same call in the encoding a ZEO 3.10 / 4 client on Python 2 uses, the
// one a ZEO 5 client on Python 3 uses, and msgpack (version M5).
func ExampleEncodingFor() {
	call := &zrpc.Message{ID: int64(7), Method: "loadBefore", Args: pickle.Tuple{
		pickle.Bytes("\x00\x00\x00\x00\x00\x00\x00\x01"), pickle.Bytes("\x7f\xff\xff\xff\xff\xff\xff\xff"),
	}}
	for _, enc := range []zrpc.Encoding{
		zrpc.EncodingFor(zrpc.Z3101, pickle.Python2, zrpc.ClientSide),
		zrpc.EncodingFor(zrpc.Z5, pickle.Python3, zrpc.ClientSide),
		zrpc.EncodingFor(zrpc.M5, pickle.Python3, zrpc.ClientSide),
	} {
		payload, err := enc.AppendMessage(nil, call)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%-10s %s\n", enc.Name(), pickle.ReprBytes(payload))
	}
	// Output:
	// pickle-py2 '(K\x07I00\nU\nloadBefore(U\x08\x00\x00\x00\x00\x00\x00\x00\x01U\x08\x7f\xff\xff\xff\xff\xff\xff\xfftt.'
	// pickle-py3 '\x80\x03(K\x07\x89X\n\x00\x00\x00loadBeforeC\x08\x00\x00\x00\x00\x00\x00\x00\x01C\x08\x7f\xff\xff\xff\xff\xff\xff\xff\x86t.'
	// msgpack    '\x94\x07\xc2\xaaloadBefore\x92\xc4\x08\x00\x00\x00\x00\x00\x00\x00\x01\xc4\x08\x7f\xff\xff\xff\xff\xff\xff\xff'
}

// A pickle encoding writes in one style but reads every protocol and
// dialect: here a ZEO 5 client's call read by an encoding that writes like
// ZODB 3.8.
func ExampleNewPickleEncoding() {
	zeo5 := zrpc.NewPickleEncoding(zrpc.ZEO5Client.Style())
	zodb38 := zrpc.NewPickleEncoding(zrpc.Z308Client.Style())
	fmt.Println(zeo5)
	fmt.Println(zodb38)

	payload, err := zeo5.AppendMessage(nil, &zrpc.Message{ID: int64(1), Method: "register", Args: pickle.Tuple{"1", false}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pickle.ReprBytes(payload))
	m, err := zodb38.DecodeMessage(payload)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(pickle.Repr(m.ID), m.Flags, m.Method, pickle.Repr(m.Args))
	// Output:
	// pickle-py3 (protocol 3)
	// pickle-py2 (protocol 1)
	// '\x80\x03(K\x01\x89X\x08\x00\x00\x00registerX\x01\x00\x00\x001\x89\x86t.'
	// 1 0 register ("1", False)
}

// msgpack carries tuples as arrays and bytes as bin; they decode as
// pickle.Tuple and pickle.Bytes, as ZEO reads them.
func ExampleNewMsgpackEncoding() {
	enc := zrpc.NewMsgpackEncoding()
	payload, err := enc.AppendMessage(nil, &zrpc.Message{ID: int64(3), Method: zrpc.ReplyMethod,
		Args: pickle.Tuple{pickle.Bytes("data"), pickle.Bytes("\x03\xf5\x8e\x00\x00\x00\x00\x00"), pickle.None}})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("% x\n", payload)
	m, err := enc.DecodeMessage(payload)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.IsReply(), pickle.Repr(m.Args))
	// Output:
	// 94 03 00 a6 2e 72 65 70 6c 79 93 c4 04 64 61 74 61 c4 08 03 f5 8e 00 00 00 00 00 c0
	// true (b'data', b'\x03\xf5\x8e\x00\x00\x00\x00\x00', None)
}

// Error replies as captured from real servers: a ZEO 5 server reporting a
// ConflictError at vote (flags 2, the class name and the exception's
// attributes), and a ZODB 3.10 server reporting a POSKeyError to loadEx
// (flags 0, the class and the pickled instance).
func ExampleErrorFromReply() {
	enc := zrpc.NewPickleEncoding(zrpc.ZEO5Client.Style())
	for _, payload := range []string{
		"\x80\x03(K\x03K\x02X\x06\x00\x00\x00.replyX\x1f\x00\x00\x00ZODB.POSException.ConflictError}(" +
			"X\x07\x00\x00\x00messageX\x17\x00\x00\x00database conflict error" +
			"X\x03\x00\x00\x00oidC\x08\x00\x00\x00\x00\x00\x00\x01\xf8" +
			"X\n\x00\x00\x00class_nameX$\x00\x00\x00persistent.mapping.PersistentMapping" +
			"X\x07\x00\x00\x00serialsC\x08\x04\r@\xe2\xa1\xda[UC\x08\x04\r@\xe2\xa1\xc3fD\x86u\x86t.",
		"(K\x04K\x00U\x06.reply(cZODB.POSException\nPOSKeyError\ncZODB.POSException\n_recon\n" +
			"(cZODB.POSException\nPOSKeyError\n}U\x04args(U\x08\x00\x00\x00\x00\x7f\xff\xff\xfftstRtt.",
	} {
		m, err := enc.DecodeMessage([]byte(payload))
		if err != nil {
			log.Fatal(err)
		}
		rerr, ok := zrpc.ErrorFromReply(m)
		if !ok {
			log.Fatal("not an error reply")
		}
		fmt.Println(rerr.Name(), "from", rerr.Class)
		if oid, ok := rerr.Attr("oid"); ok {
			b, _ := pickle.AsBytes(oid)
			fmt.Printf("  oid attribute %x\n", b)
		}
		if len(rerr.Args) > 0 {
			b, _ := pickle.AsBytes(rerr.Args[0])
			fmt.Printf("  args[0] %x\n", b)
		}
		fmt.Println(" ", rerr)
	}
	// Output:
	// ConflictError from ZODB.POSException.ConflictError
	//   oid attribute 00000000000001f8
	//   zrpc: remote exception ZODB.POSException.ConflictError {"message": "database conflict error", "oid": b'\x00\x00\x00\x00\x00\x00\x01\xf8', "class_name": "persistent.mapping.PersistentMapping", "serials": (b'\x04\r@\xe2\xa1\xda[U', b'\x04\r@\xe2\xa1\xc3fD')}
	// POSKeyError from ZODB.POSException.POSKeyError
	//   args[0] 000000007fffffff
	//   zrpc: remote exception ZODB.POSException.POSKeyError('\x00\x00\x00\x00\x7f\xff\xff\xff',)
}

// A client and a server over net.Pipe: the version exchange, then a Conn
// on each side. The server's Handler answers the client's call.
func ExampleConn() {
	ctx := context.Background()
	clientEnd, serverEnd := net.Pipe()

	type accepted struct {
		conn *zrpc.Conn
		err  error
	}
	serverReady := make(chan accepted, 1)
	go func() {
		// The server side of the version exchange: announce Z5, read the
		// client's reply (a ZEO 5.1+ server accepts any letter + "5").
		fr, fw := zrpc.NewFrameReader(serverEnd), zrpc.NewFrameWriter(serverEnd)
		reply, err := func() ([]byte, error) {
			if err := fw.WriteFrame([]byte(zrpc.Z5)); err != nil {
				return nil, err
			}
			if err := fw.Flush(); err != nil {
				return nil, err
			}
			return fr.ReadFrame()
		}()
		if err != nil {
			serverEnd.Close()
			serverReady <- accepted{err: err}
			return
		}
		conn := zrpc.NewConn(fr, fw, serverEnd, zrpc.ConnOptions{
			Encoding: zrpc.EncodingFor(zrpc.Version(reply), pickle.Python3, zrpc.ServerSide),
			Handler: func(c *zrpc.Conn, m *zrpc.Message) {
				switch m.Method {
				case "lastTransaction":
					_ = c.Reply(ctx, m.ID, pickle.Bytes("\x03\xf5\x8e\x00\x00\x00\x00\x00"))
				default:
					c.Abort(fmt.Errorf("unknown method %q", m.Method)) // as ZEO servers do
				}
			},
		})
		serverReady <- accepted{conn: conn}
	}()

	fr, fw := zrpc.NewFrameReader(clientEnd), zrpc.NewFrameWriter(clientEnd)
	n, err := zrpc.ClientHandshake(ctx, fr, fw, nil)
	if err != nil {
		log.Fatal(err)
	}
	client := zrpc.NewConn(fr, fw, clientEnd, zrpc.ConnOptions{
		Encoding: zrpc.EncodingFor(n.Chosen, pickle.Python3, zrpc.ClientSide),
		Name:     "example server",
	})
	defer client.Close()
	srv := <-serverReady
	if srv.err != nil {
		log.Fatal(srv.err)
	}
	defer srv.conn.Close()

	fmt.Println("negotiated", n.Chosen, "encoding", client.Encoding().Name())
	tid, err := client.Call(ctx, "lastTransaction")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("lastTransaction:", pickle.Repr(tid))
	// Output:
	// negotiated Z5 encoding pickle-py3
	// lastTransaction: b'\x03\xf5\x8e\x00\x00\x00\x00\x00'
}
