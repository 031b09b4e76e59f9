package mapping

import "github.com/expr-lang/expr/ast"

// nilSafe is an [ast.Visitor], applied with expr.Patch before type checking,
// that makes every member and index access nil-safe, so mapping authors never
// have to write `?.` against sparse Gigya records.
//
// How expr represents optional access (parser output in v1.17): `a?.b` is a
// MemberNode{Optional: true} and the whole access chain that contains it is
// wrapped in ONE ChainNode at its outermost member (`a?.b.c` parses as
// Chain(Member(Member(a, "b", optional), "c"))). The compiler emits, for an
// optional member, a jump-if-nil to the end of the innermost enclosing chain,
// where nil is pushed as the chain's value. So the rewrite is:
//
//   - a field access (`a.b`, `a["b"]`: the property is a string literal) is
//     marked Optional, a ChainNode directly under it is dissolved into it
//     (as the parser does) and the member itself is wrapped in a ChainNode.
//     The walk is post-order, so the outermost member of a chain ends up
//     holding the only ChainNode and the whole chain short-circuits to nil
//     as soon as any step is nil;
//   - an index access with any other property (`a[0]`, `a[-1]`, `a[i]`) is
//     replaced by the builtin get(a, i): Optional only guards a nil base,
//     while runtime.Fetch panics on an out-of-range index, and get returns
//     nil for a nil base, an out-of-range index or a missing map key.
//
// What stays an error (by design: these are type mismatches, which mean the
// mapping and the data disagree, not that a value is absent): a field access
// on a value that is not an object (`profile.email.x` with a string email),
// an index that is not a number on an array (a nil one included: get
// converts it with int()), a non-string key on an object. With a known
// static type, get also refuses to index a string at compile time.
// Method calls (`x.Method()`), slices (`a[1:2]`) and builtins (`lower(nil)`,
// `len(nil)`, `filter(nil, ...)`) keep expr's own semantics; authors use
// `?? ""` / `?? []` there.
type nilSafe struct{}

// Visit implements ast.Visitor.
func (nilSafe) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.MemberNode:
		if n.Method {
			// The callee of a method call: the CallNode expects the
			// member itself, leave it (its base is made safe separately).
			return
		}
		if _, field := n.Property.(*ast.StringNode); field {
			n.Optional = true
			if c, ok := n.Node.(*ast.ChainNode); ok {
				n.Node = c.Node
			}
			ast.Patch(node, &ast.ChainNode{Node: n})
			return
		}
		ast.Patch(node, &ast.BuiltinNode{
			Name:      "get",
			Arguments: []ast.Node{n.Node, n.Property},
		})
	case *ast.ChainNode:
		// A chain the author wrote with `?.` now encloses the chain we
		// wrapped around its outermost member: one is enough.
		if c, ok := n.Node.(*ast.ChainNode); ok {
			n.Node = c.Node
		}
	}
}
