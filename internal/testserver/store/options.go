package store

import (
	"log/slog"
	"time"

	"github.com/gozeo/gozeo/zodb"
)

// Options configure a Store. The zero value is usable.
type Options struct {
	// Name is what Info reports as the storage name; default "gozeo-test".
	Name string
	// ReadOnly refuses every write (tpc_begin, new_oids, pack) with a
	// *ReadOnlyError. Seed still works, to set up fixtures.
	ReadOnly bool
	// Clock gives the commit time tids are made from; default time.Now.
	// Tests inject a frozen or stepping clock; tids stay strictly increasing
	// whatever it returns. It is called with internal locks held and must
	// not call the store.
	Clock func() time.Time
	// Resolve, when set, is offered every write conflict (and every undo a
	// later change blocks) before the store gives up, like ZODB's
	// tryToResolveConflict; it runs with internal locks held and must not
	// call the store. Nil means conflicts are never resolved.
	Resolve ConflictResolver
	// ClassName, when set, names the class of a record ("module.Class") for
	// ConflictError.ClassName; the protocol layer can pass a function that
	// reads the record's first pickle. Nil leaves ClassName empty.
	ClassName func(data []byte) string
	// NoUndo makes Info report supportsUndo false and every Undo fail.
	NoUndo bool
	// Logger receives debug records of commits, conflicts and aborts;
	// default: discard.
	Logger *slog.Logger
}

// Conflict describes a write conflict offered to a ConflictResolver. For a
// store: Old is the revision the client read (serial Read), Committed the
// current one, New what the client wants to write. For an undo blocked by a
// later change: Old is the undone revision, Committed the current one and
// New the revision before the undone one.
type Conflict struct {
	OID           zodb.OID
	Committed     zodb.TID
	Read          zodb.TID
	Old           []byte // nil when that revision has no data or is gone
	CommittedData []byte // nil when the object is deleted
	New           []byte
}

// ConflictResolver merges a conflict: it returns the record to write and
// true, or false to let the conflict stand.
type ConflictResolver func(c Conflict) ([]byte, bool)

func (o Options) withDefaults() Options {
	if o.Name == "" {
		o.Name = "gozeo-test"
	}
	if o.Clock == nil {
		o.Clock = time.Now
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return o
}
