"""Cross-checks of gozeo's btree package against the real BTrees C code.

Run by hand (CI never needs Python); Debian's python3-btrees and
python3-persistent are enough, no ZODB:

  /usr/bin/python3 btrees_cross.py golden > ../btrees_golden.json
      applies fixed sequences of inserts and deletes to real BTrees and
      writes each sequence with the shape of the tree it produced (every
      node's separating keys, every bucket's first key and size, the
      firstbucket and next links as Python holds them); TestGoldenShapes
      replays the sequences in Go and must produce the same shapes.

  /usr/bin/python3 btrees_cross.py verify DIR
      reads records written by the Go package (DIR/records.jsonl and
      DIR/items.json, from GOZEO_BTREE_EXPORT=DIR go test -run
      TestExportForPython), builds the objects with BTrees' own
      __setstate__, and checks each tree with _check() and
      BTrees.check.check() and its items against what Go read.
"""
import binascii
import io
import json
import pickle
import random
import sys

import BTrees
from BTrees.check import check


def family(prefix):
    return getattr(BTrees, prefix + 'BTree')


def bucket_shape(b):
    state = b.__getstate__()
    items = state[0]
    keys = items if not hasattr(b, 'values') else items[0::2]
    return {'first': keys[0] if keys else None, 'last': keys[-1] if keys else None,
            'len': len(keys), 'next': len(state) == 2}


def shape(t):
    """The structure of a tree, as plain JSON."""
    state = t.__getstate__()
    if state is None:
        return None
    if len(state) == 1:
        return {'inline': bucket_shape_state(state[0][0], t)}
    items, first = state
    kids = items[0::2]
    out = {'keys': list(items[1::2]), 'kids': []}
    for k in kids:
        if isinstance(k, type(t)):
            out['kids'].append(shape(k))
        else:
            out['kids'].append(bucket_shape(k))
    out['first'] = first is first_bucket(kids[0], t)
    return out


def first_bucket(k, t):
    if isinstance(k, type(t)):
        return first_bucket(k.__getstate__()[0][0], t)
    return k


def bucket_shape_state(state, t):
    items = state[0]
    is_set = 'Set' in type(t).__name__
    keys = items if is_set else items[0::2]
    return {'first': keys[0] if keys else None, 'last': keys[-1] if keys else None,
            'len': len(keys), 'next': len(state) == 2}


def golden():
    cases = []
    rnd = random.Random(9)

    def run(name, prefix, kind, ops):
        mod = family(prefix)
        t = getattr(mod, prefix + kind)()
        for op in ops:
            if op[0] == 'set':
                t[op[1]] = op[2]
            elif op[0] == 'ins':
                t.insert(op[1])
            else:
                del t[op[1]]
        t._check()
        check(t)
        cases.append({'name': name, 'class': type(t).__module__ + '.' + type(t).__name__,
                      'ops': ops, 'len': len(t), 'shape': shape(t)})

    # Random keys into an OOBTree, then deletes: single keys, and runs
    # that empty whole buckets (the first one included).
    keys = rnd.sample(range(10000), 4000)
    ops = [['set', 'k%06d' % k, 'v%d' % k] for k in keys]
    live = sorted(keys)
    dels = rnd.sample(live, 800) + [k for k in live if 2000 <= k < 3000] + live[:40]
    seen = set()
    for k in dels:
        if k not in seen:
            seen.add(k)
            ops.append(['del', 'k%06d' % k])
    run('oo-random', 'OO', 'BTree', ops)

    # Ascending keys grow an OOBTree to three levels; then deletes in a
    # node's first bucket, across a node boundary and at the end.
    ops = [['set', 'k%06d' % i, i] for i in range(8000)]
    ops += [['del', 'k%06d' % i] for i in list(range(0, 400)) + list(range(3700, 4100)) + list(range(7900, 8000))]
    run('oo-three-levels', 'OO', 'BTree', ops)

    # A TreeSet of signed 32-bit integers.
    ops = [['ins', rnd.randint(-2**31, 2**31 - 1)] for _ in range(5000)]
    run('ii-treeset', 'II', 'TreeSet', ops)

    # 64-bit keys, object values; grows and shrinks back to one bucket
    # (which keeps its own object: it is not inlined again).
    keys = [rnd.randint(-2**63, 2**63 - 1) for _ in range(300)]
    ops = [['set', k, 'x'] for k in keys]
    ops += [['del', k] for k in sorted(set(keys))[:-10]]
    run('lo-shrink', 'LO', 'BTree', ops)

    # A small tree: one inline bucket.
    run('ii-small', 'II', 'BTree', [['set', i, i * i] for i in range(10)])

    json.dump({'btrees': BTrees.__name__, 'cases': cases}, sys.stdout, separators=(',', ':'))


class Loader(pickle.Unpickler):
    def __init__(self, data, objects, classes):
        super().__init__(io.BytesIO(data))
        self.objects, self.classes = objects, classes

    def persistent_load(self, pid):
        oid = pid[0] if isinstance(pid, tuple) else pid
        return self.objects[oid]


def from_json(v):
    if isinstance(v, dict) and 'b' in v:
        return bytes.fromhex(v['b'])
    if isinstance(v, dict) and 't' in v:
        return tuple(from_json(x) for x in v['t'])
    return v


def verify(dirname):
    records = [json.loads(l) for l in open(dirname + '/records.jsonl')]
    want = json.load(open(dirname + '/items.json'))
    objects, states = {}, {}
    for r in records:
        data = binascii.unhexlify(r['data'])
        oid = binascii.unhexlify(r['oid'])
        try:
            cls = pickle.Unpickler(io.BytesIO(data)).load()
        except ImportError as e:  # a family this BTrees lacks (QQ before 4.7)
            print('skipped', r['oid'], e)
            continue
        objects[oid] = cls()
    for r in records:
        oid = binascii.unhexlify(r['oid'])
        if oid not in objects:
            continue
        u = Loader(binascii.unhexlify(r['data']), objects, None)
        u.load()
        states[oid] = u.load()
    for oid, st in states.items():
        objects[oid].__setstate__(st)
    failures = 0
    for oid_hex, items in want.items():
        t = objects.get(binascii.unhexlify(oid_hex))
        if t is None:
            continue
        if hasattr(t, '_check'):
            t._check()
        note = '_check() and check() pass'
        try:
            check(t)
        except KeyError:  # check() of BTrees 4.3 does not know fs
            note = '_check() passes'
        got = [[k, v] for k, v in t.items()] if hasattr(t, 'values') else [[k, None] for k in t.keys()]
        items = [[from_json(k), from_json(v)] for k, v in items or []]
        if got != items or len(t) != len(items):
            failures += 1
            print('MISMATCH', oid_hex, type(t).__name__, len(t), len(items))
        else:
            print('ok', oid_hex, type(t).__name__, len(t), 'items,', note)
    sys.exit(1 if failures else 0)


if __name__ == '__main__':
    if sys.argv[1] == 'golden':
        golden()
    else:
        verify(sys.argv[2])
