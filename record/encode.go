package record

import (
	"strings"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
)

// Encode writes a record as ZODB's ObjectWriter does: the class metadata
// and then the state, with one pickler so that the two pickles share a
// memo. Values are written as given (see EncodeObject for the usual case).
func Encode(meta, state pickle.Value, opts pickle.EncoderOptions) ([]byte, error) {
	enc := pickle.NewEncoder(opts)
	data, err := enc.Append(nil, meta)
	if err != nil {
		return nil, err
	}
	return enc.Append(data, state)
}

// EncodeObject writes the record of an object of class ("module.Name") with
// the given state, as ZODB writes it in format f for a class without
// __getnewargs__: the class pickle is the class itself, then the state.
// Persistent references in the state (see RefTo) have their oids written
// as the format's bytes type, so that the database's clients read them back
// as oids whatever the state was decoded from.
func EncodeObject(class string, state pickle.Value, f Format) ([]byte, error) {
	if err := f.valid(); err != nil {
		return nil, err
	}
	return Encode(Global(class), normalizeRefs(state), f.EncoderOptions())
}

// Global returns the pickle global of a "module.Name" class name: the
// module is everything before the last dot.
func Global(class string) pickle.Global {
	i := strings.LastIndexByte(class, '.')
	if i < 0 {
		return pickle.Global{Name: class}
	}
	return pickle.Global{Module: class[:i], Name: class[i+1:]}
}

// RefTo returns the usual persistent reference to the object oid of the
// given class: (oid, class), which EncodeObject writes with the oid as py3
// bytes or a py2 str as the format wants and the class as a global. An
// empty class gives the bare oid form, which ZODB writes for classes with
// __getnewargs__.
func RefTo(oid zodb.OID, class string) pickle.PersistentRef {
	id := pickle.Bytes(oid.Bytes())
	if class == "" {
		return pickle.PersistentRef{ID: id}
	}
	return pickle.PersistentRef{ID: pickle.Tuple{id, Global(class)}}
}

// Encode writes the record again in format f: its class metadata as
// decoded and its state, with the references' oids as EncodeObject writes
// them. Text stays text in either format (a decoded string is written as
// unicode in Py2), so a record decoded from a database is written back as
// its clients wrote it. Where ZODB's pickler is not deterministic the
// bytes can differ while the values read back the same: cPickle memoizes a
// tuple only when something else holds it, and Go cannot see Python's
// reference counts.
func (r *Record) Encode(f Format) ([]byte, error) {
	if err := f.valid(); err != nil {
		return nil, err
	}
	meta, state := r.ClassMeta, r.State
	if f == Py2 {
		rw := rewriter{leaf: textAsUnicode}
		meta, state = rw.value(meta), rw.value(state)
	}
	return Encode(meta, normalizeRefs(state), f.EncoderOptions())
}

// textAsUnicode marks decoded text as unicode for the Py2 format, where a
// Go string would be written as a py2 str.
func textAsUnicode(v pickle.Value) (pickle.Value, bool) {
	if s, ok := v.(string); ok {
		return pickle.Unicode(s), true
	}
	return nil, false
}
