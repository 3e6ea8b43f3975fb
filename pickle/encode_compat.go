package pickle

// py2Global returns the name under which CPython 3 writes the global g in
// a pickle of protocol 0, 1 or 2, so that Python 2 can read it
// (Pickler(fix_imports=True), the default, through the reverse tables of
// the _compat_pickle module). Only the part of those tables that concerns
// the builtins and copyreg modules is mirrored: the globals a ZEO or ZODB
// peer meets (exception classes, set, frozenset, bytes, bytearray,
// copyreg._reconstructor and __newobj__). Other renamed standard modules
// (queue, http.client, ...) are written under their Python 3 names.
func py2Global(g Global) Global {
	switch g.Module {
	case "builtins":
		if n, ok := py2ExceptionName(g.Name); ok {
			return Global{"exceptions", n}
		}
		switch g.Name {
		case "range":
			return Global{"__builtin__", "xrange"}
		case "str":
			return Global{"__builtin__", "unicode"}
		case "int":
			return Global{"__builtin__", "long"}
		case "chr":
			return Global{"__builtin__", "unichr"}
		case "zip", "map", "filter":
			return Global{"itertools", "i" + g.Name}
		}
		return Global{"__builtin__", g.Name}
	case "copyreg":
		return Global{"copy_reg", g.Name}
	case "functools", "_functools":
		if g.Name == "reduce" {
			return Global{"__builtin__", "reduce"}
		}
	case "sys":
		if g.Name == "intern" {
			return Global{"__builtin__", "intern"}
		}
	}
	return g
}

// py2ExceptionName maps a Python 3 builtin exception to its Python 2 name
// in the exceptions module: the same name for the exceptions both have,
// OSError for the OSError subclasses Python 3.3 added, ImportError for
// ModuleNotFoundError.
func py2ExceptionName(name string) (string, bool) {
	switch name {
	case "ArithmeticError", "AssertionError", "AttributeError", "BaseException",
		"BufferError", "BytesWarning", "DeprecationWarning", "EOFError",
		"EnvironmentError", "Exception", "FloatingPointError", "FutureWarning",
		"GeneratorExit", "IOError", "ImportError", "ImportWarning",
		"IndentationError", "IndexError", "KeyError", "KeyboardInterrupt",
		"LookupError", "MemoryError", "NameError", "NotImplementedError",
		"OSError", "OverflowError", "PendingDeprecationWarning", "ReferenceError",
		"RuntimeError", "RuntimeWarning", "StopIteration", "SyntaxError",
		"SyntaxWarning", "SystemError", "SystemExit", "TabError", "TypeError",
		"UnboundLocalError", "UnicodeDecodeError", "UnicodeEncodeError",
		"UnicodeError", "UnicodeTranslateError", "UnicodeWarning", "UserWarning",
		"ValueError", "Warning", "ZeroDivisionError":
		return name, true
	case "BrokenPipeError", "ChildProcessError", "ConnectionAbortedError",
		"ConnectionError", "ConnectionRefusedError", "ConnectionResetError",
		"FileExistsError", "FileNotFoundError", "InterruptedError",
		"IsADirectoryError", "NotADirectoryError", "PermissionError",
		"ProcessLookupError", "TimeoutError":
		return "OSError", true
	case "ModuleNotFoundError":
		return "ImportError", true
	}
	return "", false
}
