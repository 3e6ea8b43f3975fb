package main

import (
	"bytes"
	"strings"
	"testing"

	"github.com/gozeo/gozeo/pickle"
)

func TestPrettyLimits(t *testing.T) {
	self := &pickle.List{int64(1)}
	*self = append(*self, self)
	if s := pretty(self, "", 0); !strings.Contains(s, "<recursion>") {
		t.Errorf("self-containing list: %s", s)
	}

	many := pickle.NewDict(0)
	for i := range 10 {
		many.Set(int64(i), &pickle.List{int64(i), pickle.DictOf("k", "v")})
	}
	if s := pretty(many, "", 3); !strings.Contains(s, "... 7 more (-items)") || strings.Count(s, "\"k\"") != 3 {
		t.Errorf("-items 3:\n%s", s)
	}

	long := pickle.Bytes(bytes.Repeat([]byte("x"), 1000))
	if s := pretty(long, "", 0); len(s) > 300 || !strings.Contains(s, "(1000 bytes)") {
		t.Errorf("long bytes: %d chars: %s", len(s), s)
	}

	// A tuple shared at every level, as a memo can make it: 2^40 leaves.
	var v pickle.Value = pickle.Tuple{pickle.NewDict(0)}
	for range 40 {
		v = pickle.Tuple{v, v}
	}
	if s := pretty(v, "", 0); len(s) > prettyMaxOutput+64<<10 || !strings.Contains(s, "output truncated") {
		t.Errorf("shared tuple: %d chars", len(s))
	}
}

func TestPrettyDatetime(t *testing.T) {
	dt := func(cls string, args ...pickle.Value) *pickle.Object {
		return &pickle.Object{Kind: pickle.KindReduce, Callable: pickle.Global{Module: "datetime", Name: cls}, Args: args}
	}
	for _, tc := range []struct {
		v    *pickle.Object
		want string
	}{
		{dt("datetime", pickle.Bytes("\x07\xe8\x03\x0f\x09\x1e\x05\x00\x00\x07")), "(2024-03-15 09:30:05.000007)"},
		{dt("datetime", pickle.ByteString("\x07\xe8\x03\x0f\x09\x1e\x00\x00\x00\x00"), pickle.Global{Module: "pytz", Name: "utc"}), "(2024-03-15 09:30:00 with tzinfo)"},
		{dt("date", pickle.Bytes("\x07\xe8\x03\x0f")), "(2024-03-15)"},
		{dt("datetime", pickle.Bytes("\x07")), "datetime.datetime(b'\\x07')"}, // malformed: shown as is
		{dt("datetime"), "datetime.datetime()"},
	} {
		if s := pretty(tc.v, "", 0); !strings.Contains(s, tc.want) {
			t.Errorf("got %s, want %s in it", s, tc.want)
		}
	}
}

// FuzzRecord: any bytes as a record are decoded and printed, or reported,
// without panicking, within the output bounds.
func FuzzRecord(f *testing.F) {
	for _, opts := range []pickle.EncoderOptions{
		{Protocol: 3, Dialect: pickle.Python3, Memo: true},
		{Protocol: 1, Dialect: pickle.Python2, Memo: true},
	} {
		rec, err := zodbRecord(opts, pickle.Global{Module: "persistent.mapping", Name: "PersistentMapping"},
			pickle.DictOf("data", pickle.DictOf("i", int64(0), "rev", int64(2))))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(rec)
	}
	f.Add([]byte("hello, ZEO"))
	f.Fuzz(func(t *testing.T, data []byte) {
		var out bytes.Buffer
		(&dumper{w: &out, maxItems: 100}).printRecord(data, "  ")
		if out.Len() > 3*(prettyMaxOutput+4096) {
			t.Fatalf("%d bytes of output", out.Len())
		}
	})
}
