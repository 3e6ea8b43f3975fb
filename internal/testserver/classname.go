package testserver

import (
	"github.com/gozeo/gozeo/pickle"
)

// recordClassName reads the class of a ZODB data record, for
// ConflictError's class_name (ZODB's get_pickle_metadata): the record's
// first pickle is the class, as a global, a (class, args) tuple, or, in
// old records, a ((module, name), args) tuple. It returns "" when the
// record is not one of those.
func recordClassName(data []byte) string {
	d := pickle.NewDecoder(data, &pickle.DecoderOptions{MaxDepth: 16, Raw: true})
	v, err := d.Decode()
	if err != nil {
		return ""
	}
	if t, ok := v.(pickle.Tuple); ok && len(t) > 0 {
		v = t[0]
	}
	switch c := v.(type) {
	case pickle.Global:
		return c.String()
	case pickle.Tuple:
		if len(c) == 2 {
			mod, ok1 := pickle.AsText(c[0])
			name, ok2 := pickle.AsText(c[1])
			if ok1 && ok2 {
				return mod + "." + name
			}
		}
	}
	return ""
}
