package gigyasim

import (
	"context"
	"crypto/rsa"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
	"github.com/segmentio/encoding/json"
)

// Defaults of [Options].
const (
	DefaultAPIKey       = "3_gigyasim"
	DefaultSecret       = "gigyasim-partner-secret"
	DefaultCursorTTL    = 5 * time.Minute
	DefaultPageSize     = 300
	DefaultMaxPageSize  = 1000
	DefaultLockoutAfter = 5
	DefaultLockoutFor   = 5 * time.Minute
	// defaultTimeoutMS and maxTimeoutMS bound the timeout parameter
	// (docs/apis/gigya.md, "Search parameters").
	defaultTimeoutMS = 20000
	maxTimeoutMS     = 60000
)

// FastSampleOptions are the cheap hash work factors used when
// Options.SampleOptions is zero: the simulator needs real, verifiable
// hashes, not production-cost ones.
var FastSampleOptions = sample.Options{PBKDF2Rounds: 10, BcryptCost: 4}

// App is an application (user) key: its secret for the userKey+secret and
// signed-request modes and its RSA public key for the bearer-JWT mode.
// Either may be empty to disable those modes for the key. Signed requests
// need a base64 secret, as Gigya hands out (the HMAC key is the decoded
// bytes); the userKey+secret mode compares any string.
type App struct {
	Secret    string
	PublicKey *rsa.PublicKey
}

// Options configure a [Sim]. The zero value is usable: no accounts, API key
// [DefaultAPIKey], partner secret [DefaultSecret].
type Options struct {
	// Accounts is how many accounts to generate with internal/gigya/sample from Seed.
	Accounts int
	Seed     int64
	// SampleOptions are the hash work factors of the generated accounts;
	// the zero value means [FastSampleOptions] (not sample's production defaults).
	SampleOptions sample.Options
	// APIKey is the site's API key; "" means DefaultAPIKey.
	APIKey string
	// Secret is the partner secret (apiKey+secret mode). "" disables the
	// mode, except that it defaults to DefaultSecret when Apps is empty too.
	Secret string
	// Apps are the application keys: userKey -> App.
	Apps map[string]App
	// DataCenter is the data-center domain signed requests are checked
	// against besides the URL the request reached: a client signs the URL
	// it believes it calls, https://accounts.<DataCenter>/accounts.search.
	// "" means DefaultDataCenter (us1.gigya.com).
	DataCenter string
	// CursorTTL is how long a cursor may stay idle; 0 means 5 minutes,
	// negative means cursors never expire.
	CursorTTL time.Duration
	// SearchRate and LoginRate are the allowed accounts.search /
	// accounts.login calls per second per apiKey (token bucket, burst
	// max(1, rate)); 0 means unlimited. Beyond it: errorCode 403048.
	SearchRate float64
	LoginRate  float64
	// DefaultPageSize is the page size without LIMIT (0: 300); MaxPageSize
	// clamps LIMIT (0: 1000). See docs/apis/gigya.md, "Page size and limits".
	DefaultPageSize int
	MaxPageSize     int
	// LockoutAfter is how many consecutive wrong passwords lock an account
	// (0: 5, negative: never); LockoutFor is how long (0: 5 minutes).
	LockoutAfter int
	LockoutFor   time.Duration
	// RequireVerification makes a correct login of an account with
	// isVerified=false answer 206002 (pending verification), as on a site
	// whose policy requires email verification.
	RequireVerification bool
	// KeepTimestampsOnLogin stops a successful login from bumping
	// lastLogin and lastUpdatedTimestamp (which Gigya does: docs/apis/gigya.md,
	// "Incremental extraction").
	KeepTimestampsOnLogin bool
	// Clock is the simulator's time source (cursor TTL, JWT iat, rate
	// limit, lockouts, timestamps); nil means time.Now.
	Clock func() time.Time
}

// Sim is an in-memory Gigya site serving accounts.search and accounts.login.
// All methods are safe for concurrent use.
type Sim struct {
	opts Options

	mu        sync.Mutex
	st        *store
	passwords map[string]string
	cursors   map[string]*cursorPos
	snaps     map[*snapshot]struct{}
	logins    map[string]*loginState

	faultMu sync.Mutex
	faults  []*faultSpec

	limits limiter
	stats  *statsBox
}

// New builds a simulator and generates its accounts.
func New(opts Options) (*Sim, error) {
	if opts.APIKey == "" {
		opts.APIKey = DefaultAPIKey
	}
	if opts.Secret == "" && len(opts.Apps) == 0 {
		opts.Secret = DefaultSecret
	}
	if opts.DataCenter == "" {
		opts.DataCenter = DefaultDataCenter
	}
	if opts.CursorTTL == 0 {
		opts.CursorTTL = DefaultCursorTTL
	}
	if opts.DefaultPageSize <= 0 {
		opts.DefaultPageSize = DefaultPageSize
	}
	if opts.MaxPageSize <= 0 {
		opts.MaxPageSize = DefaultMaxPageSize
	}
	if opts.LockoutAfter == 0 {
		opts.LockoutAfter = DefaultLockoutAfter
	}
	if opts.LockoutFor <= 0 {
		opts.LockoutFor = DefaultLockoutFor
	}
	if opts.SampleOptions == (sample.Options{}) {
		opts.SampleOptions = FastSampleOptions
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	if opts.Accounts < 0 {
		return nil, fmt.Errorf("gigyasim: Accounts %d is negative", opts.Accounts)
	}
	opts.Apps = maps.Clone(opts.Apps)
	s := &Sim{
		opts:      opts,
		st:        newStore(opts.Accounts),
		passwords: map[string]string{},
		cursors:   map[string]*cursorPos{},
		snaps:     map[*snapshot]struct{}{},
		logins:    map[string]*loginState{},
		stats:     newStatsBox(),
	}
	if err := s.generate(); err != nil {
		return nil, err
	}
	return s, nil
}

// generate fills the store from internal/gigya/sample. Sample timestamps are kept,
// except that lastUpdatedTimestamp is made unique: among accounts sharing a
// value, the ones with the larger UIDs are moved up by 1 ms at a time.
func (s *Sim) generate() error {
	// The generator is sequential; indexing runs beside it on other cores.
	type job struct {
		i    int
		json []byte
	}
	n := s.opts.Accounts
	recs := make([]*record, n)
	errs := make([]error, n)
	jobs := make(chan job, 256)
	var wg sync.WaitGroup
	for range max(1, min(runtime.GOMAXPROCS(0)-1, 4)) {
		wg.Go(func() {
			for j := range jobs {
				recs[j.i], errs[j.i] = parseRecord(j.json)
			}
		})
	}
	g := sample.New(s.opts.Seed, s.opts.SampleOptions)
	for i := range n {
		a := g.Next()
		if a.Verifiable {
			s.passwords[a.UID] = a.Password
		}
		jobs <- job{i, a.JSON}
	}
	close(jobs)
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("gigyasim: generated account: %w", err)
	}
	if err := uniqueUpdated(recs); err != nil {
		return err
	}
	for _, r := range recs {
		s.st.order = append(s.st.order, r)
		s.st.byUID[r.uid] = r
		s.st.indexLogin(r)
		s.st.maxUpdated = max(s.st.maxUpdated, r.updated)
	}
	return nil
}

// uniqueUpdated sorts recs by (lastUpdatedTimestamp, UID) and moves every
// record whose timestamp is not above its predecessor's to predecessor+1 ms
// (rewriting lastUpdated and lastUpdatedTimestamp). Afterwards timestamps
// are strictly increasing in slice order.
func uniqueUpdated(recs []*record) error {
	slices.SortFunc(recs, less)
	for i := 1; i < len(recs); i++ {
		if prev := recs[i-1].updated; recs[i].updated <= prev {
			raw, err := setUpdated(recs[i].raw, prev+1, nil)
			if err == nil {
				recs[i], err = parseRecord(raw)
			}
			if err != nil {
				return fmt.Errorf("gigyasim: make lastUpdatedTimestamp unique: %w", err)
			}
		}
	}
	return nil
}

func (s *Sim) now() time.Time { return s.opts.Clock() }

// APIKey returns the site's API key (after defaults).
func (s *Sim) APIKey() string { return s.opts.APIKey }

// Secret returns the partner secret (after defaults).
func (s *Sim) Secret() string { return s.opts.Secret }

// UIDs returns every account's UID in index order (lastUpdatedTimestamp, UID).
func (s *Sim) UIDs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]string, len(s.st.order))
	for i, r := range s.st.order {
		out[i] = r.uid
	}
	return out
}

// Len returns the number of stored accounts.
func (s *Sim) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.st.order)
}

// Account returns a copy of the stored JSON of one account.
func (s *Sim) Account(uid string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.st.byUID[uid]
	if !ok {
		return nil, false
	}
	return slices.Clone(r.raw), true
}

// Passwords returns UID -> plaintext for every generated account whose hash
// is verifiable. An account leaves the map when it is deleted or when Put or
// Update change its password hash.
func (s *Sim) Passwords() map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return maps.Clone(s.passwords)
}

// nextUpdatedLocked is the timestamp of a write now: the current time, but
// always above every timestamp stored so far.
func (s *Sim) nextUpdatedLocked() int64 {
	return max(s.now().UnixMilli(), s.st.maxUpdated+1)
}

// Put inserts or replaces an account (matched by UID), setting lastUpdated
// and lastUpdatedTimestamp to now, strictly above every stored timestamp.
func (s *Sim) Put(account []byte) error {
	r, err := parseRecord(account)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.storeLocked(r.uid, account, nil)
}

// storeLocked bumps the timestamps of raw and stores it.
func (s *Sim) storeLocked(uid string, raw []byte, extra map[string]any) error {
	bumped, err := setUpdated(raw, s.nextUpdatedLocked(), extra)
	if err != nil {
		return fmt.Errorf("gigyasim: account %s: %w", uid, err)
	}
	r, err := parseRecord(bumped)
	if err != nil {
		return err
	}
	if old, ok := s.st.byUID[uid]; ok && passwordHash(old.raw) != passwordHash(bumped) {
		delete(s.passwords, uid)
	}
	s.st.insert(r)
	return nil
}

func passwordHash(raw []byte) string {
	var p struct {
		Password struct {
			Hash string `json:"hash"`
		} `json:"password"`
	}
	_ = json.Unmarshal(raw, &p)
	return p.Password.Hash
}

// Update changes a stored account in place: change receives the decoded
// account (numbers as json.Number) and may modify it; the UID must stay.
// The timestamps are bumped as by Put.
func (s *Sim) Update(uid string, change func(acct map[string]any)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.st.byUID[uid]
	if !ok {
		return fmt.Errorf("gigyasim: no account %s", uid)
	}
	m, err := decodeAccount(r.raw)
	if err != nil {
		return err
	}
	change(m)
	if got, _ := m["UID"].(string); got != uid {
		return fmt.Errorf("gigyasim: Update of %s changed the UID", uid)
	}
	raw, err := json.Marshal(m)
	if err != nil {
		return fmt.Errorf("gigyasim: account %s: %w", uid, err)
	}
	return s.storeLocked(uid, raw, nil)
}

// Delete removes an account. Open cursors keep serving the snapshot they
// were opened on (see doc.go).
func (s *Sim) Delete(uid string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r, ok := s.st.byUID[uid]; ok {
		s.st.remove(r)
	}
	delete(s.passwords, uid)
	delete(s.logins, uid)
}

// Handler returns the HTTP handler serving {base}/accounts.search and
// {base}/accounts.login (the last path segment selects the method, so it
// can be mounted under any prefix).
func (s *Sim) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Start serves the simulator on 127.0.0.1 on a free port.
func (s *Sim) Start() (baseURL string, stop func(), err error) {
	return s.Listen("127.0.0.1:0")
}

// Listen serves the simulator on addr. stop shuts the server down (waking
// requests held by Slow faults) and is safe to call more than once.
func (s *Sim) Listen(addr string) (baseURL string, stop func(), err error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return "", nil, err
	}
	ctx, cancel := context.WithCancel(context.Background())
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		BaseContext:       func(net.Listener) context.Context { return ctx },
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			// Serve only fails here if the listener breaks; nothing to report to.
			_ = err
		}
	}()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer scancel()
			if srv.Shutdown(sctx) != nil {
				_ = srv.Close()
			}
			<-done
		})
	}
	return "http://" + ln.Addr().String(), stop, nil
}

// faultsBeforeExecution are the faults that replace a request's execution.
var faultsBeforeExecution = []Fault{HTTP500, GigyaGeneral500001, Timeout504001, RateLimited, Truncated}

func (s *Sim) serveHTTP(w http.ResponseWriter, r *http.Request) {
	c := &call{method: path.Base(r.URL.Path), timeoutMS: defaultTimeoutMS}
	s.stats.add(func(st *Stats) { st.Requests[c.method]++ })

	if r.Method != http.MethodPost {
		s.sendError(w, c, newErr(codeInvalidRequest, "use POST with application/x-www-form-urlencoded (got "+r.Method+")"))
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/x-www-form-urlencoded" {
		s.sendError(w, c, newErr(codeInvalidRequest, "Content-Type must be application/x-www-form-urlencoded"))
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 1<<20)
	if err := r.ParseForm(); err != nil {
		s.sendError(w, c, newErr(codeInvalidRequest, "cannot parse form: "+err.Error()))
		return
	}
	form := r.PostForm
	c.apiKey = form.Get("apiKey")
	c.httpStatusCodes = form.Get("httpStatusCodes") == "true"
	timeoutErr := c.parseTimeout(form)
	hasCursor := form.Get("cursorId") != ""

	if f := s.take(c.method, hasCursor, Slow); f != nil {
		if !s.sleep(r.Context(), f.delay, c.timeoutMS) {
			s.sendError(w, c, newErr(codeTimeout, "request timed out after "+strconv.Itoa(c.timeoutMS)+" ms"))
			return
		}
	}
	if f := s.take(c.method, hasCursor, faultsBeforeExecution...); f != nil {
		switch f.fault {
		case HTTP500:
			s.stats.add(func(st *Stats) { st.HTTPErrors[http.StatusInternalServerError]++ })
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusInternalServerError)
			_, _ = w.Write([]byte("<html><body><h1>500 Internal Server Error</h1></body></html>\n"))
			return
		case GigyaGeneral500001:
			s.sendError(w, c, newErr(codeGeneralServerError, "injected fault"))
			return
		case Timeout504001:
			s.sendError(w, c, newErr(codeTimeout, "injected fault"))
			return
		case RateLimited:
			s.sendError(w, c, newErr(codeRateLimited, "injected fault"))
			return
		case Truncated:
			c.truncate = true
		}
	}

	if c.method != "accounts.search" && c.method != "accounts.login" {
		s.sendError(w, c, newErr(codeInvalidRequest, "method "+c.method+" is not simulated (only accounts.search and accounts.login)"))
		return
	}
	if e := s.authenticate(r, form); e != nil {
		s.sendError(w, c, e)
		return
	}
	if timeoutErr != nil {
		s.sendError(w, c, timeoutErr)
		return
	}
	if f := form.Get("format"); f != "" && f != "json" {
		s.sendError(w, c, newErr(codeInvalidParameter, "format: only json is simulated"))
		return
	}
	rate := s.opts.SearchRate
	if c.method == "accounts.login" {
		rate = s.opts.LoginRate
	}
	if !s.limits.allow(c.method+"\x00"+c.apiKey, rate, s.now()) {
		s.sendError(w, c, newErr(codeRateLimited, "rate limit of "+strconv.FormatFloat(rate, 'g', -1, 64)+"/s exceeded"))
		return
	}
	switch c.method {
	case "accounts.search":
		s.search(w, c, form)
	case "accounts.login":
		s.login(w, c, form)
	}
}

// parseTimeout reads the timeout parameter (ms, default 20000, at most
// 60000: larger values are clamped).
func (c *call) parseTimeout(form url.Values) *gerr {
	t := form.Get("timeout")
	if t == "" {
		return nil
	}
	n, err := strconv.Atoi(t)
	if err != nil || n <= 0 {
		return newErr(codeInvalidParameter, "timeout must be a positive number of milliseconds")
	}
	c.timeoutMS = min(n, maxTimeoutMS)
	return nil
}

// sleep waits d, or the request timeout if that comes first (then it
// returns false), or until the request or server is cancelled.
func (s *Sim) sleep(ctx context.Context, d time.Duration, timeoutMS int) bool {
	limit := time.Duration(timeoutMS) * time.Millisecond
	wait, ok := d, true
	if d >= limit {
		wait, ok = limit, false
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return ok
}
