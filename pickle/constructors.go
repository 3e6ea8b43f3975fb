package pickle

import "strings"

// construct interprets callable(*args), as built by REDUCE (kind
// KindReduce) or NEWOBJ (KindNewObj), when callable is one of the few
// globals that only rebuild plain data (see Decoder). ok is false when it
// is not, or when the arguments do not have the shape those constructors
// are pickled with: the caller then builds an *Object, so that nothing is
// lost. err is set only for data Python itself would refuse (an unhashable
// set member).
func (d *Decoder) construct(kind ObjectKind, callable Value, args Tuple) (v Value, ok bool, err error) {
	g, isGlobal := callable.(Global)
	if !isGlobal {
		return nil, false, nil
	}
	if kind == KindNewObj {
		// zodbpickle on Python 2 writes its binary type at protocol 2
		// as binary.__new__(binary, s).
		if g == zodbpickleBinary && len(args) == 1 {
			return asBytes(args[0])
		}
		return nil, false, nil
	}
	if kind != KindReduce {
		return nil, false, nil
	}
	switch {
	case g.Module == "_codecs" && g.Name == "encode":
		// Python 3 writes bytes below protocol 3 as
		// _codecs.encode(bytes.decode('latin1'), 'latin1').
		if len(args) != 2 {
			return nil, false, nil
		}
		text, ok1 := args[0].(string)
		if !ok1 || !isLatin1Name(args[1]) {
			return nil, false, nil
		}
		b, ok := encodeLatin1(text)
		if !ok {
			return nil, false, nil
		}
		return Bytes(b), true, nil
	case g == zodbpickleBinary:
		if len(args) != 1 {
			return nil, false, nil
		}
		return asBytes(args[0])
	case isReconstructor(g):
		// copy_reg._reconstructor(zodbpickle.binary, str, s): how
		// protocols 0 and 1 write a str subclass.
		if len(args) != 3 {
			return nil, false, nil
		}
		if cls, _ := args[0].(Global); cls != zodbpickleBinary {
			return nil, false, nil
		}
		return asBytes(args[2])
	case g.Module == "__builtin__" || g.Module == "builtins":
		return d.constructBuiltin(g.Name, args)
	}
	return nil, false, nil
}

// zodbpickleBinary is zodbpickle's bytes type for Python 2.
var zodbpickleBinary = Global{Module: "zodbpickle", Name: "binary"}

// constructBuiltin interprets the builtins that pickles use for sets,
// bytearrays and empty bytes.
func (d *Decoder) constructBuiltin(name string, args Tuple) (Value, bool, error) {
	switch name {
	case "bytes":
		// Python 3 writes b'' below protocol 3 as bytes().
		if len(args) == 0 {
			return Bytes{}, true, nil
		}
	case "set", "frozenset":
		set := NewSet(name == "frozenset", 0)
		if len(args) == 0 {
			return set, true, nil
		}
		items, ok := AsTuple(args[0])
		if len(args) != 1 || !ok {
			return nil, false, nil
		}
		for _, it := range items {
			if err := d.chargeHash(it); err != nil {
				return nil, false, err
			}
			if err := set.Add(it); err != nil {
				return nil, false, unhashable("set member", it)
			}
		}
		return set, true, nil
	case "bytearray":
		switch len(args) {
		case 0:
			return ByteArray{}, true, nil
		case 1:
			// Python 3 at protocol 3: bytearray(b'...').
			if b, ok := args[0].(Bytes); ok {
				return ByteArray(b), true, nil
			}
		case 2:
			// Python 2, and Python 3 below protocol 3 before 3.x
			// switched to bytes: bytearray(u'...', 'latin-1').
			text, ok := args[0].(string)
			if !ok || !isLatin1Name(args[1]) {
				break
			}
			if b, ok := encodeLatin1(text); ok {
				return ByteArray(b), true, nil
			}
		}
	}
	return nil, false, nil
}

// asBytes returns the bytes of a py2 str or py3 bytes argument as Bytes.
func asBytes(v Value) (Value, bool, error) {
	switch b := v.(type) {
	case ByteString:
		return Bytes(b), true, nil
	case Bytes:
		return b, true, nil
	}
	return nil, false, nil
}

// isLatin1Name reports whether v names the Latin-1 codec as pickles
// spell it.
func isLatin1Name(v Value) bool {
	s, ok := AsText(v)
	if !ok {
		return false
	}
	switch strings.ToLower(s) {
	case "latin1", "latin-1", "latin_1", "iso-8859-1", "iso8859-1", "iso_8859_1", "l1":
		return true
	}
	return false
}

// encodeLatin1 encodes text whose characters are all below U+0100 as one
// byte per character; ok is false if one is not.
func encodeLatin1(text string) ([]byte, bool) {
	b := make([]byte, 0, len(text))
	for _, r := range text {
		if r > 0xff {
			return nil, false
		}
		b = append(b, byte(r))
	}
	return b, true
}
