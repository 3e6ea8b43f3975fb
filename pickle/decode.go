package pickle

import (
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
	// and BINPERSID: it returns the value to use, or nil to keep the
	// PersistentRef; an error fails decoding with ErrPersistentLoad
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
// The values of one pickle share a few memory blocks, so that decoding
// costs a handful of allocations whatever the number of values: keeping
// any decoded Value keeps the memory of its whole pickle (never of another
// one, nor the input unless AliasBytes is set). The []byte of a byte string
// (AsBytes) keeps at most a few kilobytes of other short byte strings,
// never other values. Extract what you keep for long (oids, tids) rather
// than holding Values of a pickle that carried large data.
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
	high  int    // the stack's greatest length since it was last cleared
	memo  memo

	// mem is the memory the values of the current pickle are carved
	// from (see decode_alloc.go); it is dropped after each pickle.
	mem pickleMem

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

// NewDecoder returns a Decoder reading pickles from data; opts may be nil.
func NewDecoder(data []byte, opts *DecoderOptions) *Decoder {
	d := new(Decoder)
	d.init(data, opts)
	return d
}

func (d *Decoder) init(data []byte, opts *DecoderOptions) {
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
}

// Reset makes d decode data from its start with an empty memo and no
// error, keeping its options and buffers: a connection can decode all its
// messages with one Decoder.
func (d *Decoder) Reset(data []byte) {
	d.data, d.pos, d.opPos, d.err, d.hashBudget = data, 0, 0, nil, hashBudget(data)
	d.memo.reset()
	d.clearStack()
}

// Offset returns the position in the input of the next byte to decode:
// after a successful Decode, the end of the pickle just decoded.
func (d *Decoder) Offset() int { return d.pos }

// Unmarshal decodes the first pickle of data with the default options.
// Bytes after its STOP opcode are ignored, as Python's pickle.loads does.
func Unmarshal(data []byte) (Value, error) {
	// The Decoder and the first memory block of its values are one
	// allocation: the Decoder is not used again.
	one := new(struct {
		d Decoder
		c firstChunk
	})
	d := &one.d
	d.init(data, nil)
	d.mem.first = &one.c
	v, err := d.Decode()
	// The values keep the allocation alive: drop what the Decoder
	// references, the input first.
	*d = Decoder{}
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
	d.mem.pos, d.mem.end = &d.pos, len(d.data)
	v, err := d.run()
	d.clearStack()
	d.mem.drop()
	d.mergedStates = nil
	if err != nil {
		d.err = err
		return nil, err
	}
	return v, nil
}

// clearStack empties the stacks, dropping their references so that a
// long-lived Decoder does not keep the last message alive.
func (d *Decoder) clearStack() {
	clear(d.stack[:max(d.high, len(d.stack))])
	d.stack = d.stack[:0]
	d.marks = d.marks[:0]
	d.high = 0
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

// step executes one opcode other than STOP, dispatching to the handlers
// of decode_load.go by opcode family.
func (d *Decoder) step(op byte) error {
	switch op {
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
	case opProto:
		b, err := d.take(1)
		if err != nil {
			return err
		}
		if b[0] > highestProtocol {
			return badValue("unsupported pickle protocol %d", b[0])
		}
	case opFrame:
		// Frames only tell a streaming reader how much to buffer; the
		// whole input is in memory, so just check the frame fits.
		n, err := d.uint(8)
		if err != nil {
			return err
		}
		if rem := len(d.data) - d.pos; n > uint64(rem) {
			return truncated(n, rem)
		}

	case opNone:
		d.push(slot{v: None})
	case opNewTrue:
		d.push(slot{v: true})
	case opNewFalse:
		d.push(slot{v: false})
	case opBinInt1, opBinInt2, opBinInt:
		return d.loadBinInt(op)
	case opInt:
		return d.loadInt()
	case opLong:
		return d.loadLong()
	case opLong1, opLong4:
		return d.loadBinLong(op)
	case opFloat:
		return d.loadFloat()
	case opBinFloat:
		return d.loadBinFloat()

	case opShortBinString, opBinString, opShortBinBytes, opBinBytes, opBinBytes8, opByteArray8,
		opShortBinUnicode, opBinUnicode, opBinUnicode8:
		return d.loadSized(op)
	case opString:
		return d.loadString()
	case opUnicode:
		return d.loadUnicode()

	case opEmptyTuple:
		d.push(slot{v: emptyTuple, depth: 1})
	case opTuple:
		items, err := d.popMark()
		if err != nil {
			return err
		}
		return d.pushTuple(items)
	case opTuple1, opTuple2, opTuple3:
		items, err := d.popN(int(op-opTuple1) + 1)
		if err != nil {
			return err
		}
		return d.pushTuple(items)
	case opEmptyList:
		d.push(slot{v: d.mem.list(), depth: 1})
	case opList:
		return d.loadList()
	case opAppend:
		items, err := d.popN(1)
		if err != nil {
			return err
		}
		return d.appendItems(items)
	case opAppends:
		items, err := d.popMark()
		if err != nil {
			return err
		}
		return d.appendItems(items)
	case opEmptyDict:
		d.push(slot{v: d.mem.dict(), depth: 1})
	case opDict:
		return d.loadDict()
	case opSetItem:
		items, err := d.popN(2)
		if err != nil {
			return err
		}
		return d.setItems(items)
	case opSetItems:
		items, err := d.popMark()
		if err != nil {
			return err
		}
		return d.setItems(items)
	case opEmptySet:
		d.push(slot{v: NewSet(false, 0), depth: 1})
	case opFrozenSet:
		return d.loadFrozenSet()
	case opAddItems:
		return d.loadAddItems()

	case opPut, opBinPut, opLongBinPut, opMemoize:
		return d.loadPut(op)
	case opGet, opBinGet, opLongBinGet:
		return d.loadGet(op)

	case opGlobal:
		g, err := d.globalArg()
		if err != nil {
			return err
		}
		d.push(slot{v: g, depth: 1})
	case opStackGlobal:
		return d.loadStackGlobal()
	case opExt1, opExt2, opExt4:
		return d.loadExt(op)
	case opReduce, opNewObj:
		return d.loadReduce(op)
	case opNewObjEx:
		return d.loadNewObjEx()
	case opObj:
		return d.loadObj()
	case opInst:
		return d.loadInst()
	case opBuild:
		return d.loadBuild()
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
