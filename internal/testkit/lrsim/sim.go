package lrsim

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash/lrverify"
)

// The tenant's credentials when Options leave them empty: public test
// values (the compose demo's env file uses them too), not secrets.
const (
	DefaultAPIKey    = "sim-api-key"
	DefaultAPISecret = "sim-api-secret"
)

// Options configure a [Sim]. The zero value is usable.
type Options struct {
	// APIKey and APISecret are the tenant's credentials. Defaults
	// [DefaultAPIKey] and [DefaultAPISecret].
	APIKey, APISecret string
	// MaxRequestBytes is the largest bulk upsert body accepted. Default
	// 10 MiB (10,485,760 bytes), the larger reading of LoginRadius' "10MB
	// per request".
	MaxRequestBytes int
	// Rate is the token-bucket refill rate in requests per second, Burst the
	// bucket size. Defaults 1000 and 1000 (generous). A negative Rate
	// disables refill.
	Rate  float64
	Burst int
	// BcryptCost is the cost of the hashes of passwords set through the
	// APIs (default 10; tests lower it).
	BcryptCost int
	// MinPasswordLength is the tenant's password policy for passwords set
	// through the APIs (Account Create, set password): a shorter one is
	// refused with 403 ErrorCode 1216 "Weak password" (a simulator choice:
	// which code LoginRadius answers for a password its policy refuses is
	// unconfirmed). 0: no policy.
	MinPasswordLength int
	// Clock is used for the rate limiter. Default time.Now.
	Clock func() time.Time
	// RetryAfter is the Retry-After header, in whole seconds, of the 429
	// that [FaultRateLimitRetryAfter] answers. Default 1.
	RetryAfter int
	// SlowDelay is how long [FaultSlow] holds a bulk upsert before
	// processing it. Default 2s.
	SlowDelay time.Duration
	// OnWrite, when set, is called for every profile stored (bulk upsert,
	// Account Create, Account Update), in the order they are stored, with
	// the Uid and a copy of the stored profile: a test sees every version
	// a user ever had, not only the last, and so whether an older one was
	// written after a newer one. It runs under the simulator's lock and
	// must not call the Sim.
	OnWrite func(uid string, profile map[string]any)
}

// Fault is an injectable failure, see [Sim.Inject].
type Fault int

const (
	// FaultRateLimit answers the next request with 429.
	FaultRateLimit Fault = iota + 1
	// Fault500 answers the next request with 500 (ErrorCode 950).
	Fault500
	// Fault503 answers the next request with 503.
	Fault503
	// FaultUnattributed makes the next bulk upsert report its failures
	// without Uid or Email, so that the client cannot tell whose they are.
	FaultUnattributed
	// FaultRateLimitRetryAfter answers the next request with 429 and a
	// Retry-After header of Options.RetryAfter seconds (LoginRadius
	// documents no such header; a client must cope with both).
	FaultRateLimitRetryAfter
	// FaultSlow holds the next bulk upsert for Options.SlowDelay before
	// processing it. The request is processed when the delay ends even if
	// its client has gone meanwhile (a timeout, a killed process):
	// LoginRadius received it whole, so a write can land after its
	// client stopped waiting.
	FaultSlow
	// FaultLostAnswer processes the next bulk upsert (its profiles are
	// stored) and then drops the connection without an answer, as a
	// network failure after the server's work would: the client cannot
	// tell that the write happened.
	FaultLostAnswer
)

var faultNames = map[Fault]string{
	FaultRateLimit: "429", Fault500: "500", Fault503: "503", FaultUnattributed: "unattributed",
	FaultRateLimitRetryAfter: "429-retry-after", FaultSlow: "slow", FaultLostAnswer: "lost-answer",
}

// String names the fault, for logs.
func (f Fault) String() string {
	if n, ok := faultNames[f]; ok {
		return n
	}
	return fmt.Sprintf("Fault(%d)", int(f))
}

// Stats counts what the simulator did.
type Stats struct {
	Requests        int // every request served
	BulkRequests    int // bulk upserts that were processed (200)
	BulkBytes       int // their bodies, in bytes
	MaxBulkBytes    int // the largest of them
	BulkProfiles    int // profiles they carried
	BulkEncryptions int // bulk upserts that carried a PasswordEncryption
	Inserted        int
	Updated         int
	Failed          int // profiles in Failed
	Creates         int // Account Create calls that created a user
	Updates         int // Account Update calls that updated one
	Rejected429     int
	Injected        int           // injected faults that fired
	Faults          map[Fault]int // the same, by fault
	Refused         int           // profiles refused by [Sim.Refuse]
	InFlight        int           // bulk upserts being processed now
	Held            int           // of them, held by FaultSlow now
	Logins          int           // successful logins
	LoginFailures   int
}

// user is one stored profile.
type user struct {
	profile map[string]any // without PasswordHash, Password, PasswordEncryption
	hash    string         // migrated PasswordHash, "" when none
	enc     *lrverify.Encryption
	encJSON json.RawMessage
	bcrypt  string // a password set through the APIs, bcrypt
}

// Sim is an in-memory LoginRadius tenant. It is safe for concurrent use.
type Sim struct {
	opts Options

	mu       sync.Mutex
	users    map[string]*user  // by Uid
	order    []string          // Uids in insertion order
	byEmail  map[string]string // lower-cased email → Uid
	byName   map[string]string // lower-cased UserName → Uid
	byPhone  map[string]string // PhoneId → Uid
	resets   map[string]string // reset token → Uid
	tokens   map[string]string // reset tokens by lower-cased email, for tests
	faults   map[Fault]int
	refuse   map[string]int // Uid → ErrorCode, see Refuse
	stats    Stats
	bucket   float64
	bucketAt time.Time
}

// New returns a simulator with opts (defaults filled in).
func New(opts Options) *Sim {
	if opts.APIKey == "" {
		opts.APIKey = DefaultAPIKey
	}
	if opts.APISecret == "" {
		opts.APISecret = DefaultAPISecret
	}
	if opts.MaxRequestBytes <= 0 {
		opts.MaxRequestBytes = 10 << 20
	}
	if opts.Rate == 0 {
		opts.Rate = 1000
	}
	if opts.Burst <= 0 {
		opts.Burst = 1000
	}
	if opts.BcryptCost <= 0 {
		opts.BcryptCost = 10
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.RetryAfter <= 0 {
		opts.RetryAfter = 1
	}
	if opts.SlowDelay <= 0 {
		opts.SlowDelay = 2 * time.Second
	}
	return &Sim{
		opts: opts, users: map[string]*user{}, byEmail: map[string]string{}, byName: map[string]string{},
		byPhone: map[string]string{}, resets: map[string]string{}, tokens: map[string]string{},
		faults: map[Fault]int{}, refuse: map[string]int{}, bucket: float64(opts.Burst), bucketAt: opts.Clock(),
		stats: Stats{Faults: map[Fault]int{}},
	}
}

// APIKey returns the tenant's API key.
func (s *Sim) APIKey() string { return s.opts.APIKey }

// APISecret returns the tenant's API secret.
func (s *Sim) APISecret() string { return s.opts.APISecret }

// Inject arms fault f for the next times occurrences. times <= 0 disarms it.
func (s *Sim) Inject(f Fault, times int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if times <= 0 {
		delete(s.faults, f)
		return
	}
	s.faults[f] += times
}

// Refuse makes every later bulk upsert, Account Create and Account Update
// of the profile with Uid uid fail with LoginRadius' errorCode: listed in
// the bulk answer's Failed, answered 403 by the Account APIs. It stands for
// whatever LoginRadius may refuse that the simulator does not check
// itself. errorCode 0 lifts the refusal.
func (s *Sim) Refuse(uid string, errorCode int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if errorCode == 0 {
		delete(s.refuse, uid)
		return
	}
	s.refuse[uid] = errorCode
}

// takeFault consumes one occurrence of f; s.mu held.
func (s *Sim) takeFault(f Fault) bool {
	if s.faults[f] > 0 {
		s.faults[f]--
		s.stats.Injected++
		s.stats.Faults[f]++
		return true
	}
	return false
}

// Stats returns a snapshot of the counters.
func (s *Sim) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.stats
	st.Faults = maps.Clone(s.stats.Faults)
	return st
}

// Start serves the simulator on a loopback port until stop is called.
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
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// credential levels of a route.
const (
	credKey    = iota // apikey only (auth APIs)
	credSecret        // apikey and secret, header or query (management APIs)
	credBulk          // apikey and apisecret in the query (migration API)
)

// Handler returns the HTTP handler of the tenant.
func (s *Sim) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /v2/bulk/upsert", s.route(credBulk, s.handleBulk))
	mux.HandleFunc("POST /identity/v2/manage/account", s.route(credSecret, s.handleCreate))
	mux.HandleFunc("GET /identity/v2/manage/account", s.route(credSecret, s.handleFind))
	mux.HandleFunc("GET /identity/v2/manage/account/{uid}", s.route(credSecret, s.handleGet))
	mux.HandleFunc("PUT /identity/v2/manage/account/{uid}", s.route(credSecret, s.handleUpdate))
	mux.HandleFunc("PUT /identity/v2/manage/account/{uid}/password", s.route(credSecret, s.handleSetPassword))
	mux.HandleFunc("GET /identity/v2/auth/email", s.route(credKey, s.availability("email")))
	mux.HandleFunc("GET /identity/v2/auth/username", s.route(credKey, s.availability("username")))
	mux.HandleFunc("GET /identity/v2/auth/phone", s.route(credKey, s.availability("phone")))
	mux.HandleFunc("POST /identity/v2/auth/login", s.route(credKey, s.handleLogin))
	mux.HandleFunc("POST /identity/v2/auth/password", s.route(credKey, s.handleForgot))
	mux.HandleFunc("PUT /identity/v2/auth/password/reset", s.route(credKey, s.handleReset))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, 0, "Not Found", "The simulator does not serve "+r.Method+" "+r.URL.Path)
	})
	return mux
}

// lrError is LoginRadius' error body ("Errors").
type lrError struct {
	Description           string `json:"Description"`
	ErrorCode             int    `json:"ErrorCode"`
	Message               string `json:"Message"`
	IsProviderError       bool   `json:"IsProviderError"`
	ProviderErrorResponse any    `json:"ProviderErrorResponse"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status, code int, message, description string) {
	writeJSON(w, status, lrError{Description: description, ErrorCode: code, Message: message})
}

// errs are the errors the simulator answers, from LoginRadius' error list.
var (
	errTooMany      = lrError{ErrorCode: 429, Message: "Too many requests in a particular time frame", Description: "Too many requests in a particular time frame"}
	errUnknown      = lrError{ErrorCode: 950, Message: "Operation failed due to an unknown error", Description: "An unknown error has occurred, please try again in a few minutes or contact your system admin."}
	errKeyMissing   = lrError{ErrorCode: 922, Message: "API key is missing", Description: "The request is missing the API key, please use the valid API key parameter in order to process this request."}
	errKeyInvalid   = lrError{ErrorCode: 920, Message: "API key is invalid", Description: "The provided LoginRadius API key is invalid, please use a valid API key of your LoginRadius account."}
	errSecret       = lrError{ErrorCode: 902, Message: "The API secret is unauthorized", Description: "The provided LoginRadius API secret is invalid or is not authorized, please use a valid or authorized LoginRadius API secret."}
	errUnauthorized = lrError{ErrorCode: 6002, Message: "Access Unauthorized", Description: "Access Unauthorized, please use valid authorization to access this endpoint."}
	errBody         = lrError{ErrorCode: 7914, Message: "Post body is invalid", Description: "Please use a valid post body in JSON format."}
	errNoUser       = lrError{ErrorCode: 938, Message: "User does not exist", Description: "The user's account does not exist, please use a valid user or create the user before processing this request."}
	errWeakPassword = lrError{ErrorCode: 1216, Message: "Weak password", Description: "A potential password vulnerability was detected."}
	errLogin        = lrError{ErrorCode: 966, Message: "Invalid user ID and/or password", Description: "Please use a valid user ID and password combination."}
	errBlocked      = lrError{ErrorCode: 991, Message: "Your account is blocked", Description: "Your account has been blocked by the system admin, please contact the admin for more information."}
	errLink         = lrError{ErrorCode: 979, Message: "The link cannot be accessed", Description: "The link is either expired or has already been used, please request a new link."}
)

func writeLR(w http.ResponseWriter, status int, e lrError) { writeJSON(w, status, e) }

// route wraps a handler with the injected faults, the rate limiter and the
// credential check.
func (s *Sim) route(cred int, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.stats.Requests++
		status, retryAfter := 0, 0
		switch {
		case s.takeFault(FaultRateLimit):
			status = http.StatusTooManyRequests
		case s.takeFault(FaultRateLimitRetryAfter):
			status, retryAfter = http.StatusTooManyRequests, s.opts.RetryAfter
		case s.takeFault(Fault500):
			status = http.StatusInternalServerError
		case s.takeFault(Fault503):
			status = http.StatusServiceUnavailable
		default:
			now := s.opts.Clock()
			if s.opts.Rate > 0 {
				if el := now.Sub(s.bucketAt).Seconds(); el > 0 {
					s.bucket = math.Min(float64(s.opts.Burst), s.bucket+el*s.opts.Rate)
				}
			}
			s.bucketAt = now
			if s.bucket >= 1 {
				s.bucket--
			} else {
				status = http.StatusTooManyRequests
			}
		}
		if status == http.StatusTooManyRequests {
			s.stats.Rejected429++
		}
		s.mu.Unlock()
		switch status {
		case http.StatusTooManyRequests:
			if retryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(retryAfter))
			}
			writeLR(w, status, errTooMany)
			return
		case http.StatusInternalServerError, http.StatusServiceUnavailable:
			writeLR(w, status, errUnknown)
			return
		}
		q := r.URL.Query()
		key, secret := q.Get("apikey"), q.Get("apisecret")
		if cred == credSecret {
			if h := r.Header.Get("X-LoginRadius-ApiKey"); h != "" {
				key = h
			}
			if h := r.Header.Get("X-LoginRadius-ApiSecret"); h != "" {
				secret = h
			}
		}
		switch {
		case cred == credBulk && (key != s.opts.APIKey || secret != s.opts.APISecret):
			writeLR(w, http.StatusUnauthorized, errUnauthorized)
			return
		case key == "":
			writeLR(w, http.StatusBadRequest, errKeyMissing)
			return
		case key != s.opts.APIKey:
			writeLR(w, http.StatusBadRequest, errKeyInvalid)
			return
		case cred == credSecret && secret != s.opts.APISecret:
			writeLR(w, http.StatusUnauthorized, errSecret)
			return
		}
		h(w, r)
	}
}

func randHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Users returns a copy of every stored profile, in insertion order, with
// PasswordHash and PasswordEncryption (as the bulk request gave it) added
// back when the user has one.
func (s *Sim) Users() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]any, 0, len(s.order))
	for _, uid := range s.order {
		out = append(out, s.export(s.users[uid]))
	}
	return out
}

// User returns the stored profile of uid (as [Sim.Users] does).
func (s *Sim) User(uid string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	u, ok := s.users[uid]
	if !ok {
		return nil, false
	}
	return s.export(u), true
}

// export copies u's profile with its migrated password; s.mu held.
func (s *Sim) export(u *user) map[string]any {
	m := clone(u.profile)
	if u.hash != "" {
		m["PasswordHash"] = u.hash
		var enc any
		_ = json.Unmarshal(u.encJSON, &enc)
		m["PasswordEncryption"] = enc
	}
	return m
}

// clone deep-copies a decoded JSON value.
func clone(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	if out == nil {
		out = map[string]any{}
	}
	return out
}

// ResetToken returns the last forgot-password token issued for email.
func (s *Sim) ResetToken(email string) (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.tokens[strings.ToLower(email)]
	return t, ok
}
