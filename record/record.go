package record

import (
	"errors"
	"fmt"
	"io"

	"github.com/gozeo/gozeo/pickle"
)

// Record is a ZODB data record taken apart: ZODB's ObjectWriter pickles the
// class metadata and then the object's state with one pickler, so the record
// is two consecutive pickles sharing one memo (the state pickle may refer to
// memo entries of the class pickle).
type Record struct {
	// Class is "module.Name" of the object's class, "" when the class
	// pickle has none of the forms ZODB writes (ClassMeta then shows it).
	Class string
	// ClassArgs holds the arguments of the (class, args) form, written
	// for classes with __getnewargs__; nil for the other forms.
	ClassArgs pickle.Value
	// ClassMeta is the class pickle as decoded.
	ClassMeta pickle.Value
	// State is the object's state (__getstate__), usually a dict.
	State pickle.Value
	// Refs are the persistent references of the record, in pickle order.
	Refs []Ref
	// Trailing counts bytes after the state pickle, which ZODB never
	// writes.
	Trailing int
}

// ErrNoState reports a record that holds a class pickle and nothing else.
var ErrNoState = errors.New("the record ends after the class pickle (no state pickle)")

// Decode decodes both pickles of a record with one decoder, so that
// the memo is shared as it was when the record was written. Nothing in the
// record is executed or imported: classes stay symbolic and persistent
// references are collected, not loaded.
func Decode(data []byte) (*Record, error) {
	if len(data) == 0 {
		return nil, errors.New("empty record")
	}
	// One allocation for the record and the class names its references
	// share (a BTree node's hundreds of references name one or two).
	d := &struct {
		rec   Record
		names classNames
	}{}
	rec := &d.rec
	dec := pickle.NewDecoder(data, &pickle.DecoderOptions{
		PersistentLoad: func(pid pickle.Value) (pickle.Value, error) {
			rec.Refs = append(rec.Refs, d.names.parse(pid))
			return nil, nil // keep the PersistentRef in the value
		},
	})
	meta, err := dec.Decode()
	if err != nil {
		return nil, fmt.Errorf("class pickle: %w", err)
	}
	rec.ClassMeta = meta
	rec.Class, rec.ClassArgs = classOf(meta)
	state, err := dec.Decode()
	if errors.Is(err, io.EOF) {
		return nil, ErrNoState
	}
	if err != nil {
		return nil, fmt.Errorf("state pickle: %w", err)
	}
	rec.State = state
	rec.Trailing = len(data) - dec.Offset()
	return rec, nil
}

// classOf reads the class metadata in the forms ZODB's serialize module
// writes: the class itself (a Global), (class, None), or (class, args) for
// classes with __getnewargs__; a persistent class may be given as a
// (module, name) tuple instead of a Global.
func classOf(meta pickle.Value) (name string, args pickle.Value) {
	if name := ClassName(meta); name != "" {
		return name, nil
	}
	t, ok := meta.(pickle.Tuple)
	if !ok || len(t) != 2 {
		return "", nil
	}
	name = ClassName(t[0])
	if name == "" {
		return "", nil
	}
	if pickle.IsNone(t[1]) {
		return name, nil
	}
	return name, t[1]
}

// ClassName returns "module.Name" for a Global or a (module, name) pair of
// strings, and "" for anything else.
func ClassName(v pickle.Value) string {
	switch v := v.(type) {
	case pickle.Global:
		return v.String()
	case pickle.Tuple:
		if len(v) != 2 {
			return ""
		}
		module, ok1 := pickle.AsText(v[0])
		name, ok2 := pickle.AsText(v[1])
		if ok1 && ok2 && module != "" && name != "" {
			return module + "." + name
		}
	}
	return ""
}

// ClassOf returns the class ("module.Name") of a record, reading only its
// class pickle, as ZODB's get_pickle_metadata does for a conflict's
// class_name; "" when the record has none of the forms ZODB writes.
func ClassOf(data []byte) string {
	dec := pickle.NewDecoder(data, &pickle.DecoderOptions{MaxDepth: 16, Raw: true})
	meta, err := dec.Decode()
	if err != nil {
		return ""
	}
	name, _ := classOf(meta)
	return name
}
