package pickle

// This file writes objects (*Object) and exceptions (*Exception).

// newobjGlobal is the helper CPython calls for cls.__new__(cls, *args)
// below protocol 2, where there is no NEWOBJ opcode.
var newobjGlobal = Global{"copyreg", "__newobj__"}

func (e *Encoder) saveObject(o *Object) error {
	if o == nil {
		return e.fail(o, "nil *Object")
	}
	if e.memoGet(o) {
		return nil
	}
	if err := e.enter("*pickle.Object"); err != nil {
		return err
	}
	switch o.Kind {
	case KindReduce:
		if err := e.save(o.Callable); err != nil {
			return e.at(err, ".Callable")
		}
		if err := e.saveTuple(o.Args); err != nil {
			return e.at(err, ".Args")
		}
		e.buf = append(e.buf, opReduce)
	case KindNewObj, KindNewObjEx:
		if o.Kind == KindNewObjEx && o.Kwargs.Len() > 0 {
			return e.fail(o, "NEWOBJ_EX with keyword arguments needs protocol 4")
		}
		if err := e.saveNewObj(o); err != nil {
			return err
		}
	case KindObj, KindInst:
		if err := e.saveInstance(o.Callable, o.Args, o); err != nil {
			return err
		}
	default:
		return e.fail(o, "unknown object kind %v", o.Kind)
	}
	e.memoize(o)
	if len(o.ListItems) > 0 {
		if err := e.appendItems(o.ListItems, false); err != nil {
			return e.at(err, ".ListItems")
		}
	}
	if o.DictItems != nil {
		if err := e.setItems(o.DictItems.Items(), false); err != nil {
			return e.at(err, ".DictItems")
		}
	}
	if o.State != nil {
		if err := e.save(o.State); err != nil {
			return e.at(err, ".State")
		}
		e.buf = append(e.buf, opBuild)
	}
	e.leave()
	return nil
}

// saveNewObj writes cls.__new__(cls, *args): NEWOBJ from protocol 2, and
// below it what CPython writes there, copyreg.__newobj__(cls, *args) by
// REDUCE (copy_reg in Python 2), which a decoder returns as a KindReduce
// object.
func (e *Encoder) saveNewObj(o *Object) error {
	if e.opts.Protocol >= 2 {
		if err := e.save(o.Callable); err != nil {
			return e.at(err, ".Callable")
		}
		if err := e.saveTuple(o.Args); err != nil {
			return e.at(err, ".Args")
		}
		e.buf = append(e.buf, opNewObj)
		return nil
	}
	g := newobjGlobal
	if e.opts.Dialect == Python2 {
		g.Module = "copy_reg"
	}
	if err := e.saveGlobal(g); err != nil {
		return err
	}
	n := 1 + len(o.Args)
	e.beginTuple(n)
	if err := e.save(o.Callable); err != nil {
		return e.at(err, ".Callable")
	}
	for i, x := range o.Args {
		if err := e.save(x); err != nil {
			return e.at(e.atIndex(err, i), ".Args")
		}
	}
	e.endTuple(n)
	e.buf = append(e.buf, opReduce)
	return nil
}

// saveInstance writes a classic instance as cPickle does: MARK, the class,
// the __getinitargs__ arguments, OBJ; at protocol 0, MARK, the arguments,
// INST module\nname\n (there the class must be a Global).
func (e *Encoder) saveInstance(class Value, args Tuple, v Value) error {
	e.buf = append(e.buf, opMark)
	if e.opts.Protocol >= 1 {
		if err := e.save(class); err != nil {
			return e.at(err, ".Callable")
		}
	}
	for i, x := range args {
		if err := e.save(x); err != nil {
			return e.at(e.atIndex(err, i), ".Args")
		}
	}
	if e.opts.Protocol >= 1 {
		e.buf = append(e.buf, opObj)
		return nil
	}
	g, ok := class.(Global)
	if !ok {
		return e.fail(v, "a protocol 0 instance (INST) needs a Global class, not %T", class)
	}
	w := e.wireGlobal(g)
	if err := e.checkGlobal(g, w); err != nil {
		return err
	}
	e.buf = append(e.buf, opInst)
	e.buf = append(e.buf, w.Module...)
	e.buf = append(e.buf, '\n')
	e.buf = append(e.buf, w.Name...)
	e.buf = append(e.buf, '\n')
	return nil
}

// saveException writes an exception in the style of the Variant (see
// Variant and Exception).
func (e *Encoder) saveException(x *Exception) error {
	if x == nil {
		return e.fail(x, "nil *Exception")
	}
	if x.Class.Name == "" {
		return e.fail(x, "exception without a class")
	}
	if e.memoGet(x) {
		return nil
	}
	if err := e.enter("*pickle.Exception"); err != nil {
		return err
	}
	switch {
	case e.opts.Variant == OldStyle:
		// A Python 2.4 exception is a classic instance without
		// __getinitargs__; Exception.__init__ stored args in its __dict__.
		if err := e.saveInstance(x.Class, nil, x); err != nil {
			return err
		}
		e.memoize(x)
		var items []DictItem
		if len(x.Args) > 0 && !hasArgsKey(x.State) {
			items = append(items, DictItem{"args", x.Args})
		}
		items = append(items, x.State.Items()...)
		if err := e.saveStateDict(items); err != nil {
			return err
		}
		e.buf = append(e.buf, opBuild)
	case x.Recon:
		// ZODB's POSError.__reduce__: _recon(class, state), state being
		// __dict__ plus 'args' (set last, so written last).
		if err := e.saveGlobal(reconGlobal); err != nil {
			return err
		}
		e.beginTuple(2)
		if err := e.saveGlobal(x.Class); err != nil {
			return err
		}
		items := make([]DictItem, 0, x.State.Len()+1)
		for _, it := range x.State.Items() {
			if !isArgsKey(it.Key) {
				items = append(items, it)
			}
		}
		args := x.Args
		if args == nil {
			args = Tuple{}
		}
		items = append(items, DictItem{"args", args})
		if err := e.saveStateDict(items); err != nil {
			return err
		}
		e.endTuple(2)
		e.buf = append(e.buf, opReduce)
		e.memoize(x)
	default:
		// BaseException.__reduce__: (class, args[, __dict__]).
		if err := e.saveGlobal(x.Class); err != nil {
			return err
		}
		if err := e.saveTuple(x.Args); err != nil {
			return e.at(err, ".Args")
		}
		e.buf = append(e.buf, opReduce)
		e.memoize(x)
		if x.State.Len() > 0 {
			if err := e.saveStateDict(x.State.Items()); err != nil {
				return err
			}
			e.buf = append(e.buf, opBuild)
		}
	}
	e.leave()
	return nil
}

// saveStateDict writes a fresh dict holding items (an exception's state).
func (e *Encoder) saveStateDict(items []DictItem) error {
	e.beginDict()
	e.memoPut()
	if err := e.setItems(items, true); err != nil {
		return e.at(err, ".State")
	}
	return nil
}

func isArgsKey(k Value) bool {
	s, ok := AsText(k)
	return ok && s == "args"
}

func hasArgsKey(d *Dict) bool {
	for _, it := range d.Items() {
		if isArgsKey(it.Key) {
			return true
		}
	}
	return false
}
