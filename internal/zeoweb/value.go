package zeoweb

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
	"github.com/gozeo/gozeo/zodb"
)

// node is a decoded value laid out for the page: a scalar, a persistent
// reference, or a container of entries. Templates render it recursively,
// so every string from the database goes through html/template's
// escaping; nothing here builds markup.
type node struct {
	// Text is a scalar's Python-like repr, a reference's label, or a
	// container's opening ("{", "[", "myapp.Thing(").
	Text string
	// CSS classes the text: str, num, none, ref, weak, xdb, obj, cut.
	CSS string
	// Href is set for references this page can follow.
	Href string
	// Tag marks a reference that is weak or into another database.
	Tag string
	// Container is true for dicts, lists, tuples, sets and objects;
	// Close ends them.
	Container bool
	Close     string
	Entries   []entry
	// Left counts the entries not shown (the "show more" link raises the
	// limit).
	Left int
}

// entry is one item of a container: Key is nil for sequences.
type entry struct {
	Label string // a named part of an object: "args", "state", "items"
	Key   *node
	Value *node
}

// limits bound the layout of one value; "show more" multiplies them.
type limits struct {
	Items  int // entries shown per container
	String int // bytes of a string shown
	Nodes  int // nodes in all
	Depth  int
}

func limitsFor(scale int) limits {
	return limits{Items: 50 * scale, String: 400 * scale, Nodes: 4000 * scale, Depth: 64}
}

// layout turns decoded values into nodes within limits.
type layout struct {
	lim       limits
	v         view
	nodes     int
	truncated bool // something was left out: the page offers "show more"
	onPath    map[any]bool
}

func newLayout(v view, lim limits) *layout {
	return &layout{lim: lim, v: v, onPath: map[any]bool{}}
}

func (l *layout) value(val pickle.Value, depth int) *node {
	l.nodes++
	if depth > l.lim.Depth || l.nodes > l.lim.Nodes {
		l.truncated = true
		return &node{Text: "…", CSS: "cut"}
	}
	switch x := val.(type) {
	case pickle.PersistentRef:
		return l.ref(record.ParseRef(x.ID))
	case *pickle.Dict:
		return l.enter(x, func() *node { return l.dict("{", "}", x, depth) })
	case *pickle.List:
		return l.enter(x, func() *node { return l.seq("[", "]", *x, depth) })
	case pickle.Tuple:
		closer := ")"
		if len(x) == 1 {
			closer = ",)"
		}
		return l.seq("(", closer, x, depth)
	case *pickle.Set:
		if x.Frozen {
			return l.enter(x, func() *node { return l.seq("frozenset({", "})", x.Items(), depth) })
		}
		return l.enter(x, func() *node { return l.seq("{", "}", x.Items(), depth) })
	case *pickle.Object:
		return l.enter(x, func() *node { return l.object(x, depth) })
	}
	return l.scalar(val)
}

// enter lays out container c unless it is already being laid out higher
// up: a pickle can hold a value that contains itself.
func (l *layout) enter(c any, f func() *node) *node {
	if l.onPath[c] {
		return &node{Text: "<recursion>", CSS: "cut"}
	}
	l.onPath[c] = true
	defer delete(l.onPath, c)
	return f()
}

func (l *layout) scalar(val pickle.Value) *node {
	css := "num"
	switch x := val.(type) {
	case string:
		if len(x) > l.lim.String {
			l.truncated = true
			return &node{Text: fmt.Sprintf("%s… (%d bytes)", pickle.Repr(cutUTF8(x, l.lim.String)), len(x)), CSS: "str"}
		}
		css = "str"
	case pickle.ByteString, pickle.Bytes, pickle.ByteArray:
		b, _ := pickle.AsBytes(x)
		if len(b) > l.lim.String {
			l.truncated = true
			var short pickle.Value
			switch x.(type) {
			case pickle.ByteString:
				short = pickle.ByteString(b[:l.lim.String])
			case pickle.Bytes:
				short = pickle.Bytes(b[:l.lim.String])
			default:
				short = pickle.ByteArray(b[:l.lim.String])
			}
			return &node{Text: fmt.Sprintf("%s… (%d bytes)", pickle.Repr(short), len(b)), CSS: "str"}
		}
		css = "str"
	case pickle.NoneType, nil:
		css = "none"
	case pickle.Global:
		css = "obj"
	}
	return &node{Text: pickle.Repr(val), CSS: css}
}

// cutUTF8 cuts s to at most n bytes without splitting a character.
func cutUTF8(s string, n int) string {
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// ref lays out a persistent reference: a link to the object for a
// reference into this database, marked when weak; a reference into
// another database is shown and marked but not linked (this connection
// cannot read that database).
func (l *layout) ref(r record.Ref) *node {
	if !r.HasOID {
		return &node{Text: "persistent id " + truncRepr(r.ID, l.lim.String), CSS: "xdb", Tag: "unknown reference form"}
	}
	n := &node{Text: "→ " + r.OID.Repr(), CSS: "ref"}
	if r.Class != "" {
		n.Text += " (" + r.Class + ")"
	}
	switch {
	case r.Database != "":
		n.CSS, n.Tag = "xdb", "in database "+pickle.Repr(r.Database)
		if r.Weak {
			n.Tag = "weak, " + n.Tag
		}
	case r.Weak:
		n.CSS, n.Tag, n.Href = "weak", "weak", l.v.Obj(r.OID)
	default:
		n.Href = l.v.Obj(r.OID)
	}
	return n
}

// truncRepr is pickle.Repr cut to n bytes.
func truncRepr(v pickle.Value, n int) string {
	s := pickle.Repr(v)
	if len(s) > n {
		return cutUTF8(s, n) + "…"
	}
	return s
}

func (l *layout) dict(open, closer string, d *pickle.Dict, depth int) *node {
	n := &node{Text: open, Close: closer, Container: true}
	items := d.Items()
	for i, it := range items {
		if i >= l.lim.Items || l.nodes > l.lim.Nodes {
			n.Left = len(items) - i
			l.truncated = true
			break
		}
		n.Entries = append(n.Entries, entry{Key: l.value(it.Key, depth+1), Value: l.value(it.Value, depth+1)})
	}
	return n
}

func (l *layout) seq(open, closer string, items []pickle.Value, depth int) *node {
	n := &node{Text: open, Close: closer, Container: true}
	for i, it := range items {
		if i >= l.lim.Items || l.nodes > l.lim.Nodes {
			n.Left = len(items) - i
			l.truncated = true
			break
		}
		n.Entries = append(n.Entries, entry{Value: l.value(it, depth+1)})
	}
	return n
}

// object lays out what an object pickle calls and the parts it sets.
func (l *layout) object(o *pickle.Object, depth int) *node {
	name := truncRepr(o.Callable, l.lim.String)
	if cls, ok := o.Class(); ok {
		name = cls.String()
	}
	n := &node{Text: name + "(", Close: ")", Container: true, CSS: "obj"}
	if when, ok := record.DateTime(o); ok {
		n.Entries = append(n.Entries, entry{Label: "value", Value: &node{Text: when, CSS: "num"}})
	}
	n.Entries = append(n.Entries, entry{Label: "args", Value: l.value(o.Args, depth+1)})
	if o.Kwargs != nil {
		n.Entries = append(n.Entries, entry{Label: "kwargs", Value: l.value(o.Kwargs, depth+1)})
	}
	if o.State != nil {
		n.Entries = append(n.Entries, entry{Label: "state", Value: l.value(o.State, depth+1)})
	}
	if len(o.ListItems) > 0 {
		n.Entries = append(n.Entries, entry{Label: "items", Value: l.seq("[", "]", o.ListItems, depth+1)})
	}
	if o.DictItems != nil && o.DictItems.Len() > 0 {
		n.Entries = append(n.Entries, entry{Label: "items", Value: l.dict("{", "}", o.DictItems, depth+1)})
	}
	return n
}

// text writes a node as indented plain text, one entry per line, for
// diffs between revisions.
func (n *node) text(b *strings.Builder, indent string) {
	b.WriteString(n.Text)
	if n.Tag != "" {
		b.WriteString(" [" + n.Tag + "]")
	}
	if !n.Container {
		return
	}
	inner := indent + "  "
	for _, e := range n.Entries {
		b.WriteString("\n" + inner)
		if e.Label != "" {
			b.WriteString(e.Label + ": ")
		}
		if e.Key != nil {
			e.Key.text(b, inner)
			b.WriteString(": ")
		}
		e.Value.text(b, inner)
	}
	if n.Left > 0 {
		fmt.Fprintf(b, "\n%s… %d more", inner, n.Left)
	}
	b.WriteString("\n" + indent + n.Close)
}

// oidLink is an object id with its page's URL, for templates.
type oidLink struct {
	OID  zodb.OID
	Href string
}
