package zeo

import (
	"context"
	"errors"
	"testing"

	"github.com/gozeo/gozeo/internal/captures"
	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zeo/blobcache"
	"github.com/gozeo/gozeo/zrpc"
)

var errFuzzDiscard = errors.New("fuzz: discard the download")

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
	blobs, err := blobcache.Open(f.TempDir(), blobcache.Options{})
	if err != nil {
		f.Fatal(err)
	}
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
		// A blob transfer call, with a download waiting for it (then
		// discarded) and without.
		args, _ := pickle.AsTuple(v)
		var bt blobTransfers
		bt.receive(discardLogger(), m.Method, args)
		if len(args) >= 2 {
			oid, ok1 := asOID(args[0])
			serial, ok2 := asTID(args[1])
			if ok1 && ok2 {
				blobs.Fetch(context.Background(), oid, serial, func(_ context.Context, d *blobcache.Download) error {
					bt.start(oid, serial, d)
					bt.receive(discardLogger(), m.Method, args)
					return errFuzzDiscard
				})
			}
		}
	})
}
