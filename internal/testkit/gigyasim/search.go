package gigyasim

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// snapshot is an open cursor: the matching records at the time of the
// query, in result order (a point-in-time view, like an Elasticsearch
// scroll), plus what to return of them.
type snapshot struct {
	recs     []*record
	all      bool
	fields   []string
	pageSize int
	lastUsed time.Time
	ids      []string
}

// cursorPos is what a cursorId names: a position in a snapshot. next is
// the id of the following position, fixed the first time this page is
// served so that resending the same cursorId returns the same page and the
// same nextCursorId.
type cursorPos struct {
	snap *snapshot
	pos  int
	next string
}

func newCursorID() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// page is one search response to send.
type page struct {
	recs  []*record
	all   bool
	paths []string
	total int
	next  string
}

func (s *Sim) search(w http.ResponseWriter, c *call, form url.Values) {
	q, cur := form.Get("query"), form.Get("cursorId")
	if q != "" && cur != "" {
		s.sendError(w, c, newErr(codeInvalidParameter, "query and cursorId must not be sent together: send query (with openCursor=true) on the first request only"))
		return
	}
	at, err := parseAccountTypes(form.Get("accountTypes"))
	if err != nil {
		s.sendError(w, c, newErr(codeInvalidParameter, err.Error()))
		return
	}
	if cur != "" {
		s.searchCursor(w, c, cur)
		return
	}
	if q == "" {
		s.sendError(w, c, newErr(codeMissingParameter, "query"))
		return
	}
	openCursor := false
	switch strings.ToLower(form.Get("openCursor")) {
	case "", "false":
	case "true":
		openCursor = true
	default:
		s.sendError(w, c, newErr(codeInvalidParameter, "openCursor must be true or false"))
		return
	}
	pq, err := parseQuery(q)
	if err != nil {
		s.sendError(w, c, newErr(codeInvalidParameter, err.Error()))
		return
	}
	size := s.opts.DefaultPageSize
	if pq.limit >= 0 {
		size = min(pq.limit, s.opts.MaxPageSize)
	}
	if openCursor && size == 0 {
		s.sendError(w, c, newErr(codeInvalidParameter, "query: LIMIT 0 cannot be used with openCursor"))
		return
	}

	s.mu.Lock()
	var recs []*record
	for _, r := range s.st.order {
		if pq.matches(r, at) {
			recs = append(recs, r)
		}
	}
	if pq.desc {
		slices.Reverse(recs)
	}
	pg := page{all: pq.all, paths: pq.fields, total: len(recs)}
	if !openCursor {
		pg.recs = recs[:min(size, len(recs))]
		s.mu.Unlock()
		s.sendPage(w, c, pg)
		return
	}
	now := s.now()
	s.sweepLocked(now)
	snap := &snapshot{recs: recs, all: pq.all, fields: pq.fields, pageSize: size, lastUsed: now}
	s.snaps[snap] = struct{}{}
	pg = s.pageLocked(snap, 0, nil)
	s.mu.Unlock()
	s.stats.add(func(st *Stats) { st.CursorsOpened++ })
	s.sendPage(w, c, pg)
}

func (s *Sim) searchCursor(w http.ResponseWriter, c *call, id string) {
	s.mu.Lock()
	now := s.now()
	s.sweepLocked(now)
	cp, ok := s.cursors[id]
	if ok && s.take(c.method, true, ExpireCursor) != nil {
		s.expireLocked(cp.snap)
		ok = false
	}
	if !ok {
		s.mu.Unlock()
		// The code for an expired or unknown cursor is UNCONFIRMED
		// (docs/apis/gigya.md, "Search cursors").
		s.sendError(w, c, newErr(codeInvalidParameter, "invalid cursorId"))
		return
	}
	cp.snap.lastUsed = now
	pg := s.pageLocked(cp.snap, cp.pos, cp)
	s.mu.Unlock()
	s.sendPage(w, c, pg)
}

// pageLocked cuts the page at pos of snap; cp is the cursor that named the
// position (nil for the first page).
func (s *Sim) pageLocked(snap *snapshot, pos int, cp *cursorPos) page {
	end := min(pos+snap.pageSize, len(snap.recs))
	pg := page{recs: snap.recs[pos:end], all: snap.all, paths: snap.fields, total: len(snap.recs)}
	if cp != nil && cp.next != "" {
		pg.next = cp.next
		return pg
	}
	more := end < len(snap.recs)
	// SpuriousCursor: a nextCursorId on the last page, pointing past the
	// end. Not on a page that is itself past the end, so that a client
	// following it terminates.
	if !more && pos < len(snap.recs) && s.take("accounts.search", cp != nil, SpuriousCursor) != nil {
		more = true
	}
	if more {
		id := newCursorID()
		s.cursors[id] = &cursorPos{snap: snap, pos: end}
		snap.ids = append(snap.ids, id)
		pg.next = id
		if cp != nil {
			cp.next = id
		}
	}
	return pg
}

// sweepLocked forgets cursors idle for longer than the TTL.
func (s *Sim) sweepLocked(now time.Time) {
	if s.opts.CursorTTL < 0 {
		return
	}
	for snap := range s.snaps {
		if now.Sub(snap.lastUsed) > s.opts.CursorTTL {
			s.expireLocked(snap)
		}
	}
}

func (s *Sim) expireLocked(snap *snapshot) {
	for _, id := range snap.ids {
		delete(s.cursors, id)
	}
	delete(s.snaps, snap)
	s.stats.add(func(st *Stats) { st.CursorsExpired++ })
}

// OpenCursors reports how many cursors (queries opened with openCursor
// that have not expired) the simulator holds.
func (s *Sim) OpenCursors() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.sweepLocked(s.now())
	return len(s.snaps)
}

// sendPage writes a successful search response. Records are immutable, so
// the projection runs outside the lock.
func (s *Sim) sendPage(w http.ResponseWriter, c *call, pg page) {
	body := s.envelopeJSON(0, "")
	body = append(body[:len(body)-1], `,"results":[`...)
	for i, r := range pg.recs {
		if i > 0 {
			body = append(body, ',')
		}
		if pg.all {
			body = append(body, r.raw...)
			continue
		}
		b, err := project(r.raw, pg.paths)
		if err != nil {
			s.sendError(w, c, newErr(codeGeneralServerError, "stored account "+r.uid+" is not valid JSON"))
			return
		}
		body = append(body, b...)
	}
	body = append(body, `],"objectsCount":`...)
	body = strconv.AppendInt(body, int64(len(pg.recs)), 10)
	body = append(body, `,"totalCount":`...)
	body = strconv.AppendInt(body, int64(pg.total), 10)
	if pg.next != "" {
		body = append(body, `,"nextCursorId":"`...)
		body = append(body, pg.next...)
		body = append(body, '"')
	}
	body = append(body, '}')
	s.stats.add(func(st *Stats) {
		st.PagesServed++
		st.AccountsServed += len(pg.recs)
	})
	s.write(w, c, http.StatusOK, body)
}
