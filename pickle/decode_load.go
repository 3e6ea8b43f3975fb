package pickle

import (
	"encoding/binary"
	"fmt"
	"strconv"
)

// The opcode handlers, by family; step dispatches to them.

// loadBinInt handles BININT1, BININT2 and BININT.
func (d *Decoder) loadBinInt(op byte) error {
	switch op {
	case opBinInt1:
		b, err := d.take(1)
		if err != nil {
			return err
		}
		d.push(slot{v: int64(b[0])}) // ints below 256 box without allocating
	case opBinInt2:
		n, err := d.uint(2)
		if err != nil {
			return err
		}
		d.push(slot{v: d.mem.boxInt(int64(n))})
	default:
		n, err := d.uint(4)
		if err != nil {
			return err
		}
		d.push(slot{v: d.mem.boxInt(int64(int32(n)))})
	}
	return nil
}

// loadInt handles INT, with Python 2's I01 and I00 bools.
func (d *Decoder) loadInt() error {
	line, err := d.line()
	if err != nil {
		return err
	}
	switch string(line) {
	case "01":
		d.push(slot{v: true})
		return nil
	case "00":
		d.push(slot{v: false})
		return nil
	}
	v, err := parseInt(line)
	if err != nil {
		return err
	}
	d.push(slot{v: v})
	return nil
}

// loadLong handles LONG.
func (d *Decoder) loadLong() error {
	line, err := d.line()
	if err != nil {
		return err
	}
	v, err := parseLong(line)
	if err != nil {
		return err
	}
	d.push(slot{v: v})
	return nil
}

// loadBinLong handles LONG1 and LONG4.
func (d *Decoder) loadBinLong(op byte) error {
	var n uint64
	if op == opLong1 {
		b, err := d.take(1)
		if err != nil {
			return err
		}
		n = uint64(b[0])
	} else {
		b, err := d.take(4)
		if err != nil {
			return err
		}
		signed := int32(binary.LittleEndian.Uint32(b))
		if signed < 0 {
			return badValue("negative LONG4 byte count %d", signed)
		}
		n = uint64(signed)
	}
	if rem := len(d.data) - d.pos; n > uint64(rem) {
		return truncated(n, rem)
	}
	b, _ := d.take(int(n))
	d.push(slot{v: longFromBytes(b)})
	return nil
}

// loadFloat handles FLOAT.
func (d *Decoder) loadFloat() error {
	line, err := d.line()
	if err != nil {
		return err
	}
	f, err := parseFloat(line)
	if err != nil {
		return err
	}
	d.push(slot{v: d.mem.boxFloat(f)})
	return nil
}

// loadBinFloat handles BINFLOAT.
func (d *Decoder) loadBinFloat() error {
	b, err := d.take(8)
	if err != nil {
		return err
	}
	d.push(slot{v: d.mem.boxFloat(float64FromBits(b))})
	return nil
}

// loadSized handles the opcodes whose argument is a length and that many
// bytes: py2 strings, bytes, bytearrays and UTF-8 text.
func (d *Decoder) loadSized(op byte) error {
	lenSize := 1
	switch op {
	case opBinString:
		// BINSTRING's length is signed; Python refuses a negative one.
		if len(d.data)-d.pos >= 4 {
			if n := int32(binary.LittleEndian.Uint32(d.data[d.pos:])); n < 0 {
				return badValue("negative BINSTRING length %d", n)
			}
		}
		lenSize = 4
	case opBinBytes, opBinUnicode:
		lenSize = 4
	case opBinBytes8, opByteArray8, opBinUnicode8:
		lenSize = 8
	}
	b, err := d.sized(lenSize)
	if err != nil {
		return err
	}
	var v Value
	switch op {
	case opShortBinString, opBinString:
		v = d.mem.boxByteString(d.bytes(b))
	case opShortBinBytes, opBinBytes, opBinBytes8:
		v = d.mem.boxBytes(d.bytes(b))
	case opByteArray8:
		v = d.mem.boxByteArray(d.bytes(b))
	default:
		v = d.text(b)
	}
	d.push(slot{v: v})
	return nil
}

// loadString handles STRING: a quoted py2 str with escapes.
func (d *Decoder) loadString() error {
	line, err := d.line()
	if err != nil {
		return err
	}
	s, err := unquoteString(line)
	if err != nil {
		return err
	}
	d.push(slot{v: d.mem.boxByteString(s[:len(s):len(s)])})
	return nil
}

// loadUnicode handles UNICODE: raw-unicode-escape text.
func (d *Decoder) loadUnicode() error {
	line, err := d.line()
	if err != nil {
		return err
	}
	s, err := rawUnicodeEscapeDecode(line)
	if err != nil {
		return err
	}
	d.push(slot{v: d.mem.boxString(s)})
	return nil
}

// bytes returns b itself when aliasing is enabled, else a copy.
func (d *Decoder) bytes(b []byte) []byte {
	if d.opts.AliasBytes {
		return b
	}
	return d.mem.copyBytes(b)
}

// text returns b as a text value.
func (d *Decoder) text(b []byte) Value { return d.mem.boxString(d.mem.text(b)) }

// pushTuple pushes a tuple of the values of items.
func (d *Decoder) pushTuple(items []slot) error {
	if len(items) == 0 {
		d.push(slot{v: emptyTuple, depth: 1})
		return nil
	}
	t, depth, err := d.tuple(items)
	if err != nil {
		return err
	}
	d.push(slot{v: d.mem.boxTuple(t), depth: depth})
	return nil
}

// tuple builds a tuple of the values of items and returns it with its
// depth.
func (d *Decoder) tuple(items []slot) (Tuple, int, error) {
	if len(items) == 0 {
		return Tuple{}, 1, nil
	}
	t := Tuple(d.mem.values(len(items)))
	depth := 0
	for i, s := range items {
		t[i] = s.v
		depth = max(depth, s.depth)
	}
	if depth >= d.maxDepth {
		return nil, 0, fmt.Errorf("%w: nesting exceeds %d", ErrTooDeep, d.maxDepth)
	}
	return t, depth + 1, nil
}

// loadList handles LIST.
func (d *Decoder) loadList() error {
	items, err := d.popMark()
	if err != nil {
		return err
	}
	l := d.mem.list()
	depth := 0
	if len(items) > 0 {
		*l = make(List, len(items))
		for i, s := range items {
			(*l)[i] = s.v
			depth = max(depth, s.depth)
		}
	}
	return d.pushContainer(l, depth+1)
}

// appendItems applies APPEND/APPENDS: items go to the list (or the
// object standing for a list subclass) on top of the stack.
func (d *Decoder) appendItems(items []slot) error {
	s, err := d.top()
	if err != nil {
		return err
	}
	depth := 0
	for _, it := range items {
		depth = max(depth, it.depth)
	}
	switch c := s.v.(type) {
	case *List:
		if len(*c) == 0 && len(items) > 0 {
			*c = make(List, 0, len(items))
		}
		for _, it := range items {
			*c = append(*c, it.v)
		}
		return d.deepen(s, depth+1)
	case *Object:
		for _, it := range items {
			c.ListItems = append(c.ListItems, it.v)
		}
		return d.deepen(s, depth+2)
	}
	return badValue("%s to a %s", opcodeNames[d.data[d.opPos]], TypeName(s.v))
}

// loadDict handles DICT.
func (d *Decoder) loadDict() error {
	items, err := d.popMark()
	if err != nil {
		return err
	}
	if len(items)%2 != 0 {
		return badValue("DICT with an odd number (%d) of keys and values", len(items))
	}
	dict := d.mem.dict()
	depth, err := d.setDictItems(dict, items)
	if err != nil {
		return err
	}
	return d.pushContainer(dict, depth+1)
}

// setItems applies SETITEM/SETITEMS: key/value pairs go to the dict (or
// the object standing for a dict subclass) on top of the stack.
func (d *Decoder) setItems(items []slot) error {
	if len(items)%2 != 0 {
		return badValue("SETITEMS with an odd number (%d) of keys and values", len(items))
	}
	s, err := d.top()
	if err != nil {
		return err
	}
	var dict *Dict
	extra := 1
	switch c := s.v.(type) {
	case *Dict:
		dict = c
	case *Object:
		if c.DictItems == nil {
			c.DictItems = NewDict(len(items) / 2)
		}
		dict, extra = c.DictItems, 2
	default:
		return badValue("%s to a %s", opcodeNames[d.data[d.opPos]], TypeName(s.v))
	}
	depth, err := d.setDictItems(dict, items)
	if err != nil {
		return err
	}
	return d.deepen(s, depth+extra)
}

// loadFrozenSet handles FROZENSET.
func (d *Decoder) loadFrozenSet() error {
	items, err := d.popMark()
	if err != nil {
		return err
	}
	set := NewSet(true, len(items))
	depth, err := d.addItems(set, items)
	if err != nil {
		return err
	}
	return d.pushContainer(set, depth+1)
}

// loadAddItems handles ADDITEMS.
func (d *Decoder) loadAddItems() error {
	items, err := d.popMark()
	if err != nil {
		return err
	}
	s, err := d.top()
	if err != nil {
		return err
	}
	set, ok := s.v.(*Set)
	if !ok || set.Frozen {
		return badValue("ADDITEMS to a %s", TypeName(s.v))
	}
	depth, err := d.addItems(set, items)
	if err != nil {
		return err
	}
	return d.deepen(s, depth+1)
}

// loadPut handles PUT, BINPUT, LONG_BINPUT and MEMOIZE: the top of the
// stack is stored in the memo.
func (d *Decoder) loadPut(op byte) error {
	var k uint64
	switch op {
	case opPut:
		line, err := d.line()
		if err != nil {
			return err
		}
		var ok bool
		if k, ok = parseMemoKey(line); !ok {
			return fmt.Errorf("%w: invalid PUT key %s", ErrMemo, ReprBytes(line))
		}
	case opBinPut, opLongBinPut:
		var err error
		if k, err = d.uint(memoKeySize(op)); err != nil {
			return err
		}
	default:
		k = uint64(d.memo.len())
	}
	s, err := d.top()
	if err != nil {
		return err
	}
	if d.memo.dense == nil {
		// Picklers PUT nearly every value: size the memo for it.
		d.memo.dense = make([]slot, 0, min(len(d.data)/8+8, 1024))
	}
	d.memo.put(k, *s)
	return nil
}

// loadGet handles GET, BINGET and LONG_BINGET.
func (d *Decoder) loadGet(op byte) error {
	var k uint64
	if op == opGet {
		line, err := d.line()
		if err != nil {
			return err
		}
		var ok bool
		if k, ok = parseMemoKey(line); !ok {
			return fmt.Errorf("%w: invalid GET key %s", ErrMemo, ReprBytes(line))
		}
	} else {
		var err error
		if k, err = d.uint(memoKeySize(op)); err != nil {
			return err
		}
	}
	s, ok := d.memo.get(k)
	if !ok {
		return fmt.Errorf("%w: no value stored under key %d", ErrMemo, k)
	}
	d.push(s)
	return nil
}

// memoKeySize returns the size of the binary key of BINPUT/BINGET (1) and
// LONG_BINPUT/LONG_BINGET (4).
func memoKeySize(op byte) int {
	if op == opBinPut || op == opBinGet {
		return 1
	}
	return 4
}

// globalArg reads the two newline-terminated arguments of GLOBAL and INST
// and returns the value the global stands for.
func (d *Decoder) globalArg() (Value, error) {
	m, err := d.line()
	if err != nil {
		return nil, err
	}
	n, err := d.line()
	if err != nil {
		return nil, err
	}
	return d.global(d.mem.text(m), d.mem.text(n))
}

// global returns the value standing for module.name: what FindGlobal
// says, or the symbolic Global.
func (d *Decoder) global(module, name string) (Value, error) {
	if d.opts.FindGlobal != nil {
		v, err := d.opts.FindGlobal(module, name)
		if err != nil {
			return nil, fmt.Errorf("%w: %s.%s: %w", ErrGlobalRefused, module, name, err)
		}
		if v != nil {
			return v, nil
		}
	}
	return d.mem.boxGlobal(Global{Module: module, Name: name}), nil
}

// loadStackGlobal handles STACK_GLOBAL.
func (d *Decoder) loadStackGlobal() error {
	items, err := d.popN(2)
	if err != nil {
		return err
	}
	module, ok1 := items[0].v.(string)
	name, ok2 := items[1].v.(string)
	if !ok1 || !ok2 {
		return badValue("STACK_GLOBAL needs text, not %s and %s", TypeName(items[0].v), TypeName(items[1].v))
	}
	g, err := d.global(module, name)
	if err != nil {
		return err
	}
	d.push(slot{v: g, depth: 1})
	return nil
}

// loadExt handles EXT1, EXT2 and EXT4: a code of the copyreg extension
// registry, which only the pickling program knows, kept symbolic.
func (d *Decoder) loadExt(op byte) error {
	size := 1 << (op - opExt1) // 1, 2, 4
	code, err := d.uint(size)
	if err != nil {
		return err
	}
	if code == 0 || size == 4 && int32(code) < 0 {
		return badValue("extension code %d is not positive", int32(code))
	}
	g, err := d.global(extensionRegistry, strconv.FormatUint(code, 10))
	if err != nil {
		return err
	}
	d.push(slot{v: g, depth: 1})
	return nil
}

// loadReduce handles REDUCE (callable(*args)) and NEWOBJ
// (cls.__new__(cls, *args)).
func (d *Decoder) loadReduce(op byte) error {
	items, err := d.popN(2)
	if err != nil {
		return err
	}
	callable, as := items[0], items[1]
	args, ok := as.v.(Tuple)
	if !ok {
		return badValue("%s arguments are a %s, not a tuple", opcodeNames[op], TypeName(as.v))
	}
	kind := KindReduce
	if op == opNewObj {
		kind = KindNewObj
	}
	return d.pushObject(kind, callable, args, as.depth)
}

// loadNewObjEx handles NEWOBJ_EX: cls.__new__(cls, *args, **kwargs).
func (d *Decoder) loadNewObjEx() error {
	items, err := d.popN(3)
	if err != nil {
		return err
	}
	args, ok1 := items[1].v.(Tuple)
	kwargs, ok2 := items[2].v.(*Dict)
	if !ok1 || !ok2 {
		return badValue("NEWOBJ_EX needs a tuple and a dict, not %s and %s", TypeName(items[1].v), TypeName(items[2].v))
	}
	o := &Object{Kind: KindNewObjEx, Callable: items[0].v, Args: args, Kwargs: kwargs}
	return d.pushContainer(o, max(items[0].depth, items[1].depth, items[2].depth)+1)
}

// loadObj handles OBJ: MARK cls args... OBJ, a Python 2 classic instance.
func (d *Decoder) loadObj() error {
	items, err := d.popMark()
	if err != nil {
		return err
	}
	if len(items) == 0 {
		return fmt.Errorf("%w: OBJ needs a class after the MARK", ErrStackUnderflow)
	}
	args, depth, err := d.tuple(items[1:])
	if err != nil {
		return err
	}
	return d.pushObject(KindObj, items[0], args, depth)
}

// loadInst handles INST: MARK args... INST module name, protocol 0's
// classic instance.
func (d *Decoder) loadInst() error {
	g, err := d.globalArg()
	if err != nil {
		return err
	}
	items, err := d.popMark()
	if err != nil {
		return err
	}
	args, depth, err := d.tuple(items)
	if err != nil {
		return err
	}
	return d.pushObject(KindInst, slot{v: g, depth: 1}, args, depth)
}

// pushObject pushes callable(*args) built by REDUCE, NEWOBJ, OBJ or INST:
// a known data constructor's value, or an *Object.
func (d *Decoder) pushObject(kind ObjectKind, callable slot, args Tuple, argsDepth int) error {
	depth := max(callable.depth, argsDepth) + 1
	if !d.opts.Raw {
		v, ok, err := d.construct(kind, callable.v, args)
		if err != nil {
			return err
		}
		if ok {
			return d.pushContainer(v, depth)
		}
	}
	return d.pushContainer(&Object{Kind: kind, Callable: callable.v, Args: args}, depth)
}

// loadBuild handles BUILD: the state goes to the object below it.
func (d *Decoder) loadBuild() error {
	items, err := d.popN(2)
	if err != nil {
		return err
	}
	state := items[1]
	d.stack = d.stack[:len(d.stack)+1] // the object stays on the stack
	s := &d.stack[len(d.stack)-1]
	o, ok := s.v.(*Object)
	if !ok {
		// Python's BUILD does nothing with an empty state, whatever the
		// object: zodbpickle's binary at protocol 2, interpreted as
		// Bytes, is followed by BUILD of an empty dict.
		if st, isDict := state.v.(*Dict); IsNone(state.v) || isDict && st.Len() == 0 {
			return nil
		}
		return badValue("BUILD on a %s", TypeName(s.v))
	}
	if old, ok := o.State.(*Dict); ok {
		if st, ok := state.v.(*Dict); ok {
			merged, err := d.mergeStates(old, st)
			if err != nil {
				return err
			}
			state.v = merged
		}
	}
	o.State = state.v
	return d.deepen(s, state.depth+1)
}

// mergeStates applies a second BUILD's dict to the first, as Python's
// default __setstate__ updates the instance dict. The first dict may be
// shared through the memo, so the update goes to a copy, made once: later
// BUILDs update that copy in place, so that each costs what its own dict
// holds.
func (d *Decoder) mergeStates(old, st *Dict) (*Dict, error) {
	merged := old
	if !d.mergedStates[old] {
		merged = NewDict(old.Len() + st.Len())
		if err := d.updateDict(merged, old); err != nil {
			return nil, err
		}
		if d.mergedStates == nil {
			d.mergedStates = make(map[*Dict]bool)
		}
		d.mergedStates[merged] = true
	}
	if err := d.updateDict(merged, st); err != nil {
		return nil, err
	}
	return merged, nil
}

// persistent pushes the object a persistent id stands for.
func (d *Decoder) persistent(pid slot) error {
	if d.opts.PersistentLoad != nil {
		v, err := d.opts.PersistentLoad(pid.v)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrPersistentLoad, err)
		}
		if v != nil {
			d.push(slot{v: v, depth: pid.depth + 1})
			return nil
		}
	}
	return d.pushContainer(d.mem.boxRef(PersistentRef{ID: pid.v}), pid.depth+1)
}
