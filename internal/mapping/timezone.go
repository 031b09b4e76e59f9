package mapping

import (
	"reflect"
	"time"

	"github.com/expr-lang/expr/ast"
)

// fixedZone is an [ast.Visitor] that makes the builtins date() and now() use
// one time zone instead of the host's local one, so two transformer
// instances on differently configured hosts map a record identically (it
// matters for date strings without a zone and for now()).
//
// It does what expr.Timezone does (patcher.WithTimezone: pass the location
// as a constant first argument) and also types the constant. expr v1.17.8
// leaves that constant untyped when the date() call is the receiver of a
// method, as in `date(created).Year()`; the compiler then dereferences the
// *time.Location and date() fails at runtime with "interface conversion:
// interface {} is time.Location, not string".
type fixedZone struct {
	loc *time.Location
}

// Visit implements ast.Visitor.
func (z fixedZone) Visit(node *ast.Node) {
	b, ok := (*node).(*ast.BuiltinNode)
	if !ok || (b.Name != "date" && b.Name != "now") {
		return
	}
	if len(b.Arguments) > 0 {
		if c, ok := b.Arguments[0].(*ast.ConstantNode); ok {
			if _, ok := c.Value.(*time.Location); ok {
				return // already patched
			}
		}
	}
	loc := &ast.ConstantNode{Value: z.loc}
	loc.SetType(reflect.TypeOf(z.loc))
	ast.Patch(node, &ast.BuiltinNode{
		Name:      b.Name,
		Arguments: append([]ast.Node{loc}, b.Arguments...),
	})
}
