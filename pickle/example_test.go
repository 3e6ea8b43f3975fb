package pickle_test

import (
	"errors"
	"fmt"
	"log"

	"github.com/gozeo/gozeo/pickle"
)

// Two replies to a load, shaped as real servers send them (the data
// shortened): a ZODB 3.10 server on Python 2 answering loadEx with (data,
// tid), at protocol 1 where byte strings are py2 str, and a ZEO 5 server on
// Python 3 answering loadBefore with (data, tid, end_tid), at protocol 3
// where they are bytes. The accessors read both the same way.
func ExampleUnmarshal() {
	replies := [][]byte{
		[]byte("(K\x04K\x00U\x06.reply(U\x0bhello worldU\x08\x04\r@\xe36\xcf8\xbbtt."),
		[]byte("\x80\x03(K\x04K\x00X\x06\x00\x00\x00.reply" +
			"C\x0bhello worldC\x08\x04\r@\xe2\x93V=\xddN\x87t."),
	}
	for _, p := range replies {
		v, err := pickle.Unmarshal(p)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(pickle.Repr(v))

		msg, _ := pickle.AsTuple(v) // (msgid, flags, method, value)
		msgid, _ := pickle.AsInt(msg[0])
		method, _ := pickle.AsText(msg[2])  // py2 str or py3 str
		value, _ := pickle.AsTuple(msg[3])  // (data, tid[, end_tid])
		data, _ := pickle.AsBytes(value[0]) // py2 str or py3 bytes
		tid, _ := pickle.AsBytes(value[1])
		fmt.Printf("msgid %d %s: data %q (a %T), tid %x\n", msgid, method, data, value[0], tid)
	}
	// Output:
	// (4, 0, '.reply', ('hello world', '\x04\r@\xe36\xcf8\xbb'))
	// msgid 4 .reply: data "hello world" (a pickle.ByteString), tid 040d40e336cf38bb
	// (4, 0, ".reply", (b'hello world', b'\x04\r@\xe2\x93V=\xdd', None))
	// msgid 4 .reply: data "hello world" (a pickle.Bytes), tid 040d40e293563ddd
}

// A ZODB record is two pickles written by one pickler: the class, then the
// object's state. They share the memo, so the state may refer to what the
// class pickle memoized: here the persistent reference to another
// PersistentMapping names its class with h\x00, a GET of memo entry 0 of
// the first pickle. One Decoder reads both, as ZODB's Unpickler does.
func ExampleNewDecoder() {
	record := []byte(
		// (persistent.mapping.PersistentMapping, None), memoized as 0 and 1
		"\x80\x03cpersistent.mapping\nPersistentMapping\nq\x00N\x86q\x01." +
			// {'data': {'title': 'hello', 'child': persistent ref (oid 2, memo 0)}}
			"\x80\x03}q\x02X\x04\x00\x00\x00dataq\x03}q\x04(X\x05\x00\x00\x00titleq\x05" +
			"X\x05\x00\x00\x00helloq\x06X\x05\x00\x00\x00childq\x07" +
			"C\x08\x00\x00\x00\x00\x00\x00\x00\x02q\x08h\x00\x86q\tQus.")

	d := pickle.NewDecoder(record, nil)
	class, err := d.Decode()
	if err != nil {
		log.Fatal(err)
	}
	state, err := d.Decode()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("class:", pickle.Repr(class))
	fmt.Println("state:", pickle.Repr(state))

	st, _ := pickle.AsDict(state)
	data, _ := st.GetString("data")
	child, _ := data.(*pickle.Dict).GetString("child")
	ref := child.(pickle.PersistentRef)
	pid, _ := pickle.AsTuple(ref.ID) // ZODB's (oid, class) form
	oid, _ := pickle.AsBytes(pid[0])
	fmt.Printf("child: oid %x, class %v\n", oid, pid[1])
	// Output:
	// class: (persistent.mapping.PersistentMapping, None)
	// state: {"data": {"title": "hello", "child": persistent((b'\x00\x00\x00\x00\x00\x00\x00\x02', persistent.mapping.PersistentMapping))}}
	// child: oid 0000000000000002, class persistent.mapping.PersistentMapping
}

// objectRef is what this example's PersistentLoad hook makes of a
// persistent id: an application-level reference instead of a PersistentRef.
type objectRef struct {
	oid   string
	class string
}

// A PersistentLoad hook turns ZODB's (oid, class) persistent ids into the
// application's own reference type while the record is decoded.
func ExampleDecoderOptions_persistentLoad() {
	record := []byte("\x80\x03cpersistent.mapping\nPersistentMapping\nq\x00N\x86q\x01." +
		"\x80\x03}q\x02X\x04\x00\x00\x00dataq\x03}q\x04(X\x05\x00\x00\x00titleq\x05" +
		"X\x05\x00\x00\x00helloq\x06X\x05\x00\x00\x00childq\x07" +
		"C\x08\x00\x00\x00\x00\x00\x00\x00\x02q\x08h\x00\x86q\tQus.")

	opts := &pickle.DecoderOptions{
		PersistentLoad: func(pid pickle.Value) (pickle.Value, error) {
			t, ok := pickle.AsTuple(pid)
			if !ok || len(t) != 2 {
				return nil, fmt.Errorf("persistent id %s is not (oid, class)", pickle.Repr(pid))
			}
			oid, ok := pickle.AsBytes(t[0])
			if !ok || len(oid) != 8 {
				return nil, fmt.Errorf("persistent id %s has no 8-byte oid", pickle.Repr(pid))
			}
			return objectRef{oid: fmt.Sprintf("%x", oid), class: fmt.Sprint(t[1])}, nil
		},
	}
	d := pickle.NewDecoder(record, opts)
	if _, err := d.Decode(); err != nil { // the class pickle
		log.Fatal(err)
	}
	state, err := d.Decode()
	if err != nil {
		log.Fatal(err)
	}
	data, _ := state.(*pickle.Dict).GetString("data")
	for _, it := range data.(*pickle.Dict).Items() {
		fmt.Printf("%v: %#v\n", it.Key, it.Value)
	}
	// Output:
	// title: "hello"
	// child: pickle_test.objectRef{oid:"0000000000000002", class:"persistent.mapping.PersistentMapping"}
}

// The same ConflictError as a Python 2.4 server pickles it (a classic instance:
// MARK GLOBAL OBJ and a BUILD dict) and as Python 2.5+ does through ZODB's
// _recon (docs/protocol.md, Errors). AsException gives one view of both.
func ExampleAsException() {
	const state = "}(U\nclass_nameNU\x07serials(U\x08\x03\xc5\x8a\x1b\x11\x11\x11\x11U\x08\x03\xc5\x8a\x1a\x00\x00\x00\x00t" +
		"U\x07messageU\x17database conflict errorU\x03oidU\x08\x00\x00\x00\x00\x00\x00\x00\x01"
	pickles := [][]byte{
		[]byte("(cZODB.POSException\nConflictError\no" + state + "ub."),
		[]byte("cZODB.POSException\n_recon\n(cZODB.POSException\nConflictError\n" + state + "U\x04args)utR."),
	}
	for _, p := range pickles {
		v, err := pickle.Unmarshal(p)
		if err != nil {
			log.Fatal(err)
		}
		exc, ok := pickle.AsException(v)
		if !ok {
			log.Fatalf("%s is not an exception", pickle.Repr(v))
		}
		msg, _ := exc.Attr("message")
		oid, _ := exc.Attr("oid")
		serials, _ := exc.Attr("serials")
		fmt.Printf("%v, %s: %s\n", exc.Style, exc.Class.Name, pickle.Repr(msg))
		fmt.Printf("  oid %s, serials %s\n", pickle.Repr(oid), pickle.Repr(serials))
	}
	// Output:
	// old-style, ConflictError: 'database conflict error'
	//   oid '\x00\x00\x00\x00\x00\x00\x00\x01', serials ('\x03\xc5\x8a\x1b\x11\x11\x11\x11', '\x03\xc5\x8a\x1a\x00\x00\x00\x00')
	// _recon, ConflictError: 'database conflict error'
	//   oid '\x00\x00\x00\x00\x00\x00\x00\x01', serials ('\x03\xc5\x8a\x1b\x11\x11\x11\x11', '\x03\xc5\x8a\x1a\x00\x00\x00\x00')
}

// The same loadEx call, pickled as a ZODB 3.10 client on Python 2 writes it
// (protocol 1, the method and the oid as py2 str) and as a ZEO 5 client on
// Python 3 does (protocol 3, the method as text, the oid as bytes). Below
// protocol 3, which has no bytes opcode, the Python 3 dialect spells bytes
// as CPython 3 does: _codecs.encode(text, 'latin1'), which decodes back to
// Bytes.
func ExampleMarshal() {
	call := pickle.Tuple{int64(5), int64(0), "loadEx", pickle.Tuple{pickle.Bytes("\x00\x00\x00\x00\x00\x00\x00\xcd")}}
	for _, opts := range []pickle.EncoderOptions{
		{Protocol: 1, Dialect: pickle.Python2},
		{Protocol: 3, Dialect: pickle.Python3},
		{Protocol: 1, Dialect: pickle.Python3},
	} {
		p, err := pickle.Marshal(call, opts)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%v protocol %d: %s\n", opts.Dialect, opts.Protocol, pickle.ReprBytes(p))
	}
	// Output:
	// Python2 protocol 1: '(K\x05K\x00U\x06loadEx(U\x08\x00\x00\x00\x00\x00\x00\x00\xcdtt.'
	// Python3 protocol 3: '\x80\x03(K\x05K\x00X\x06\x00\x00\x00loadExC\x08\x00\x00\x00\x00\x00\x00\x00\xcd\x85t.'
	// Python3 protocol 1: '(K\x05K\x00X\x06\x00\x00\x00loadEx(c_codecs\nencode\n(X\t\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\xc3\x8dX\x06\x00\x00\x00latin1tRtt.'
}

// An *Exception is written in the encoder's Variant: a Python 2.4 peer
// needs the old-style classic instance, while Python 2.5+ reads a ZODB
// POSError through _recon (Recon set) and any other exception as
// Class(*args).
func ExampleMarshal_exception() {
	posKeyError := &pickle.Exception{
		Class: pickle.Global{Module: "ZODB.POSException", Name: "POSKeyError"},
		Args:  pickle.Tuple{pickle.ByteString("\x00\x00\x00\x00\x00\x00\x00\x07")},
		Recon: true,
	}
	keyError := &pickle.Exception{
		Class: pickle.Global{Module: "exceptions", Name: "KeyError"},
		Args:  pickle.Tuple{"missing"},
	}
	for _, exc := range []*pickle.Exception{posKeyError, keyError} {
		for _, variant := range []pickle.Variant{pickle.OldStyle, pickle.NewStyle} {
			p, err := pickle.Marshal(exc, pickle.EncoderOptions{Protocol: 1, Dialect: pickle.Python2, Variant: variant})
			if err != nil {
				log.Fatal(err)
			}
			fmt.Printf("%s %v: %s\n", exc.Class.Name, variant, pickle.ReprBytes(p))
		}
	}
	// Output:
	// POSKeyError OldStyle: '(cZODB.POSException\nPOSKeyError\no}U\x04args(U\x08\x00\x00\x00\x00\x00\x00\x00\x07tsb.'
	// POSKeyError NewStyle: 'cZODB.POSException\n_recon\n(cZODB.POSException\nPOSKeyError\n}U\x04args(U\x08\x00\x00\x00\x00\x00\x00\x00\x07tstR.'
	// KeyError OldStyle: '(cexceptions\nKeyError\no}U\x04args(U\x07missingtsb.'
	// KeyError NewStyle: 'cexceptions\nKeyError\n(U\x07missingtR.'
}

// A FindGlobal hook decides which globals a pickle may name. Decoding never
// imports or calls anything, but refusing unexpected globals early keeps
// hostile input out of code that trusts the class names it sees.
func ExampleDecoderOptions_findGlobal() {
	allowed := map[string]bool{"ZODB.POSException": true, "persistent.mapping": true}
	opts := &pickle.DecoderOptions{
		FindGlobal: func(module, name string) (pickle.Value, error) {
			if !allowed[module] {
				return nil, fmt.Errorf("module %s is not allowed", module)
			}
			return nil, nil // keep the Global symbolic
		},
	}
	_, err := pickle.NewDecoder([]byte("cos\nsystem\n(S'echo hi'\ntR."), opts).Decode()
	fmt.Println(err)
	fmt.Println(errors.Is(err, pickle.ErrGlobalRefused))
	// Output:
	// pickle: opcode 'c' (GLOBAL) at offset 0: global refused: os.system: module os is not allowed
	// true
}

// A pickle cut short fails with a *DecodeError telling where and in which
// opcode, wrapping a sentinel to match with errors.Is.
func ExampleDecodeError() {
	reply := []byte("(K\x04K\x00U\x06.reply(U\x0bhello worldU\x08\x04\r@\xe36\xcf8\xbbtt.")
	_, err := pickle.Unmarshal(reply[:25]) // cut inside "hello world"
	fmt.Println(err)

	var de *pickle.DecodeError
	if errors.As(err, &de) {
		fmt.Printf("offset %d, opcode %q, truncated: %v\n", de.Offset, de.Opcode, errors.Is(err, pickle.ErrTruncated))
	}
	// Output:
	// pickle: opcode 'U' (SHORT_BINSTRING) at offset 14: truncated: need 11 bytes, 9 remain
	// offset 14, opcode 'U', truncated: true
}
