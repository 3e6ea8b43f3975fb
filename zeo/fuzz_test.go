package zeo

import (
	"github.com/gozeo/gozeo/internal/captures"
	"testing"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zrpc"
)

// FuzzReplyParsers feeds whatever a server could send through every
// parser of reply values and server calls: none may panic, however the
// value is shaped. Seeds are every server frame of the captures.
func FuzzReplyParsers(f *testing.F) {
	for _, name := range captures.Names() {
		for _, fr := range captures.MustLoad(f, name) {
			if fr.Dir == "s2c" && len(fr.Payload) > 8 {
				f.Add(fr.Payload)
			}
		}
	}
	pk := zrpc.NewPickleEncoding(zrpc.PickleStyle{Protocol: 1, Dialect: pickle.Python2})
	mp := zrpc.NewMsgpackEncoding()
	f.Fuzz(func(t *testing.T, payload []byte) {
		enc := zrpc.Encoding(pk)
		if len(payload) > 0 && payload[0] == 0x94 {
			enc = mp
		}
		m, err := enc.DecodeMessage(payload)
		if err != nil {
			return
		}
		c := &Client{targets: []target{{address: "fuzz"}}, log: discardLogger()}
		c.inval = newInvalHub(4, discardLogger(), func(TID) {})
		v := m.Args
		parseServerInfo(v)
		parseInvalidatedOIDs(v)
		if items, ok := pickle.AsTuple(v); ok {
			c.parseSerialnos(items)
		}
		c.parseLoadBefore("loadBefore", v)
		c.parseVoteList(v)
		c.parseUndoRecords("undoLog", v)
		c.parseHistory("history", v)
		if re, ok := zrpc.ErrorFromReply(m); ok {
			_ = c.fromRemote(re, op{method: "x"}).Error()
		}
		(&infoState{}).update(v)
		fromPython(v)
	})
}
