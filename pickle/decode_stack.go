package pickle

import "fmt"

// The unpickler's stack is one slice of slots; a MARK records the stack's
// length in marks. As in CPython, an opcode can only pop values above the
// last mark (the fence): the values below it belong to the enclosing
// MARK.

// slot is a stack or memo entry: a value and its nesting depth (0 for
// scalars, 1 + the deepest item for containers), which MaxDepth bounds.
type slot struct {
	v     Value
	depth int
}

// push pushes s onto the stack.
func (d *Decoder) push(s slot) {
	if len(d.stack) == cap(d.stack) {
		d.growStack()
	}
	d.stack = append(d.stack, s)
	d.high = max(d.high, len(d.stack))
}

// growStack makes room on the stack. A pickle that outgrows the initial
// stack is usually filling a large dict, whose keys and values all go on
// the stack before SETITEMS: the stack is sized from the input left
// rather than doubled several times.
func (d *Decoder) growStack() {
	n := max(2*cap(d.stack), min((len(d.data)-d.pos)/8, 512))
	stack := make([]slot, len(d.stack), n)
	copy(stack, d.stack)
	clear(d.stack[:cap(d.stack)])
	d.stack = stack
	d.high = len(stack)
}

// pushContainer pushes a container of the given depth, failing if it is
// nested too deeply.
func (d *Decoder) pushContainer(v Value, depth int) error {
	if depth > d.maxDepth {
		return fmt.Errorf("%w: nesting exceeds %d", ErrTooDeep, d.maxDepth)
	}
	d.push(slot{v: v, depth: depth})
	return nil
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

// fence returns the stack length at the last MARK.
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
		return slot{}, d.underflow(1)
	}
	s := d.stack[n-1]
	d.stack = d.stack[:n-1]
	return s, nil
}

// popN removes the top n values and returns them. The result aliases the
// stack: use it before the next push.
func (d *Decoder) popN(n int) ([]slot, error) {
	m := len(d.stack)
	if m-d.fence() < n {
		return nil, d.underflow(n)
	}
	d.stack = d.stack[:m-n]
	return d.stack[m-n : m], nil
}

// top returns the top of the stack in place.
func (d *Decoder) top() (*slot, error) {
	n := len(d.stack)
	if n <= d.fence() {
		return nil, d.underflow(1)
	}
	return &d.stack[n-1], nil
}

// underflow reports that an opcode needed n values above the fence.
func (d *Decoder) underflow(n int) error {
	have := len(d.stack) - d.fence()
	if len(d.marks) > 0 {
		return fmt.Errorf("%w: needs %d values above the MARK, has %d", ErrStackUnderflow, n, have)
	}
	return fmt.Errorf("%w: needs %d values, has %d", ErrStackUnderflow, n, have)
}

// popMark removes the last mark and the values above it, returning them.
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
