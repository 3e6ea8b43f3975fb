package zrpc

import (
	"bytes"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/gozeo/gozeo/pickle"
)

// The encoding benchmarks encode and decode two messages a client meets
// all the time: a small call, loadBefore(oid, tid), and the reply to it
// carrying a 1 MiB record, (data, start, None). Each op is one encode
// into a reused buffer plus one decode. MB/s counts the encoded bytes.
//
//	go test -run='^$' -bench Encoding -benchmem ./zrpc/
//
// msgpack-reflect is the reflection path of the same msgpack library
// (Marshal of []any, Unmarshal into any), as a reference for the
// low-level API MsgpackEncoding uses. It does less than MsgpackEncoding:
// it yields []any and map[string]any, not tuples and ordered dicts.

func benchMessages() map[string]*Message {
	return map[string]*Message{
		"small-call": {ID: int64(7), Method: "loadBefore", Args: pickle.Tuple{vecOID, pickle.Bytes("\x7f\xff\xff\xff\xff\xff\xff\xff")}},
		"1MiB-reply": {ID: int64(7), Method: ReplyMethod, Args: pickle.Tuple{pickle.Bytes(bytes.Repeat([]byte("x"), 1<<20)), vecTID, pickle.None}},
	}
}

func BenchmarkEncoding(b *testing.B) {
	encs := []Encoding{
		NewPickleEncoding(Z3101Client.Style()),
		NewPickleEncoding(ZEO5Client.Style()),
		NewMsgpackEncoding(),
	}
	for _, name := range []string{"small-call", "1MiB-reply"} {
		m := benchMessages()[name]
		for _, enc := range encs {
			b.Run(name+"/"+enc.Name(), func(b *testing.B) {
				buf, err := enc.AppendMessage(nil, m)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(buf)))
				b.ReportAllocs()
				for b.Loop() {
					buf, err = enc.AppendMessage(buf[:0], m)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := enc.DecodeMessage(buf); err != nil {
						b.Fatal(err)
					}
				}
			})
		}
		b.Run(name+"/msgpack-reflect", func(b *testing.B) {
			v := reflectForm(m)
			var buf bytes.Buffer
			enc := msgpack.NewEncoder(&buf)
			if err := enc.Encode(v); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(buf.Len()))
			b.ReportAllocs()
			dec := msgpack.NewDecoder(nil)
			var r bytes.Reader
			for b.Loop() {
				buf.Reset()
				if err := enc.Encode(v); err != nil {
					b.Fatal(err)
				}
				r.Reset(buf.Bytes())
				dec.Reset(&r)
				var out any
				if err := dec.Decode(&out); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// reflectForm converts a message to the plain Go values the msgpack
// library's reflection path takes.
func reflectForm(m *Message) any {
	var conv func(v pickle.Value) any
	conv = func(v pickle.Value) any {
		switch v := v.(type) {
		case pickle.Tuple:
			out := make([]any, len(v))
			for i, x := range v {
				out[i] = conv(x)
			}
			return out
		case pickle.Bytes:
			return []byte(v)
		case pickle.NoneType:
			return nil
		}
		return v
	}
	return []any{conv(m.ID), false, m.Method, conv(m.Args)}
}
