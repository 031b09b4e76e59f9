package mapping

import (
	"github.com/expr-lang/expr/ast"
)

// inputKeys collects the top-level account keys an expression can read, from
// its final (patched, optimised) AST. all is true when it cannot tell: `$env`
// used as a whole or indexed with a computed key.
//
// An identifier reads the account unless it is a function callee or a `let`
// variable in scope. Scope is handled without a full scope walk: inside the
// body (Expr) of `let x = ...; body`, every identifier named x refers to a
// let variable (this one or a nested redeclaration), never to the account;
// in the Value part it still refers to the account. The result may name keys
// no record has (harmless); it never misses one that is read.
func inputKeys(root ast.Node, into map[string]struct{}) (all bool) {
	c := &keyCollector{
		local:   map[*ast.IdentifierNode]bool{},
		callee:  map[*ast.IdentifierNode]bool{},
		envBase: map[*ast.IdentifierNode]bool{},
	}
	ast.Walk(&root, c)
	for _, d := range c.lets {
		body := d.Expr
		ast.Walk(&body, &letScope{name: d.Name, local: c.local})
	}
	for _, id := range c.idents {
		switch {
		case c.callee[id] || c.local[id]:
		case id.Value == "$env":
			if !c.envBase[id] {
				all = true
			}
		default:
			into[id.Value] = struct{}{}
		}
	}
	for k := range c.envKeys {
		into[k] = struct{}{}
	}
	return all
}

type keyCollector struct {
	idents  []*ast.IdentifierNode
	lets    []*ast.VariableDeclaratorNode
	local   map[*ast.IdentifierNode]bool
	callee  map[*ast.IdentifierNode]bool
	envBase map[*ast.IdentifierNode]bool // `$env` used as `$env.key` / `$env["key"]`
	envKeys map[string]struct{}
}

func (c *keyCollector) Visit(node *ast.Node) {
	switch n := (*node).(type) {
	case *ast.IdentifierNode:
		c.idents = append(c.idents, n)
	case *ast.VariableDeclaratorNode:
		c.lets = append(c.lets, n)
	case *ast.CallNode:
		if id, ok := n.Callee.(*ast.IdentifierNode); ok {
			c.callee[id] = true
		}
	case *ast.MemberNode:
		c.envAccess(n.Node, n.Property)
	case *ast.BuiltinNode:
		if n.Name == "get" && len(n.Arguments) == 2 {
			c.envAccess(n.Arguments[0], n.Arguments[1])
		}
	}
}

// envAccess records `$env.key`, `$env["key"]` and get($env, "key"): a
// constant key names the one account key read.
func (c *keyCollector) envAccess(base, key ast.Node) {
	id, ok := base.(*ast.IdentifierNode)
	if !ok || id.Value != "$env" {
		return
	}
	if s, ok := key.(*ast.StringNode); ok {
		c.envBase[id] = true
		if c.envKeys == nil {
			c.envKeys = map[string]struct{}{}
		}
		c.envKeys[s.Value] = struct{}{}
	}
}

// letScope marks the identifiers named name inside a let body as local.
type letScope struct {
	name  string
	local map[*ast.IdentifierNode]bool
}

func (l *letScope) Visit(node *ast.Node) {
	if id, ok := (*node).(*ast.IdentifierNode); ok && id.Value == l.name {
		l.local[id] = true
	}
}
