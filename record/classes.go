package record

import (
	"errors"
	"fmt"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
)

// Class names of the persistent classes every ZODB has. A class has had
// several names over ZODB's history; records keep the name they were
// written with.
const (
	ClassPersistentMapping = "persistent.mapping.PersistentMapping"
	ClassPersistentList    = "persistent.list.PersistentList"
	ClassLength            = "BTrees.Length.Length"
	ClassWeakRef           = "persistent.wref.WeakRef"
	ClassBlob              = "ZODB.blob.Blob"
)

// classAliases maps older names of the common classes to the current one.
var classAliases = map[string]string{
	"ZODB.PersistentMapping.PersistentMapping": ClassPersistentMapping,
	"persistent.PersistentMapping":             ClassPersistentMapping,
	"PersistentMapping.PersistentMapping":      ClassPersistentMapping,
	"ZODB.PersistentList.PersistentList":       ClassPersistentList,
	"persistent.PersistentList":                ClassPersistentList,
}

// ErrState reports a state that does not have the layout its class
// writes.
var ErrState = errors.New("record: unexpected state for the class")

// Mapping is a PersistentMapping: its items, and the rest of its instance
// dict as it was. ZODB writes the items under 'data'; records of ZODB 3.0
// and older, under '_container'.
type Mapping struct {
	Data *pickle.Dict
	// Attrs is the whole state; Data is its 'data' (or '_container')
	// entry.
	Attrs *pickle.Dict
}

// DecodeMapping reads a PersistentMapping's state.
func DecodeMapping(state pickle.Value) (*Mapping, error) {
	attrs, ok := state.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("%w: PersistentMapping state has type %s, not a dict", ErrState, pickle.TypeName(state))
	}
	for _, key := range []string{"data", "_container"} {
		if v, ok := attrs.Get(key); ok {
			data, ok := v.(*pickle.Dict)
			if !ok {
				return nil, fmt.Errorf("%w: PersistentMapping %s has type %s, not a dict", ErrState, key, pickle.TypeName(v))
			}
			return &Mapping{Data: data, Attrs: attrs}, nil
		}
	}
	return nil, fmt.Errorf("%w: PersistentMapping state has no 'data'", ErrState)
}

// NewMapping returns an empty PersistentMapping.
func NewMapping() *Mapping {
	data := pickle.NewDict(0)
	return &Mapping{Data: data, Attrs: pickle.DictOf("data", data)}
}

// State returns the state to store: Attrs, whose items entry is Data.
func (m *Mapping) State() pickle.Value {
	if m.Attrs == nil {
		return pickle.DictOf("data", m.Data)
	}
	return m.Attrs
}

// List is a PersistentList: its items under 'data'.
type List struct {
	Data  *pickle.List
	Attrs *pickle.Dict
}

// DecodeList reads a PersistentList's state.
func DecodeList(state pickle.Value) (*List, error) {
	attrs, ok := state.(*pickle.Dict)
	if !ok {
		return nil, fmt.Errorf("%w: PersistentList state has type %s, not a dict", ErrState, pickle.TypeName(state))
	}
	v, ok := attrs.Get("data")
	if !ok {
		return nil, fmt.Errorf("%w: PersistentList state has no 'data'", ErrState)
	}
	data, ok := v.(*pickle.List)
	if !ok {
		return nil, fmt.Errorf("%w: PersistentList data has type %s, not a list", ErrState, pickle.TypeName(v))
	}
	return &List{Data: data, Attrs: attrs}, nil
}

// State returns the state to store.
func (l *List) State() pickle.Value {
	if l.Attrs == nil {
		return pickle.DictOf("data", l.Data)
	}
	return l.Attrs
}

// Length is a BTrees.Length.Length: a counter kept apart from a BTree so
// that concurrent changes to it resolve instead of conflicting. Its state
// is the int itself.
type Length struct{ Value int64 }

// DecodeLength reads a Length's state.
func DecodeLength(state pickle.Value) (*Length, error) {
	n, ok := pickle.AsInt(state)
	if !ok {
		return nil, fmt.Errorf("%w: Length state has type %s, not an int", ErrState, pickle.TypeName(state))
	}
	return &Length{Value: n}, nil
}

// State returns the state to store.
func (l *Length) State() pickle.Value { return l.Value }

// WeakRef is a persistent.wref.WeakRef: a reference that does not keep its
// object alive in a pack. ZODB pickles it inline as a ['w', (oid,)]
// persistent id (see Ref), never as an object of its own.
type WeakRef struct {
	OID zodb.OID
	// Database names the database of a reference into another one.
	Database string
}

// AsWeakRef reads a persistent weak reference out of a state value.
func AsWeakRef(v pickle.Value) (WeakRef, bool) {
	p, ok := v.(pickle.PersistentRef)
	if !ok {
		return WeakRef{}, false
	}
	r := ParseRef(p.ID)
	if !r.Weak {
		return WeakRef{}, false
	}
	return WeakRef{OID: r.OID, Database: r.Database}, true
}

// Value returns the persistent id ZODB writes for the weak reference.
func (w WeakRef) Value() pickle.PersistentRef {
	args := pickle.Tuple{pickle.Bytes(w.OID.Bytes())}
	if w.Database != "" {
		args = append(args, w.Database)
	}
	return pickle.PersistentRef{ID: &pickle.List{"w", args}}
}

// Blob is a ZODB.blob.Blob: a handle on the object whose data the storage
// keeps outside the record (the record's state is empty). Reading the
// data is the storage client's job (docs/protocol.md, Blobs).
type Blob struct{ OID zodb.OID }

// Object is an object of a class without a Go decoder: its class and its
// state as decoded, symbolically.
type Object struct {
	Class string
	State pickle.Value
}
