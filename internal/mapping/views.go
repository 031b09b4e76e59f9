package mapping

import "github.com/expr-lang/expr/ast"

// Names the engine adds to a record's environment. They are reserved: an
// account key with the same name is hidden by the view.
const (
	// IdentityVar is the by-provider view of `identities`:
	// identity.facebook.providerUID is the first facebook identity's
	// providerUID (the login identity first).
	IdentityVar = "identity"
	// EachVar is the current element of the exploded array (`explode:`).
	EachVar = "each"
	// mergedVar holds the merged view that `identities.<name>` is rewritten
	// to; not meant to be written by authors.
	mergedVar = "_identities_merged"
	// identitiesKey is Gigya's array of social and site identities.
	identitiesKey = "identities"
)

// identitiesView is an [ast.Visitor] (applied before nilSafe) that rewrites a
// field access on the top-level identities array — `identities.country`,
// which an array cannot answer — into the merged view, so a spec row like
// "identities.country → Country.Code" is written as it reads. Indexing and
// array functions (`identities[0]`, `len(identities)`, `map(identities, ...)`)
// still see the raw array.
type identitiesView struct{}

// Visit implements ast.Visitor.
func (identitiesView) Visit(node *ast.Node) {
	m, ok := (*node).(*ast.MemberNode)
	if !ok || m.Method {
		return
	}
	id, ok := m.Node.(*ast.IdentifierNode)
	if !ok || id.Value != identitiesKey {
		return
	}
	if _, ok := m.Property.(*ast.StringNode); !ok {
		return
	}
	merged := &ast.IdentifierNode{Value: mergedVar}
	merged.SetLocation(id.Location())
	m.Node = merged
}

// addViews adds the identity views a mapping uses to the record's env.
// Identities are ordered login identity first, then as Gigya lists them:
// the login identity is the one the user actually uses, so its values win.
func addViews(account map[string]any, byProvider, merged bool) {
	raw, _ := account[identitiesKey].([]any)
	ordered := make([]map[string]any, 0, len(raw))
	for pass := range 2 {
		for _, it := range raw {
			obj, ok := it.(map[string]any)
			if !ok {
				continue
			}
			if login, _ := obj["isLoginIdentity"].(bool); login == (pass == 0) {
				ordered = append(ordered, obj)
			}
		}
	}
	if byProvider {
		view := make(map[string]any, len(ordered))
		for _, obj := range ordered {
			if p, _ := obj["provider"].(string); p != "" {
				if _, seen := view[p]; !seen {
					view[p] = obj
				}
			}
		}
		account[IdentityVar] = view
	}
	if merged {
		view := map[string]any{}
		for _, obj := range ordered {
			for k, v := range obj {
				if _, seen := view[k]; !seen && !isEmpty(v) {
					view[k] = v
				}
			}
		}
		account[mergedVar] = view
	}
}
