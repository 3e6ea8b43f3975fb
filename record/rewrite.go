package record

import "github.com/gozeo/gozeo/pickle"

// rewriter copies a value, changing the leaves fn picks, and keeps the
// sharing of the original: a list, dict, set or object met twice is copied
// once, so the encoder's memo writes it once and refers back to it, as the
// pickle it came from did.
type rewriter struct {
	leaf func(pickle.Value) (pickle.Value, bool) // replace a leaf when ok
	ref  func(pickle.PersistentRef) pickle.PersistentRef
	seen map[any]pickle.Value
}

// tupleKey identifies a tuple by its items' memory, since a slice cannot
// be a map key.
type tupleKey struct {
	n     int
	first *pickle.Value
}

func (r *rewriter) value(v pickle.Value) pickle.Value {
	if r.leaf != nil {
		if nv, ok := r.leaf(v); ok {
			return nv
		}
	}
	switch v := v.(type) {
	case pickle.Tuple:
		if v == nil {
			return v
		}
		// A tuple met twice (the same items, as a decoded pickle shares
		// what its memo shares) is copied once too: a few hundred bytes
		// of hostile pickle can nest shared tuples whose unshared copy
		// doubles with each level.
		key := tupleKey{len(v), nil}
		if len(v) > 0 {
			key.first = &v[0]
			if c, ok := r.seen[key]; ok {
				return c
			}
		}
		out := make(pickle.Tuple, len(v))
		for i, x := range v {
			out[i] = r.value(x)
		}
		if key.first != nil {
			r.remember(key, out)
		}
		return out
	case *pickle.List:
		if v == nil {
			return v
		}
		if c, ok := r.seen[v]; ok {
			return c
		}
		out := make(pickle.List, len(*v))
		r.remember(v, &out)
		for i, x := range *v {
			out[i] = r.value(x)
		}
		return &out
	case *pickle.Dict:
		if v == nil {
			return v
		}
		if c, ok := r.seen[v]; ok {
			return c
		}
		out := pickle.NewDict(v.Len())
		r.remember(v, out)
		for _, it := range v.Items() {
			_ = out.Set(r.value(it.Key), r.value(it.Value)) // keys stay hashable
		}
		return out
	case *pickle.Set:
		if v == nil {
			return v
		}
		if c, ok := r.seen[v]; ok {
			return c
		}
		out := pickle.NewSet(v.Frozen, v.Len())
		r.remember(v, out)
		for _, x := range v.Items() {
			_ = out.Add(r.value(x))
		}
		return out
	case *pickle.Object:
		if v == nil {
			return v
		}
		if c, ok := r.seen[v]; ok {
			return c
		}
		out := &pickle.Object{Kind: v.Kind}
		r.remember(v, out)
		out.Callable = r.value(v.Callable)
		out.Args, _ = r.value(v.Args).(pickle.Tuple)
		if v.Kwargs != nil {
			out.Kwargs, _ = r.value(v.Kwargs).(*pickle.Dict)
		}
		if v.State != nil {
			out.State = r.value(v.State)
		}
		for _, x := range v.ListItems {
			out.ListItems = append(out.ListItems, r.value(x))
		}
		if v.DictItems != nil {
			out.DictItems, _ = r.value(v.DictItems).(*pickle.Dict)
		}
		return out
	case pickle.PersistentRef:
		p := pickle.PersistentRef{ID: r.value(v.ID)}
		if r.ref != nil {
			p = r.ref(p)
		}
		return p
	}
	return v
}

func (r *rewriter) remember(old any, copy pickle.Value) {
	if r.seen == nil {
		r.seen = make(map[any]pickle.Value)
	}
	r.seen[old] = copy
}

// normalizeRefs gives every persistent reference's oid the bytes type
// (pickle.Bytes), which each format writes as its own bytes: a py2 str
// for Py2, bytes for Py3. A py2 str oid in a Py3 record would come back
// as text in Python 3.
func normalizeRefs(state pickle.Value) pickle.Value {
	r := rewriter{ref: func(p pickle.PersistentRef) pickle.PersistentRef {
		p.ID = refWithBytesOID(p.ID)
		return p
	}}
	return r.value(state)
}

// refWithBytesOID returns the persistent id with its oid as pickle.Bytes,
// in each of the forms ParseRef reads.
func refWithBytesOID(id pickle.Value) pickle.Value {
	asBytes := func(v pickle.Value) pickle.Value {
		if b, ok := v.(pickle.ByteString); ok && len(b) == 8 {
			return pickle.Bytes(b)
		}
		return v
	}
	switch id := id.(type) {
	case pickle.ByteString:
		return asBytes(id)
	case pickle.Tuple:
		if len(id) == 2 {
			return pickle.Tuple{asBytes(id[0]), id[1]}
		}
	case *pickle.List:
		l := *id
		switch {
		case len(l) == 1:
			return &pickle.List{asBytes(l[0])}
		case len(l) == 2:
			args, ok := l[1].(pickle.Tuple)
			if !ok || len(args) == 0 {
				return id
			}
			kind, _ := pickle.AsText(l[0])
			out := append(pickle.Tuple(nil), args...)
			switch kind {
			case "w":
				out[0] = asBytes(out[0])
			case "n", "m":
				if len(out) >= 2 {
					out[1] = asBytes(out[1])
				}
			}
			return &pickle.List{l[0], out}
		}
	}
	return id
}
