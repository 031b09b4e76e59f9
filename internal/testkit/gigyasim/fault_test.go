package gigyasim

import (
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"
)

// openCursor runs the first request of a 5-per-page walk over 23 full+lite accounts.
func openCursor(t *testing.T, s *Sim, base string) gresp {
	t.Helper()
	g := callAPI(t, base, "accounts.search", partner(s, "query", "SELECT UID FROM accounts LIMIT 5", "openCursor", "true", "accountTypes", "full,lite"), nil)
	wantCode(t, g, 0)
	return g
}

func TestFaultHTTP500(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 23})
	s.Inject(HTTP500, 1, OnSearch())
	// A login does not consume a search fault.
	g := callAPI(t, base, "accounts.login", partner(s, "loginID", "nobody@example.com", "password", "x"), nil)
	wantCode(t, g, 403042)
	st, body := rawPost(t, base, "accounts.search", partner(s, "query", "SELECT * FROM accounts"), nil)
	if st != http.StatusInternalServerError || json.Valid(body) {
		t.Fatalf("HTTP500 fault: HTTP %d, body %q", st, body)
	}
	openCursor(t, s, base) // the fault fired once only
	if got := s.Stats(); got.HTTPErrors[500] != 1 || got.Faults[HTTP500] != 1 || s.PendingFaults() != 0 {
		t.Fatalf("stats %+v pending %d", got, s.PendingFaults())
	}
}

func TestFaultGigyaErrorCodes(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 23})
	s.Inject(GigyaGeneral500001, 1)
	s.Inject(Timeout504001, 1)
	s.Inject(RateLimited, 1)
	for _, want := range []int{500001, 504001, 403048} {
		g := callAPI(t, base, "accounts.search", partner(s, "query", "SELECT * FROM accounts"), nil)
		wantCode(t, g, want)
	}
	openCursor(t, s, base)
	st := s.Stats()
	if st.Errors[500001] != 1 || st.Errors[504001] != 1 || st.RateLimited != 1 || st.PagesServed != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFaultOnCursorRequestsAfterMatches(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 23})
	// Let the second page through, fail the third page twice.
	s.Inject(GigyaGeneral500001, 2, OnCursorRequests(), AfterMatches(1))
	g := openCursor(t, s, base)
	p2 := callAPI(t, base, "accounts.search", partner(s, "cursorId", g.str("nextCursorId")), nil)
	wantCode(t, p2, 0)
	c3 := p2.str("nextCursorId")
	for range 2 {
		wantCode(t, callAPI(t, base, "accounts.search", partner(s, "cursorId", c3), nil), 500001)
	}
	// The client retries the same cursorId: it still works.
	p3 := callAPI(t, base, "accounts.search", partner(s, "cursorId", c3), nil)
	wantCode(t, p3, 0)
	if len(p3.results()) != 5 {
		t.Fatalf("retried page has %d rows", len(p3.results()))
	}
}

func TestFaultSlow(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 3})
	s.Inject(Slow, 1, WithDelay(300*time.Millisecond))
	start := time.Now()
	g := callAPI(t, base, "accounts.search", partner(s, "query", "SELECT * FROM accounts"), nil)
	wantCode(t, g, 0)
	if el := time.Since(start); el < 300*time.Millisecond {
		t.Fatalf("Slow answered after %v", el)
	}
	// A delay beyond the request's timeout parameter becomes 504001 after the timeout.
	s.Inject(Slow, 1, WithDelay(time.Hour))
	start = time.Now()
	g = callAPI(t, base, "accounts.search", partner(s, "query", "SELECT * FROM accounts", "timeout", "150"), nil)
	wantCode(t, g, 504001)
	if el := time.Since(start); el < 150*time.Millisecond || el > 30*time.Second {
		t.Fatalf("timed-out Slow answered after %v", el)
	}
	// Stopping the server wakes a request held by Slow.
	s2, err := New(Options{Accounts: 1})
	if err != nil {
		t.Fatal(err)
	}
	base2, stop, err := s2.Start()
	if err != nil {
		t.Fatal(err)
	}
	s2.Inject(Slow, 1, WithDelay(time.Hour))
	done := make(chan struct{})
	go func() {
		defer close(done)
		st, _ := rawPost(t, base2, "accounts.search", partner(s2, "query", "SELECT * FROM accounts", "timeout", "60000"), nil)
		if st != http.StatusOK {
			t.Errorf("held request: HTTP %d", st)
		}
	}()
	for s2.PendingFaults() != 0 {
		time.Sleep(5 * time.Millisecond)
	}
	start = time.Now()
	stop()
	stop() // idempotent
	<-done
	if el := time.Since(start); el > 10*time.Second {
		t.Fatalf("stop took %v with a request held by Slow", el)
	}
}

func TestFaultTruncated(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 23})
	g := openCursor(t, s, base)
	next := g.str("nextCursorId")
	s.Inject(Truncated, 1, OnCursorRequests())
	st, body := rawPost(t, base, "accounts.search", partner(s, "cursorId", next), nil)
	if st != http.StatusOK || json.Valid(body) || !strings.HasPrefix(string(body), `{"callId":`) {
		t.Fatalf("Truncated: HTTP %d, valid JSON %v: %q", st, json.Valid(body), body)
	}
	// The retry with the same cursorId gets the full page.
	g = callAPI(t, base, "accounts.search", partner(s, "cursorId", next), nil)
	wantCode(t, g, 0)
	if len(g.results()) != 5 || s.Stats().TruncatedBodies != 1 {
		t.Fatalf("retry after truncation: %d rows, %d truncated", len(g.results()), s.Stats().TruncatedBodies)
	}
}

func TestFaultExpireCursor(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 23})
	s.Inject(ExpireCursor, 1)
	g := openCursor(t, s, base) // a query request: ExpireCursor waits for a cursor
	next := g.str("nextCursorId")
	for range 2 { // expired for good, not just once
		g = callAPI(t, base, "accounts.search", partner(s, "cursorId", next), nil)
		wantCode(t, g, 400006)
		if g.str("errorDetails") != "invalid cursorId" {
			t.Fatalf("errorDetails %q", g.str("errorDetails"))
		}
	}
	if st := s.Stats(); st.CursorsExpired != 1 || st.Faults[ExpireCursor] != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestFaultSpuriousCursor(t *testing.T) {
	for _, n := range []int{3, 23} { // last page = first page, and a later one
		s, base := startSim(t, Options{Accounts: n})
		s.Inject(SpuriousCursor, 1)
		res := walk(t, s, base, "SELECT UID FROM accounts LIMIT 5", "accountTypes", "full,lite")
		wantPages := append(slices.Repeat([]int{5}, n/5), n%5, 0)
		if !slices.Equal(res.pages, wantPages) || len(res.rows) != n {
			t.Fatalf("n=%d: pages %v, want %v ending in an empty page", n, res.pages, wantPages)
		}
		// Without the fault the walk ends on the last real page.
		res = walk(t, s, base, "SELECT UID FROM accounts LIMIT 5", "accountTypes", "full,lite")
		if res.pages[len(res.pages)-1] == 0 {
			t.Fatalf("spurious cursor without a fault: %v", res.pages)
		}
	}
}

func TestFaultsUnlimitedAndClear(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 2})
	s.Inject(GigyaGeneral500001, -1, OnLogin())
	for range 3 {
		wantCode(t, callAPI(t, base, "accounts.login", partner(s, "loginID", "a@b.c", "password", "x"), nil), 500001)
	}
	wantCode(t, callAPI(t, base, "accounts.search", partner(s, "query", "SELECT * FROM accounts"), nil), 0)
	s.ClearFaults()
	wantCode(t, callAPI(t, base, "accounts.login", partner(s, "loginID", "a@b.c", "password", "x"), nil), 403042)
	s.Inject(HTTP500, 0)
	if s.PendingFaults() != 0 {
		t.Fatal("times == 0 armed a fault")
	}
	if Slow.String() != "Slow" || Fault(99).String() != "Fault(99)" {
		t.Fatal("Fault.String")
	}
}

func TestRateLimit(t *testing.T) {
	clk := newFakeClock()
	s, base := startSim(t, Options{Accounts: 3, SearchRate: 3, Clock: clk.Now})
	search := func() int {
		return callAPI(t, base, "accounts.search", partner(s, "query", "SELECT * FROM accounts"), nil).code()
	}
	var codes []int
	for range 5 {
		codes = append(codes, search())
	}
	if !slices.Equal(codes, []int{0, 0, 0, 403048, 403048}) {
		t.Fatalf("codes at 3/s with a frozen clock: %v", codes)
	}
	g := callAPI(t, base, "accounts.search", partner(s, "query", "SELECT * FROM accounts"), nil)
	wantCode(t, g, 403048)
	if g.str("errorMessage") != "Api rate limit exceeded" || g.str("statusReason") != "Forbidden" {
		t.Fatalf("403048 body %v", g)
	}
	// Logins are not searches.
	wantCode(t, callAPI(t, base, "accounts.login", partner(s, "loginID", "a@b.c", "password", "x"), nil), 403042)
	clk.Add(400 * time.Millisecond) // 1.2 tokens
	if c := search(); c != 0 {
		t.Fatalf("after 400ms: %d", c)
	}
	if c := search(); c != 403048 {
		t.Fatalf("token bucket refilled too much: %d", c)
	}
	clk.Add(10 * time.Second) // refill caps at the burst
	codes = codes[:0]
	for range 4 {
		codes = append(codes, search())
	}
	if !slices.Equal(codes, []int{0, 0, 0, 403048}) {
		t.Fatalf("after a long pause: %v", codes)
	}
	if st := s.Stats(); st.RateLimited != 5 || st.Errors[403048] != 5 {
		t.Fatalf("RateLimited %d, Errors %v", st.RateLimited, st.Errors)
	}
}

func TestRateLimitRealClockConcurrent(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 3, SearchRate: 5})
	var mu sync.Mutex
	ok, limited := 0, 0
	var wg sync.WaitGroup
	for range 40 {
		wg.Go(func() {
			c := callAPI(t, base, "accounts.search", partner(s, "query", "SELECT * FROM accounts"), nil).code()
			mu.Lock()
			defer mu.Unlock()
			switch c {
			case 0:
				ok++
			case 403048:
				limited++
			default:
				t.Errorf("code %d", c)
			}
		})
	}
	wg.Wait()
	if ok < 5 || limited == 0 || ok+limited != 40 || s.Stats().RateLimited != limited {
		t.Fatalf("ok %d limited %d counted %d", ok, limited, s.Stats().RateLimited)
	}
}
