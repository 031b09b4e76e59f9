package gigyasim

import (
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"
)

// fakeClock is an injectable, settable clock.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newFakeClock() *fakeClock {
	return &fakeClock{t: time.Date(2026, 1, 15, 12, 0, 0, 0, time.UTC)}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// startSim builds and serves a simulator for one test.
func startSim(t testing.TB, opts Options) (*Sim, string) {
	t.Helper()
	s, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	base, stop, err := s.Start()
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(stop)
	return s, base
}

// partner returns the form of a partner-secret call.
func partner(s *Sim, kv ...string) url.Values {
	f := url.Values{"apiKey": {s.APIKey()}, "secret": {s.Secret()}, "format": {"json"}}
	for i := 0; i+1 < len(kv); i += 2 {
		f.Set(kv[i], kv[i+1])
	}
	return f
}

// rawPost sends a form POST with a plain net/http client.
func rawPost(t testing.TB, base, method string, form url.Values, header http.Header) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/"+method, strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", method, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read %s: %v", method, err)
	}
	return resp.StatusCode, body
}

// gresp is a decoded Gigya response.
type gresp map[string]any

func decode(t testing.TB, body []byte) gresp {
	t.Helper()
	var m gresp
	if _, err := json.Parse(body, &m, json.UseNumber); err != nil {
		t.Fatalf("response is not JSON: %v\n%s", err, body)
	}
	return m
}

// callAPI posts and decodes; it checks HTTP 200.
func callAPI(t testing.TB, base, method string, form url.Values, header http.Header) gresp {
	t.Helper()
	st, body := rawPost(t, base, method, form, header)
	if st != http.StatusOK {
		t.Fatalf("%s: HTTP %d: %s", method, st, body)
	}
	return decode(t, body)
}

func (g gresp) int(key string) int {
	switch v := g[key].(type) {
	case json.Number:
		n, err := strconv.Atoi(string(v))
		if err != nil {
			panic(err)
		}
		return n
	case nil:
		return -1
	}
	panic("not a number: " + key)
}

func (g gresp) code() int { return g.int("errorCode") }

func (g gresp) str(key string) string {
	s, _ := g[key].(string)
	return s
}

func (g gresp) results() []map[string]any {
	arr, _ := g["results"].([]any)
	out := make([]map[string]any, len(arr))
	for i, v := range arr {
		out[i] = v.(map[string]any)
	}
	return out
}

// wantCode fails unless the response carries code, and checks the
// envelope of error responses.
func wantCode(t testing.TB, g gresp, code int) {
	t.Helper()
	if got := g.code(); got != code {
		t.Fatalf("errorCode = %d, want %d; response %v", got, code, g)
	}
	if g.str("callId") == "" || g.str("time") == "" || g.str("statusReason") == "" {
		t.Fatalf("incomplete envelope: %v", g)
	}
	if _, err := time.Parse(time.RFC3339, g.str("time")); err != nil {
		t.Fatalf("time %q: %v", g.str("time"), err)
	}
	wantStatus := 200
	if code != 0 {
		wantStatus = code / 1000
		if g.str("errorMessage") == "" {
			t.Fatalf("error without errorMessage: %v", g)
		}
	}
	if g.int("statusCode") != wantStatus {
		t.Fatalf("statusCode = %d, want %d", g.int("statusCode"), wantStatus)
	}
}

// walkResult is what following a cursor to the end produced.
type walkResult struct {
	rows  []map[string]any
	pages []int // objectsCount per page
	total int
}

// walk runs query with openCursor and follows nextCursorId until it is
// absent, checking every page.
func walk(t testing.TB, s *Sim, base, query string, kv ...string) walkResult {
	t.Helper()
	form := partner(s, append([]string{"query", query, "openCursor", "true"}, kv...)...)
	var res walkResult
	for i := 0; ; i++ {
		if i > 100000 {
			t.Fatal("cursor never ends")
		}
		g := callAPI(t, base, "accounts.search", form, nil)
		wantCode(t, g, 0)
		rows := g.results()
		if g.int("objectsCount") != len(rows) {
			t.Fatalf("objectsCount %d but %d results", g.int("objectsCount"), len(rows))
		}
		if i == 0 {
			res.total = g.int("totalCount")
		} else if g.int("totalCount") != res.total {
			t.Fatalf("totalCount changed from %d to %d", res.total, g.int("totalCount"))
		}
		res.rows = append(res.rows, rows...)
		res.pages = append(res.pages, len(rows))
		next := g.str("nextCursorId")
		if next == "" {
			return res
		}
		form = partner(s, append([]string{"cursorId", next}, kv...)...)
	}
}

func uidsOf(rows []map[string]any) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i], _ = r["UID"].(string)
	}
	return out
}

// accountMap decodes a stored account.
func accountMap(t testing.TB, s *Sim, uid string) map[string]any {
	t.Helper()
	raw, ok := s.Account(uid)
	if !ok {
		t.Fatalf("no account %s", uid)
	}
	m, err := decodeAccount(raw)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func millisOf(t testing.TB, v any) int64 {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("not a number: %#v", v)
	}
	i, err := n.Int64()
	if err != nil {
		t.Fatal(err)
	}
	return i
}
