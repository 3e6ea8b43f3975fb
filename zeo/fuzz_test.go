package zeo

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zeo/blobcache"
	"github.com/gozeo/gozeo/zrpc"
)

var errFuzzDiscard = errors.New("fuzz: discard the download")

// FuzzReplyParsers feeds whatever a server could send through every
// parser of reply values and server calls: none may panic, however the
// value is shaped. Seeds are every server frame of the captures.
func FuzzReplyParsers(f *testing.F) {
	paths, _ := filepath.Glob(filepath.Join("..", "zrpc", "testdata", "captures", "*.jsonl"))
	for _, p := range paths {
		fh, err := os.Open(p)
		if err != nil {
			f.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		sc.Buffer(nil, 16<<20)
		for sc.Scan() {
			var fr struct{ Dir, Hex string }
			if json.Unmarshal(sc.Bytes(), &fr) == nil && fr.Dir == "s2c" {
				if b, err := hex.DecodeString(fr.Hex); err == nil && len(b) > 8 {
					f.Add(b)
				}
			}
		}
		fh.Close()
	}
	pk := zrpc.NewPickleEncoding(zrpc.ZEO3Server.Style())
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
