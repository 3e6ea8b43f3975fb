package testserver

import (
	"errors"
	"testing"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
	"github.com/gozeo/gozeo/zrpc"
)

// A ZODB 3.2 server answers in protocol-0 pickles: the reply tuple opens
// with MARK and a text INT msgid (docs/protocol.md, What servers write).
func TestZ201RepliesInProtocol0(t *testing.T) {
	srv := Start(t, Options{Profile: "z201-py24"})
	c := rawDial(t, srv, nil)
	if c.server != zrpc.Z201 {
		t.Fatalf("announced %s, want Z201", c.server)
	}
	c.answer(zrpc.Z201)
	call, err := pickle.Marshal(pickle.Tuple{int64(5), int64(0), "getAuthProtocol", pickle.Tuple{}}, pickle.EncoderOptions{Protocol: 1, Dialect: pickle.Python2})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.fw.WriteFrame(call); err != nil {
		t.Fatal(err)
	}
	if err := c.fw.Flush(); err != nil {
		t.Fatal(err)
	}
	reply, err := c.fr.ReadFrame()
	if err != nil {
		t.Fatal(err)
	}
	if want := "(I5\nI0\n"; len(reply) < len(want) || string(reply[:len(want)]) != want {
		t.Fatalf("reply %s, want a protocol-0 pickle starting %q", pickle.ReprBytes(reply), want)
	}
}

// ZODB 3.2 has no MVCC methods (3.3.0, announcing the same Z201, has
// them), and undoes with transactionalUndo, which returns the bare oids.
func TestZ201MethodSet(t *testing.T) {
	srv := Start(t, Options{Profile: "z201-py24"})
	p := srv.Profile()
	for _, m := range []struct {
		name string
		args []pickle.Value
	}{
		{"loadEx", []pickle.Value{oidArg(1), ""}},
		{"loadBefore", []pickle.Value{oidArg(1), pickle.Bytes(zodb.MaxTID.Bytes())}},
		{"getTid", []pickle.Value{oidArg(1)}},
	} {
		d := dial(t, srv)
		d.register(srv)
		if _, err := d.call(m.name, m.args...); !errors.Is(err, zrpc.ErrDisconnected) {
			t.Errorf("%s on a ZODB 3.2 server: %v, want the client dropped", m.name, err)
		}
	}
	a := dial(t, srv)
	a.register(srv)
	tid1, _ := a.commit(srv, 1, map[uint64]zodb.TID{1: zodb.ZeroTID, 2: zodb.ZeroTID}, mappingRecord("one"))
	if got := asTID(t, a.mustCall("getSerial", oidArg(1))); got != tid1 {
		t.Fatalf("getSerial = %s, want %s", got, tid1)
	}
	log, _ := pickle.AsTuple(a.mustCall("undoLog", int64(0), int64(1)))
	last, _ := pickle.AsDict(log[0])
	id, _ := last.GetString("id")
	a.beginTxn(p, 2)
	oids, ok := pickle.AsTuple(a.mustCall("transactionalUndo", id, int64(2)))
	if !ok || len(oids) != 2 {
		t.Fatalf("transactionalUndo returned %s, want the two oids", pickle.Repr(oids))
	}
	a.mustCall("vote", int64(2))
	a.mustCall("tpc_finish", int64(2))
	if _, err := a.call("load", oidArg(1), ""); err == nil {
		t.Fatal("the undone creation is still loadable")
	}
}
