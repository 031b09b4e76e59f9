package auth0sim

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"unicode"
)

// User search limits (docs/apis/auth0.md, "User search").
const (
	usersPerPageDefault = 50
	usersMaxPerPage     = 100
	usersMaxResults     = 1000
)

// hidden are the import fields the Management API never returns.
var hidden = []string{"password_hash", "custom_password_hash", "mfa_factors"}

// apiUserLocked is a stored user as the Management API returns it
// (docs/apis/auth0.md, "Users"): the fields the import stored but the
// hashes and MFA factors, the email lower-cased as Auth0 stores it, and one
// identity of the database connection. s.mu must be held.
func (s *Sim) apiUserLocked(su *storedUser) map[string]any {
	u := deepCopy(su.data)
	for _, f := range hidden {
		delete(u, f)
	}
	if email, ok := u["email"].(string); ok {
		u["email"] = strings.ToLower(email)
	}
	id, _ := u["user_id"].(string)
	u["identities"] = []any{map[string]any{
		"connection": s.opts.Connection,
		"provider":   "auth0",
		"user_id":    strings.TrimPrefix(id, "auth0|"),
		"isSocial":   false,
	}}
	return u
}

// handleGetUser answers GET /api/v2/users/{id}.
func (s *Sim) handleGetUser(w http.ResponseWriter, r *http.Request) {
	pr, qerr := params{r.URL.Query()}.projection()
	if qerr != nil {
		writeQueryError(w, qerr)
		return
	}
	s.mu.Lock()
	var u map[string]any
	if key, ok := s.byID[r.PathValue("id")]; ok {
		u = s.apiUserLocked(s.users[key])
	}
	s.mu.Unlock()
	if u == nil {
		writeError(w, http.StatusNotFound, "The user does not exist.", "inexistent_user")
		return
	}
	writeJSON(w, http.StatusOK, pr.apply(u))
}

// handleUsersByEmail answers GET /api/v2/users-by-email?email=: an array,
// empty when nobody matches. The match is exact against the stored,
// lower-cased email, so an address with capitals finds nobody, as on Auth0
// (docs/apis/auth0.md, "Users by email").
func (s *Sim) handleUsersByEmail(w http.ResponseWriter, r *http.Request) {
	p := params{r.URL.Query()}
	pr, qerr := p.projection()
	if qerr != nil {
		writeQueryError(w, qerr)
		return
	}
	email := p.str("email")
	if email == "" {
		writeQueryError(w, invalidQuery("Query validation error: 'Missing required property: email' on property email"))
		return
	}
	out := []map[string]any{}
	s.mu.Lock()
	if su, ok := s.users[email]; ok {
		out = append(out, pr.apply(s.apiUserLocked(su)))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}

// handleSearchUsers answers GET /api/v2/users: q in the subset of the v3
// query syntax that parseUserQuery reads, sort, page/per_page (default 50,
// at most 100, and no further than the first 1000 results), include_totals
// ({start, limit, length, total, users}), fields/include_fields.
func (s *Sim) handleSearchUsers(w http.ResponseWriter, r *http.Request) {
	p := params{r.URL.Query()}
	pr, qerr := p.projection()
	var totals bool
	if qerr == nil {
		totals, qerr = p.boolean("include_totals", false)
	}
	var wn window
	if qerr == nil {
		wn.page, qerr = p.integer("page", 0, 0, usersMaxResults)
	}
	if qerr == nil {
		wn.perPage, qerr = p.integer("per_page", usersPerPageDefault, 1, usersMaxPerPage)
	}
	if qerr == nil && (wn.page+1)*wn.perPage > usersMaxResults {
		qerr = invalidQuery("You can only page through the first %d records", usersMaxResults)
	}
	if qerr == nil {
		switch e := p.str("search_engine"); e {
		case "", "v3":
		default:
			qerr = invalidQuery("Query validation error: the simulator implements search_engine v3 only, got %q", e)
		}
	}
	var match func(map[string]any) bool
	if qerr == nil {
		match, qerr = parseUserQuery(p.str("q"))
	}
	var less func(a, b map[string]any) int
	if qerr == nil {
		less, qerr = parseSort(p.str("sort"))
	}
	if qerr != nil {
		writeQueryError(w, qerr)
		return
	}

	s.mu.Lock()
	var found []map[string]any
	for _, key := range s.order {
		if u := s.apiUserLocked(s.users[key]); match(u) {
			found = append(found, u)
		}
	}
	s.mu.Unlock()
	if less != nil {
		slices.SortStableFunc(found, less)
	}
	lo, hi := wn.slice(len(found))
	page := make([]map[string]any, 0, hi-lo)
	for _, u := range found[lo:hi] {
		page = append(page, pr.apply(u))
	}
	if !totals {
		writeJSON(w, http.StatusOK, page)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"start":  wn.page * wn.perPage,
		"limit":  wn.perPage,
		"length": len(page),
		"total":  len(found),
		"users":  page,
	})
}

// parseSort reads field:1 (ascending) or field:-1 (descending) on a
// top-level string field.
func parseSort(v string) (func(a, b map[string]any) int, *queryError) {
	if v == "" {
		return nil, nil
	}
	field, dir, ok := strings.Cut(v, ":")
	if !ok || field == "" || (dir != "1" && dir != "-1") {
		return nil, invalidQuery("Query validation error: 'sort' must be field:1 or field:-1, got %q", v)
	}
	return func(a, b map[string]any) int {
		x, _ := a[field].(string)
		y, _ := b[field].(string)
		if dir == "-1" {
			return cmp.Compare(y, x)
		}
		return cmp.Compare(x, y)
	}, nil
}

// Fields of the query subset and how they match (docs/apis/auth0.md, "User
// search"): the normalized profile fields ignore case, the others do not.
var queryFields = map[string]struct {
	foldCase bool
	values   func(u map[string]any, field string) []string
}{
	"email":                 {true, topLevel},
	"name":                  {true, topLevel},
	"given_name":            {true, topLevel},
	"family_name":           {true, topLevel},
	"nickname":              {true, topLevel},
	"username":              {false, topLevel},
	"user_id":               {false, topLevel},
	"phone_number":          {false, topLevel},
	"email_verified":        {false, topLevel},
	"blocked":               {false, topLevel},
	"identities.user_id":    {false, identityField},
	"identities.connection": {false, identityField},
	"identities.provider":   {false, identityField},
}

func topLevel(u map[string]any, field string) []string {
	v, ok := u[field]
	if !ok || v == nil {
		return nil
	}
	return []string{fmt.Sprint(v)}
}

func identityField(u map[string]any, field string) []string {
	_, name, _ := strings.Cut(field, ".")
	ids, _ := u["identities"].([]any)
	var out []string
	for _, id := range ids {
		if m, ok := id.(map[string]any); ok {
			if v, ok := m[name]; ok {
				out = append(out, fmt.Sprint(v))
			}
		}
	}
	return out
}

// parseUserQuery reads the subset of Auth0's user search syntax the
// simulator implements: field:value or field:"value" terms, exact matches,
// joined by AND and OR (AND binds tighter). An empty q matches everyone.
// Anything else (wildcards, ranges, parentheses, NOT, free text, other
// fields) is refused with 400 rather than matched differently from Auth0.
func parseUserQuery(q string) (func(map[string]any) bool, *queryError) {
	type term struct {
		field string
		value string
	}
	var groups [][]term // OR of ANDs
	var cur []term
	rest := strings.TrimSpace(q)
	if rest == "" {
		return func(map[string]any) bool { return true }, nil
	}
	bad := func(why string) (func(map[string]any) bool, *queryError) {
		return nil, invalidQuery("Invalid query %q: %s (the simulator reads field:value and field:\"value\" terms joined by AND or OR)", q, why)
	}
	expectTerm := true
	for rest != "" {
		if !expectTerm {
			op, after, _ := strings.Cut(rest, " ")
			switch op {
			case "AND":
			case "OR":
				groups, cur = append(groups, cur), nil
			default:
				return bad("expected AND or OR before " + strconvQuote(rest))
			}
			rest, expectTerm = strings.TrimSpace(after), true
			continue
		}
		field, after, ok := strings.Cut(rest, ":")
		if !ok || field == "" || strings.IndexFunc(field, unicode.IsSpace) >= 0 {
			return bad("expected field:value at " + strconvQuote(rest))
		}
		if _, known := queryFields[field]; !known {
			return bad("field " + field + " is not simulated")
		}
		var value string
		if strings.HasPrefix(after, `"`) {
			var b strings.Builder
			i, closed := 1, false
			for ; i < len(after); i++ {
				c := after[i]
				if c == '\\' && i+1 < len(after) {
					i++
					b.WriteByte(after[i])
					continue
				}
				if c == '"' {
					closed = true
					break
				}
				b.WriteByte(c)
			}
			if !closed {
				return bad("unterminated quote")
			}
			value, rest = b.String(), after[i+1:]
		} else {
			end := strings.IndexFunc(after, unicode.IsSpace)
			if end < 0 {
				end = len(after)
			}
			value, rest = after[:end], after[end:]
			if value == "" || strings.ContainsAny(value, `*?()[]{}~^"`) {
				return bad("wildcards, ranges, fuzzy terms and groups are not simulated")
			}
		}
		cur = append(cur, term{field, value})
		rest, expectTerm = strings.TrimSpace(rest), false
	}
	if expectTerm {
		return bad("dangling operator")
	}
	groups = append(groups, cur)
	return func(u map[string]any) bool {
		for _, g := range groups {
			all := true
			for _, t := range g {
				f := queryFields[t.field]
				hit := false
				for _, v := range f.values(u, t.field) {
					if v == t.value || (f.foldCase && strings.EqualFold(v, t.value)) {
						hit = true
						break
					}
				}
				if !hit {
					all = false
					break
				}
			}
			if all {
				return true
			}
		}
		return false
	}, nil
}

func strconvQuote(s string) string {
	if len(s) > 40 {
		s = s[:40] + "…"
	}
	return fmt.Sprintf("%q", s)
}
