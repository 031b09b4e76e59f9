package auth0sim

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// queryError is a 400 invalid_query_string answer (docs/apis/auth0.md,
// "Management API errors").
type queryError struct{ msg string }

func (e *queryError) Error() string { return e.msg }

func invalidQuery(format string, args ...any) *queryError {
	return &queryError{msg: fmt.Sprintf(format, args...)}
}

func writeQueryError(w http.ResponseWriter, err *queryError) {
	writeError(w, http.StatusBadRequest, err.msg, "invalid_query_string")
}

// params reads and validates query parameters the way the Management API
// describes them: booleans are true or false, integers are integers within
// their range.
type params struct{ q url.Values }

func (p params) has(name string) bool { return p.q.Has(name) }

func (p params) str(name string) string { return p.q.Get(name) }

func (p params) boolean(name string, def bool) (bool, *queryError) {
	if !p.q.Has(name) {
		return def, nil
	}
	switch p.q.Get(name) {
	case "true":
		return true, nil
	case "false":
		return false, nil
	}
	return false, invalidQuery("Query validation error: 'Expected type boolean but found type string' on property %s", name)
}

func (p params) integer(name string, def, lo, hi int) (int, *queryError) {
	if !p.q.Has(name) {
		return def, nil
	}
	n, err := strconv.Atoi(p.q.Get(name))
	switch {
	case err != nil:
		return 0, invalidQuery("Query validation error: 'Expected type integer but found type string' on property %s", name)
	case n < lo:
		return 0, invalidQuery("Query validation error: 'Value %d is less than minimum %d' on property %s", n, lo, name)
	case n > hi:
		return 0, invalidQuery("Query validation error: 'Value %d is greater than maximum %d' on property %s", n, hi, name)
	}
	return n, nil
}

// projection is the fields / include_fields pair: a comma-separated list of
// top-level fields to keep (include_fields=true, the default) or to drop.
type projection struct {
	fields  map[string]bool
	include bool
}

func (p params) projection() (projection, *queryError) {
	include, err := p.boolean("include_fields", true)
	if err != nil {
		return projection{}, err
	}
	pr := projection{include: include}
	for _, f := range strings.Split(p.q.Get("fields"), ",") {
		if f = strings.TrimSpace(f); f != "" {
			if pr.fields == nil {
				pr.fields = map[string]bool{}
			}
			pr.fields[f] = true
		}
	}
	return pr, nil
}

// apply keeps or drops the listed fields of m (in place) and returns it.
func (pr projection) apply(m map[string]any) map[string]any {
	if pr.fields == nil {
		return m
	}
	for k := range m {
		if pr.fields[k] != pr.include {
			delete(m, k)
		}
	}
	return m
}

// window is the offset page of a list: page (zero-based) and per_page.
type window struct{ page, perPage int }

func (wn window) slice(n int) (lo, hi int) {
	lo = min(wn.page*wn.perPage, n)
	return lo, min(lo+wn.perPage, n)
}
