package auth0sim

import (
	"net/http"
	"slices"
)

// Paging of GET /api/v2/connections (docs/apis/auth0.md, "Connections").
const (
	connPerPageDefault = 100
	connTakeDefault    = 50
	connMaxPage        = 100 // the largest per_page and take the simulator accepts
)

// connectionBody is a connection as the Management API lists it.
func connectionBody(c Connection) map[string]any {
	return map[string]any{
		"id":                   c.ID,
		"name":                 c.Name,
		"display_name":         c.Name,
		"strategy":             c.Strategy,
		"realms":               []string{c.Name},
		"is_domain_connection": false,
		"options":              map[string]any{},
	}
}

// handleConnections lists the connections: filtered by name and strategy
// (repeatable, any of), then paged. With from or take the paging is by
// checkpoint and the answer {connections, next}, next naming the first
// connection of the following page and left out on the last one. Otherwise
// it is by offset (page, per_page default 100) and the answer a bare array,
// or {start, limit, total, connections} with include_totals=true.
func (s *Sim) handleConnections(w http.ResponseWriter, r *http.Request) {
	p := params{r.URL.Query()}
	pr, qerr := p.projection()
	if qerr != nil {
		writeQueryError(w, qerr)
		return
	}
	totals, qerr := p.boolean("include_totals", false)
	if qerr != nil {
		writeQueryError(w, qerr)
		return
	}
	var list []Connection
	name, strategies := p.str("name"), p.q["strategy"]
	for _, c := range s.conns {
		if (!p.has("name") || c.Name == name) && (len(strategies) == 0 || slices.Contains(strategies, c.Strategy)) {
			list = append(list, c)
		}
	}
	bodies := func(cs []Connection) []map[string]any {
		out := make([]map[string]any, len(cs))
		for i, c := range cs {
			out[i] = pr.apply(connectionBody(c))
		}
		return out
	}

	if p.has("from") || p.has("take") {
		// Checkpoint paging; include_totals is "not returned when using
		// checkpoint pagination".
		take, qerr := p.integer("take", connTakeDefault, 1, connMaxPage)
		if qerr != nil {
			writeQueryError(w, qerr)
			return
		}
		start := 0
		if from := p.str("from"); from != "" {
			start = slices.IndexFunc(list, func(c Connection) bool { return c.ID == from })
			if start < 0 {
				writeQueryError(w, invalidQuery("Query validation error: 'from' does not name a checkpoint of this list"))
				return
			}
		}
		end := min(start+take, len(list))
		out := map[string]any{"connections": bodies(list[start:end])}
		if end < len(list) {
			out["next"] = list[end].ID
		}
		writeJSON(w, http.StatusOK, out)
		return
	}

	var wn window
	if wn.page, qerr = p.integer("page", 0, 0, 1<<30); qerr == nil {
		wn.perPage, qerr = p.integer("per_page", connPerPageDefault, 1, connMaxPage)
	}
	if qerr != nil {
		writeQueryError(w, qerr)
		return
	}
	lo, hi := wn.slice(len(list))
	page := bodies(list[lo:hi])
	if !totals {
		writeJSON(w, http.StatusOK, page)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"start":       wn.page * wn.perPage,
		"limit":       wn.perPage,
		"total":       len(list),
		"connections": page,
	})
}

// handleConnection answers one connection by id.
func (s *Sim) handleConnection(w http.ResponseWriter, r *http.Request) {
	pr, qerr := params{r.URL.Query()}.projection()
	if qerr != nil {
		writeQueryError(w, qerr)
		return
	}
	id := r.PathValue("id")
	i := slices.IndexFunc(s.conns, func(c Connection) bool { return c.ID == id })
	if i < 0 {
		writeError(w, http.StatusNotFound, "The connection does not exist", "inexistent_connection")
		return
	}
	writeJSON(w, http.StatusOK, pr.apply(connectionBody(s.conns[i])))
}
