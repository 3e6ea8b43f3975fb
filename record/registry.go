package record

import (
	"fmt"
	"sync"

	"github.com/gozeo/gozeo/zodb"
)

// DecodeFunc turns the record of object oid into a Go value.
type DecodeFunc func(oid zodb.OID, rec *Record) (any, error)

// Registry maps class names to Go decoders. A program makes one with
// NewRegistry, registers its own classes, and passes it to what decodes
// objects; nothing is registered globally. It is safe for concurrent use.
type Registry struct {
	mu       sync.RWMutex
	decoders map[string]DecodeFunc
}

// NewRegistry returns a registry that knows the common classes:
// PersistentMapping (*Mapping), PersistentList (*List), Length (*Length)
// and Blob (Blob), under their current and older names.
func NewRegistry() *Registry {
	r := &Registry{decoders: make(map[string]DecodeFunc)}
	r.Register(ClassPersistentMapping, func(_ zodb.OID, rec *Record) (any, error) { return DecodeMapping(rec.State) })
	r.Register(ClassPersistentList, func(_ zodb.OID, rec *Record) (any, error) { return DecodeList(rec.State) })
	r.Register(ClassLength, func(_ zodb.OID, rec *Record) (any, error) { return DecodeLength(rec.State) })
	r.Register(ClassBlob, func(oid zodb.OID, _ *Record) (any, error) { return Blob{OID: oid}, nil })
	for old, current := range classAliases {
		r.decoders[old] = r.decoders[current]
	}
	return r
}

// Register sets the decoder of a class ("module.Name"), replacing any
// before it.
func (r *Registry) Register(class string, f DecodeFunc) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.decoders[class] = f
}

// Decode returns the Go value of object oid's record: what the decoder
// registered for its class returns, or an *Object holding the class and
// state symbolically when none is.
func (r *Registry) Decode(oid zodb.OID, rec *Record) (any, error) {
	r.mu.RLock()
	f := r.decoders[rec.Class]
	r.mu.RUnlock()
	if f == nil {
		return &Object{Class: rec.Class, State: rec.State}, nil
	}
	v, err := f(oid, rec)
	if err != nil {
		return nil, fmt.Errorf("oid %v (%s): %w", oid, rec.Class, err)
	}
	return v, nil
}
