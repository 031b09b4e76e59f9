package mapping

import (
	"slices"
	"strings"

	"github.com/expr-lang/expr/ast"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
)

// Objects a mapping builds only to write them. A field such as
//
//	map(identities ?? [], {provider: #.provider, provider_uid: #.providerUID})
//
// builds one small object per element, and its value goes nowhere but into
// the user. As maps, each costs an allocation, a hash per member and a sort
// of its keys when written. When such a map() is a field's whole
// expression, its objects are fixedObjs instead: the keys are the
// literal's, known and sorted when the mapping is compiled, and the values
// are stored in blocks shared by the record's objects. Wherever else a
// value could go (a helper, a comparison, the validators) it is a map:
// materialize turns the field's value into exactly the maps the literal
// would have built.

// fixedKeys are the keys of one object literal, in the order of the
// literal's values, with the order they are written in.
type fixedKeys struct {
	keys   []string
	order  []int    // indexes into keys, sorted by key
	json   [][]byte // `"key":` as the encoder writes it, by index
	size   []int    // the key's size as the validators' walks measure it
	valid  []bool   // the key is valid UTF-8
	dotted []bool   // the key holds '.' or '$' (a metadata key to sanitize)
}

// fixedObj is one object of a fixed literal: vals[i] is the value of
// keys.keys[i].
type fixedObj struct {
	keys *fixedKeys
	vals []any
}

// newFixedKeys returns the fixedKeys of an object literal's keys.
func newFixedKeys(keys []string) *fixedKeys {
	fk := &fixedKeys{keys: keys, order: make([]int, len(keys))}
	for i, k := range keys {
		fk.order[i] = i
		fk.json = append(fk.json, append(appendString(nil, k), ':'))
		n, valid := validate.StringSize(k)
		fk.size = append(fk.size, n)
		fk.valid = append(fk.valid, valid)
		fk.dotted = append(fk.dotted, strings.ContainsAny(k, ".$"))
	}
	slices.SortFunc(fk.order, func(a, b int) int { return strings.Compare(keys[a], keys[b]) })
	return fk
}

// fixedLiteral compiles the body of a map() that is a field's expression
// when it is an object literal; false when it is not one fixedObjs can
// stand for.
func (c *fcompiler) fixedLiteral(body ast.Node) (func(e *fenv, item fval) (any, bool), bool) {
	// The body counts as a step of the budget (see step): unwrapped here,
	// counted below.
	stepped := false
	if call, ok := body.(*ast.CallNode); ok {
		if inner, isStep := stepBody(call); isStep {
			body, stepped = inner, true
		}
	}
	lit, ok := body.(*ast.MapNode)
	if !ok {
		return nil, false
	}
	keys, nodes, ok := literalPairs(lit)
	if !ok {
		return nil, false
	}
	fk := newFixedKeys(keys)
	vals, ok := c.compileAll(nodes)
	if !ok {
		return nil, false
	}
	return func(e *fenv, item fval) (any, bool) {
		e.items = append(e.items, item)
		o := e.fixed.next(len(vals))
		o.keys = fk
		ok := true
		for i, vn := range vals {
			var v fval
			if v, ok = vn(e); !ok {
				break
			}
			if o.vals[i], ok = e.goValue(v); !ok {
				break
			}
		}
		e.items = e.items[:len(e.items)-1]
		if ok && stepped {
			e.budget.used++
			ok = e.budget.used <= MaxSteps // else the machine reports the limit
		}
		return o, ok
	}, true
}

// fixedBlocks hands out fixedObjs and their values from blocks. A block is
// never reused (like boxes): an object may outlive its record in a value
// kept elsewhere.
type fixedBlocks struct {
	objs []fixedObj
	vals []any
}

const fixedBlock = 32

func (b *fixedBlocks) next(n int) *fixedObj {
	if len(b.objs) == cap(b.objs) {
		b.objs = make([]fixedObj, 0, fixedBlock)
	}
	if len(b.vals)+n > cap(b.vals) {
		b.vals = make([]any, 0, max(fixedBlock*4, n))
	}
	b.objs = append(b.objs, fixedObj{vals: b.vals[len(b.vals) : len(b.vals)+n : len(b.vals)+n]})
	b.vals = b.vals[:len(b.vals)+n]
	return &b.objs[len(b.objs)-1]
}

// toMap returns the map the literal builds.
func (o *fixedObj) toMap() map[string]any {
	m := make(map[string]any, len(o.vals))
	for i, k := range o.keys.keys {
		m[k] = o.vals[i]
	}
	return m
}

// materialize returns v with its fixedObjs (in a field's value: the
// elements of its array) turned into maps.
func materialize(v any) any {
	switch x := v.(type) {
	case *fixedObj:
		return x.toMap()
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			out[i] = materialize(e)
		}
		return out
	}
	return v
}
