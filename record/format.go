package record

import (
	"fmt"

	"github.com/gozeo/gozeo/pickle"
)

// Format is the pickle format a database's Python clients read records in.
// Writing a record in the wrong one breaks those clients: a Python 2.7
// ZODB cannot read protocol 3, and a Python 3 ZODB reads a py2 str oid
// as text.
type Format uint8

const (
	// Py3 is what ZODB >= 5.4 writes on Python 3 through zodbpickle:
	// protocol 3, text as unicode, bytes as bytes (SHORT_BINBYTES), one
	// memo across the class and state pickles.
	Py3 Format = iota
	// Py2 is what ZODB3 and ZODB 4 write on Python 2: protocol 1, a Go
	// string as a py2 str, pickle.Unicode as unicode.
	Py2
)

// String returns "Py3" or "Py2".
func (f Format) String() string {
	switch f {
	case Py3:
		return "Py3"
	case Py2:
		return "Py2"
	}
	return fmt.Sprintf("Format(%d)", uint8(f))
}

// EncoderOptions returns the pickle options ZODB's record writer uses in
// format f: its Pickler keeps a memo (the state pickle refers back to the
// class pickle's entries).
func (f Format) EncoderOptions() pickle.EncoderOptions {
	if f == Py2 {
		return pickle.EncoderOptions{Protocol: 1, Dialect: pickle.Python2, Memo: true}
	}
	return pickle.EncoderOptions{Protocol: 3, Dialect: pickle.Python3, Memo: true}
}

func (f Format) valid() error {
	if f > Py2 {
		return fmt.Errorf("record: unknown %v", f)
	}
	return nil
}

// FormatOf tells the format a stored record was written in: protocol 3 or
// above is Py3 (ZODB >= 5 through zodbpickle), protocol 1 (no PROTO
// header, what ZODB3 and ZODB 4 write on Python 2) or 2 is Py2. It
// reports false for data that is no pickle of those.
func FormatOf(data []byte) (Format, bool) {
	if len(data) < 2 {
		return 0, false
	}
	if data[0] == 0x80 { // PROTO
		switch {
		case data[1] >= 3:
			return Py3, true
		case data[1] == 2:
			return Py2, true
		}
		return 0, false
	}
	switch data[0] {
	case '(', 'c', ']', '}': // MARK, GLOBAL, EMPTY_LIST, EMPTY_DICT: how a class pickle starts
		return Py2, true
	}
	return 0, false
}
