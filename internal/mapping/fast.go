package mapping

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"

	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm/runtime"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/mapfunc"
)

// The record engine's evaluator. Each expression's final AST (after the
// engine's patches and expr's optimizer) is compiled once into Go closures
// that read the record's bytes directly: a member access looks the key up
// in the raw object, `map` walks the raw array, a helper gets decoded
// arguments. Only what an expression touches is decoded, and objects and
// arrays stay raw until something needs them as Go values.
//
// It covers the part of the language mappings are written in: account keys
// and member chains (nil-safe), constant indexes, the identities views,
// helper calls, ==, !=, ??, &&, ||, !, ?:, literals, map(). Anything else
// (arithmetic, let, other builtins, `$env`...) makes the expression run on
// expr's virtual machine instead, over the same values decoded into a map.
//
// Its values must be exactly those of the virtual machine. So it never
// guesses: wherever the machine would fail, or could behave in a way not
// reproduced here (a type it does not expect, a helper's error, the step
// budget running out), the closure gives up ("bails") and the field is
// evaluated again by the machine, which then returns its own value or
// error. A bail costs time, never a difference.

// fval is a value of the evaluator: a Go value as expr would hold it, or an
// object or array of the record not decoded (raw: a node of the tape). A
// JSON null is never raw: it is the Go nil.
type fval struct {
	v     any
	node  int32
	isRaw bool
}

// fnode is a compiled expression node; ok is false when it bails.
type fnode func(e *fenv) (v fval, ok bool)

// fenv is what compiled nodes read: the record, its tape, and the state of
// one evaluation.
type fenv struct {
	data []byte
	tape []tnode
	// boxed caches the Go value of scalar nodes, so that a string read by
	// several expressions is boxed once; boxedSet lists the entries set
	// this record, which the next one clears.
	boxed    []any
	boxedSet []int32
	tops     []int32 // the tape node of each top-level key read (plan.keys), -1 when absent
	budget   *stepBudget
	items    []fval // the elements of the map() predicates running, innermost last
	args     []any  // scratch for helper arguments
	// ids are the identities in view order (the login identity first),
	// computed once per record when a view is read.
	ids     []int32
	idsDone bool
	idsKey  int // index of the identities key, -1 when not read
	// err is the error of a helper call that failed: the expression's
	// error (set when a closure returns false because of it).
	err error
	// The record's scalars, boxed into interfaces without an allocation
	// each (see boxes).
	strings boxes[string]
	ints    boxes[int64]
	fixed   fixedBlocks // the objects of fixed literals (fixed.go)
	// views are the objects handed to helpers as passhash.Objects (see
	// objView); viewFailed is set when one could not give a value.
	views      boxes[objView]
	viewFailed bool
}

// objView is an object of the record as a passhash.Object: helpers that
// only read a few members of it (the password converters) get it instead
// of a map decoded for them.
type objView struct {
	e    *fenv
	node int32
}

// view returns the object node i as an objView.
func (e *fenv) view(i int32) any { return e.views.box(objView{e: e, node: i}) }

// Member returns the value of key as decode builds it, an object as an
// objView.
func (o objView) Member(key string) any {
	e := o.e
	j := e.get(o.node, key, keySigString(key))
	if j < 0 {
		return nil
	}
	if e.isObject(j) {
		return e.view(j)
	}
	v, ok := e.value(j)
	if ok {
		var g any
		if g, ok = e.goValue(v); ok {
			return g
		}
	}
	e.viewFailed = true
	return nil
}

// reset prepares the environment for a record.
func (e *fenv) reset(data []byte) {
	e.data = data
	e.tape = e.tape[:0]
	for _, i := range e.boxedSet {
		e.boxed[i] = nil // do not keep the last record's strings alive
	}
	e.boxedSet = e.boxedSet[:0]
	e.items = e.items[:0]
	e.idsDone = false
	for i := range e.tops {
		e.tops[i] = -1
	}
}

// value turns a node into an fval: null is nil, objects and arrays stay
// raw, scalars are decoded (once per record).
func (e *fenv) value(i int32) (fval, bool) {
	n := &e.tape[i]
	switch e.data[n.vStart] {
	case '{', '[':
		return fval{node: i, isRaw: true}, true
	case 'n':
		return fval{}, true
	case 't':
		return fval{v: true}, true
	case 'f':
		return fval{v: false}, true
	}
	if v := e.boxed[i]; v != nil {
		return fval{v: v}, true
	}
	var v any
	switch {
	case e.data[n.vStart] == '"' && n.flags&tEscaped == 0:
		// A view of the record: the values of one record do not outlive
		// MapRecord (they are encoded into the output before it returns),
		// and the record does not change meanwhile.
		v = e.strings.box(bstr(e.data[n.vStart+1 : n.vEnd-1]))
	case n.flags&tSimpleInt != 0:
		x, err := strconv.ParseInt(bstr(e.data[n.vStart:n.vEnd]), 10, 64)
		if err != nil {
			return fval{}, false
		}
		v = e.ints.box(x)
	default:
		var err error
		if v, err = decodeSpan(e.data, n.span()); err != nil {
			return fval{}, false
		}
	}
	e.boxed[i] = v
	e.boxedSet = append(e.boxedSet, i)
	return fval{v: v}, true
}

// ready sizes the caches for the record's tape, once it is built.
func (e *fenv) ready() {
	if len(e.boxed) < len(e.tape) {
		e.boxed = append(e.boxed, make([]any, len(e.tape)-len(e.boxed))...) // grows to the largest record's tape
	}
}

// goValue returns v as the Go value expr would hold (decoding a raw one).
func (e *fenv) goValue(v fval) (any, bool) {
	if !v.isRaw {
		return v.v, true
	}
	// Decoded once per record, like the scalars: the map engine's
	// expressions share the account's decoded values in the same way.
	if x := e.boxed[v.node]; x != nil {
		return x, true
	}
	x, ok := e.decode(v.node)
	if !ok {
		return nil, false
	}
	e.boxed[v.node] = x
	e.boxedSet = append(e.boxedSet, v.node)
	return x, true
}

// decode builds the Go value of node i as decode builds it from the bytes
// (the same types, the last of repeated keys), from the tape: maps sized to
// their members, strings viewed in the record, scalars boxed once per record.
func (e *fenv) decode(i int32) (any, bool) {
	t := e.tape
	switch e.data[t[i].vStart] {
	case '{':
		n := 0
		for j, end := i+1, t[i].next; j < end; j = t[j].next {
			n++
		}
		m := make(map[string]any, n)
		for j, end := i+1, t[i].next; j < end; j = t[j].next {
			v, ok := e.decode(j)
			if !ok {
				return nil, false
			}
			m[e.key(&t[j])] = v
		}
		return m, true
	case '[':
		n := 0
		for j, end := i+1, t[i].next; j < end; j = t[j].next {
			n++
		}
		s := make([]any, 0, n)
		for j, end := i+1, t[i].next; j < end; j = t[j].next {
			v, ok := e.decode(j)
			if !ok {
				return nil, false
			}
			s = append(s, v)
		}
		return s, true
	}
	v, ok := e.value(i)
	return v.v, ok
}

// isObject and isArray tell a raw node's kind.
func (e *fenv) isObject(i int32) bool { return e.data[e.tape[i].vStart] == '{' }
func (e *fenv) isArray(i int32) bool  { return e.data[e.tape[i].vStart] == '[' }

var (
	sigIsLoginIdentity = keySigString("isLoginIdentity")
	sigProvider        = keySigString("provider")
)

// identities returns the identity objects in view order: the login identity
// (isLoginIdentity exactly true) first, then the others as listed; elements
// that are not objects are left out (addViews).
func (e *fenv) identities() []int32 {
	if e.idsDone {
		return e.ids
	}
	e.idsDone = true
	e.ids = e.ids[:0]
	if e.idsKey < 0 {
		return nil
	}
	arr := e.tops[e.idsKey]
	if arr < 0 || !e.isArray(arr) {
		return nil
	}
	t := e.tape
	for pass := range 2 {
		for j, end := arr+1, t[arr].next; j < end; j = t[j].next {
			if !e.isObject(j) {
				continue
			}
			login := false
			if l := e.get(j, "isLoginIdentity", sigIsLoginIdentity); l >= 0 {
				login = e.data[t[l].vStart] == 't'
			}
			if login == (pass == 0) {
				e.ids = append(e.ids, j)
			}
		}
	}
	return e.ids
}

// fcompiler compiles expression ASTs into fnodes.
type fcompiler struct {
	keyIndex map[string]int // account key -> index in fenv.tops
	funcs    map[string]func(params ...any) (any, error)
	src      file.Source // the source of the program being compiled, for errors
	// outRoot is the root of a field's expression being compiled (nil for
	// filters and defaults): a map() there may build fixedObjs, and then
	// usedFixed is set.
	outRoot   ast.Node
	usedFixed bool
}

// compile returns the closure of n, or false when n uses something the
// evaluator does not cover.
func (c *fcompiler) compile(n ast.Node) (fnode, bool) {
	switch x := n.(type) {
	case *ast.NilNode:
		return func(*fenv) (fval, bool) { return fval{}, true }, true
	case *ast.BoolNode:
		v := fval{v: x.Value}
		return func(*fenv) (fval, bool) { return v, true }, true
	case *ast.StringNode:
		v := fval{v: x.Value}
		return func(*fenv) (fval, bool) { return v, true }, true
	case *ast.IntegerNode:
		var v fval
		switch t := x.Type(); {
		case t == nil || t.Kind() == reflect.Int:
			v.v = x.Value
		case t.Kind() == reflect.Int64:
			v.v = int64(x.Value)
		case t.Kind() == reflect.Float64:
			v.v = float64(x.Value)
		default:
			return nil, false
		}
		return func(*fenv) (fval, bool) { return v, true }, true
	case *ast.FloatNode:
		if t := x.Type(); t != nil && t.Kind() != reflect.Float64 {
			return nil, false
		}
		v := fval{v: x.Value}
		return func(*fenv) (fval, bool) { return v, true }, true
	case *ast.ConstantNode:
		v := fval{v: x.Value}
		return func(*fenv) (fval, bool) { return v, true }, true
	case *ast.IdentifierNode:
		return c.identifier(x)
	case *ast.ChainNode:
		return c.chain(x)
	case *ast.MemberNode:
		return c.member(x)
	case *ast.BuiltinNode:
		return c.builtin(x)
	case *ast.CallNode:
		return c.call(x)
	case *ast.BinaryNode:
		return c.binary(x)
	case *ast.UnaryNode:
		return c.unary(x)
	case *ast.ConditionalNode:
		return c.conditional(x)
	case *ast.PointerNode:
		if x.Name != "" {
			return nil, false // #index, #acc
		}
		return func(e *fenv) (fval, bool) {
			if len(e.items) == 0 {
				return fval{}, false
			}
			return e.items[len(e.items)-1], true
		}, true
	case *ast.MapNode:
		return c.mapLiteral(x)
	case *ast.ArrayNode:
		return c.arrayLiteral(x)
	}
	return nil, false
}

func (c *fcompiler) identifier(x *ast.IdentifierNode) (fnode, bool) {
	i, ok := c.keyIndex[x.Value]
	if !ok {
		// A view used whole, `each`, `$env`, a let variable, the budget
		// outside its call: the machine's business.
		return nil, false
	}
	return func(e *fenv) (fval, bool) {
		n := e.tops[i]
		if n < 0 {
			return fval{}, true // absent: nil (AllowUndefinedVariables)
		}
		return e.value(n)
	}, true
}

// chain is a ChainNode: its members are nil-safe, so nil goes through them;
// at its end a typed nil becomes nil, as the compiler emits.
func (c *fcompiler) chain(x *ast.ChainNode) (fnode, bool) {
	if fn, ok := c.path(x.Node); ok {
		return fn, true
	}
	inner, ok := c.compile(x.Node)
	if !ok {
		return nil, false
	}
	return func(e *fenv) (fval, bool) {
		v, ok := inner(e)
		if ok && !v.isRaw {
			switch v.v.(type) {
			case nil, string, bool, int64, float64, int:
			default:
				if runtime.IsNil(v.v) {
					v = fval{}
				}
			}
		}
		return v, ok
	}, true
}

// path compiles the commonest chain, an account key and field names
// (`profile.address.city`), into one closure that walks the tape: the same
// values as identifier and member closures chained, without their calls.
func (c *fcompiler) path(n ast.Node) (fnode, bool) {
	var keys []string
	for {
		m, ok := n.(*ast.MemberNode)
		if !ok {
			break
		}
		prop, isField := m.Property.(*ast.StringNode)
		if m.Method || !isField || !m.Optional {
			return nil, false
		}
		keys = append(keys, prop.Value)
		n = m.Node
	}
	id, ok := n.(*ast.IdentifierNode)
	if !ok || len(keys) == 0 {
		return nil, false
	}
	i, ok := c.keyIndex[id.Value]
	if !ok {
		return nil, false // the views, `$env`...: the general closures
	}
	slices.Reverse(keys)
	sigs := make([]uint64, len(keys))
	for j, k := range keys {
		sigs[j] = keySigString(k)
	}
	return func(e *fenv) (fval, bool) {
		n := e.tops[i]
		for j, k := range keys {
			if n < 0 {
				return fval{}, true // nil on the way: nil
			}
			switch e.data[e.tape[n].vStart] {
			case '{':
				n = e.get(n, k, sigs[j])
			case 'n':
				return fval{}, true
			default:
				return fval{}, false // a field of a non-object: the machine's error
			}
		}
		if n < 0 {
			return fval{}, true
		}
		return e.value(n)
	}, true
}

func (c *fcompiler) member(x *ast.MemberNode) (fnode, bool) {
	prop, isField := x.Property.(*ast.StringNode)
	if x.Method || !isField || !x.Optional {
		return nil, false
	}
	key := prop.Value
	if id, ok := x.Node.(*ast.IdentifierNode); ok {
		switch id.Value {
		case mergedVar:
			return c.merged(key)
		case IdentityVar:
			return c.byProvider(key)
		}
	}
	base, ok := c.compile(x.Node)
	if !ok {
		return nil, false
	}
	sig := keySigString(key)
	return func(e *fenv) (fval, bool) {
		b, ok := base(e)
		if !ok {
			return fval{}, false
		}
		return e.fetch(b, key, sig)
	}, true
}

// fetch is a nil-safe field access: nil on nil, the member (nil when
// absent) of an object; anything else is the machine's error.
func (e *fenv) fetch(b fval, key string, sig uint64) (fval, bool) {
	if b.isRaw {
		if !e.isObject(b.node) {
			return fval{}, false
		}
		m := e.get(b.node, key, sig)
		if m < 0 {
			return fval{}, true
		}
		return e.value(m)
	}
	switch m := b.v.(type) {
	case nil:
		return fval{}, true
	case map[string]any:
		return fval{v: m[key]}, true
	}
	return fval{}, false
}

// merged is `identities.<key>`: the first non-empty value of key across the
// identities in view order (addViews).
func (c *fcompiler) merged(key string) (fnode, bool) {
	if _, ok := c.keyIndex[identitiesKey]; !ok {
		return nil, false
	}
	sig := keySigString(key)
	return func(e *fenv) (fval, bool) {
		for _, id := range e.identities() {
			m := e.get(id, key, sig)
			if m < 0 {
				continue
			}
			v, ok := e.value(m)
			if !ok {
				return fval{}, false
			}
			g, ok := e.goValue(v)
			if !ok {
				return fval{}, false
			}
			if !isEmpty(g) {
				return fval{v: g}, true
			}
		}
		return fval{}, true
	}, true
}

// byProvider is `identity.<provider>`: the first identity in view order
// whose provider is that (non-empty) string.
func (c *fcompiler) byProvider(provider string) (fnode, bool) {
	if _, ok := c.keyIndex[identitiesKey]; !ok || provider == "" {
		return nil, false
	}
	return func(e *fenv) (fval, bool) {
		for _, id := range e.identities() {
			m := e.get(id, "provider", sigProvider)
			if m < 0 || e.data[e.tape[m].vStart] != '"' {
				continue
			}
			v, ok := e.value(m)
			if !ok {
				return fval{}, false
			}
			if v.v == provider {
				return fval{node: id, isRaw: true}, true
			}
		}
		return fval{}, true
	}, true
}

func (c *fcompiler) builtin(x *ast.BuiltinNode) (fnode, bool) {
	switch {
	case x.Name == "get" && len(x.Arguments) == 2:
		return c.get(x)
	case x.Name == "map" && len(x.Arguments) == 2:
		return c.mapBuiltin(x)
	}
	return nil, false
}

// get is what nilSafe makes of an index: nil for a nil base or an index out
// of range; negative indexes count from the end.
func (c *fcompiler) get(x *ast.BuiltinNode) (fnode, bool) {
	idx, ok := x.Arguments[1].(*ast.IntegerNode)
	if !ok {
		return nil, false
	}
	i := idx.Value
	base, ok := c.compile(x.Arguments[0])
	if !ok {
		return nil, false
	}
	return func(e *fenv) (fval, bool) {
		b, ok := base(e)
		if !ok {
			return fval{}, false
		}
		if b.isRaw {
			if !e.isArray(b.node) {
				return fval{}, false
			}
			el := e.index(b.node, i)
			if el < 0 {
				return fval{}, true
			}
			return e.value(el)
		}
		switch s := b.v.(type) {
		case nil:
			return fval{}, true
		case []any:
			j := i
			if j < 0 {
				j += len(s)
			}
			if j < 0 || j >= len(s) {
				return fval{}, true
			}
			return fval{v: s[j]}, true
		}
		return fval{}, false
	}, true
}

// mapLimit bounds the arrays map() walks here; longer ones go to the
// machine, which also accounts their memory against its budget.
const mapLimit = 10_000

func (c *fcompiler) mapBuiltin(x *ast.BuiltinNode) (fnode, bool) {
	pred, ok := x.Arguments[1].(*ast.PredicateNode)
	if !ok {
		return nil, false
	}
	arr, ok := c.compile(x.Arguments[0])
	if !ok {
		return nil, false
	}
	var apply func(e *fenv, item fval) (any, bool)
	if ast.Node(x) == c.outRoot {
		if apply, ok = c.fixedLiteral(pred.Node); ok {
			c.usedFixed = true
		}
	}
	if apply == nil {
		body, ok := c.compile(pred.Node)
		if !ok {
			return nil, false
		}
		apply = func(e *fenv, item fval) (any, bool) { return e.apply(body, item) }
	}
	return func(e *fenv) (fval, bool) {
		a, ok := arr(e)
		if !ok {
			return fval{}, false
		}
		if a.isRaw {
			if !e.isArray(a.node) {
				return fval{}, false
			}
			n := 0
			for j, end := a.node+1, e.tape[a.node].next; j < end; j = e.tape[j].next {
				n++
			}
			if n > mapLimit {
				return fval{}, false
			}
			out := make([]any, 0, n)
			for j, end := a.node+1, e.tape[a.node].next; j < end; j = e.tape[j].next {
				item, ok := e.value(j)
				if !ok {
					return fval{}, false
				}
				v, ok := apply(e, item)
				if !ok {
					return fval{}, false
				}
				out = append(out, v)
			}
			return fval{v: out}, true
		}
		s, isSlice := a.v.([]any)
		if !isSlice || len(s) > mapLimit {
			return fval{}, false
		}
		out := make([]any, 0, len(s))
		for _, it := range s {
			v, ok := apply(e, fval{v: it})
			if !ok {
				return fval{}, false
			}
			out = append(out, v)
		}
		return fval{v: out}, true
	}, true
}

// apply evaluates a predicate body with `#` bound to item, returning its
// value as a Go value (the machine's arrays hold Go values).
func (e *fenv) apply(body fnode, item fval) (any, bool) {
	e.items = append(e.items, item)
	v, ok := body(e)
	e.items = e.items[:len(e.items)-1]
	if !ok {
		return nil, false
	}
	return e.goValue(v)
}

func (c *fcompiler) call(x *ast.CallNode) (fnode, bool) {
	id, ok := x.Callee.(*ast.IdentifierNode)
	if !ok {
		return nil, false
	}
	if id.Value == stepFunc {
		return c.step(x)
	}
	fn, ok := c.funcs[id.Value]
	if !ok {
		return nil, false
	}
	if id.Value == "coalesce" {
		if fn, ok := c.coalesce(x); ok {
			return fn, true
		}
	}
	args, ok := c.compileAll(x.Arguments)
	if !ok {
		return nil, false
	}
	loc, src := x.Location(), c.src
	views := mapfunc.TakesObjectView(id.Value)
	return func(e *fenv) (fval, bool) {
		base := len(e.args)
		for i, a := range args {
			v, ok := a(e)
			if !ok {
				e.args = e.args[:base]
				return fval{}, false
			}
			var g any
			if i == 0 && views && v.isRaw && e.isObject(v.node) {
				g = e.view(v.node)
			} else if g, ok = e.goValue(v); !ok {
				e.args = e.args[:base]
				return fval{}, false
			}
			e.args = append(e.args, g)
		}
		e.viewFailed = false
		out, err := fn(e.args[base:]...)
		e.args = e.args[:base] // (the stale entries are overwritten by the next calls)
		if e.viewFailed {
			return fval{}, false // a value a view could not give: the machine's case
		}
		if err != nil {
			// The machine stops at the first failing call and returns its
			// error as a *file.Error at the call, wrapping the helper's:
			// the same error, without running the expression again.
			fe := &file.Error{Location: loc, Message: fmt.Sprintf("%v", err)}
			fe.Wrap(err)
			e.err = fe.Bind(src)
			return fval{}, false
		}
		return fval{v: out}, true
	}, true
}

// coalesce compiles coalesce(a, b, ...) into a closure that picks the
// first argument that is not empty (mapfunc.IsEmpty) without the call: no
// boxing of the arguments, no decoding of a raw one. The machine evaluates
// every argument before the call, so an argument after the chosen one is
// still evaluated, and may fail as it would there (a field of a string,
// say), unless it is one that cannot fail (cannotFail): that one is skipped.
func (c *fcompiler) coalesce(x *ast.CallNode) (fnode, bool) {
	args, ok := c.compileAll(x.Arguments)
	if !ok {
		return nil, false
	}
	safe := make([]bool, len(args))
	for i, a := range x.Arguments {
		safe[i] = cannotFail(a)
	}
	return func(e *fenv) (fval, bool) {
		var first fval
		found := false
		for i, a := range args {
			if found && safe[i] {
				continue
			}
			v, ok := a(e)
			if !ok {
				return fval{}, false
			}
			if found {
				continue
			}
			if v.isRaw {
				found = e.tape[v.node].next > v.node+1 // an object or array with members
			} else {
				found = !mapfunc.IsEmpty(v.v)
			}
			if found {
				first = v
			}
		}
		return first, true
	}, true
}

// cannotFail reports whether the machine evaluates n without an error
// whatever the record holds: a top-level name (an absent one is nil), a
// literal, or a field of an identity view (views are maps).
func cannotFail(n ast.Node) bool {
	switch x := n.(type) {
	case *ast.IdentifierNode, *ast.StringNode, *ast.IntegerNode, *ast.FloatNode, *ast.BoolNode, *ast.NilNode:
		return true
	case *ast.ChainNode:
		return cannotFail(x.Node)
	case *ast.MemberNode:
		id, ok := x.Node.(*ast.IdentifierNode)
		_, field := x.Property.(*ast.StringNode)
		return ok && field && !x.Method && (id.Value == mergedVar || id.Value == IdentityVar)
	}
	return false
}

// step is the loop-iteration counter the budget patch wraps around every
// predicate body: it passes the body's value through.
func (c *fcompiler) step(x *ast.CallNode) (fnode, bool) {
	inner, ok := stepBody(x)
	if !ok {
		return nil, false
	}
	body, ok := c.compile(inner)
	if !ok {
		return nil, false
	}
	return func(e *fenv) (fval, bool) {
		v, ok := body(e)
		if !ok {
			return fval{}, false
		}
		e.budget.used++
		if e.budget.used > MaxSteps {
			return fval{}, false // the machine reports the limit
		}
		return v, true
	}, true
}

// stepBody returns the body x counts when x is the budget's step call
// (step($budget, body)).
func stepBody(x *ast.CallNode) (ast.Node, bool) {
	id, _ := x.Callee.(*ast.IdentifierNode)
	if id == nil || id.Value != stepFunc || len(x.Arguments) != 2 {
		return nil, false
	}
	if b, ok := x.Arguments[0].(*ast.IdentifierNode); !ok || b.Value != budgetVar {
		return nil, false
	}
	return x.Arguments[1], true
}

func (c *fcompiler) binary(x *ast.BinaryNode) (fnode, bool) {
	left, ok := c.compile(x.Left)
	if !ok {
		return nil, false
	}
	right, ok := c.compile(x.Right)
	if !ok {
		return nil, false
	}
	switch x.Operator {
	case "==", "!=":
		negate := x.Operator == "!="
		return func(e *fenv) (fval, bool) {
			a, ok := left(e)
			if !ok {
				return fval{}, false // the right side never runs (a failed call stops all)
			}
			b, ok := right(e)
			if !ok {
				return fval{}, false
			}
			av, ok1 := e.goValue(a)
			bv, ok2 := e.goValue(b)
			if !ok1 || !ok2 {
				return fval{}, false
			}
			return fval{v: runtime.Equal(av, bv) != negate}, true
		}, true
	case "??":
		return func(e *fenv) (fval, bool) {
			a, ok := left(e)
			if !ok {
				return fval{}, false
			}
			if a.isRaw || !runtime.IsNil(a.v) {
				return a, true
			}
			return right(e)
		}, true
	case "&&", "and", "||", "or":
		// Short-circuit, as expr compiles them by default: the left side
		// must be a boolean (the jump asserts it); the value is the left
		// side when it decides, else the right side as it is.
		decides := x.Operator == "||" || x.Operator == "or"
		return func(e *fenv) (fval, bool) {
			a, ok := left(e)
			if !ok || a.isRaw {
				return fval{}, false
			}
			b, isBool := a.v.(bool)
			if !isBool {
				return fval{}, false
			}
			if b == decides {
				return a, true
			}
			return right(e)
		}, true
	}
	return nil, false
}

func (c *fcompiler) unary(x *ast.UnaryNode) (fnode, bool) {
	if x.Operator != "!" && x.Operator != "not" {
		return nil, false
	}
	inner, ok := c.compile(x.Node)
	if !ok {
		return nil, false
	}
	return func(e *fenv) (fval, bool) {
		a, ok := inner(e)
		if !ok || a.isRaw {
			return fval{}, false
		}
		b, isBool := a.v.(bool)
		if !isBool {
			return fval{}, false
		}
		return fval{v: !b}, true
	}, true
}

func (c *fcompiler) conditional(x *ast.ConditionalNode) (fnode, bool) {
	cond, ok1 := c.compile(x.Cond)
	yes, ok2 := c.compile(x.Exp1)
	no, ok3 := c.compile(x.Exp2)
	if !ok1 || !ok2 || !ok3 {
		return nil, false
	}
	return func(e *fenv) (fval, bool) {
		a, ok := cond(e)
		if !ok || a.isRaw {
			return fval{}, false
		}
		b, isBool := a.v.(bool)
		if !isBool {
			return fval{}, false
		}
		if b {
			return yes(e)
		}
		return no(e)
	}, true
}

func (c *fcompiler) mapLiteral(x *ast.MapNode) (fnode, bool) {
	keys, nodes, ok := literalPairs(x)
	if !ok {
		return nil, false
	}
	vals, ok := c.compileAll(nodes)
	if !ok {
		return nil, false
	}
	return func(e *fenv) (fval, bool) {
		m := make(map[string]any, len(keys))
		for i, k := range keys {
			v, ok := vals[i](e)
			if !ok {
				return fval{}, false
			}
			g, ok := e.goValue(v)
			if !ok {
				return fval{}, false
			}
			m[k] = g
		}
		return fval{v: m}, true
	}, true
}

// literalPairs returns the keys of an object literal and their value
// nodes, in the literal's order; false when a key is not a constant string
// or is repeated (expr's machine keeps the first value of those: left to
// it).
func literalPairs(x *ast.MapNode) ([]string, []ast.Node, bool) {
	keys := make([]string, len(x.Pairs))
	vals := make([]ast.Node, len(x.Pairs))
	for i, p := range x.Pairs {
		pair, ok := p.(*ast.PairNode)
		if !ok {
			return nil, nil, false
		}
		k, ok := pair.Key.(*ast.StringNode)
		if !ok || slices.Contains(keys[:i], k.Value) {
			return nil, nil, false
		}
		keys[i], vals[i] = k.Value, pair.Value
	}
	return keys, vals, true
}

// compileAll compiles each of nodes.
func (c *fcompiler) compileAll(nodes []ast.Node) ([]fnode, bool) {
	out := make([]fnode, len(nodes))
	for i, n := range nodes {
		var ok bool
		if out[i], ok = c.compile(n); !ok {
			return nil, false
		}
	}
	return out, true
}

func (c *fcompiler) arrayLiteral(x *ast.ArrayNode) (fnode, bool) {
	vals, ok := c.compileAll(x.Nodes)
	if !ok {
		return nil, false
	}
	return func(e *fenv) (fval, bool) {
		out := make([]any, len(vals))
		for i, vn := range vals {
			v, ok := vn(e)
			if !ok {
				return fval{}, false
			}
			if out[i], ok = e.goValue(v); !ok {
				return fval{}, false
			}
		}
		return fval{v: out}, true
	}, true
}

// helperFuncs is the helper library by name, for the compiler.
func helperFuncs() map[string]func(params ...any) (any, error) { return mapfunc.Funcs() }
