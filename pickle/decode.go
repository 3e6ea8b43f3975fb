package pickle

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"io"
)

// DefaultMaxDepth is the nesting limit used when DecoderOptions.MaxDepth is 0.
const DefaultMaxDepth = 1000

// DecoderOptions configures a Decoder. The zero value decodes everything
// symbolically: globals stay Globals, persistent ids stay PersistentRefs,
// nothing is ever executed or imported.
type DecoderOptions struct {
	// MaxDepth bounds the nesting of containers, objects and MARKs; 0
	// means DefaultMaxDepth. Deeper input fails with ErrTooDeep, so that
	// code walking a decoded value recursively cannot be driven into a
	// stack overflow. Nesting is measured as values are built: a list
	// deepened later through the memo is not measured again, and a
	// pickle can make a list contain itself, as Python allows, so walkers
	// of untrusted values must still guard against cycles.
	MaxDepth int
	// AliasBytes makes py2 strings, bytes and bytearrays share the
	// decoder's input instead of being copied: decoding a 1 MiB record
	// then costs no copy, but the input must not be modified or reused
	// while the decoded values are in use.
	AliasBytes bool
	// FindGlobal, when set, is called for every global the pickle names
	// (GLOBAL, STACK_GLOBAL, INST, and EXT1/2/4 as described in
	// Decoder). It returns the value to use instead, nil to keep the
	// Global symbolic, or an error to refuse the global: decoding then
	// fails with ErrGlobalRefused wrapping that error. When nil, every
	// global is kept as a Global, whatever its name.
	FindGlobal func(module, name string) (Value, error)
	// PersistentLoad, when set, resolves the persistent ids of PERSID
	// and BINPERSID; an error fails decoding with ErrPersistentLoad
	// wrapping it. When nil, a persistent id becomes PersistentRef{ID}.
	PersistentLoad func(pid Value) (Value, error)
	// Raw disables the interpretation of the known data constructors:
	// REDUCE and NEWOBJ then always build an *Object (see Decoder).
	Raw bool
}

// A Decoder decodes consecutive pickles from a byte slice. The memo is
// shared by all the pickles it decodes, as Python's Unpickler.load does
// when called repeatedly: a ZODB record is two pickles (the class, then the
// state), and the second may refer to memo entries of the first.
//
// Nothing is executed: a REDUCE, NEWOBJ, NEWOBJ_EX, OBJ or INST becomes an
// *Object recording what would have been called, and BUILD stores its
// argument in Object.State. Unless DecoderOptions.Raw is set, a few
// constructors that only rebuild plain data are interpreted instead, so
// that the same data decodes to the same value whichever Python wrote it:
//
//	_codecs.encode(text, 'latin1')                      Bytes (Python 3 bytes below protocol 3)
//	__builtin__.bytes() / builtins.bytes()              empty Bytes
//	zodbpickle.binary(s), and copy_reg._reconstructor(  Bytes (zodbpickle's py2 bytes type)
//	    zodbpickle.binary, str, s)
//	__builtin__.set(items) / builtins.set, frozenset    *Set
//	bytearray(text, 'latin-1') / bytearray(bytes)       ByteArray
//
// The extension-registry opcodes EXT1, EXT2 and EXT4 cannot be resolved
// without Python's copyreg registry, so the code n becomes the symbolic
// Global{Module: "copyreg._extension_registry", Name: "<n in decimal>"}
// (passed to FindGlobal like any global).
//
// A Decoder is not safe for concurrent use. After an error it keeps
// returning that error.
type Decoder struct {
	data     []byte
	pos      int
	opPos    int // offset of the opcode being executed
	opts     DecoderOptions
	maxDepth int
	err      error

	stack []slot // values above and below all marks
	marks []int  // stack lengths at each MARK
	memo  memo

	// arena is the unused tail of a chunk from which tuple items are
	// carved, to allocate once for the many small tuples of a message.
	// It is dropped at the end of each Decode, so that values of one
	// pickle never keep another pickle's values alive.
	arena     []Value
	byteArena []byte

	// texts and globals cache the values of short text (method names,
	// dict keys) and of globals, which repeat across the messages of a
	// connection. They exist only in a Decoder that is Reset, where they
	// pay off.
	texts   map[string]Value
	globals map[string]Value

	// seed and hashes serve fastSetItems.
	seed   maphash.Seed
	hashes []uint64

	// hashBudget is the hashing work the input still justifies (see
	// chargeHash); mergedStates holds the state dicts BUILD made by
	// merging, which it may update in place.
	hashBudget   int
	mergedStates map[*Dict]bool

	stackBuf [16]slot
	markBuf  [8]int
}

// slot is a stack or memo entry: a value and its nesting depth (0 for
// scalars, 1 + the deepest item for containers).
type slot struct {
	v     Value
	depth int
}

// NewDecoder returns a Decoder reading pickles from data; opts may be nil.
func NewDecoder(data []byte, opts *DecoderOptions) *Decoder {
	d := new(Decoder)
	if opts != nil {
		d.opts = *opts
	}
	d.maxDepth = d.opts.MaxDepth
	if d.maxDepth <= 0 {
		d.maxDepth = DefaultMaxDepth
	}
	d.stack = d.stackBuf[:0]
	d.marks = d.markBuf[:0]
	d.data = data
	d.hashBudget = hashBudget(data)
	return d
}

// Reset makes d decode data from its start with an empty memo and no
// error, keeping its options and buffers: a connection can decode all its
// messages with one Decoder.
func (d *Decoder) Reset(data []byte) {
	d.data, d.pos, d.opPos, d.err, d.hashBudget = data, 0, 0, nil, hashBudget(data)
	d.memo.reset()
	d.clearStack()
	if d.texts == nil {
		d.texts = make(map[string]Value)
		d.globals = make(map[string]Value)
	}
}

// Offset returns the position in the input of the next byte to decode:
// after a successful Decode, the end of the pickle just decoded.
func (d *Decoder) Offset() int { return d.pos }

// Unmarshal decodes the first pickle of data with the default options.
// Bytes after its STOP opcode are ignored, as Python's pickle.loads does.
func Unmarshal(data []byte) (Value, error) {
	d := NewDecoder(data, nil)
	v, err := d.Decode()
	if err == io.EOF {
		return nil, &DecodeError{Offset: 0, Err: fmt.Errorf("%w: empty input", ErrTruncated)}
	}
	return v, err
}

// Decode decodes the next pickle (up to and including its STOP opcode)
// and returns its value. It returns io.EOF when no input is left, and a
// *DecodeError when the input is not a valid pickle.
func (d *Decoder) Decode() (Value, error) {
	if d.err != nil {
		return nil, d.err
	}
	if d.pos >= len(d.data) {
		return nil, io.EOF
	}
	v, err := d.run()
	d.clearStack()
	d.arena, d.byteArena, d.mergedStates = nil, nil, nil
	if err != nil {
		d.err = err
		return nil, err
	}
	return v, nil
}

// clearStack empties the stacks, dropping their references so that a
// long-lived Decoder does not keep the last message alive.
func (d *Decoder) clearStack() {
	clear(d.stack[:cap(d.stack)])
	d.stack = d.stack[:0]
	d.marks = d.marks[:0]
}

// fail wraps err with the position and opcode being executed.
func (d *Decoder) fail(op byte, err error) error {
	return &DecodeError{Offset: d.opPos, Opcode: op, Err: err}
}

// run executes opcodes until STOP.
func (d *Decoder) run() (Value, error) {
	for {
		if d.pos >= len(d.data) {
			return nil, &DecodeError{Offset: d.pos, Err: fmt.Errorf("%w: input ends before the STOP opcode", ErrTruncated)}
		}
		op := d.data[d.pos]
		d.opPos = d.pos
		d.pos++
		if op == opStop {
			s, err := d.pop()
			if err != nil {
				return nil, d.fail(op, err)
			}
			return s.v, nil
		}
		if err := d.step(op); err != nil {
			return nil, d.fail(op, err)
		}
	}
}

// step executes one opcode other than STOP.
func (d *Decoder) step(op byte) error {
	switch op {
	// Stack and mark manipulation.
	case opMark:
		if len(d.marks) >= d.maxDepth {
			return fmt.Errorf("%w: more than %d nested MARKs", ErrTooDeep, d.maxDepth)
		}
		d.marks = append(d.marks, len(d.stack))
	case opPop:
		// As in CPython, POP right after MARK discards the mark.
		if n := len(d.marks); n > 0 && d.marks[n-1] == len(d.stack) {
			d.marks = d.marks[:n-1]
			return nil
		}
		_, err := d.pop()
		return err
	case opPopMark:
		_, err := d.popMark()
		return err
	case opDup:
		s, err := d.top()
		if err != nil {
			return err
		}
		d.push(*s)

	// Protocol and framing.
	case opProto:
		b, err := d.take(1)
		if err != nil {
			return err
		}
		if b[0] > highestProtocol {
			return badValue("unsupported pickle protocol %d", b[0])
		}
	case opFrame:
		b, err := d.take(8)
		if err != nil {
			return err
		}
		// Frames only tell a streaming reader how much to buffer; the
		// whole input is in memory, so just check the frame fits.
		if n, rem := binary.LittleEndian.Uint64(b), len(d.data)-d.pos; n > uint64(rem) {
			return truncated(n, rem)
		}

	// Constants and numbers.
	case opNone:
		d.push(slot{v: None})
	case opNewTrue:
		d.push(slot{v: true})
	case opNewFalse:
		d.push(slot{v: false})
	case opBinInt1:
		b, err := d.take(1)
		if err != nil {
			return err
		}
		d.push(slot{v: int64(b[0])})
	case opBinInt2:
		b, err := d.take(2)
		if err != nil {
			return err
		}
		d.push(slot{v: int64(binary.LittleEndian.Uint16(b))})
	case opBinInt:
		b, err := d.take(4)
		if err != nil {
			return err
		}
		d.push(slot{v: int64(int32(binary.LittleEndian.Uint32(b)))})
	case opInt:
		line, err := d.line()
		if err != nil {
			return err
		}
		// Python 2 writes bools at protocols 0 and 1 as I01 and I00.
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
	case opLong:
		line, err := d.line()
		if err != nil {
			return err
		}
		v, err := parseLong(line)
		if err != nil {
			return err
		}
		d.push(slot{v: v})
	case opLong1:
		b, err := d.take(1)
		if err != nil {
			return err
		}
		return d.long(uint64(b[0]))
	case opLong4:
		b, err := d.take(4)
		if err != nil {
			return err
		}
		n := int32(binary.LittleEndian.Uint32(b))
		if n < 0 {
			return badValue("negative LONG4 byte count %d", n)
		}
		return d.long(uint64(n))
	case opFloat:
		line, err := d.line()
		if err != nil {
			return err
		}
		f, err := parseFloat(line)
		if err != nil {
			return err
		}
		d.push(slot{v: f})
	case opBinFloat:
		b, err := d.take(8)
		if err != nil {
			return err
		}
		d.push(slot{v: float64FromBits(b)})

	// Strings, bytes and text.
	case opString:
		line, err := d.line()
		if err != nil {
			return err
		}
		s, err := unquoteString(line)
		if err != nil {
			return err
		}
		d.push(slot{v: ByteString(s[:len(s):len(s)])})
	case opShortBinString:
		b, err := d.sized(1)
		if err != nil {
			return err
		}
		d.push(slot{v: ByteString(d.bytes(b))})
	case opBinString:
		b, err := d.sizedSigned4()
		if err != nil {
			return err
		}
		d.push(slot{v: ByteString(d.bytes(b))})
	case opShortBinBytes:
		b, err := d.sized(1)
		if err != nil {
			return err
		}
		d.push(slot{v: Bytes(d.bytes(b))})
	case opBinBytes:
		b, err := d.sized(4)
		if err != nil {
			return err
		}
		d.push(slot{v: Bytes(d.bytes(b))})
	case opBinBytes8:
		b, err := d.sized(8)
		if err != nil {
			return err
		}
		d.push(slot{v: Bytes(d.bytes(b))})
	case opByteArray8:
		b, err := d.sized(8)
		if err != nil {
			return err
		}
		d.push(slot{v: ByteArray(d.bytes(b))})
	case opShortBinUnicode:
		b, err := d.sized(1)
		if err != nil {
			return err
		}
		d.push(slot{v: d.text(b)})
	case opBinUnicode:
		b, err := d.sized(4)
		if err != nil {
			return err
		}
		d.push(slot{v: d.text(b)})
	case opBinUnicode8:
		b, err := d.sized(8)
		if err != nil {
			return err
		}
		d.push(slot{v: d.text(b)})
	case opUnicode:
		line, err := d.line()
		if err != nil {
			return err
		}
		s, err := rawUnicodeEscapeDecode(line)
		if err != nil {
			return err
		}
		d.push(slot{v: s})

	// Tuples.
	case opEmptyTuple:
		d.push(slot{v: emptyTuple})
	case opTuple:
		items, err := d.popMark()
		if err != nil {
			return err
		}
		return d.pushTuple(items)
	case opTuple1, opTuple2, opTuple3:
		n := int(op-opTuple1) + 1
		if len(d.stack)-d.fence() < n {
			return fmt.Errorf("%w: %s needs %d items", ErrStackUnderflow, opcodeNames[op], n)
		}
		items := d.stack[len(d.stack)-n:]
		d.stack = d.stack[:len(d.stack)-n]
		return d.pushTuple(items)

	// Lists.
	case opEmptyList:
		d.push(slot{v: new(List), depth: 1})
	case opList:
		items, err := d.popMark()
		if err != nil {
			return err
		}
		l := make(List, len(items))
		depth := 0
		for i, s := range items {
			l[i] = s.v
			depth = max(depth, s.depth)
		}
		return d.pushContainer(&l, depth+1)
	case opAppend:
		if len(d.stack)-d.fence() < 2 {
			return fmt.Errorf("%w: APPEND needs a list and a value", ErrStackUnderflow)
		}
		items := d.stack[len(d.stack)-1:]
		d.stack = d.stack[:len(d.stack)-1]
		return d.appendItems(items)
	case opAppends:
		items, err := d.popMark()
		if err != nil {
			return err
		}
		return d.appendItems(items)

	// Dicts.
	case opEmptyDict:
		d.push(slot{v: NewDict(0), depth: 1})
	case opDict:
		items, err := d.popMark()
		if err != nil {
			return err
		}
		if len(items)%2 != 0 {
			return badValue("DICT with an odd number (%d) of keys and values", len(items))
		}
		dict := NewDict(len(items) / 2)
		depth, err := d.setDictItems(dict, items)
		if err != nil {
			return err
		}
		return d.pushContainer(dict, depth+1)
	case opSetItem:
		if len(d.stack)-d.fence() < 3 {
			return fmt.Errorf("%w: SETITEM needs a dict, a key and a value", ErrStackUnderflow)
		}
		items := d.stack[len(d.stack)-2:]
		d.stack = d.stack[:len(d.stack)-2]
		return d.setItems(items)
	case opSetItems:
		items, err := d.popMark()
		if err != nil {
			return err
		}
		if len(items)%2 != 0 {
			return badValue("SETITEMS with an odd number (%d) of keys and values", len(items))
		}
		return d.setItems(items)

	// Sets.
	case opEmptySet:
		d.push(slot{v: NewSet(false, 0), depth: 1})
	case opFrozenSet:
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
	case opAddItems:
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
			return badValue("ADDITEMS to a %s", typeName(s.v))
		}
		depth, err := d.addItems(set, items)
		if err != nil {
			return err
		}
		return d.deepen(s, depth+1)

	// Memo.
	case opPut:
		line, err := d.line()
		if err != nil {
			return err
		}
		k, ok := parseMemoKey(line)
		if !ok {
			return fmt.Errorf("%w: invalid PUT key %s", ErrMemo, ReprBytes(line))
		}
		return d.memoPut(k)
	case opBinPut:
		b, err := d.take(1)
		if err != nil {
			return err
		}
		return d.memoPut(uint64(b[0]))
	case opLongBinPut:
		b, err := d.take(4)
		if err != nil {
			return err
		}
		return d.memoPut(uint64(binary.LittleEndian.Uint32(b)))
	case opMemoize:
		return d.memoPut(uint64(d.memo.len()))
	case opGet:
		line, err := d.line()
		if err != nil {
			return err
		}
		k, ok := parseMemoKey(line)
		if !ok {
			return fmt.Errorf("%w: invalid GET key %s", ErrMemo, ReprBytes(line))
		}
		return d.memoGet(k)
	case opBinGet:
		b, err := d.take(1)
		if err != nil {
			return err
		}
		return d.memoGet(uint64(b[0]))
	case opLongBinGet:
		b, err := d.take(4)
		if err != nil {
			return err
		}
		return d.memoGet(uint64(binary.LittleEndian.Uint32(b)))

	// Globals and objects.
	case opGlobal:
		g, err := d.globalArg()
		if err != nil {
			return err
		}
		d.push(slot{v: g, depth: 1})
	case opStackGlobal:
		if len(d.stack)-d.fence() < 2 {
			return fmt.Errorf("%w: STACK_GLOBAL needs a module and a name", ErrStackUnderflow)
		}
		ms, ns := d.stack[len(d.stack)-2], d.stack[len(d.stack)-1]
		module, ok1 := ms.v.(string)
		name, ok2 := ns.v.(string)
		if !ok1 || !ok2 {
			return badValue("STACK_GLOBAL needs text, not %s and %s", typeName(ms.v), typeName(ns.v))
		}
		d.stack = d.stack[:len(d.stack)-2]
		g, err := d.global(module, name)
		if err != nil {
			return err
		}
		d.push(slot{v: g, depth: 1})
	case opExt1, opExt2, opExt4:
		size := 1 << (op - opExt1) // 1, 2, 4
		b, err := d.take(size)
		if err != nil {
			return err
		}
		var code uint64
		for i := size - 1; i >= 0; i-- {
			code = code<<8 | uint64(b[i])
		}
		if size == 4 && int32(code) <= 0 || code == 0 {
			return badValue("extension code %d is not positive", int32(code))
		}
		g, err := d.global(extensionRegistry, fmt.Sprint(code))
		if err != nil {
			return err
		}
		d.push(slot{v: g, depth: 1})
	case opReduce:
		if len(d.stack)-d.fence() < 2 {
			return fmt.Errorf("%w: REDUCE needs a callable and arguments", ErrStackUnderflow)
		}
		cs, as := d.stack[len(d.stack)-2], d.stack[len(d.stack)-1]
		args, ok := as.v.(Tuple)
		if !ok {
			return badValue("REDUCE arguments are a %s, not a tuple", typeName(as.v))
		}
		d.stack = d.stack[:len(d.stack)-2]
		return d.pushObject(KindReduce, cs, args, as.depth)
	case opNewObj:
		if len(d.stack)-d.fence() < 2 {
			return fmt.Errorf("%w: NEWOBJ needs a class and arguments", ErrStackUnderflow)
		}
		cs, as := d.stack[len(d.stack)-2], d.stack[len(d.stack)-1]
		args, ok := as.v.(Tuple)
		if !ok {
			return badValue("NEWOBJ arguments are a %s, not a tuple", typeName(as.v))
		}
		d.stack = d.stack[:len(d.stack)-2]
		return d.pushObject(KindNewObj, cs, args, as.depth)
	case opNewObjEx:
		if len(d.stack)-d.fence() < 3 {
			return fmt.Errorf("%w: NEWOBJ_EX needs a class, arguments and keyword arguments", ErrStackUnderflow)
		}
		cs, as, ks := d.stack[len(d.stack)-3], d.stack[len(d.stack)-2], d.stack[len(d.stack)-1]
		args, ok1 := as.v.(Tuple)
		kwargs, ok2 := ks.v.(*Dict)
		if !ok1 || !ok2 {
			return badValue("NEWOBJ_EX needs a tuple and a dict, not %s and %s", typeName(as.v), typeName(ks.v))
		}
		d.stack = d.stack[:len(d.stack)-3]
		o := &Object{Kind: KindNewObjEx, Callable: cs.v, Args: args, Kwargs: kwargs}
		return d.pushContainer(o, max(cs.depth, as.depth, ks.depth)+1)
	case opObj:
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
	case opInst:
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
	case opBuild:
		if len(d.stack)-d.fence() < 2 {
			return fmt.Errorf("%w: BUILD needs an object and its state", ErrStackUnderflow)
		}
		state := d.stack[len(d.stack)-1]
		d.stack = d.stack[:len(d.stack)-1]
		return d.build(&d.stack[len(d.stack)-1], state)

	// Persistent references.
	case opPersID:
		line, err := d.line()
		if err != nil {
			return err
		}
		return d.persistent(slot{v: string(line)})
	case opBinPersID:
		s, err := d.pop()
		if err != nil {
			return err
		}
		return d.persistent(s)

	// Protocol 5 out-of-band buffers.
	case opNextBuffer, opReadOnlyBuffer:
		return ErrOutOfBandBuffer

	default:
		return ErrUnknownOpcode
	}
	return nil
}

// emptyTuple is shared by every EMPTY_TUPLE, as Python shares ().
var emptyTuple Value = Tuple{}

// extensionRegistry is the module of the symbolic Global that stands for
// an EXT1/EXT2/EXT4 extension code.
const extensionRegistry = "copyreg._extension_registry"

// push pushes s onto the stack.
func (d *Decoder) push(s slot) { d.stack = append(d.stack, s) }

// pushContainer pushes a container of the given depth, failing if it is
// nested too deeply.
func (d *Decoder) pushContainer(v Value, depth int) error {
	if depth > d.maxDepth {
		return fmt.Errorf("%w: nesting exceeds %d", ErrTooDeep, d.maxDepth)
	}
	d.push(slot{v: v, depth: depth})
	return nil
}

// fence returns the stack length at the last MARK: values below it belong
// to the enclosing MARK and cannot be popped until it is closed.
func (d *Decoder) fence() int {
	if n := len(d.marks); n > 0 {
		return d.marks[n-1]
	}
	return 0
}

// pop removes and returns the top of the stack.
func (d *Decoder) pop() (slot, error) {
	n := len(d.stack)
	if n <= d.fence() {
		return slot{}, stackUnderflow(d)
	}
	s := d.stack[n-1]
	d.stack = d.stack[:n-1]
	return s, nil
}

// top returns the top of the stack in place.
func (d *Decoder) top() (*slot, error) {
	n := len(d.stack)
	if n <= d.fence() {
		return nil, stackUnderflow(d)
	}
	return &d.stack[n-1], nil
}

func stackUnderflow(d *Decoder) error {
	if len(d.marks) > 0 && len(d.stack) == d.fence() {
		return fmt.Errorf("%w: nothing above the MARK", ErrStackUnderflow)
	}
	return fmt.Errorf("%w: the stack is empty", ErrStackUnderflow)
}

// popMark removes the last mark and the items above it, returning them.
// The result aliases the stack: use it before the next push.
func (d *Decoder) popMark() ([]slot, error) {
	n := len(d.marks)
	if n == 0 {
		return nil, ErrNoMark
	}
	m := d.marks[n-1]
	d.marks = d.marks[:n-1]
	items := d.stack[m:]
	d.stack = d.stack[:m]
	return items, nil
}

// take consumes the next n bytes of input.
func (d *Decoder) take(n int) ([]byte, error) {
	if rem := len(d.data) - d.pos; n > rem {
		return nil, truncated(uint64(n), rem)
	}
	b := d.data[d.pos : d.pos+n : d.pos+n]
	d.pos += n
	return b, nil
}

// sized consumes a little-endian length of lenSize bytes and then that many
// bytes. The length is checked against the input left before anything is
// allocated, so a corrupt length cannot cause a huge allocation.
func (d *Decoder) sized(lenSize int) ([]byte, error) {
	b, err := d.take(lenSize)
	if err != nil {
		return nil, err
	}
	var n uint64
	for i := lenSize - 1; i >= 0; i-- {
		n = n<<8 | uint64(b[i])
	}
	if rem := len(d.data) - d.pos; n > uint64(rem) {
		return nil, truncated(n, rem)
	}
	return d.take(int(n))
}

// sizedSigned4 is sized(4) for BINSTRING, whose length is signed.
func (d *Decoder) sizedSigned4() ([]byte, error) {
	if len(d.data)-d.pos >= 4 && int32(binary.LittleEndian.Uint32(d.data[d.pos:])) < 0 {
		return nil, badValue("negative BINSTRING length %d", int32(binary.LittleEndian.Uint32(d.data[d.pos:])))
	}
	return d.sized(4)
}

// line consumes input up to and including the next newline and returns it
// without the newline.
func (d *Decoder) line() ([]byte, error) {
	i := bytes.IndexByte(d.data[d.pos:], '\n')
	if i < 0 {
		return nil, fmt.Errorf("%w: no newline before the end of input", ErrTruncated)
	}
	b := d.data[d.pos : d.pos+i : d.pos+i]
	d.pos += i + 1
	return b, nil
}

// bytes returns b itself when aliasing is enabled, else a copy. Short
// copies are carved from a shared chunk, so that the oids and tids of a
// message cost one allocation between them; each copy's capacity ends
// where it does, so appending to one never overwrites another.
func (d *Decoder) bytes(b []byte) []byte {
	n := len(b)
	switch {
	case d.opts.AliasBytes:
		return b
	case n == 0:
		return []byte{}
	case n > maxArenaBytes:
		return bytes.Clone(b)
	}
	if n > len(d.byteArena) {
		// Size the chunk to what the input can still need, and no
		// more than a small fixed amount.
		size := min(byteArenaChunk, max(len(d.data)-d.pos, maxArenaBytes))
		d.byteArena = make([]byte, size)
	}
	c := d.byteArena[:n:n]
	copy(c, b)
	d.byteArena = d.byteArena[n:]
	return c
}

// Byte strings up to maxArenaBytes long are copied into chunks of
// byteArenaChunk bytes.
const (
	maxArenaBytes  = 64
	byteArenaChunk = 1024
)

// The caches of a reused Decoder hold short values only, and a bounded
// number of them, so that they stay small whatever the input.
const (
	maxCachedLen   = 64
	maxCachedCount = 1024
)

// text returns b as a text value, from the cache when it has been seen
// before, so that a repeated short string costs no allocation.
func (d *Decoder) text(b []byte) Value {
	if d.texts == nil || len(b) > maxCachedLen {
		return string(b)
	}
	if v, ok := d.texts[string(b)]; ok {
		return v
	}
	s := string(b)
	var v Value = s
	if len(d.texts) < maxCachedCount {
		d.texts[s] = v
	}
	return v
}

// globalArg reads the two newline-terminated arguments of GLOBAL and INST
// and returns the value the global stands for.
func (d *Decoder) globalArg() (Value, error) {
	start := d.pos
	m, err := d.line()
	if err != nil {
		return nil, err
	}
	n, err := d.line()
	if err != nil {
		return nil, err
	}
	// Both lines, as they are in the input, key the cache.
	key := d.data[start:d.pos]
	cacheable := d.globals != nil && d.opts.FindGlobal == nil && len(key) <= maxCachedLen
	if cacheable {
		if v, ok := d.globals[string(key)]; ok {
			return v, nil
		}
	}
	v, err := d.global(string(m), string(n))
	if err != nil {
		return nil, err
	}
	if cacheable && len(d.globals) < maxCachedCount {
		d.globals[string(key)] = v
	}
	return v, nil
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
	return Global{Module: module, Name: name}, nil
}

// long pushes the n-byte two's-complement integer of LONG1/LONG4.
func (d *Decoder) long(n uint64) error {
	if rem := len(d.data) - d.pos; n > uint64(rem) {
		return truncated(n, rem)
	}
	b, _ := d.take(int(n))
	d.push(slot{v: longFromBytes(b)})
	return nil
}

// tuple builds a tuple of the values of items, carving it from the arena,
// and returns it with its depth.
func (d *Decoder) tuple(items []slot) (Tuple, int, error) {
	n := len(items)
	if n == 0 {
		return Tuple{}, 1, nil
	}
	var t Tuple
	if n <= arenaChunk/4 {
		if n > len(d.arena) {
			// The first chunk of a pickle is small: most messages
			// hold a few short tuples.
			size := arenaChunk
			if d.arena == nil {
				size = arenaChunk / 4
			}
			d.arena = make([]Value, size)
		}
		t = Tuple(d.arena[:n:n])
		d.arena = d.arena[n:]
	} else {
		t = make(Tuple, n)
	}
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

// arenaChunk is the number of tuple items allocated at once.
const arenaChunk = 64

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
	d.push(slot{v: t, depth: depth})
	return nil
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

// deepen records that the container in s now holds items nested depth
// deep.
func (d *Decoder) deepen(s *slot, depth int) error {
	if depth > d.maxDepth {
		return fmt.Errorf("%w: nesting exceeds %d", ErrTooDeep, d.maxDepth)
	}
	s.depth = max(s.depth, depth)
	return nil
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
	return badValue("%s to a %s", opcodeNames[d.data[d.opPos]], typeName(s.v))
}

// setItems applies SETITEM/SETITEMS: key/value pairs go to the dict (or
// the object standing for a dict subclass) on top of the stack.
func (d *Decoder) setItems(items []slot) error {
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
		return badValue("%s to a %s", opcodeNames[d.data[d.opPos]], typeName(s.v))
	}
	depth, err := d.setDictItems(dict, items)
	if err != nil {
		return err
	}
	return d.deepen(s, depth+extra)
}

// setDictItems sets the alternating keys and values of items in dict and
// returns their greatest depth.
func (d *Decoder) setDictItems(dict *Dict, items []slot) (int, error) {
	depth := 0
	for i, it := range items {
		depth = max(depth, it.depth)
		if i%2 == 0 {
			if err := d.chargeHash(it.v); err != nil {
				return 0, err
			}
		}
	}
	if d.fastSetItems(dict, items) {
		return depth, nil
	}
	for i := 0; i+1 < len(items); i += 2 {
		k, v := items[i], items[i+1]
		if err := dict.Set(k.v, v.v); err != nil {
			return 0, unhashable("dict key", k.v)
		}
	}
	return depth, nil
}

// addItems adds the values of items to set and returns their greatest
// depth.
func (d *Decoder) addItems(set *Set, items []slot) (int, error) {
	depth := 0
	for _, it := range items {
		if err := d.chargeHash(it.v); err != nil {
			return 0, err
		}
		if err := set.Add(it.v); err != nil {
			return 0, unhashable("set member", it.v)
		}
		depth = max(depth, it.depth)
	}
	return depth, nil
}

// build applies BUILD's state to the object in s.
func (d *Decoder) build(s *slot, state slot) error {
	o, ok := s.v.(*Object)
	if !ok {
		// Python's BUILD does nothing with an empty state, whatever the
		// object: zodbpickle's binary at protocol 2, interpreted as
		// Bytes, is followed by BUILD of an empty dict.
		if st, isDict := state.v.(*Dict); IsNone(state.v) || isDict && st.Len() == 0 {
			return nil
		}
		return badValue("BUILD on a %s", typeName(s.v))
	}
	if old, ok := o.State.(*Dict); ok {
		if st, ok := state.v.(*Dict); ok {
			// A second BUILD updates the instance dict, as Python's
			// default __setstate__ does. The first state dict may be
			// shared through the memo, so the update goes to a copy,
			// made once: later BUILDs update that copy in place, so
			// that many BUILDs cost what their own dicts hold.
			merged := old
			if !d.mergedStates[old] {
				merged = NewDict(old.Len() + st.Len())
				if err := d.updateDict(merged, old); err != nil {
					return err
				}
				if d.mergedStates == nil {
					d.mergedStates = make(map[*Dict]bool)
				}
				d.mergedStates[merged] = true
			}
			if err := d.updateDict(merged, st); err != nil {
				return err
			}
			state.v = merged
		}
	}
	o.State = state.v
	return d.deepen(s, state.depth+1)
}

// updateDict sets the items of src in dst.
func (d *Decoder) updateDict(dst, src *Dict) error {
	for _, it := range src.Items() {
		if err := d.chargeHash(it.Key); err != nil {
			return err
		}
		if err := dst.Set(it.Key, it.Value); err != nil {
			return unhashable("dict key", it.Key)
		}
	}
	return nil
}

// hashRehashes is how many times a dict may hash a key over its life:
// Dict compares keys by hashing them again while it holds fewer than
// indexThreshold items, then once more to build its index.
const hashRehashes = indexThreshold + 1

// chargeHash accounts for the work of hashing key (as a dict key or set
// member) and fails with ErrTooComplex when the pickle has used up its
// budget, which is proportional to the input's length.
func (d *Decoder) chargeHash(key Value) error {
	cost := hashCost(key, d.hashBudget) * hashRehashes
	if cost > d.hashBudget {
		return fmt.Errorf("%w: hashing a %s key would exceed the work this input justifies", ErrTooComplex, typeName(key))
	}
	d.hashBudget -= cost
	return nil
}

// hashBudget returns the hashing work, in steps of hashCost, that an
// input justifies: enough for any dict Python writes, not for a key that
// the memo has made exponentially large.
func hashBudget(data []byte) int { return 1<<20 + 64*len(data) }

// hashCost estimates the steps of hashing v, counting every item of
// tuples, frozensets and persistent ids and a step per 64 bytes of
// strings. It stops counting once past limit, so that it costs no more
// than the budget it checks.
func hashCost(v Value, limit int) int {
	switch v := v.(type) {
	case string:
		return 1 + len(v)/64
	case ByteString:
		return 1 + len(v)/64
	case Bytes:
		return 1 + len(v)/64
	case Tuple:
		return 1 + itemsCost(v, limit-1)
	case *Set:
		if v.Frozen {
			return 1 + itemsCost(v.Items(), limit-1)
		}
	case PersistentRef:
		return 1 + hashCost(v.ID, limit-1)
	case Global:
		return 1 + (len(v.Module)+len(v.Name))/64
	}
	return 1
}

func itemsCost(items []Value, limit int) int {
	c := 0
	for _, it := range items {
		if c > limit {
			break
		}
		c += hashCost(it, limit-c)
	}
	return c
}

// memoPut stores the top of the stack under key k.
func (d *Decoder) memoPut(k uint64) error {
	s, err := d.top()
	if err != nil {
		return err
	}
	d.memo.put(k, *s)
	return nil
}

// memoGet pushes the value stored under key k.
func (d *Decoder) memoGet(k uint64) error {
	s, ok := d.memo.get(k)
	if !ok {
		return fmt.Errorf("%w: no value stored under key %d", ErrMemo, k)
	}
	d.push(s)
	return nil
}

// persistent pushes the object a persistent id stands for.
func (d *Decoder) persistent(pid slot) error {
	if d.opts.PersistentLoad != nil {
		v, err := d.opts.PersistentLoad(pid.v)
		if err != nil {
			return fmt.Errorf("%w: %w", ErrPersistentLoad, err)
		}
		d.push(slot{v: v, depth: pid.depth + 1})
		return nil
	}
	return d.pushContainer(PersistentRef{ID: pid.v}, pid.depth+1)
}
