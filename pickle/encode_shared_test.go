package pickle

import "testing"

// The memo follows CPython's object identity where Go values keep it: a
// Bytes or Tuple met again as the same slice is written as a GET (as the
// decoder gives back one value for a memo GET), CPython 3's one-character
// strings are one object, and the Python 2 dialect numbers its memo from
// 1 and skips what cPickle 2.7 does not memoize.
func TestMemoIdentity(t *testing.T) {
	oid := Bytes("\x00\x00\x00\x00\x00\x00\x00\x07")
	copyOID := Bytes(string(oid))
	pair := Tuple{int64(1), int64(2)}
	py3 := EncoderOptions{Protocol: 3, Dialect: Python3, Memo: true}
	py2 := EncoderOptions{Protocol: 1, Dialect: Python2, Memo: true}
	for _, tc := range []struct {
		name string
		v    Value
		opts EncoderOptions
		want string
	}{
		{"same bytes twice", Tuple{oid, oid}, py3,
			"\x80\x03C\x08\x00\x00\x00\x00\x00\x00\x00\x07q\x00h\x00\x86q\x01."},
		{"equal bytes, two objects", Tuple{oid, copyOID}, py3,
			"\x80\x03C\x08\x00\x00\x00\x00\x00\x00\x00\x07q\x00C\x08\x00\x00\x00\x00\x00\x00\x00\x07q\x01\x86q\x02."},
		{"one-character text is one object", &List{"a", "a"}, py3,
			"\x80\x03]q\x00(X\x01\x00\x00\x00aq\x01h\x01e."},
		{"same tuple twice", &List{pair, pair}, py3,
			"\x80\x03]q\x00(K\x01K\x02\x86q\x01h\x01e."},
		{"py2: memo from 1, no PUT for 1-char str", &List{"a", "ab"}, py2,
			"]q\x01(U\x01aU\x02abq\x02e."},
		{"py2: inner tuple without PUT, the pickled tuple with one", Tuple{pair, "xy"}, py2,
			"((K\x01K\x02tU\x02xyq\x01tq\x02."},
		{"py2: a tuple held twice is memoized", &List{pair, pair}, py2,
			"]q\x01((K\x01K\x02tq\x02h\x02e."},
		{"py2: persistent id tuple without PUT", PersistentRef{ID: Tuple{ByteString("oid12345"), Global{"m", "C"}}}, py2,
			"(U\x08oid12345q\x01cm\nC\nq\x02tQ."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Marshal(tc.v, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != tc.want {
				t.Errorf("\n got %q\nwant %q", got, tc.want)
			}
		})
	}
}
