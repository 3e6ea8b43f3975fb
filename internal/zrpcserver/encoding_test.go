package zrpcserver

import (
	"testing"

	"github.com/gozeo/gozeo/pickle"
	. "github.com/gozeo/gozeo/zrpc"
)

func TestServerEncoding(t *testing.T) {
	for _, c := range []struct {
		g    Generation
		v    Version
		d    pickle.Dialect
		want string
	}{
		{GenZ200, Z200, pickle.Python2, "pickle-py2 (protocol 0)"},
		{GenZ201, Z201, pickle.Python2, "pickle-py2 (protocol 0)"},
		{GenZ303, Z201, pickle.Python2, "pickle-py2 (protocol 1)"},
		{GenZ3101, Z308, pickle.Python2, "pickle-py2 (protocol 1)"},
		{GenZ4, Z4, pickle.Python3, "pickle-py3 (protocol 3)"},
		{GenZ50, Z5, pickle.Python2, "pickle-py2 (protocol 1)"},
		{GenZ51, Z5, pickle.Python3, "pickle-py3 (protocol 3)"},
		{GenM51, M5, pickle.Python3, "msgpack"},
		{GenM51, Z5, pickle.Python3, "pickle-py3 (protocol 3)"},
	} {
		enc := ServerEncoding(c.g, c.v, c.d)
		got := enc.Name()
		if s, ok := enc.(interface{ String() string }); ok {
			got = s.String()
		}
		if got != c.want {
			t.Errorf("%v with %s: %s, want %s", c.g, c.v, got, c.want)
		}
	}
}
