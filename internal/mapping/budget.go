package mapping

import (
	"fmt"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
)

// MaxSteps bounds the loop iterations (closure calls of map, filter, reduce,
// all, any, sortBy...) of one record's evaluation, all fields together. The
// node budget bounds what a mapping says, expr's memory budget what it
// allocates; neither stops `reduce(1..1000, reduce(1..1000, ...))`, which
// allocates nothing and would hold a worker for minutes while its record is
// redelivered again and again. A million iterations is far beyond any real
// mapping (the CPU-heavy benchmark mapping uses 6,000) and takes well under
// a second.
const MaxSteps = 1_000_000

// budgetVar is the private account key holding the running record's
// *stepBudget; stepFunc counts one iteration against it.
const (
	budgetVar = "_gm_steps"
	stepFunc  = "_gm_step"
)

// stepBudget counts one record's loop iterations.
type stepBudget struct{ used int }

// stepLimit is an [ast.Visitor] that wraps the body of every closure in a
// call of stepFunc, so that each iteration is counted.
type stepLimit struct{}

// Visit implements ast.Visitor.
func (stepLimit) Visit(node *ast.Node) {
	p, ok := (*node).(*ast.PredicateNode)
	if !ok {
		return
	}
	if c, ok := p.Node.(*ast.CallNode); ok {
		if id, ok := c.Callee.(*ast.IdentifierNode); ok && id.Value == stepFunc {
			return // already wrapped
		}
	}
	p.Node = &ast.CallNode{
		Callee:    &ast.IdentifierNode{Value: stepFunc},
		Arguments: []ast.Node{&ast.IdentifierNode{Value: budgetVar}, p.Node},
	}
}

// stepOption registers stepFunc. It passes the body's value through; past
// MaxSteps it fails the field. Without a budget in the account (a caller
// that runs a program directly), nothing is counted.
func stepOption() expr.Option {
	return expr.Function(stepFunc, func(params ...any) (any, error) {
		if b, ok := params[0].(*stepBudget); ok {
			b.used++
			if b.used > MaxSteps {
				return nil, fmt.Errorf("evaluation step limit exceeded: more than %d loop iterations for one record (a loop over a huge range?)", MaxSteps)
			}
		}
		return params[1], nil
	})
}
