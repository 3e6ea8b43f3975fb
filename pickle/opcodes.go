package pickle

// Pickle opcodes of protocols 0 through 5, named after CPython's pickletools
// names (lower-camel-cased with an "op" prefix). The decoder and the encoder
// share these constants so both sides agree on the byte values.
const (
	// Protocol 0 and 1.
	opMark           byte = '(' // push a mark onto the mark stack
	opStop           byte = '.' // end of pickle; the top of stack is the result
	opPop            byte = '0' // discard the top of stack
	opPopMark        byte = '1' // discard everything down to and including the last mark
	opDup            byte = '2' // duplicate the top of stack
	opFloat          byte = 'F' // decimal float terminated by newline
	opInt            byte = 'I' // decimal int (or I00/I01 bool) terminated by newline
	opBinInt         byte = 'J' // 4-byte signed little-endian int
	opBinInt1        byte = 'K' // 1-byte unsigned int
	opLong           byte = 'L' // decimal long with optional trailing 'L', newline terminated
	opBinInt2        byte = 'M' // 2-byte unsigned little-endian int
	opNone           byte = 'N' // push None
	opPersID         byte = 'P' // persistent id as a newline-terminated string
	opBinPersID      byte = 'Q' // persistent id taken from the stack
	opReduce         byte = 'R' // apply callable to argument tuple
	opString         byte = 'S' // quoted, escaped py2 str terminated by newline
	opBinString      byte = 'T' // py2 str with 4-byte length
	opShortBinString byte = 'U' // py2 str with 1-byte length
	opUnicode        byte = 'V' // raw-unicode-escape text terminated by newline
	opBinUnicode     byte = 'X' // UTF-8 text with 4-byte length
	opAppend         byte = 'a' // append top of stack to the list below it
	opBuild          byte = 'b' // call __setstate__ or update __dict__
	opGlobal         byte = 'c' // module and name, each newline terminated
	opDict           byte = 'd' // build a dict from the items above the last mark
	opEmptyDict      byte = '}' // push an empty dict
	opAppends        byte = 'e' // extend the list below the last mark
	opGet            byte = 'g' // push memo item with a decimal key
	opBinGet         byte = 'h' // push memo item with a 1-byte key
	opInst           byte = 'i' // build a class instance (module and name inline)
	opLongBinGet     byte = 'j' // push memo item with a 4-byte key
	opList           byte = 'l' // build a list from the items above the last mark
	opEmptyList      byte = ']' // push an empty list
	opObj            byte = 'o' // build a class instance (class on the stack)
	opPut            byte = 'p' // store top of stack in memo with a decimal key
	opBinPut         byte = 'q' // store top of stack in memo with a 1-byte key
	opLongBinPut     byte = 'r' // store top of stack in memo with a 4-byte key
	opSetItem        byte = 's' // add one key/value pair to the dict below
	opTuple          byte = 't' // build a tuple from the items above the last mark
	opEmptyTuple     byte = ')' // push an empty tuple
	opSetItems       byte = 'u' // add the pairs above the last mark to the dict below
	opBinFloat       byte = 'G' // 8-byte big-endian IEEE 754 float

	// Protocol 2.
	opProto    byte = 0x80 // protocol version marker
	opNewObj   byte = 0x81 // cls.__new__(cls, *args)
	opExt1     byte = 0x82 // extension registry code, 1 byte
	opExt2     byte = 0x83 // extension registry code, 2 bytes
	opExt4     byte = 0x84 // extension registry code, 4 bytes
	opTuple1   byte = 0x85 // build a 1-tuple from the top of stack
	opTuple2   byte = 0x86 // build a 2-tuple from the top two items
	opTuple3   byte = 0x87 // build a 3-tuple from the top three items
	opNewTrue  byte = 0x88 // push True
	opNewFalse byte = 0x89 // push False
	opLong1    byte = 0x8a // little-endian two's-complement long, 1-byte length
	opLong4    byte = 0x8b // little-endian two's-complement long, 4-byte length

	// Protocol 3.
	opBinBytes      byte = 'B' // bytes with 4-byte length
	opShortBinBytes byte = 'C' // bytes with 1-byte length

	// Protocol 4.
	opShortBinUnicode byte = 0x8c // UTF-8 text with 1-byte length
	opBinUnicode8     byte = 0x8d // UTF-8 text with 8-byte length
	opBinBytes8       byte = 0x8e // bytes with 8-byte length
	opEmptySet        byte = 0x8f // push an empty set
	opAddItems        byte = 0x90 // add the items above the last mark to the set below
	opFrozenSet       byte = 0x91 // build a frozenset from the items above the last mark
	opNewObjEx        byte = 0x92 // cls.__new__(cls, *args, **kwargs)
	opStackGlobal     byte = 0x93 // module and name taken from the stack
	opMemoize         byte = 0x94 // store top of stack at the next memo index
	opFrame           byte = 0x95 // 8-byte frame length (a framing hint)

	// Protocol 5.
	opByteArray8     byte = 0x96 // bytearray with 8-byte length
	opNextBuffer     byte = 0x97 // out-of-band buffer
	opReadOnlyBuffer byte = 0x98 // make the top of stack read-only
)

// opcodeNames maps each opcode byte to its pickletools name, for error
// messages; an empty entry means the byte is not an opcode.
var opcodeNames = [256]string{
	opMark: "MARK", opStop: "STOP", opPop: "POP", opPopMark: "POP_MARK",
	opDup: "DUP", opFloat: "FLOAT", opInt: "INT", opBinInt: "BININT",
	opBinInt1: "BININT1", opLong: "LONG", opBinInt2: "BININT2", opNone: "NONE",
	opPersID: "PERSID", opBinPersID: "BINPERSID", opReduce: "REDUCE",
	opString: "STRING", opBinString: "BINSTRING", opShortBinString: "SHORT_BINSTRING",
	opUnicode: "UNICODE", opBinUnicode: "BINUNICODE", opAppend: "APPEND",
	opBuild: "BUILD", opGlobal: "GLOBAL", opDict: "DICT", opEmptyDict: "EMPTY_DICT",
	opAppends: "APPENDS", opGet: "GET", opBinGet: "BINGET", opInst: "INST",
	opLongBinGet: "LONG_BINGET", opList: "LIST", opEmptyList: "EMPTY_LIST",
	opObj: "OBJ", opPut: "PUT", opBinPut: "BINPUT", opLongBinPut: "LONG_BINPUT",
	opSetItem: "SETITEM", opTuple: "TUPLE", opEmptyTuple: "EMPTY_TUPLE",
	opSetItems: "SETITEMS", opBinFloat: "BINFLOAT",
	opProto: "PROTO", opNewObj: "NEWOBJ", opExt1: "EXT1", opExt2: "EXT2",
	opExt4: "EXT4", opTuple1: "TUPLE1", opTuple2: "TUPLE2", opTuple3: "TUPLE3",
	opNewTrue: "NEWTRUE", opNewFalse: "NEWFALSE", opLong1: "LONG1", opLong4: "LONG4",
	opBinBytes: "BINBYTES", opShortBinBytes: "SHORT_BINBYTES",
	opShortBinUnicode: "SHORT_BINUNICODE", opBinUnicode8: "BINUNICODE8",
	opBinBytes8: "BINBYTES8", opEmptySet: "EMPTY_SET", opAddItems: "ADDITEMS",
	opFrozenSet: "FROZENSET", opNewObjEx: "NEWOBJ_EX", opStackGlobal: "STACK_GLOBAL",
	opMemoize: "MEMOIZE", opFrame: "FRAME",
	opByteArray8: "BYTEARRAY8", opNextBuffer: "NEXT_BUFFER", opReadOnlyBuffer: "READONLY_BUFFER",
}

// highestProtocol is the newest pickle protocol whose opcodes are known.
const highestProtocol = 5
