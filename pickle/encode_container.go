package pickle

import (
	"fmt"
	"strings"
)

// This file writes containers (tuple, list, dict, set, bytearray), globals
// and persistent references.

// batchSize is CPython's BATCHSIZE: APPENDS and SETITEMS carry at most
// this many items each.
const batchSize = 1000

func (e *Encoder) appendEmptyTuple() {
	if e.opts.Protocol == 0 {
		e.buf = append(e.buf, opMark, opTuple)
	} else {
		e.buf = append(e.buf, opEmptyTuple)
	}
}

// beginTuple starts a tuple of n > 0 items: protocol 2 writes 1 to 3
// items with TUPLE1/2/3 and needs no MARK.
func (e *Encoder) beginTuple(n int) {
	if e.opts.Protocol < 2 || n > 3 {
		e.buf = append(e.buf, opMark)
	}
}

// endTuple ends a tuple begun by beginTuple(n), after its n items.
func (e *Encoder) endTuple(n int) {
	if e.opts.Protocol >= 2 && n <= 3 {
		e.buf = append(e.buf, opTuple1+byte(n-1))
	} else {
		e.buf = append(e.buf, opTuple)
	}
	if e.opts.Dialect != Python2 {
		e.memoPut()
	}
}

func (e *Encoder) saveTuple(t Tuple) error {
	if len(t) == 0 {
		e.appendEmptyTuple() // CPython does not memoize the empty tuple
		return nil
	}
	if err := e.enter("pickle.Tuple"); err != nil {
		return err
	}
	e.beginTuple(len(t))
	for i, x := range t {
		if err := e.save(x); err != nil {
			return e.atIndex(err, i)
		}
	}
	e.endTuple(len(t))
	if e.opts.Dialect == Python2 && e.sharedTuples[tupleKey{&t[0], len(t)}] {
		e.memoPut()
	}
	e.leave()
	return nil
}

func (e *Encoder) saveList(l *List) error {
	if l == nil {
		return e.fail(l, "nil *List")
	}
	if e.memoGet(l) {
		return nil
	}
	if err := e.enter("*pickle.List"); err != nil {
		return err
	}
	e.beginList()
	e.memoize(l)
	// cPickle 2.7 batches a list like any iterator; CPython 3 has a
	// faster path for exact lists that batches differently.
	if err := e.appendItems(*l, e.opts.Dialect == Python3); err != nil {
		return err
	}
	e.leave()
	return nil
}

func (e *Encoder) beginList() {
	if e.opts.Protocol == 0 {
		e.buf = append(e.buf, opMark, opList)
	} else {
		e.buf = append(e.buf, opEmptyList)
	}
}

// appendItems writes the items of a list (or of an object's listitems)
// that is on the stack. Protocol 0 appends one at a time. Above, items go
// in batches of up to batchSize between MARK and APPENDS. The two batching
// algorithms of CPython differ in one case only: a batch of a single item.
// The generic one (any iterator in CPython 3, every list in cPickle 2.7)
// writes it with APPEND; the exact-list one of CPython 3 writes APPEND only
// when the whole list has one item, and MARK item APPENDS otherwise.
func (e *Encoder) appendItems(items []Value, exactList bool) error {
	if e.opts.Protocol == 0 {
		for i, x := range items {
			if err := e.save(x); err != nil {
				return e.atIndex(err, i)
			}
			e.buf = append(e.buf, opAppend)
		}
		return nil
	}
	n := len(items)
	if n == 1 {
		if err := e.save(items[0]); err != nil {
			return e.atIndex(err, 0)
		}
		e.buf = append(e.buf, opAppend)
		return nil
	}
	for i := 0; i < n; {
		k := min(batchSize, n-i)
		if k == 1 && !exactList {
			if err := e.save(items[i]); err != nil {
				return e.atIndex(err, i)
			}
			e.buf = append(e.buf, opAppend)
			return nil
		}
		e.buf = append(e.buf, opMark)
		for j := i; j < i+k; j++ {
			if err := e.save(items[j]); err != nil {
				return e.atIndex(err, j)
			}
		}
		e.buf = append(e.buf, opAppends)
		i += k
	}
	return nil
}

func (e *Encoder) saveDict(d *Dict) error {
	if d == nil {
		return e.fail(d, "nil *Dict")
	}
	if e.memoGet(d) {
		return nil
	}
	if err := e.enter("*pickle.Dict"); err != nil {
		return err
	}
	e.beginDict()
	e.memoize(d)
	if err := e.setItems(d.Items(), true); err != nil {
		return err
	}
	e.leave()
	return nil
}

func (e *Encoder) beginDict() {
	if e.opts.Protocol == 0 {
		e.buf = append(e.buf, opMark, opDict)
	} else {
		e.buf = append(e.buf, opEmptyDict)
	}
}

// setItems writes the items of a dict (or of an object's dictitems) that
// is on the stack, as appendItems does for lists. Both Pythons batch an
// exact dict the same way: SETITEM for a one-item dict, else batches of
// MARK … SETITEMS until a batch is not full, so a dict of a multiple of
// batchSize items ends with an empty MARK SETITEMS. Other mappings use the
// generic algorithm (a lone item in a batch goes with SETITEM).
func (e *Encoder) setItems(items []DictItem, exactDict bool) error {
	if e.opts.Protocol == 0 {
		for i := range items {
			if err := e.saveItem(&items[i], i); err != nil {
				return err
			}
			e.buf = append(e.buf, opSetItem)
		}
		return nil
	}
	n := len(items)
	if n == 0 {
		return nil
	}
	if n == 1 {
		if err := e.saveItem(&items[0], 0); err != nil {
			return err
		}
		e.buf = append(e.buf, opSetItem)
		return nil
	}
	for i := 0; ; {
		k := min(batchSize, n-i)
		if !exactDict {
			if k == 0 {
				return nil
			}
			if k == 1 {
				if err := e.saveItem(&items[i], i); err != nil {
					return err
				}
				e.buf = append(e.buf, opSetItem)
				return nil
			}
		}
		e.buf = append(e.buf, opMark)
		for j := i; j < i+k; j++ {
			if err := e.saveItem(&items[j], j); err != nil {
				return err
			}
		}
		e.buf = append(e.buf, opSetItems)
		i += k
		if k < batchSize {
			return nil
		}
	}
}

func (e *Encoder) saveItem(it *DictItem, i int) error {
	if err := e.save(it.Key); err != nil {
		return e.at(err, fmt.Sprintf(".keys[%d]", i))
	}
	if err := e.save(it.Value); err != nil {
		return e.at(err, "["+Repr(it.Key)+"]")
	}
	return nil
}

// saveSet writes a set or frozenset the way protocols below 4 can:
// set(list) or frozenset(list) by REDUCE.
func (e *Encoder) saveSet(s *Set) error {
	if s == nil {
		return e.fail(s, "nil *Set")
	}
	if e.memoGet(s) {
		return nil
	}
	if err := e.enter("*pickle.Set"); err != nil {
		return err
	}
	g := Global{"builtins", "set"}
	if s.Frozen {
		g.Name = "frozenset"
	}
	if e.opts.Dialect == Python2 {
		g.Module = "__builtin__"
	}
	if err := e.saveGlobal(g); err != nil {
		return err
	}
	e.beginTuple(1)
	e.beginList()
	e.memoPut() // the list built for __reduce__
	if err := e.appendItems(s.Items(), e.opts.Dialect == Python3); err != nil {
		return err
	}
	e.endTuple(1)
	e.buf = append(e.buf, opReduce)
	e.memoize(s)
	e.leave()
	return nil
}

// saveByteArray writes bytearray by REDUCE: CPython 3 as
// bytearray(bytes) (bytearray() when empty), Python 2 as
// bytearray(unicode, 'latin-1').
func (e *Encoder) saveByteArray(b ByteArray) error {
	if e.opts.Dialect == Python3 {
		if err := e.saveGlobal(Global{"builtins", "bytearray"}); err != nil {
			return err
		}
		if len(b) == 0 {
			e.appendEmptyTuple()
		} else {
			e.beginTuple(1)
			if err := e.saveBytes(Bytes(b)); err != nil {
				return err
			}
			e.endTuple(1)
		}
	} else {
		if err := e.saveGlobal(Global{"__builtin__", "bytearray"}); err != nil {
			return err
		}
		e.beginTuple(2)
		if err := e.saveLatin1Text(b); err != nil {
			return err
		}
		if err := saveByteString(e, "latin-1", "string"); err != nil {
			return err
		}
		e.endTuple(2)
	}
	e.buf = append(e.buf, opReduce)
	e.memoPut()
	return nil
}

// saveGlobal writes GLOBAL module\nname\n. Below protocol 3 the Python 3
// dialect writes the Python 2 name of builtins and copyreg globals, as
// CPython 3 does for its Python 2 readers.
func (e *Encoder) saveGlobal(g Global) error {
	if e.opts.Memo && e.memoGet(g) {
		return nil
	}
	w := e.wireGlobal(g)
	if err := e.checkGlobal(g, w); err != nil {
		return err
	}
	e.buf = append(e.buf, opGlobal)
	e.buf = append(e.buf, w.Module...)
	e.buf = append(e.buf, '\n')
	e.buf = append(e.buf, w.Name...)
	e.buf = append(e.buf, '\n')
	if e.opts.Memo {
		e.memoize(g)
	}
	return nil
}

// wireGlobal returns the name a global is written under.
func (e *Encoder) wireGlobal(g Global) Global {
	if e.opts.Dialect == Python3 && e.opts.Protocol < 3 {
		return py2Global(g)
	}
	return g
}

func (e *Encoder) checkGlobal(g, w Global) error {
	if strings.IndexByte(w.Module, '\n') >= 0 || strings.IndexByte(w.Name, '\n') >= 0 {
		return e.fail(g, "global %q.%q: a newline cannot be written in a GLOBAL", g.Module, g.Name)
	}
	return nil
}

// savePersistentRef writes BINPERSID after the id from protocol 1, and
// PERSID with the id as a line of ASCII text at protocol 0 (where Python
// requires a string id).
// savePersistentID writes the id of a persistent reference. cPickle 2.7
// memoizes only objects something else also holds, and the id tuple ZODB's
// persistent_id returns is made for the call: the Python 2 dialect writes
// a tuple id without a PUT (its items as usual), even one met twice.
func (e *Encoder) savePersistentID(id Value) error {
	t, ok := id.(Tuple)
	if !ok || len(t) == 0 || e.opts.Dialect != Python2 || !e.opts.Memo {
		return e.save(id)
	}
	e.beginTuple(len(t))
	for i, x := range t {
		if err := e.save(x); err != nil {
			return e.atIndex(err, i)
		}
	}
	e.endTuple(len(t))
	return nil
}

func (e *Encoder) savePersistentRef(p PersistentRef) error {
	if e.opts.Protocol >= 1 {
		if err := e.enter("pickle.PersistentRef"); err != nil {
			return err
		}
		if err := e.savePersistentID(p.ID); err != nil {
			return e.at(err, ".ID")
		}
		e.buf = append(e.buf, opBinPersID)
		e.leave()
		return nil
	}
	var id []byte
	switch v := p.ID.(type) {
	case string:
		id = []byte(v)
	case Unicode:
		id = []byte(v)
	case ByteString:
		id = v
	case Bytes:
		id = v
	default:
		return e.fail(p, "a protocol 0 persistent id must be a string, not %T", p.ID)
	}
	// Python 3 wants ASCII; Python 2 writes str(pid), the bytes of a
	// str, or unicode encoded as ASCII.
	_, isUnicode := p.ID.(Unicode)
	asciiOnly := e.opts.Dialect == Python3 || isUnicode
	for _, c := range id {
		if c == '\n' || (c >= 0x80 && asciiOnly) {
			return e.fail(p, "a protocol 0 persistent id must be one line of ASCII: %s", Repr(p.ID))
		}
	}
	e.buf = append(e.buf, opPersID)
	e.buf = append(e.buf, id...)
	e.buf = append(e.buf, '\n')
	return nil
}
