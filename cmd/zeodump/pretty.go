package main

import (
	"fmt"
	"strings"

	"github.com/gozeo/gozeo/pickle"
	"github.com/gozeo/gozeo/record"
)

// Limits of the pretty printer. A decoded pickle is bounded by its input
// for the most part, but through the memo a few hundred bytes can share one
// tuple so many times over that printing it in full would never end; the
// output budget stops that, and the depth limit keeps the indentation sane.
const (
	prettyMaxDepth  = 64
	prettyMaxOutput = 4 << 20 // bytes of text per value
	prettyMaxString = 200     // bytes of a string or byte string shown
	inlineWidth     = 72      // containers of scalars up to this width stay on one line
)

// printer lays out a decoded value over several lines: dict items one per
// line, containers of plain values inline when short, persistent references
// as "-> oid 0x..". Scalars look as pickle.Repr shows them: text in double
// quotes, Python 2 byte strings in single quotes, Python 3 bytes as b'..'.
type printer struct {
	b strings.Builder
	// maxItems bounds the items shown per container; 0 shows all.
	maxItems int
	// onPath holds the containers being printed, to stop at a value that
	// contains itself (which pickles can express).
	onPath map[any]bool
	// truncated is set once the output budget is spent.
	truncated bool
}

// pretty formats v, continuing lines with indent.
func pretty(v pickle.Value, indent string, maxItems int) string {
	p := &printer{maxItems: maxItems, onPath: map[any]bool{}}
	p.value(v, indent, 0)
	return p.b.String()
}

func (p *printer) value(v pickle.Value, indent string, depth int) {
	if p.overBudget() {
		return
	}
	if depth > prettyMaxDepth {
		p.b.WriteString("...")
		return
	}
	if s, ok := p.inline(v); ok {
		p.b.WriteString(s)
		return
	}
	switch v := v.(type) {
	case *pickle.Dict:
		p.enter(v, func() { p.dict(v, indent, depth) })
	case *pickle.List:
		p.enter(v, func() { p.items("[", "]", *v, indent, depth) })
	case pickle.Tuple:
		p.items("(", ")", v, indent, depth)
	case *pickle.Set:
		open, close := "{", "}"
		if v.Frozen {
			open, close = "frozenset({", "})"
		}
		p.enter(v, func() { p.items(open, close, v.Items(), indent, depth) })
	case *pickle.Object:
		p.enter(v, func() { p.object(v, indent, depth) })
	default:
		p.b.WriteString(pickle.Repr(v))
	}
}

// enter runs f for container c unless c is already being printed higher up.
func (p *printer) enter(c any, f func()) {
	if p.onPath[c] {
		p.b.WriteString("<recursion>")
		return
	}
	p.onPath[c] = true
	f()
	delete(p.onPath, c)
}

func (p *printer) dict(d *pickle.Dict, indent string, depth int) {
	inner := indent + "  "
	p.b.WriteString("{\n")
	for i, it := range d.Items() {
		if p.stop(i, d.Len(), inner) {
			break
		}
		p.b.WriteString(inner)
		if s, ok := p.inline(it.Key); ok {
			p.b.WriteString(s)
		} else {
			p.b.WriteString(pickle.Repr(it.Key))
		}
		p.b.WriteString(": ")
		p.value(it.Value, inner, depth+1)
		p.b.WriteByte('\n')
	}
	p.b.WriteString(indent + "}")
}

func (p *printer) items(open, close string, items []pickle.Value, indent string, depth int) {
	inner := indent + "  "
	p.b.WriteString(open + "\n")
	for i, it := range items {
		if p.stop(i, len(items), inner) {
			break
		}
		p.b.WriteString(inner)
		p.value(it, inner, depth+1)
		p.b.WriteByte('\n')
	}
	p.b.WriteString(indent + close)
}

// overBudget reports whether the output budget is spent, saying so once.
func (p *printer) overBudget() bool {
	if p.truncated {
		return true
	}
	if p.b.Len() > prettyMaxOutput {
		p.b.WriteString("... (output truncated; -raw shows the record)")
		p.truncated = true
	}
	return p.truncated
}

// stop reports whether printing a container should stop at item i: the
// output budget is spent, or i is past the -items limit (then it says how
// many items are left out).
func (p *printer) stop(i, n int, indent string) bool {
	if p.overBudget() {
		return true
	}
	if p.maxItems <= 0 || i < p.maxItems {
		return false
	}
	fmt.Fprintf(&p.b, "%s... %d more (-items)\n", indent, n-i)
	return true
}

// object prints what an object pickle would call, and the state its BUILD
// sets: "datetime.datetime(b'...')", "mymod.Point() state {...}".
func (p *printer) object(o *pickle.Object, indent string, depth int) {
	if cls, ok := o.Class(); ok {
		p.b.WriteString(cls.String())
	} else {
		p.b.WriteString(pickle.Repr(o.Callable))
	}
	if s, ok := p.inlineItems("(", ")", o.Args, false); ok {
		p.b.WriteString(s) // a call: no trailing comma for one argument
	} else {
		p.b.WriteString("args ")
		p.value(o.Args, indent, depth+1)
	}
	if when, ok := record.DateTime(o); ok {
		p.b.WriteString("  (" + when + ")")
	}
	if o.State != nil {
		p.b.WriteString(" state ")
		p.value(o.State, indent, depth+1)
	}
	if len(o.ListItems) > 0 {
		p.b.WriteString(" items ")
		p.items("[", "]", o.ListItems, indent, depth+1)
	}
	if o.DictItems != nil && o.DictItems.Len() > 0 {
		p.b.WriteString(" items ")
		p.dict(o.DictItems, indent, depth+1)
	}
}

// inline returns the one-line form of v when it has one: scalars,
// persistent references, and short containers of those.
func (p *printer) inline(v pickle.Value) (string, bool) {
	switch v := v.(type) {
	case pickle.PersistentRef:
		return record.ParseRef(v.ID).String(), true
	case string:
		if len(v) > prettyMaxString {
			return fmt.Sprintf("%s... (%d bytes)", pickle.Repr(v[:prettyMaxString]), len(v)), true
		}
	case pickle.ByteString:
		if len(v) > prettyMaxString {
			return fmt.Sprintf("%s... (%d bytes)", pickle.Repr(v[:prettyMaxString]), len(v)), true
		}
	case pickle.Bytes:
		if len(v) > prettyMaxString {
			return fmt.Sprintf("%s... (%d bytes)", pickle.Repr(v[:prettyMaxString]), len(v)), true
		}
	case pickle.ByteArray:
		if len(v) > prettyMaxString {
			return fmt.Sprintf("%s... (%d bytes)", pickle.Repr(v[:prettyMaxString]), len(v)), true
		}
	case pickle.Tuple:
		return p.inlineItems("(", ")", v, len(v) == 1)
	case *pickle.List:
		return p.inlineItems("[", "]", *v, false)
	case *pickle.Set:
		if v.Len() == 0 {
			if v.Frozen {
				return "frozenset()", true
			}
			return "set()", true
		}
		if v.Frozen {
			return p.inlineItems("frozenset({", "})", v.Items(), false)
		}
		return p.inlineItems("{", "}", v.Items(), false)
	case *pickle.Dict:
		if v.Len() == 0 {
			return "{}", true
		}
		return "", false
	case *pickle.Object:
		return "", false
	}
	return pickle.Repr(v), true
}

// inlineItems formats a container on one line if all its items are scalars
// and it fits inlineWidth.
func (p *printer) inlineItems(open, close string, items []pickle.Value, trailingComma bool) (string, bool) {
	if p.maxItems > 0 && len(items) > p.maxItems {
		return "", false
	}
	var b strings.Builder
	b.WriteString(open)
	for i, it := range items {
		if !scalar(it) {
			return "", false
		}
		if i > 0 {
			b.WriteString(", ")
		}
		s, _ := p.inline(it)
		b.WriteString(s)
		if b.Len() > inlineWidth {
			return "", false
		}
	}
	if trailingComma {
		b.WriteByte(',')
	}
	b.WriteString(close)
	return b.String(), true
}

// scalar reports whether v is printed on one line in any case.
func scalar(v pickle.Value) bool {
	switch v.(type) {
	case pickle.Tuple, *pickle.List, *pickle.Set, *pickle.Dict, *pickle.Object:
		return false
	}
	return true
}
