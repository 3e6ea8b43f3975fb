package record

import (
	"fmt"
	"strings"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/zodb"
)

// Ref is a persistent reference of a ZODB record, read from the persistent
// id in the forms ZODB's serialize module writes:
//
//	oid                                 a plain reference (classes with __getnewargs__)
//	(oid, class)                        the usual form; class is a Global or (module, name)
//	[oid]                               a persistent weak reference (old form)
//	['w', (oid,)], ['w', (oid, db)]     a persistent weak reference
//	['n', (db, oid)]                    a reference into another database
//	['m', (db, oid, class)]             the same, with the class
type Ref struct {
	OID zodb.OID
	// HasOID is false for a persistent id none of the forms match (ID
	// then shows it).
	HasOID bool
	// Class is "module.Name" when the reference names it.
	Class string
	// Database names the database of a cross-database reference.
	Database string
	// Weak is true for a persistent weak reference.
	Weak bool
	// ID is the persistent id as decoded.
	ID pickle.Value
}

// ParseRef reads a persistent id in any of the forms above; an id none of
// them match comes back with HasOID false.
func ParseRef(pid pickle.Value) Ref {
	var names classNames
	return names.parse(pid)
}

// classNames remembers the last class a reference named, so that the
// references of one record that name the same class share its string.
type classNames struct {
	global pickle.Global
	name   string
}

// of is ClassName, remembering the name of a Global.
func (n *classNames) of(v pickle.Value) string {
	g, ok := v.(pickle.Global)
	if !ok {
		return ClassName(v)
	}
	if n.name == "" || g != n.global {
		n.global, n.name = g, ClassName(g)
	}
	return n.name
}

// parse is ParseRef.
func (n *classNames) parse(pid pickle.Value) Ref {
	r := Ref{ID: pid}
	switch id := pid.(type) {
	case pickle.Tuple:
		if len(id) == 2 {
			if oid, ok := oidOf(id[0]); ok {
				r.OID, r.HasOID, r.Class = oid, true, n.of(id[1])
			}
		}
	case *pickle.List:
		r.parseList(*id)
	default:
		r.OID, r.HasOID = oidOf(pid)
	}
	return r
}

// parseList reads the list forms of persistent ids: weak and cross-database
// references.
func (r *Ref) parseList(l []pickle.Value) {
	if len(l) == 1 {
		r.OID, r.HasOID = oidOf(l[0])
		r.Weak = r.HasOID
		return
	}
	if len(l) != 2 {
		return
	}
	kind, _ := pickle.AsText(l[0])
	args, ok := l[1].(pickle.Tuple)
	if !ok || len(args) == 0 {
		return
	}
	switch {
	case kind == "w" && len(args) <= 2:
		r.OID, r.HasOID = oidOf(args[0])
		r.Weak = r.HasOID
		if len(args) == 2 {
			r.Database, _ = pickle.AsText(args[1])
		}
	case kind == "n" && len(args) == 2:
		r.Database, _ = pickle.AsText(args[0])
		r.OID, r.HasOID = oidOf(args[1])
	case kind == "m" && len(args) == 3:
		r.Database, _ = pickle.AsText(args[0])
		r.OID, r.HasOID = oidOf(args[1])
		r.Class = ClassName(args[2])
	}
}

// oidOf returns the oid held in an 8-byte py2 str or py3 bytes.
func oidOf(v pickle.Value) (zodb.OID, bool) {
	b, ok := pickle.AsBytes(v)
	if !ok {
		return zodb.OID{}, false
	}
	oid, err := zodb.OIDFromBytes(b)
	return oid, err == nil
}

// Local reports whether the reference points into the same database, so
// that a graph walk can follow it.
func (r Ref) Local() bool { return r.HasOID && r.Database == "" }

// String shows the reference as the dump prints it:
// "-> oid 0x01 (persistent.mapping.PersistentMapping)".
func (r Ref) String() string {
	if !r.HasOID {
		return "-> persistent id " + pickle.Repr(r.ID)
	}
	var b strings.Builder
	b.WriteString("-> ")
	if r.Weak {
		b.WriteString("weak ")
	}
	fmt.Fprintf(&b, "oid %s", r.OID.Repr())
	if r.Database != "" {
		fmt.Fprintf(&b, " in database %q", r.Database)
	}
	if r.Class != "" {
		fmt.Fprintf(&b, " (%s)", r.Class)
	}
	return b.String()
}
