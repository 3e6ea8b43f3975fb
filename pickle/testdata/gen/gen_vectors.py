# -*- coding: utf-8 -*-
"""Generate pickle test vectors with the real CPython picklers.

Run under both interpreters, from the repository root:

    PYENV_VERSION=2.7.18 python pickle/testdata/gen/gen_vectors.py
    python3 pickle/testdata/gen/gen_vectors.py        # CPython 3.11

Each run writes pickle/testdata/vectors_py27.jsonl or vectors_py311.jsonl:
one JSON object per line with

    name      unique name of the vector
    python    interpreter version that produced it
    protocol  pickle protocol given to the Pickler
    fast      True: Pickler.fast (no memo), as ZEO marshals messages;
              False: a normal Pickler with a memo (ZODB records, shared or
              recursive structures)
    variant   "oldstyle" when the value holds Python 2.4-style classic
              exception instances, else "newstyle"
    hex       the whole byte stream (several pickles for multi-pickle vectors)
    values    one tagged description per pickle in the stream (see describe)
    gets      number of memo GET opcodes in the stream (0 in fast mode)

The Go side (vectors_test.go) decodes every stream and compares it with the
descriptions, and re-encodes the fast-mode ones byte for byte.

Python 2 dicts iterate in hash order. The descriptions list dict items in
the order in which the pickler wrote them: the order of the very dict
object that was pickled, read after pickling. The Go test builds its *Dict
in that order, so the bytes match.

Nothing here is taken from ZODB: the fake ZODB.POSException module, its
_recon helper and the record writer are small stand-ins written for the
vectors, shaped after docs/protocol.md.
"""
from __future__ import print_function

import json
import os
import struct
import sys
import types
import binascii
import pickletools

PY2 = sys.version_info[0] == 2

if PY2:
    import cPickle as cpickle
    from cStringIO import StringIO as BytesIO
    text_type = unicode  # noqa: F821
    int_types = (int, long)  # noqa: F821
    ClassicType = types.ClassType
    InstanceType = types.InstanceType

    def B(s):
        return s  # a py2 str is already bytes

    def U(s):
        return s.decode('utf-8') if isinstance(s, str) else s

    def native(s):
        return s  # py2 str
else:
    import pickle as cpickle  # the C _pickle.Pickler under the pickle name
    import _compat_pickle
    from io import BytesIO
    text_type = str
    int_types = (int,)
    ClassicType = None
    InstanceType = None

    def B(s):
        return s.encode('latin-1') if isinstance(s, str) else s

    def U(s):
        return s

    def native(s):
        return s  # py3 str

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
                   'vectors_py27.jsonl' if PY2 else 'vectors_py311.jsonl')
PYVER = '%d.%d.%d' % sys.version_info[:3]
PROTOCOLS = (0, 1, 2) if PY2 else (0, 1, 2, 3)


def hexs(b):
    return binascii.hexlify(b).decode('ascii')


# ---------------------------------------------------------------------------
# Fake modules: ZODB.POSException with old-style and new-style exceptions,
# a persistent class for records, and a module for plain objects.

def make_module(name):
    m = types.ModuleType(name)
    sys.modules[name] = m
    parent, _, child = name.rpartition('.')
    if parent:
        if parent not in sys.modules:
            make_module(parent)
        setattr(sys.modules[parent], child, m)
    return m


POSEXC = make_module('ZODB.POSException')
OBJMOD = make_module('gozeotest')
PERSMOD = make_module('persistent.mapping')


def _recon(class_, state):
    """Our stand-in for ZODB's helper: build without __init__, set state."""
    err = class_.__new__(class_)
    err.__setstate__(state)
    return err


_recon.__module__ = 'ZODB.POSException'
POSEXC._recon = _recon

RECON_STATES = []  # the state dicts handed to the pickler, read after pickling


class NSError(Exception):
    """New-style POSError stand-in: pickles through _recon(class, state)."""

    def __reduce__(self):
        state = self.__dict__.copy()
        state['args'] = self.args
        RECON_STATES.append(state)
        return (_recon, (self.__class__, state))

    def __setstate__(self, state):
        self.args = state.pop('args', ())
        self.__dict__.update(state)


def new_exception_class(name, recon):
    base = NSError if recon else Exception
    cls = type(native(name), (base,), {'__module__': 'ZODB.POSException'})
    setattr(POSEXC, name, cls)
    return cls


def new_classic_exception_class(name):
    """A Python 2.4-style classic class (only on Python 2)."""
    cls = ClassicType(name, (), {'__module__': 'ZODB.POSException'})
    setattr(POSEXC, name, cls)
    return cls


def conflict_fields(obj):
    obj.class_name = None
    obj.serials = (B('\x03\xc5\x8a\x1b\x11\x11\x11\x11'), B('\x03\xc5\x8a\x1a\x00\x00\x00\x00'))
    obj.message = native('database conflict error')
    obj.oid = B('\x00' * 7 + '\x01')
    return obj


class Plain(object):
    """A new-style class: copy_reg._reconstructor below protocol 2, NEWOBJ from 2."""


Plain.__module__ = 'gozeotest'
OBJMOD.Plain = Plain


class Args(object):
    """A new-style class with __getnewargs__: NEWOBJ with arguments."""

    def __new__(cls, *a):
        return object.__new__(cls)

    def __init__(self, *a):
        self.a = a

    def __getnewargs__(self):
        return self.a

    def __getstate__(self):
        return {native('x'): 1}

    def __setstate__(self, st):
        pass


Args.__module__ = 'gozeotest'
OBJMOD.Args = Args


class MyList(list):
    pass


MyList.__module__ = 'gozeotest'
OBJMOD.MyList = MyList


class MyDict(dict):
    pass


MyDict.__module__ = 'gozeotest'
OBJMOD.MyDict = MyDict


def point(x, y):
    return (x, y)


point.__module__ = 'gozeotest'
OBJMOD.point = point


class Reduced(object):
    """__reduce__ to a plain function and argument tuple."""

    def __init__(self, x, y):
        self.x, self.y = x, y

    def __reduce__(self):
        return (point, (self.x, self.y))


Reduced.__module__ = 'gozeotest'
OBJMOD.Reduced = Reduced

if PY2:
    # A classic (old-style) class instance: OBJ at protocol >= 1, INST at 0.
    Classic = ClassicType('Classic', (), {
        '__module__': 'gozeotest',
        '__getinitargs__': lambda self: (1, 'two'),
        '__init__': lambda self, a=None, b=None: None,
    })
    OBJMOD.Classic = Classic


class PersistentMapping(object):
    """Stand-in persistent class; records are written by write_record."""

    def __init__(self, oid, data):
        self.oid = oid
        self.data = data


PersistentMapping.__module__ = 'persistent.mapping'
PERSMOD.PersistentMapping = PersistentMapping


# ---------------------------------------------------------------------------
# Describing values.

def wire_global(module, name, proto):
    """The (module, name) a pickler writes for a global at proto."""
    if not PY2 and proto < 3:
        if (module, name) in _compat_pickle.REVERSE_NAME_MAPPING:
            return _compat_pickle.REVERSE_NAME_MAPPING[(module, name)]
        if module in _compat_pickle.REVERSE_IMPORT_MAPPING:
            return (_compat_pickle.REVERSE_IMPORT_MAPPING[module], name)
    return (module, name)


def gnode(module, name, proto):
    n = {'t': 'global', 'module': module, 'name': name}
    w = wire_global(module, name, proto)
    if w != (module, name):
        n['wire'] = list(w)
    return n


def global_of(obj, proto):
    return gnode(obj.__module__, obj.__name__, proto)


def is_global(v):
    if isinstance(v, (type, types.FunctionType, types.BuiltinFunctionType)):
        return True
    return PY2 and isinstance(v, ClassicType)


def describe(v, proto, refs=None):
    """A tagged JSON description of v as pickled at proto."""
    if refs is not None and id(v) in refs:
        return {'t': 'ref', 'id': refs[id(v)]}
    if v is None:
        return {'t': 'none'}
    if isinstance(v, bool):
        return {'t': 'bool', 'v': v}
    if isinstance(v, int_types):
        # Python 2 keeps int and long apart. Python 3 has one int type; its
        # pickler writes it as INT/BININT* within 32 bits and as LONG/LONG1
        # beyond, which a decoder reads as int64 and *big.Int.
        if PY2:
            kind = 'long' if isinstance(v, long) else 'int'  # noqa: F821
        else:
            kind = 'int' if -2**31 <= v < 2**31 else 'long'
        return {'t': kind, 'v': str(v)}
    if isinstance(v, float):
        return {'t': 'float', 'bits': hexs(struct.pack('>d', v))}
    if PY2 and isinstance(v, str):
        return bytes_node('bytestring', v)
    if isinstance(v, text_type):
        if len(v) >= 1000 and v == v[0] * len(v):
            return {'t': 'unicode' if PY2 else 'text', 'v': v[0], 'repeat': len(v)}
        return {'t': 'unicode' if PY2 else 'text', 'v': v}
    if not PY2 and isinstance(v, bytes):
        return bytes_node('bytes', v)
    if isinstance(v, bytearray):
        return {'t': 'bytearray', 'hex': hexs(bytes(v))}
    if isinstance(v, PersistentMapping):
        # Written by the record pickler's persistent_id as (oid, class).
        return {'t': 'persid', 'id': describe((v.oid, v.__class__), proto, refs)}
    if is_global(v):
        return global_of(v, proto)
    if isinstance(v, BaseException) or (PY2 and isinstance(v, InstanceType) and
                                        isinstance(v.__class__, ClassicType) and
                                        v.__class__.__name__.endswith('Error')):
        return describe_exception(v, proto, refs)
    if PY2 and isinstance(v, InstanceType):
        return describe_classic(v, proto, refs)
    mark = None
    if refs is not None and isinstance(v, (list, dict)):
        mark = len(refs) + 1
        refs[id(v)] = mark
    if type(v) in (list, dict) and len(v) >= 100 and is_range(v):
        # Compact form of list(range(n)) and {i: i for i in range(n)} in
        # that order: keeps the files small.
        n = {'t': 'list' if type(v) is list else 'dict', 'range': len(v)}
    elif isinstance(v, tuple):
        n = {'t': 'tuple', 'items': [describe(x, proto, refs) for x in v]}
    elif type(v) is list:
        n = {'t': 'list', 'items': [describe(x, proto, refs) for x in v]}
    elif type(v) is dict:
        n = {'t': 'dict', 'items': [[describe(k, proto, refs), describe(x, proto, refs)]
                                    for k, x in v.items()]}
    elif type(v) in (set, frozenset):
        n = {'t': 'frozenset' if type(v) is frozenset else 'set',
             'items': [describe(x, proto, refs) for x in v]}
    else:
        return describe_object(v, proto, refs)
    if mark is not None:
        n['id'] = mark
    return n


def bytes_node(tag, b):
    if len(b) >= 1000 and b == b[:1] * len(b):
        # Compact form of a long run of one byte value.
        return {'t': tag, 'hex': hexs(b[:1]), 'repeat': len(b)}
    return {'t': tag, 'hex': hexs(b)}


def is_range(v):
    if type(v) is list:
        return v == list(range(len(v)))
    return list(v.items()) == [(i, i) for i in range(len(v))]


def describe_object(v, proto, refs):
    rv = v.__reduce_ex__(proto)
    func, args = rv[0], rv[1]
    state = rv[2] if len(rv) > 2 else None
    listitems = rv[3] if len(rv) > 3 else None
    dictitems = rv[4] if len(rv) > 4 else None
    n = {'t': 'object'}
    if proto >= 2 and getattr(func, '__name__', '') == '__newobj__':
        n['kind'] = 'newobj'
        n['callable'] = describe(args[0], proto, refs)
        args = args[1:]
    else:
        n['kind'] = 'reduce'
        n['callable'] = describe(func, proto, refs)
    if refs is not None:
        n['id'] = len(refs) + 1
        refs[id(v)] = n['id']
    n['args'] = [describe(x, proto, refs) for x in args]
    if listitems is not None:
        n['listitems'] = [describe(x, proto, refs) for x in listitems]
    if dictitems is not None:
        n['dictitems'] = [[describe(k, proto, refs), describe(x, proto, refs)] for k, x in dictitems]
    if state is not None:
        n['state'] = describe(state, proto, refs)
    return n


def describe_classic(v, proto, refs):
    n = {'t': 'object', 'kind': 'inst' if proto == 0 else 'obj',
         'callable': global_of(v.__class__, proto),
         'args': [describe(x, proto, refs) for x in v.__getinitargs__()],
         'state': describe(v.__dict__, proto, refs)}
    return n


def describe_exception(v, proto, refs):
    """An exception, in the form its pickler used (docs/protocol.md, Errors)."""
    cls = v.__class__
    n = {'t': 'exception', 'class': global_of(cls, proto)}
    if PY2 and isinstance(v, InstanceType):
        # Classic instance: MARK GLOBAL OBJ + __dict__ BUILD. A 2.4
        # exception keeps its args in __dict__ ('args' first, set by
        # Exception.__init__); the Go encoder writes Exception.Args there.
        items = list(v.__dict__.items())
        if 'args' in v.__dict__:
            assert items[0][0] == 'args', 'args must come first in %r' % items
            n['args'] = [describe(x, proto, refs) for x in items[0][1]]
            items = items[1:]
        else:
            n['args'] = []
        n['style'] = 'oldstyle'
        n['state'] = [[describe(k, proto, refs), describe(x, proto, refs)] for k, x in items]
        return n
    if isinstance(v, NSError):
        state = RECON_STATES.pop(0)  # the dict the pickler wrote (pickling order)
        items = list(state.items())
        assert items[-1][0] == 'args', 'args must come last in %r' % items
        n['style'] = 'recon'
        n['args'] = [describe(x, proto, refs) for x in items[-1][1]]
        n['state'] = [[describe(k, proto, refs), describe(x, proto, refs)] for k, x in items[:-1]]
        return n
    # BaseException.__reduce__: (class, args[, __dict__]).
    rv = v.__reduce__()
    n['style'] = 'reduce'
    n['args'] = [describe(x, proto, refs) for x in rv[1]]
    st = rv[2] if len(rv) > 2 else {}
    n['state'] = [[describe(k, proto, refs), describe(x, proto, refs)] for k, x in st.items()]
    return n


# ---------------------------------------------------------------------------
# Pickling and recording.

VECTORS = []
NAMES = set()


def count_gets(data):
    n = 0
    f = BytesIO(data)
    while f.tell() < len(data):
        for op, arg, pos in pickletools.genops(f):
            if op.name in ('GET', 'BINGET', 'LONG_BINGET'):
                n += 1
    return n


def pickle_one(v, proto, fast):
    f = BytesIO()
    p = cpickle.Pickler(f, proto)
    if fast:
        p.fast = 1
    p.dump(v)
    return f.getvalue()


def add(name, v, protos=None, fast=True, variant='newstyle', desc=None, refs=False):
    """Pickle v at each protocol and record a vector per protocol."""
    for proto in (PROTOCOLS if protos is None else protos):
        del RECON_STATES[:]
        data = pickle_one(v, proto, fast)
        d = desc(proto) if desc else describe(v, proto, {} if refs else None)
        record('%s/p%d%s' % (name, proto, '' if fast else '/memo'), proto, fast, variant, data, [d])


def record(name, proto, fast, variant, data, values):
    assert name not in NAMES, name
    NAMES.add(name)
    VECTORS.append({
        'name': name, 'python': PYVER, 'protocol': proto, 'fast': fast,
        'variant': variant, 'hex': hexs(data), 'values': values,
        'gets': count_gets(data),
    })


# ---------------------------------------------------------------------------
# The vectors.

def scalars():
    add('none', None)
    add('true', True)
    add('false', False)
    ints = [0, 1, 255, 256, 65535, 65536, 2**31 - 1, 2**31, -1, -255, -256,
            -2**31, -2**31 - 1, 2**63 - 1, -2**63]
    for i in ints:
        add('int/%d' % i, int(i))
    bigs = [2**64, -2**64, 2**63, 2**2040 + 7, -2**2041, 128, -128, 255, -129]
    if PY2:
        bigs += [0, 1, -1]
        for i in bigs:
            add('long/%d' % i, long(i))  # noqa: F821
    else:
        for i in bigs:
            if not -2**31 <= i < 2**31:
                add('long/%d' % i, i)
    floats = [0.0, -0.0, 0.1, 1.5, -2.25, 1e300, 1e16, 1e15, 1e-5, 1e-4,
              123456789.125, 5e-324, 1.7976931348623157e308, 1e22, 1e21,
              float('inf'), float('-inf'), float('nan'), 2.0**60, 1/3.0]
    for x in floats:
        add('float/%r' % x, x)


def strings():
    samples = [('empty', ''), ('a', 'a'), ('quote1', "it's"), ('quote2', 'say "x"'),
               ('quotes', 'a\'b"c'), ('ctl', '\x00\x01\t\n\r\\\x1a\x7f'),
               ('s255', 'x' * 255), ('s256', 'y' * 256)]
    if PY2:
        for n, s in samples + [('high', '\x80\xff\xe9')]:
            add('str/' + n, s)
        add('str/s70000', 'z' * 70000, protos=(1,))
        usamples = [('abc', u'abc'), ('nonascii', u'\xe9\u20ac\U0001F600'),
                    ('uctl', u'\\\n\r\x00\x1a\t'), ('latin', u'\xff\x80'), ('s300', u'\u00e9' * 300)]
        for n, s in samples + usamples:
            add('unicode/' + n, U(s))
        add('bytearray/empty', bytearray())
        add('bytearray/bin', bytearray(b'a\x00\xff'))
        add('bytearray/s300', bytearray(b'\x81' * 300))
    else:
        for n, s in samples + [('nonascii', '\xe9\u20ac\U0001F600'), ('latin', '\xff\x80'),
                               ('s300', '\u00e9' * 300)]:
            add('str/' + n, s)
        add('str/s70000', 'z' * 70000, protos=(3,))
        bsamples = [('empty', b''), ('a', b'a'), ('bin', b'\x00\xff\n\\\r\x1a\'"'),
                    ('b255', b'\x01' * 255), ('b256', b'\x02' * 256)]
        for n, s in bsamples:
            add('bytes/' + n, s)
        add('bytes/b70000', b'\x80' * 70000, protos=(3,))
        add('bytearray/empty', bytearray())
        add('bytearray/bin', bytearray(b'a\x00\xff'))
        add('bytearray/s300', bytearray(b'\x81' * 300))


def containers():
    s = native('s')
    add('tuple/0', ())
    add('tuple/1', (1,))
    add('tuple/2', (1, s))
    add('tuple/3', (1, s, None))
    add('tuple/4', (1, s, None, 2.5))
    add('tuple/nested', ((), ((1,),), (1, (2, (3, ())))))
    add('list/0', [])
    add('list/1', [1])
    add('list/2', [1, 2])
    add('list/3', [1, s, None])
    for n in (1000, 1001, 2000, 2001):
        add('list/%d' % n, list(range(n)), protos=(0, 1, 2) if PY2 else (0, 1, 3))
    add('dict/0', {})
    add('dict/1', {s: 1})
    add('dict/tuplekeys', {(1, 2): native('x'), native('k'): [1], 3: (4,)})
    for n in (1000, 1001, 2000):
        add('dict/%d' % n, dict((i, i) for i in range(n)), protos=(0, 1, 2) if PY2 else (0, 1, 3))
    add('set/0', set())
    add('set/1', set([1]))
    add('set/3', set([1, native('a'), (1, 2)]))
    add('frozenset/0', frozenset())
    add('frozenset/2', frozenset([native('x'), 2]))
    add('nested', {native('a'): [1, (2, {native('b'): None})], native('c'): set([(1,)]),
                   native('d'): [[], {}, ()]})


def globals_and_objects():
    add('global/class', Plain)
    add('global/func', point)
    add('global/keyerror', KeyError)
    add('global/object', object)
    add('object/plain', Plain())
    p = Plain()
    p.x = 1
    p.y = native('why')
    add('object/plainstate', p)
    add('object/args', Args(1, native('two')), protos=(2,) if PY2 else (2, 3))
    add('object/mylist', MyList([1, 2]))
    ml = MyList([1])
    ml.attr = 5
    add('object/mylist1', ml)
    add('object/mydict', MyDict([(native('k'), 1)]))
    add('object/reduced', Reduced(1, native('y')))
    if PY2:
        c = Classic()
        c.z = 3
        add('object/classic', c)


def exceptions():
    oid = B('\x00' * 7 + '\x02')
    add('exception/keyerror', KeyError(oid))
    add('exception/valueerror', ValueError(native('bad'), 2))
    e = ValueError(native('with dict'))
    e.extra = 1
    add('exception/valueerror_dict', e)

    ns = new_exception_class('ConflictError', recon=False)
    add('exception/conflict_reduce', conflict_fields(ns()))
    nr = new_exception_class('ConflictError', recon=True)
    add('exception/conflict_recon', conflict_fields(nr()))
    pk = new_exception_class('POSKeyError', recon=True)
    add('exception/poskeyerror_recon', pk(B('\x00' * 8)))
    st = new_exception_class('StorageTransactionError', recon=True)
    add('exception/storagetxn_recon', st(None, 999))
    if PY2:
        oc = new_classic_exception_class('ConflictError')
        add('exception/conflict_oldstyle', conflict_fields(oc()), variant='oldstyle')
        ok = new_classic_exception_class('POSKeyError')
        inst = ok()
        inst.args = (B('\x00' * 8),)  # what a 2.4 Exception.__init__ left in __dict__
        add('exception/poskeyerror_oldstyle', inst, variant='oldstyle')
        empty = new_classic_exception_class('ReadOnlyError')
        add('exception/readonly_oldstyle', empty(), variant='oldstyle')


def shared_and_recursive():
    shared = [1]
    add('memo/shared_list', [shared, shared], fast=False, refs=True)
    rec = [1]
    rec.append(rec)
    add('memo/recursive_list', rec, fast=False, refs=True)
    d = {}
    d[native('self')] = d
    add('memo/recursive_dict', d, fast=False, refs=True)
    inner = {native('k'): [native('v')]}
    add('memo/shared_dict', (inner, [inner, inner]), fast=False, refs=True)
    add('memo/tree', {native('a'): [1, 2.5, (3, None)], native('b'): (native('x'), True)},
        fast=False, refs=True)


# --- ZODB records: class pickle + state pickle, one pickler, shared memo.

def write_record(obj, proto):
    """Our small equivalent of ZODB's ObjectWriter: one Pickler (with a memo)
    writes the class metadata (class, None) and then the state, with
    persistent references (oid, class) for other persistent objects."""
    f = BytesIO()
    if PY2:
        p = cpickle.Pickler(f, proto)
        p.persistent_id = lambda o: (o.oid, o.__class__) if isinstance(o, PersistentMapping) else None
    else:
        class P(cpickle.Pickler):
            def persistent_id(self, o):
                if isinstance(o, PersistentMapping):
                    return (o.oid, o.__class__)
                return None
        p = P(f, proto)
    p.dump((obj.__class__, None))
    p.dump({native('data'): obj.data})
    return f.getvalue()


def records():
    proto = 1 if PY2 else 3
    oid1 = B('\x00' * 7 + '\x01')
    child = PersistentMapping(B('\x00' * 7 + '\x07'), {})
    cases = [
        ('record/simple', PersistentMapping(oid1, {native('i'): 0, native('text'): native('object 0')})),
        ('record/ref', PersistentMapping(oid1, {native('child'): child, native('n'): 2**40})),
        ('record/nested', PersistentMapping(oid1, {native('l'): [child, (1, native('x'))],
                                                   native('b'): B('\x00\xff')})),
    ]
    for name, obj in cases:
        data = write_record(obj, proto)
        cls = global_of(PersistentMapping, proto)
        meta = {'t': 'tuple', 'items': [cls, {'t': 'none'}]}
        state = describe({native('data'): obj.data}, proto)
        record('%s/p%d/memo' % (name, proto), proto, False, 'newstyle', data, [meta, state])


# --- ZEO messages (docs/protocol.md: Messages, Errors, Test vectors), fast mode.

def zeo_messages():
    proto = 1 if PY2 else 3
    s = native  # method names: py2 str / py3 str
    z64 = B('\x00' * 8)
    oid = B('\x00' * 7 + '\x2a')
    tid = B('\x03\xf5\x8e\x00\x00\x00\x00\x00')
    data = B('DATA')
    msgs = [
        ('getAuthProtocol', (0, 0, s('getAuthProtocol'), ())),
        ('register', (1, 0, s('register'), (s('1'), False))),
        ('register_bool', (1, False, s('register'), (s('1'), False))),
        ('lastTransaction_310', (2, False, s('lastTransaction'), ())),
        ('loadEx', (3, 0, s('loadEx'), (z64, B('')))),
        ('storea', (0, 1, s('storea'), (oid, z64, data, 140234))),
        ('storea_bigtxn', (0, 1, s('storea'), (oid, z64, data, 140548657017488))),
        ('reply_none', (1, 0, s('.reply'), None)),
        ('reply_data_tid', (3, 0, s('.reply'), (data, tid))),
        ('reply_loadbefore', (4, 0, s('.reply'), (data, tid, None))),
        ('invalidateTransaction', (0, 1, s('invalidateTransaction'), (tid, [oid]))),
        ('invalidateTransaction_z308', (0, 1, s('invalidateTransaction'), (tid, [(oid, B(''))]))),
        ('serialnos', (0, 1, s('serialnos'), ([(oid, tid)],))),
        ('heartbeat', (-1, 0, s('.reply'), None)),
        ('zeo5_error', (4, 2, s('.reply'), (U('ZODB.POSException.POSKeyError'), (oid,)))),
    ]
    if PY2:
        msgs.append(('info', (0, 1, 'info', ({'length': 1, 'size': long(95)},))))  # noqa: F821
    else:
        msgs.append(('info', (0, 1, 'info', ({'length': 1, 'size': 95},))))
    for name, m in msgs:
        add('zeo/' + name, m, protos=(proto,))
    if PY2:
        add('zeo/register_z200', (0, 0, 'register', ('1', 0)), protos=(0,))
    # Error replies carrying exceptions.
    add('zeo/reply_keyerror', (5, 0, s('.reply'), (KeyError, KeyError(oid))), protos=(proto,))
    pk = new_exception_class('POSKeyError', recon=True)
    add('zeo/reply_poskeyerror', (4, 0, s('.reply'), (pk, pk(z64))), protos=(proto,))
    cr = new_exception_class('ConflictError', recon=True)
    add('zeo/reply_conflict_recon', (17, 0, s('.reply'), (cr, conflict_fields(cr()))),
        protos=(1, 2) if PY2 else (3,))
    if PY2:
        oc = new_classic_exception_class('ConflictError')
        add('zeo/reply_conflict_oldstyle', (17, 0, '.reply', (oc, conflict_fields(oc()))),
            protos=(1, 2), variant='oldstyle')
        ns = new_exception_class('ConflictError', recon=False)
        add('zeo/reply_conflict_reduce', (17, 0, '.reply', (ns, conflict_fields(ns()))), protos=(1,))
        # serialnos with a conflict (docs/protocol.md, Commit, Errors), both exception styles.
        cr = new_exception_class('ConflictError', recon=True)
        add('zeo/serialnos_conflict_recon',
            (17, 1, 'serialnos', ([(oid, tid), (oid, conflict_fields(cr()))],)), protos=(1,))
        oc = new_classic_exception_class('ConflictError')
        add('zeo/serialnos_conflict_oldstyle',
            (17, 1, 'serialnos', ([(oid, tid), (oid, conflict_fields(oc()))],)), protos=(1,),
            variant='oldstyle')


def main():
    scalars()
    strings()
    containers()
    globals_and_objects()
    exceptions()
    shared_and_recursive()
    records()
    zeo_messages()
    with open(OUT, 'w') as f:
        for v in VECTORS:
            f.write(json.dumps(v, sort_keys=True) + '\n')
    print('%s: %d vectors -> %s' % (PYVER, len(VECTORS), os.path.normpath(OUT)))


if __name__ == '__main__':
    main()
