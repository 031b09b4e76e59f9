package mapping

import "unsafe"

// boxes turns values of type T into interfaces (any) the way a conversion
// does, but with the values stored in blocks of 32 instead of one
// allocation each: boxing the strings and numbers of a record is the
// commonest allocation of the record engine otherwise. A block is never
// reused: an interface made here may outlive the record (in a value a
// helper returned, in an error), and then keeps its block alive like any
// pointer; the next record takes a new block once this one is full.
type boxes[T any] struct {
	block []T
	typ   unsafe.Pointer // T's type word, as an interface of T holds it
}

// eface is the layout of an interface without methods (runtime.eface).
type eface struct {
	typ, data unsafe.Pointer
}

const boxBlock = 32

// box returns v as an interface, as any(v) would.
func (b *boxes[T]) box(v T) any {
	if len(b.block) == cap(b.block) {
		b.block = make([]T, 0, boxBlock)
	}
	if b.typ == nil {
		var zero any = *new(T)
		b.typ = (*eface)(unsafe.Pointer(&zero)).typ
	}
	b.block = append(b.block, v)
	var out any
	e := (*eface)(unsafe.Pointer(&out))
	e.typ, e.data = b.typ, unsafe.Pointer(&b.block[len(b.block)-1])
	return out
}
