package zrpc

import (
	"slices"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/internal/captures"
	"github.com/gozeo/gozeo/pickle"
)

// captureMessages decodes the server-to-client RPC messages of a pickle
// capture.
func captureMessages(t *testing.T, name string) []*Message {
	t.Helper()
	seenVersion := map[int]bool{}
	var msgs []*Message
	for _, fr := range captures.MustLoad(t, name) {
		if fr.Dir != "s2c" {
			continue
		}
		if !seenVersion[fr.Conn] { // the version string
			seenVersion[fr.Conn] = true
			continue
		}
		v, err := pickle.Unmarshal(fr.Payload)
		if err != nil {
			t.Fatalf("%s: decoding %s: %v", name, pickle.ReprBytes(fr.Payload[:min(len(fr.Payload), 40)]), err)
		}
		tup, ok := v.(pickle.Tuple)
		if !ok || len(tup) != 4 {
			t.Fatalf("%s: message %s is not a 4-tuple", name, pickle.Repr(v))
		}
		flags, _ := pickle.AsInt(tup[1])
		method, _ := pickle.AsText(tup[2])
		msgs = append(msgs, &Message{ID: tup[0], Flags: Flags(flags), Method: method, Args: tup[3]})
	}
	return msgs
}

// Real servers' replies: the error replies, and only they, are recognized,
// with their class; the exceptions inside 3.x serialnos calls are too.
func TestErrorFromReplyCaptures(t *testing.T) {
	const posKey, conflict = "ZODB.POSException.POSKeyError", "ZODB.POSException.ConflictError"
	for _, name := range captures.Names() {
		if strings.HasPrefix(name, "zeo5msgpack") || strings.Contains(name, "auth") {
			continue // msgpack is another codec's; auth captures are MAC'd frames of the same shapes
		}
		t.Run(name, func(t *testing.T) {
			var replyErrs, serialnoErrs []string
			for _, m := range captureMessages(t, name) {
				if e, ok := ErrorFromReply(m); ok {
					replyErrs = append(replyErrs, e.Class)
					if e.Class == conflict {
						if _, ok := e.Attr("serials"); !ok {
							t.Errorf("ConflictError without serials: %v", e)
						}
					} else if len(e.Args) != 1 {
						t.Errorf("%s args = %s, want (oid,)", e.Class, pickle.Repr(e.Args))
					}
					continue
				}
				if m.Method != "serialnos" {
					continue
				}
				args, _ := m.Args.(pickle.Tuple)
				items, _ := pickle.AsTuple(args[0])
				for _, it := range items {
					pair, ok := it.(pickle.Tuple)
					if !ok || len(pair) != 2 {
						continue
					}
					if e, ok := ExceptionValue(pair[1]); ok {
						serialnoErrs = append(serialnoErrs, e.Class)
						if oid, ok := e.Attr("oid"); !ok || pickle.Repr(oid) != pickle.Repr(pair[0]) {
							t.Errorf("serialnos %s for oid %s has oid %s", e.Class, pickle.Repr(pair[0]), pickle.Repr(oid))
						}
					}
				}
			}
			var wantReply, wantSerialnos []string
			gen, scenario, _ := strings.Cut(name, "-")
			switch scenario {
			case "poskeyerror", "loadbefore":
				wantReply = []string{posKey}
			case "conflict":
				if gen == "zeo5" {
					wantReply = []string{conflict}
				} else {
					wantSerialnos = []string{conflict}
				}
			case "full":
				wantReply = []string{posKey}
				if gen == "zeo5" {
					wantReply = append(wantReply, conflict)
				} else {
					wantSerialnos = []string{conflict}
				}
			}
			slices.Sort(replyErrs)
			slices.Sort(wantReply)
			if !slices.Equal(replyErrs, wantReply) {
				t.Errorf("error replies %v, want %v", replyErrs, wantReply)
			}
			if !slices.Equal(serialnoErrs, wantSerialnos) {
				t.Errorf("serialnos errors %v, want %v", serialnoErrs, wantSerialnos)
			}
		})
	}
}
