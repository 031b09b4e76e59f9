package gigyasim

import (
	"fmt"
	"maps"
	"sync"
	"time"
)

// Fault is a failure the simulator can inject into its next matching
// requests, to test a client's retry and cursor handling.
type Fault int

const (
	// HTTP500 answers with HTTP status 500 and a non-JSON (HTML) body, as a
	// load balancer in front of Gigya would. The request is not executed.
	HTTP500 Fault = iota + 1
	// GigyaGeneral500001 answers HTTP 200 with errorCode 500001
	// "General Server Error" (statusCode 500). The request is not executed.
	GigyaGeneral500001
	// Timeout504001 answers HTTP 200 with errorCode 504001 "Timeout"
	// (statusCode 504). The request is not executed.
	Timeout504001
	// Slow sleeps the [WithDelay] duration (default 1s) before answering.
	// When the delay reaches the request's timeout parameter (default
	// 20000 ms) the simulator gives up after that timeout and answers
	// 504001, as Gigya does for a search that runs out of time. Slow is
	// taken independently of the other faults, so it can delay a request
	// that another fault then fails.
	Slow
	// Truncated executes the request normally and then sends only the first
	// half of the JSON body (Content-Length matches the cut body, so the
	// client sees a complete HTTP response with invalid JSON).
	Truncated
	// ExpireCursor expires the cursor the request carries (the whole
	// cursor, i.e. every id of that query), then answers like an idle
	// expiry: errorCode 400006, errorDetails "invalid cursorId". It only
	// matches accounts.search requests with a cursorId that is still valid.
	ExpireCursor
	// SpuriousCursor adds a nextCursorId to the last page of a cursor
	// (which normally has none); fetching it returns 0 results and no
	// nextCursorId (docs/apis/gigya.md, "Search responses"). It only
	// matches responses that are the last page of an openCursor search.
	SpuriousCursor
	// RateLimited answers errorCode 403048 "Api rate limit exceeded"
	// (statusCode 403) whatever the configured rate, and counts it in
	// Stats.RateLimited. The request is not executed.
	RateLimited
)

var faultNames = map[Fault]string{
	HTTP500:            "HTTP500",
	GigyaGeneral500001: "GigyaGeneral500001",
	Timeout504001:      "Timeout504001",
	Slow:               "Slow",
	Truncated:          "Truncated",
	ExpireCursor:       "ExpireCursor",
	SpuriousCursor:     "SpuriousCursor",
	RateLimited:        "RateLimited",
}

func (f Fault) String() string {
	if n, ok := faultNames[f]; ok {
		return n
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Request kinds a fault may be limited to.
const (
	anyRequest = iota
	cursorRequests
	queryRequests
)

type faultSpec struct {
	fault     Fault
	remaining int // < 0: until ClearFaults
	method    string
	reqKind   int
	delay     time.Duration
	skip      int
}

// FaultOption narrows or parameterises an injected fault.
type FaultOption func(*faultSpec)

// OnMethod limits the fault to one API method, e.g. "accounts.search".
func OnMethod(method string) FaultOption { return func(f *faultSpec) { f.method = method } }

// OnSearch limits the fault to accounts.search.
func OnSearch() FaultOption { return OnMethod("accounts.search") }

// OnLogin limits the fault to accounts.login.
func OnLogin() FaultOption { return OnMethod("accounts.login") }

// OnCursorRequests limits the fault to accounts.search requests that carry
// a cursorId (the second and later pages).
func OnCursorRequests() FaultOption {
	return func(f *faultSpec) { f.method, f.reqKind = "accounts.search", cursorRequests }
}

// OnQueryRequests limits the fault to accounts.search requests that carry a
// query (the first page).
func OnQueryRequests() FaultOption {
	return func(f *faultSpec) { f.method, f.reqKind = "accounts.search", queryRequests }
}

// WithDelay sets the sleep of a [Slow] fault.
func WithDelay(d time.Duration) FaultOption { return func(f *faultSpec) { f.delay = d } }

// AfterMatches lets the first n matching requests through before the fault
// starts firing (e.g. fail the third page).
func AfterMatches(n int) FaultOption { return func(f *faultSpec) { f.skip = n } }

// Inject arms fault f for the next times matching requests (times < 0:
// every matching request until [Sim.ClearFaults]; times == 0 does
// nothing). Faults fire in injection order; safe for concurrent use.
func (s *Sim) Inject(f Fault, times int, opts ...FaultOption) {
	if times == 0 {
		return
	}
	spec := &faultSpec{fault: f, remaining: times, delay: time.Second}
	for _, o := range opts {
		o(spec)
	}
	s.faultMu.Lock()
	s.faults = append(s.faults, spec)
	s.faultMu.Unlock()
}

// ClearFaults disarms every pending fault.
func (s *Sim) ClearFaults() {
	s.faultMu.Lock()
	s.faults = nil
	s.faultMu.Unlock()
}

// PendingFaults reports how many armed faults have firings left.
func (s *Sim) PendingFaults() int {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	return len(s.faults)
}

// take fires the first pending fault among kinds that matches the request
// and returns it, or nil.
func (s *Sim) take(method string, hasCursor bool, kinds ...Fault) *faultSpec {
	s.faultMu.Lock()
	defer s.faultMu.Unlock()
	for i, f := range s.faults {
		if !faultIn(f.fault, kinds) || (f.method != "" && f.method != method) {
			continue
		}
		if (f.reqKind == cursorRequests && !hasCursor) || (f.reqKind == queryRequests && hasCursor) {
			continue
		}
		if f.skip > 0 {
			f.skip--
			continue
		}
		fired := *f
		if f.remaining > 0 {
			f.remaining--
			if f.remaining == 0 {
				s.faults = append(s.faults[:i:i], s.faults[i+1:]...)
			}
		}
		s.stats.add(func(st *Stats) { st.Faults[fired.fault]++ })
		return &fired
	}
	return nil
}

func faultIn(f Fault, kinds []Fault) bool {
	for _, k := range kinds {
		if f == k {
			return true
		}
	}
	return false
}

// Stats counts what the simulator did. [Sim.Stats] returns a copy.
type Stats struct {
	// Requests counts requests by API method ("accounts.search", "accounts.login", or the unknown name).
	Requests map[string]int
	// Errors counts error responses by Gigya errorCode (injected ones included).
	Errors map[int]int
	// HTTPErrors counts plain HTTP error responses by status (HTTP500 faults).
	HTTPErrors map[int]int
	// PagesServed counts successful accounts.search responses; AccountsServed the results they held.
	PagesServed    int
	AccountsServed int
	// CursorsOpened counts searches with openCursor=true.
	CursorsOpened int
	// CursorsExpired counts cursors that expired (idle TTL or ExpireCursor).
	CursorsExpired int
	// RateLimited counts 403048 responses (configured rate and RateLimited faults).
	RateLimited int
	// Logins counts successful accounts.login calls.
	Logins int
	// TruncatedBodies counts responses cut by a Truncated fault.
	TruncatedBodies int
	// Faults counts fired faults by type.
	Faults map[Fault]int
	// Authenticated counts the requests that passed authentication, by mode.
	Authenticated map[AuthMode]int
}

type statsBox struct {
	mu sync.Mutex
	s  Stats
}

func newStatsBox() *statsBox {
	return &statsBox{s: Stats{
		Requests:      map[string]int{},
		Errors:        map[int]int{},
		HTTPErrors:    map[int]int{},
		Faults:        map[Fault]int{},
		Authenticated: map[AuthMode]int{},
	}}
}

func (b *statsBox) add(f func(*Stats)) {
	b.mu.Lock()
	f(&b.s)
	b.mu.Unlock()
}

func (b *statsBox) error(code int) {
	b.add(func(st *Stats) {
		st.Errors[code]++
		if code == codeRateLimited {
			st.RateLimited++
		}
	})
}

func (b *statsBox) snapshot() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := b.s
	out.Requests = maps.Clone(b.s.Requests)
	out.Errors = maps.Clone(b.s.Errors)
	out.HTTPErrors = maps.Clone(b.s.HTTPErrors)
	out.Faults = maps.Clone(b.s.Faults)
	out.Authenticated = maps.Clone(b.s.Authenticated)
	return out
}

// Stats returns a copy of the counters.
func (s *Sim) Stats() Stats { return s.stats.snapshot() }
