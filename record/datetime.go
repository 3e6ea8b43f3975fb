package record

import (
	"fmt"

	"github.com/gozeo/gozeo/pickle"
)

// DateTime reads a pickled datetime.datetime or datetime.date as text,
// "2024-03-15" or "2024-03-15 09:30:05[.000007]" (" with tzinfo" added
// when it has one), so that tools can show the value rather than its
// packed bytes. Python pickles both by their packed fields: year (2
// bytes), month, day, and for a datetime hour, minute, second and
// microsecond (3 bytes), then the tzinfo if any. ok is false for anything
// else, a malformed one included.
func DateTime(o *pickle.Object) (text string, ok bool) {
	cls, ok := o.Class()
	if !ok || cls.Module != "datetime" || len(o.Args) == 0 {
		return "", false
	}
	b, ok := pickle.AsBytes(o.Args[0])
	if !ok {
		return "", false
	}
	switch {
	case cls.Name == "date" && len(b) == 4:
		return fmt.Sprintf("%04d-%02d-%02d", int(b[0])<<8|int(b[1]), b[2], b[3]), true
	case cls.Name == "datetime" && len(b) == 10:
		year := int(b[0])<<8 | int(b[1])
		// Python 3.6+ keeps the fold flag in the month's top bit.
		s := fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d", year, b[2]&0x7f, b[3], b[4], b[5], b[6])
		if us := int(b[7])<<16 | int(b[8])<<8 | int(b[9]); us != 0 {
			s += fmt.Sprintf(".%06d", us)
		}
		if len(o.Args) > 1 && !pickle.IsNone(o.Args[1]) {
			s += " with tzinfo"
		}
		return s, true
	}
	return "", false
}
