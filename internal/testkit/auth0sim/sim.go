package auth0sim

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
)

// Options configure a [Sim]. The zero value is usable.
type Options struct {
	// RehashCost is the bcrypt cost of the hash that replaces an imported
	// custom hash at its first successful login, as Auth0 does (default
	// bcrypt.DefaultCost; tests that log thousands of users in lower it).
	RehashCost int
	// ClientID and ClientSecret are the M2M credentials /oauth/token
	// accepts. Defaults "sim-client-id" / "sim-client-secret".
	ClientID, ClientSecret string
	// Audience, when set, is the only audience /oauth/token accepts;
	// otherwise any audience ending in "/api/v2/" is accepted.
	Audience string
	// Connection is the name of the one database connection. Default
	// "Username-Password-Authentication".
	Connection string
	// ConnectionID overrides the generated "con_" + 16 alphanumerics id.
	ConnectionID string
	// ExtraConnections are further connections that GET
	// /api/v2/connections lists after the database connection, so that
	// paging and the name and strategy filters have something to work on.
	// They are listed only: an import job naming one is refused. A missing
	// ID is generated, a missing Strategy is "auth0".
	ExtraConnections []Connection
	// Scopes are the Management API scopes granted to the M2M client.
	// Default [DefaultScopes]. A token request may ask for fewer (scope
	// parameter); each route needs one of its scopes, or answers 403
	// insufficient_scope.
	Scopes []string
	// TokenTTL is the access token lifetime (expires_in). Default 86400 s.
	TokenTTL time.Duration
	// JobDuration is how long a job takes from creation to its terminal
	// state (half pending, half processing). Default 100 ms.
	JobDuration time.Duration
	// SlowJobDuration is the duration of a job hit by [FaultSlowJob].
	// Default 10 × JobDuration.
	SlowJobDuration time.Duration
	// MaxConcurrentJobs is how many import jobs may be pending or
	// processing at once (docs/apis/auth0.md, "Limits and concurrency").
	// Default 2.
	MaxConcurrentJobs int
	// Rate is the token-bucket refill rate of the Management API in
	// requests per second, Burst the bucket size (docs/apis/auth0.md, "Rate
	// limits").
	// Defaults 1000 and 1000 (generous). A negative Rate disables refill.
	Rate  float64
	Burst int
	// MaxFileSize is the users file limit in bytes (Auth0's 500 KB). Default
	// 500,000.
	MaxFileSize int
	// FailedJobErrorsObject makes the errors endpoint of a job failed as a
	// whole answer 200 with {"message":...} instead of 204
	// (docs/apis/auth0.md, "Job errors").
	FailedJobErrorsObject bool
	// Clock is used for token expiry, the rate limiter and timestamps.
	// Default time.Now. Job progress always uses real time.
	Clock func() time.Time
}

// Fault is an injectable failure, see [Sim.Inject].
type Fault int

const (
	// FaultRateLimit answers the next API request with 429 and the
	// x-ratelimit-* headers (remaining 0).
	FaultRateLimit Fault = iota + 1
	// Fault500 answers the next request with 500 Internal Server Error.
	Fault500
	// Fault503 answers the next request with 503 Service Unavailable.
	Fault503
	// FaultJobFailed makes the next created import job end as "failed" as
	// a whole, with no user imported.
	FaultJobFailed
	// FaultSlowJob makes the next created job take SlowJobDuration.
	FaultSlowJob
)

// Stats counts what the simulator did.
type Stats struct {
	Tokens        int // tokens issued
	JobsCreated   int
	JobsCompleted int
	JobsFailed    int // jobs failed as a whole
	Rejected429   int // 429 answers (rate limit, job slots, injected)
	Injected      int // injected faults that fired (HTTP and job)
	UsersInserted int
	UsersUpdated  int
	UsersFailed   int
}

// DefaultScopes are the scopes granted when Options.Scopes is empty: what
// an import and its checks need (docs/apis/auth0.md, "Management API
// token").
var DefaultScopes = []string{"create:users", "read:users", "read:connections"}

// Connection is a connection listed by GET /api/v2/connections.
type Connection struct {
	ID, Name, Strategy string
}

// token is an issued access token.
type token struct {
	expires time.Time
	scopes  []string
}

type storedUser struct {
	data map[string]any
	// loggedIn is set once the user logged in; a custom_password_hash is
	// then replaced by a bcrypt password_hash, as Auth0 does.
	loggedIn bool
}

// Sim is an in-memory Auth0 tenant with one database connection. It is safe
// for concurrent use.
type Sim struct {
	opts      Options
	connID    string
	validator validate.Validator
	conns     []Connection // the database connection, then Options.ExtraConnections; set by New, read-only

	mu       sync.Mutex
	tokens   map[string]token
	jobs     map[string]*job
	users    map[string]*storedUser // by lower-cased email
	byID     map[string]string      // user_id (auth0|...) -> lower-cased email
	order    []string               // emails in insertion order
	faults   map[Fault]int
	stats    Stats
	bucket   float64
	bucketAt time.Time
	done     chan struct{}
	doneOnce sync.Once
	wg       sync.WaitGroup
}

// New returns a simulator with opts (defaults filled in).
func New(opts Options) *Sim {
	if opts.RehashCost < bcrypt.MinCost || opts.RehashCost > bcrypt.MaxCost {
		opts.RehashCost = bcrypt.DefaultCost
	}
	if opts.ClientID == "" {
		opts.ClientID = "sim-client-id"
	}
	if opts.ClientSecret == "" {
		opts.ClientSecret = "sim-client-secret"
	}
	if opts.Connection == "" {
		opts.Connection = "Username-Password-Authentication"
	}
	if opts.TokenTTL <= 0 {
		opts.TokenTTL = 86400 * time.Second
	}
	if opts.JobDuration <= 0 {
		opts.JobDuration = 100 * time.Millisecond
	}
	if opts.SlowJobDuration <= 0 {
		opts.SlowJobDuration = 10 * opts.JobDuration
	}
	if opts.MaxConcurrentJobs <= 0 {
		opts.MaxConcurrentJobs = 2
	}
	if opts.Rate == 0 {
		opts.Rate = 1000
	}
	if opts.Burst <= 0 {
		opts.Burst = 1000
	}
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = 500_000
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if len(opts.Scopes) == 0 {
		opts.Scopes = DefaultScopes
	}
	opts.Scopes = slices.Clone(opts.Scopes)
	s := &Sim{
		opts:      opts,
		connID:    opts.ConnectionID,
		validator: validate.Builtin()["auth0"](validate.Options{}),
		tokens:    map[string]token{},
		jobs:      map[string]*job{},
		users:     map[string]*storedUser{},
		byID:      map[string]string{},
		faults:    map[Fault]int{},
		bucket:    float64(opts.Burst),
		bucketAt:  opts.Clock(),
		done:      make(chan struct{}),
	}
	if s.connID == "" {
		s.connID = "con_" + randAlnum(16)
	}
	s.conns = append(s.conns, Connection{ID: s.connID, Name: opts.Connection, Strategy: "auth0"})
	for _, c := range opts.ExtraConnections {
		if c.ID == "" {
			c.ID = "con_" + randAlnum(16)
		}
		if c.Strategy == "" {
			c.Strategy = "auth0"
		}
		s.conns = append(s.conns, c)
	}
	return s
}

const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func randAlnum(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = alnum[int(b[i])%len(alnum)]
	}
	return string(b)
}

// ConnectionID returns the connection's "con_..." id.
func (s *Sim) ConnectionID() string { return s.connID }

// Inject arms fault f for the next times occurrences (HTTP faults: the next
// requests; job faults: the next created jobs). times <= 0 disarms it.
func (s *Sim) Inject(f Fault, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if times <= 0 {
		delete(s.faults, f)
		return
	}
	s.faults[f] += times
}

// takeFault consumes one occurrence of f; s.mu must be held.
func (s *Sim) takeFault(f Fault) bool {
	if s.faults[f] > 0 {
		s.faults[f]--
		s.stats.Injected++
		return true
	}
	return false
}

// Stats returns a snapshot of the counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stats
}

// Start serves the simulator on a loopback port. stop shuts the server
// down and stops job processing.
func (s *Sim) Start() (baseURL string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	stop = func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
		s.Close()
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// Close stops job processing: jobs not yet finished stay as they are.
// It waits for the job goroutines to return.
func (s *Sim) Close() {
	s.doneOnce.Do(func() { close(s.done) })
	s.wg.Wait()
}

// Scopes of the routes: a token needs any one of a route's scopes.
var (
	scopeReadConnections = []string{"read:connections"}
	scopeReadUsers       = []string{"read:users"}
	scopeCreateUsers     = []string{"create:users"}
	scopeJobs            = []string{"create:users", "read:users"}
)

// Handler returns the HTTP handler of the tenant.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", s.handleToken)
	mux.HandleFunc("GET /api/v2/connections", s.api(s.handleConnections, scopeReadConnections))
	mux.HandleFunc("GET /api/v2/connections/{id}", s.api(s.handleConnection, scopeReadConnections))
	mux.HandleFunc("POST /api/v2/jobs/users-imports", s.api(s.handleCreateJob, scopeCreateUsers))
	mux.HandleFunc("GET /api/v2/jobs/{id}", s.api(s.handleGetJob, scopeJobs))
	mux.HandleFunc("GET /api/v2/jobs/{id}/errors", s.api(s.handleJobErrors, scopeJobs))
	mux.HandleFunc("GET /api/v2/users", s.api(s.handleSearchUsers, scopeReadUsers))
	mux.HandleFunc("GET /api/v2/users/{id}", s.api(s.handleGetUser, scopeReadUsers))
	mux.HandleFunc("GET /api/v2/users-by-email", s.api(s.handleUsersByEmail, scopeReadUsers))
	// Everything else, a known path with another method included, answers
	// the Management API's JSON error rather than net/http's text/plain
	// 404 or 405, so that a client parsing errors sees the usual body.
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, "Not Found: the simulator does not serve "+r.Method+" "+r.URL.Path, "")
	})
	return s.faultMiddleware(mux)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

// apiError is the Management API error body (docs/apis/auth0.md, "Management
// API errors").
type apiError struct {
	StatusCode int    `json:"statusCode"`
	Error      string `json:"error"`
	Message    string `json:"message"`
	ErrorCode  string `json:"errorCode,omitempty"`
}

func writeError(w http.ResponseWriter, code int, message, errorCode string) {
	writeJSON(w, code, apiError{StatusCode: code, Error: http.StatusText(code), Message: message, ErrorCode: errorCode})
}

// faultMiddleware fires injected HTTP faults on any request.
func (s *Sim) faultMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		var code int
		switch {
		case s.takeFault(FaultRateLimit):
			code = http.StatusTooManyRequests
			s.stats.Rejected429++
			s.setRateHeadersLocked(w, 0)
		case s.takeFault(Fault500):
			code = http.StatusInternalServerError
		case s.takeFault(Fault503):
			code = http.StatusServiceUnavailable
		}
		s.mu.Unlock()
		switch code {
		case 0:
			next.ServeHTTP(w, r)
		case http.StatusTooManyRequests:
			writeError(w, code, "Global limit has been reached", "too_many_requests")
		default:
			writeError(w, code, "injected fault", "")
		}
	})
}

// api wraps a Management API handler with the rate limiter, the bearer
// token check and the scope check (any one of scopes).
func (s *Sim) api(h http.HandlerFunc, scopes []string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		now := s.opts.Clock()
		s.refillLocked(now)
		ok := s.bucket >= 1
		if ok {
			s.bucket--
		} else {
			s.stats.Rejected429++
		}
		s.setRateHeadersLocked(w, int(math.Floor(s.bucket)))
		s.mu.Unlock()
		if !ok {
			writeError(w, http.StatusTooManyRequests, "Global limit has been reached", "too_many_requests")
			return
		}
		granted, msg := s.authorized(r)
		if msg != "" {
			writeError(w, http.StatusUnauthorized, msg, "invalid_token")
			return
		}
		if !slices.ContainsFunc(scopes, func(sc string) bool { return slices.Contains(granted, sc) }) {
			writeError(w, http.StatusForbidden, "Insufficient scope, expected any of: "+strings.Join(scopes, ","), "insufficient_scope")
			return
		}
		h(w, r)
	}
}

func (s *Sim) refillLocked(now time.Time) {
	if s.opts.Rate > 0 {
		if el := now.Sub(s.bucketAt).Seconds(); el > 0 {
			s.bucket = math.Min(float64(s.opts.Burst), s.bucket+el*s.opts.Rate)
		}
	}
	s.bucketAt = now
}

// setRateHeadersLocked writes the x-ratelimit-* headers; reset is the unix
// second at which the next request becomes available.
func (s *Sim) setRateHeadersLocked(w http.ResponseWriter, remaining int) {
	now := s.opts.Clock()
	reset := now
	if s.opts.Rate > 0 && s.bucket < float64(s.opts.Burst) {
		need := 1 - (s.bucket - math.Floor(s.bucket))
		if s.bucket >= 1 {
			need = 0
		}
		reset = now.Add(time.Duration(need / s.opts.Rate * float64(time.Second)))
	}
	h := w.Header()
	h.Set("x-ratelimit-limit", strconv.Itoa(s.opts.Burst))
	h.Set("x-ratelimit-remaining", strconv.Itoa(max(remaining, 0)))
	h.Set("x-ratelimit-reset", strconv.FormatInt(int64(math.Ceil(float64(reset.UnixNano())/1e9)), 10))
}

// authorized returns the scopes of the request's bearer token, or the
// message of the 401 to answer.
func (s *Sim) authorized(r *http.Request) (scopes []string, msg string) {
	auth := r.Header.Get("Authorization")
	if auth == "" {
		return nil, "Missing authentication"
	}
	tok, ok := strings.CutPrefix(auth, "Bearer ")
	if !ok || tok == "" {
		return nil, "Bad HTTP authentication header format"
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[tok]
	switch {
	case !ok:
		return nil, "Invalid token"
	case !s.opts.Clock().Before(t.expires):
		return nil, "Expired token received for JSON Web Token validation"
	}
	return t.scopes, ""
}

func (s *Sim) handleToken(w http.ResponseWriter, r *http.Request) {
	var p struct {
		GrantType    string `json:"grant_type"`
		ClientID     string `json:"client_id"`
		ClientSecret string `json:"client_secret"`
		Audience     string `json:"audience"`
		Scope        string `json:"scope"`
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<16)).Decode(&p); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "malformed JSON body"})
			return
		}
	} else {
		r.Body = http.MaxBytesReader(w, r.Body, 1<<16)
		if err := r.ParseForm(); err != nil {
			writeJSON(w, http.StatusBadRequest, map[string]string{"error": "invalid_request", "error_description": "malformed form body"})
			return
		}
		p.GrantType, p.ClientID = r.PostForm.Get("grant_type"), r.PostForm.Get("client_id")
		p.ClientSecret, p.Audience = r.PostForm.Get("client_secret"), r.PostForm.Get("audience")
		p.Scope = r.PostForm.Get("scope")
	}
	if p.GrantType != "client_credentials" {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "unsupported_grant_type", "error_description": "Unsupported grant type: " + p.GrantType})
		return
	}
	if p.ClientID != s.opts.ClientID || p.ClientSecret != s.opts.ClientSecret {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "access_denied", "error_description": "Unauthorized"})
		return
	}
	if (s.opts.Audience != "" && p.Audience != s.opts.Audience) || (s.opts.Audience == "" && !strings.HasSuffix(p.Audience, "/api/v2/")) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "access_denied", "error_description": "Service not enabled within domain: " + p.Audience})
		return
	}
	// A client may ask for fewer scopes than it was granted, never for
	// more (docs/apis/auth0.md, "Management API token").
	scopes := s.opts.Scopes
	if asked := strings.Fields(p.Scope); len(asked) > 0 {
		var missing []string
		for _, sc := range asked {
			if !slices.Contains(s.opts.Scopes, sc) {
				missing = append(missing, sc)
			}
		}
		if len(missing) > 0 {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "access_denied", "error_description": "Client has not been granted scopes: " + strings.Join(missing, ", ")})
			return
		}
		scopes = slices.Compact(slices.Sorted(slices.Values(asked)))
	}
	tok := randAlnum(40)
	s.mu.Lock()
	s.tokens[tok] = token{expires: s.opts.Clock().Add(s.opts.TokenTTL), scopes: scopes}
	s.stats.Tokens++
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": tok,
		"token_type":   "Bearer",
		"expires_in":   int(s.opts.TokenTTL / time.Second),
		"scope":        strings.Join(scopes, " "),
	})
}
