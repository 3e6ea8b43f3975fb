package testserver

import (
	"context"
	"testing"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zrpc"
)

// A reply from the client: every server keeps the heartbeat; for anything
// else ZODB ≤ 3.9 keep the client (unless the msgid cannot key their reply
// table), 3.10/4.x drop it, and ZEO 5 ignores msgid -1 and drops the rest.
func TestClientReply(t *testing.T) {
	type sent struct {
		name  string
		id    pickle.Value
		flags zrpc.Flags
		value pickle.Value
	}
	heartbeat := sent{"heartbeat", int64(-1), 0, pickle.None}
	stray := sent{"reply to msgid 5", int64(5), 0, pickle.None}
	valued := sent{"reply to -1 with a value", int64(-1), 0, "x"}
	oneWay := sent{"one-way reply to -1", int64(-1), zrpc.FlagAsync, pickle.None}
	floatID := sent{"reply to -1.0", float64(-1), 0, pickle.None}
	unhashable := sent{"reply to a list msgid", &pickle.List{int64(1)}, 0, pickle.None}

	type expect struct {
		kept, dropped []sent
	}
	old := expect{kept: []sent{heartbeat, stray, valued, oneWay, floatID}, dropped: []sent{unhashable}}
	z310 := expect{kept: []sent{heartbeat, floatID}, dropped: []sent{stray, valued, oneWay, unhashable}}
	z5 := expect{kept: []sent{heartbeat, valued, oneWay, floatID}, dropped: []sent{stray, unhashable}}
	for profile, want := range map[string]expect{
		"z303-py24": old, "z308-py24": old, "z309-py26": old,
		"z3101-py27": z310, "z4-py27": z310, "z4-py3": z310,
		"z5-py3": z5, "m5-py3": z5,
	} {
		t.Run(profile, func(t *testing.T) {
			srv := Start(t, Options{Profile: profile})
			send := func(s sent) *testClient {
				t.Helper()
				c := dial(t, srv)
				c.register(srv)
				m := &zrpc.Message{ID: s.id, Flags: s.flags, Method: zrpc.ReplyMethod, Args: s.value}
				if err := c.conn.Send(context.Background(), m); err != nil {
					t.Fatalf("sending %s: %v", s.name, err)
				}
				return c
			}
			for _, s := range want.kept {
				c := send(s)
				if _, err := c.call("lastTransaction"); err != nil {
					t.Errorf("after a %s the server no longer answers: %v", s.name, err)
				}
			}
			for _, s := range want.dropped {
				send(s).waitClosed()
			}
		})
	}
}

// ZEO 5 ignores any message whose msgid is -1, a call included; older
// servers treat it as any other call.
func TestCallWithMsgidMinusOne(t *testing.T) {
	for _, profile := range []string{"z3101-py27", "z5-py3", "m5-py3"} {
		t.Run(profile, func(t *testing.T) {
			srv := Start(t, Options{Profile: profile})
			c := dial(t, srv)
			c.register(srv)
			begin := &zrpc.Message{ID: int64(-1), Flags: zrpc.FlagAsync, Method: "tpc_begin",
				Args: pickle.Tuple{int64(1), pickle.Bytes("user"), pickle.Bytes("desc"), pickle.NewDict(0), pickle.None, " "}}
			if err := c.conn.Send(context.Background(), begin); err != nil {
				t.Fatal(err)
			}
			_, err := c.call("vote", int64(1))
			if srv.Profile().caps().IgnoresMinusOne {
				if remoteClass(t, err) != "ZODB.POSException.StorageTransactionError" {
					t.Fatalf("vote after an ignored tpc_begin: %v, want StorageTransactionError", err)
				}
			} else if err != nil {
				t.Fatalf("vote after tpc_begin with msgid -1: %v", err)
			}
		})
	}
}
