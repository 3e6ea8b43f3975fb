package record

import (
	"testing"

	"github.com/gozeo/gozeo/pickle"
)

func TestDateTime(t *testing.T) {
	dt := func(cls string, args ...pickle.Value) *pickle.Object {
		return &pickle.Object{Kind: pickle.KindReduce, Callable: pickle.Global{Module: "datetime", Name: cls}, Args: args}
	}
	for _, tc := range []struct {
		o    *pickle.Object
		want string // "" for not a date
	}{
		{dt("date", pickle.Bytes("\x07\xe8\x03\x0f")), "2024-03-15"},
		{dt("datetime", pickle.Bytes("\x07\xe8\x03\x0f\x09\x1e\x05\x00\x00\x07")), "2024-03-15 09:30:05.000007"},
		// Python 2's str state, and a tzinfo.
		{dt("datetime", pickle.ByteString("\x07\xe8\x03\x0f\x09\x1e\x00\x00\x00\x00"), pickle.Global{Module: "pytz", Name: "utc"}), "2024-03-15 09:30:00 with tzinfo"},
		// Python 3.6+'s fold flag in the month byte.
		{dt("datetime", pickle.Bytes("\x07\xe8\x8b\x05\x01\x30\x00\x00\x00\x00")), "2024-11-05 01:48:00"},
		{dt("datetime", pickle.Bytes("\x07")), ""},
		{dt("datetime"), ""},
		{dt("time", pickle.Bytes("\x09\x1e\x05\x00\x00\x00")), ""},
		{&pickle.Object{Kind: pickle.KindReduce, Callable: pickle.Global{Module: "myapp", Name: "date"}, Args: []pickle.Value{pickle.Bytes("\x07\xe8\x03\x0f")}}, ""},
	} {
		got, ok := DateTime(tc.o)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("DateTime(%s) = %q, %v; want %q", pickle.Repr(tc.o), got, ok, tc.want)
		}
	}
}
