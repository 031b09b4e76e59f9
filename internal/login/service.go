package login

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

// Gigya is what the service needs of the Gigya client (*gigya.Client).
type Gigya interface {
	Login(ctx context.Context, loginID, password string) (json.RawMessage, error)
	FindAccount(ctx context.Context, field, value string, fields []string) (json.RawMessage, error)
}

// Publisher publishes one message and waits for its PubAck
// (jetstream.JetStream).
type Publisher interface {
	PublishMsg(ctx context.Context, msg *nats.Msg, opts ...jetstream.PublishOpt) (*jetstream.PubAck, error)
}

// Options are what New needs besides the settings.
type Options struct {
	Settings Settings
	// Site is the Gigya site users log in to: their accounts go to
	// gigya.accounts.<Site>.
	Site string
	// Run is the Etl-Run of the accounts the service publishes: the status
	// balance counts them as a run of their own.
	Run string
	// Mapping maps the accounts: the transformer's mapping.
	Mapping *mapping.Mapping
	// Gigya logs users in; GigyaSearch (nil: Gigya) finds accounts for
	// get_user, so that searches keep a rate of their own.
	Gigya, GigyaSearch Gigya
	// LoginRadius is the LoginRadius API of the API mode; nil turns the
	// API mode off (the lookup endpoint does not need it).
	LoginRadius LoginRadius
	// Publisher stores the accounts of the users migrated at login.
	Publisher Publisher
	// MaxPayload is the NATS server's limit on one message (0: none).
	MaxPayload int64
	// Ready reports whether the service can work (NATS connected); nil:
	// always. The API listener's /readyz answers with it.
	Ready   func() error
	Log     *slog.Logger
	Metrics prometheus.Registerer
	// Now is the clock of the rate limits; nil: time.Now.
	Now func() time.Time
}

// Service is the login service. Its handler is safe for concurrent use.
type Service struct {
	settings Settings
	site     string
	run      string
	target   string
	gigya    Gigya
	search   Gigya
	lr       LoginRadius
	mapper   *mapper
	pub      Publisher
	maxPay   int64
	ready    func() error
	log      *slog.Logger
	metrics  *metrics
	now      func() time.Time

	callers     callers
	identifiers *identifierLimits
	pending     map[string]bool
	auth0Omit   []string
	lrOmit      []string

	published, duplicates, publishFailed atomic.Int64
	outcomesMu                           sync.Mutex
	outcomes                             map[string]int64
}

// New builds the service from validated settings.
func New(o Options) (*Service, error) {
	if o.Mapping == nil || o.Gigya == nil || o.Publisher == nil {
		return nil, errors.New("login: Mapping, Gigya and Publisher are required")
	}
	switch o.Mapping.Target() {
	case "auth0", "loginradius":
	default:
		return nil, fmt.Errorf("mapping %s has target %q: %w", o.Mapping.Name(), o.Mapping.Target(), ErrNoEndpoints)
	}
	mp, err := newMapper(o.Mapping)
	if err != nil {
		return nil, err
	}
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Metrics == nil {
		o.Metrics = prometheus.NewRegistry()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.GigyaSearch == nil {
		o.GigyaSearch = o.Gigya
	}
	if o.Ready == nil {
		o.Ready = func() error { return nil }
	}
	st := o.Settings
	s := &Service{
		settings: st, site: o.Site, run: o.Run, target: o.Mapping.Target(),
		gigya: o.Gigya, search: o.GigyaSearch, lr: o.LoginRadius, mapper: mp, pub: o.Publisher, maxPay: o.MaxPayload,
		ready: o.Ready, log: o.Log, metrics: newMetrics(o.Metrics), now: o.Now,
		callers:     newCallers(st),
		identifiers: newIdentifierLimits(st.Rate.PerIdentifier, st.Rate.IdentifierBurst, o.Now),
		pending:     map[string]bool{},
		auth0Omit:   st.Auth0.Omit,
		lrOmit:      st.LoginRadius.Omit,
		outcomes:    map[string]int64{},
	}
	for _, p := range st.MigratePending {
		s.pending[p] = true
	}
	return s, nil
}

// Target is the mapping's target, which selects the endpoints.
func (s *Service) Target() string { return s.target }

// Totals are the service's counts since it started: what it published,
// and the requests by outcome.
type Totals struct {
	Published     int64            `json:"published"`
	Duplicates    int64            `json:"duplicates"`
	PublishFailed int64            `json:"publish_failed"`
	Outcomes      map[string]int64 `json:"outcomes"`
}

// Totals returns the counts so far.
func (s *Service) Totals() Totals {
	s.outcomesMu.Lock()
	out := make(map[string]int64, len(s.outcomes))
	for k, v := range s.outcomes {
		out[k] = v
	}
	s.outcomesMu.Unlock()
	return Totals{Published: s.published.Load(), Duplicates: s.duplicates.Load(), PublishFailed: s.publishFailed.Load(), Outcomes: out}
}

// Handler serves the endpoints of the mapping's target, and /healthz and
// /readyz (unauthenticated: they say nothing about users).
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusNotFound)
		_ = json.NewEncoder(w).Encode(errorAnswer{Error: "no_such_endpoint", Message: "no such endpoint for target " + s.target})
	})
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "ok\n") })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if err := s.ready(); err != nil {
			http.Error(w, err.Error(), http.StatusServiceUnavailable)
			return
		}
		_, _ = io.WriteString(w, "ready\n")
	})
	switch s.target {
	case "auth0":
		mux.Handle("/auth0/login", s.endpoint("auth0_login", s.auth0Login))
		mux.Handle("/auth0/get_user", s.endpoint("auth0_get_user", s.auth0GetUser))
	case "loginradius":
		mux.Handle("/loginradius/lookup", s.endpoint("loginradius_lookup", s.lrLookup))
		if s.lr != nil {
			mux.Handle("/loginradius/login", s.endpoint("loginradius_login", s.lrLogin))
		}
	}
	return mux
}

// call is one request's bookkeeping.
type call struct {
	endpoint string
	client   string
	started  time.Time
	gigya    time.Duration // time spent in Gigya calls
}

// Outcomes of a request, as metrics, logs and the JSON error answer name
// them. wrong_credentials and unknown_user are both the caller's "wrong
// email or password"; retryable ones are what a caller should try again.
const (
	outMigrated        = "migrated"
	outFound           = "found"
	outExisting        = "existing" // LoginRadius held the user already: its own login
	outMigratedReset   = "migrated_reset"
	outWrongCreds      = "wrong_credentials"
	outUnknownUser     = "unknown_user"
	outNotFound        = "not_found"
	outFiltered        = "filtered"
	outLocked          = "account_locked"
	outDisabled        = "account_disabled"
	outPending         = "pending"
	outCaptcha         = "captcha_required"
	outRateLimited     = "rate_limited"
	outUnavailable     = "unavailable"
	outTimeout         = "timeout"
	outMappingFailed   = "mapping_failed"
	outGigyaError      = "gigya_error"
	outTargetRefused   = "target_refused"
	outUnauthorized    = "unauthorized"
	outBadRequest      = "bad_request"
	outMethodNotAllow  = "method_not_allowed"
	outAmbiguousFinder = "ambiguous_account"
)

// answer is how an outcome that is not a success is answered.
type answer struct {
	status    int
	retryable bool
	message   string
}

var answers = map[string]answer{
	outWrongCreds:      {http.StatusForbidden, false, "wrong email or password"},
	outUnknownUser:     {http.StatusForbidden, false, "wrong email or password"},
	outNotFound:        {http.StatusNotFound, false, "no such user"},
	outFiltered:        {http.StatusNotFound, false, "no such user"},
	outLocked:          {http.StatusLocked, false, "the account is locked for a while after failed logins"},
	outDisabled:        {http.StatusForbidden, false, "the account is disabled"},
	outPending:         {http.StatusForbidden, false, "the account is pending (registration, email verification, password change or second factor)"},
	outCaptcha:         {http.StatusForbidden, false, "the login needs a CAPTCHA, which a server cannot solve"},
	outRateLimited:     {http.StatusTooManyRequests, true, "too many attempts: try again later"},
	outUnavailable:     {http.StatusServiceUnavailable, true, "the legacy login or the migration pipeline is unavailable: try again"},
	outTimeout:         {http.StatusGatewayTimeout, true, "the legacy login did not answer in time: try again"},
	outMappingFailed:   {http.StatusUnprocessableEntity, false, "the account cannot be migrated"},
	outGigyaError:      {http.StatusBadGateway, false, "the legacy login failed"},
	outTargetRefused:   {http.StatusBadGateway, false, "the new identity provider refused the user"},
	outAmbiguousFinder: {http.StatusConflict, false, "more than one account has this identifier"},
	outUnauthorized:    {http.StatusUnauthorized, false, "missing or wrong client secret"},
	outBadRequest:      {http.StatusBadRequest, false, "bad request"},
	outMethodNotAllow:  {http.StatusMethodNotAllowed, false, "POST only"},
}

// failure is a request that ends with an outcome other than a success;
// detail is added to the answer's message (never a password or a value of
// the account).
type failure struct {
	outcome    string
	detail     string
	retryAfter time.Duration
}

func (f *failure) Error() string { return f.outcome + ": " + f.detail }

func fail(outcome, detail string) *failure { return &failure{outcome: outcome, detail: detail} }

// maxBody bounds a request body: an identifier and a password.
const maxBody = 16 << 10

// endpoint wraps a handler with what every endpoint does: POST only, the
// caller's secret, its rate limit, a bounded body, the timeout, the
// answer and the bookkeeping.
func (s *Service) endpoint(name string, h func(ctx context.Context, c *call, body []byte) (int, any, *failure)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := &call{endpoint: name, client: "-", started: s.now()}
		status, out, f := s.serve(w, r, c, h)
		s.finish(w, c, status, out, f)
	})
}

func (s *Service) serve(w http.ResponseWriter, r *http.Request, c *call, h func(context.Context, *call, []byte) (int, any, *failure)) (int, any, *failure) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		return 0, nil, fail(outMethodNotAllow, "")
	}
	who := s.callers.authenticate(r)
	if who == nil {
		return 0, nil, fail(outUnauthorized, "")
	}
	c.client = who.name
	if ok, wait := limitAllow(who.limit, s.now()); !ok {
		return 0, nil, &failure{outcome: outRateLimited, detail: "client " + who.name + " is over its rate", retryAfter: wait}
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return 0, nil, fail(outBadRequest, "the body is larger than 16 KiB or could not be read")
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.settings.Timeout)
	defer cancel()
	return h(ctx, c, body)
}

// finish answers and records the request.
func (s *Service) finish(w http.ResponseWriter, c *call, status int, out any, f *failure) {
	outcome := ""
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if f != nil {
		outcome = f.outcome
		a, ok := answers[f.outcome]
		if !ok {
			a = answer{http.StatusInternalServerError, true, "internal error"}
		}
		msg := a.message
		if f.detail != "" {
			msg += ": " + f.detail
		}
		if f.retryAfter > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(int(max(1, f.retryAfter.Round(time.Second)/time.Second))))
		}
		w.WriteHeader(a.status)
		_ = json.NewEncoder(w).Encode(errorAnswer{Error: f.outcome, Message: msg, Retryable: a.retryable})
	} else {
		outcome = out.(result).outcome
		w.WriteHeader(status)
		_ = json.NewEncoder(w).Encode(out.(result).body)
	}
	took := s.now().Sub(c.started)
	s.metrics.requests.WithLabelValues(c.endpoint, c.client, outcome).Inc()
	s.metrics.seconds.WithLabelValues(c.endpoint).Observe(took.Seconds())
	s.metrics.gigya.WithLabelValues(c.endpoint).Observe(c.gigya.Seconds())
	s.metrics.added.WithLabelValues(c.endpoint).Observe(max(took-c.gigya, 0).Seconds())
	s.outcomesMu.Lock()
	s.outcomes[outcome]++
	s.outcomesMu.Unlock()
	level := slog.LevelInfo
	if f != nil && (outcome == outUnavailable || outcome == outGigyaError || outcome == outTargetRefused || outcome == outMappingFailed) {
		level = slog.LevelWarn
	}
	attrs := []slog.Attr{slog.String("endpoint", c.endpoint), slog.String("client", c.client), slog.String("outcome", outcome),
		slog.Duration("took", took), slog.Duration("gigya", c.gigya)}
	if f != nil && f.detail != "" {
		attrs = append(attrs, slog.String("detail", f.detail))
	}
	s.log.LogAttrs(context.Background(), level, "login request", attrs...)
}

// errorAnswer is the JSON body of every answer that is not a success.
type errorAnswer struct {
	Error     string `json:"error"`
	Message   string `json:"message"`
	Retryable bool   `json:"retryable"`
}

// result is a successful answer: its outcome and body.
type result struct {
	outcome string
	body    any
}

// credentials is the body of the login endpoints.
type credentials struct {
	Identifier string `json:"identifier"`
	Password   string `json:"password"`
}

// decodeStrict decodes a JSON object into v, refusing unknown fields.
func decodeStrict(body []byte, v any) error {
	dec := json.NewDecoder(strings.NewReader(string(body)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return errors.New("the body is not the expected JSON object")
	}
	return nil
}

// gigyaCall runs fn, a Gigya call, adding its time to the request's.
func (s *Service) gigyaCall(c *call, fn func() error) error {
	start := s.now()
	err := fn()
	c.gigya += s.now().Sub(start)
	return err
}

// verify logs identifier in with password at Gigya, within the
// per-identifier limit, and returns the account; a pending account whose
// state login.migrate_pending lists is returned whole (read again by its
// UID when the pending answer did not carry it).
func (s *Service) verify(ctx context.Context, c *call, identifier, password string) (json.RawMessage, *failure) {
	if ok, wait := s.identifiers.allow(identifier); !ok {
		return nil, &failure{outcome: outRateLimited, detail: "too many logins for this identifier", retryAfter: wait}
	}
	var acc json.RawMessage
	err := s.gigyaCall(c, func() error {
		var err error
		acc, err = s.gigya.Login(ctx, identifier, password)
		return err
	})
	if err == nil {
		return acc, nil
	}
	if gigya.PasswordVerified(err) {
		_, code := fault.Classify(err)
		if !s.pending[code] {
			return nil, fail(outPending, code)
		}
		full, f := s.pendingAccount(ctx, c, acc, identifier)
		if f != nil {
			return nil, f
		}
		return full, nil
	}
	return nil, s.gigyaFailure(ctx, err)
}

// pendingAccount completes the account a pending login answer carried.
func (s *Service) pendingAccount(ctx context.Context, c *call, acc json.RawMessage, identifier string) (json.RawMessage, *failure) {
	var probe struct {
		UID     string          `json:"UID"`
		Profile json.RawMessage `json:"profile"`
	}
	_ = json.Unmarshal(acc, &probe)
	if probe.UID != "" && len(probe.Profile) > 0 {
		return acc, nil
	}
	field, value := s.settings.Gigya.LookupField, identifier
	if probe.UID != "" {
		field, value = "UID", probe.UID
	}
	var full json.RawMessage
	err := s.gigyaCall(c, func() error {
		var err error
		full, err = s.search.FindAccount(ctx, field, value, gigya.LookupFields())
		return err
	})
	if err != nil {
		return nil, s.gigyaFailure(ctx, err)
	}
	return full, nil
}

// gigyaFailure turns a Gigya error into the request's outcome.
func (s *Service) gigyaFailure(ctx context.Context, err error) *failure {
	var ae *gigya.APIError
	errors.As(err, &ae)
	_, code := fault.Classify(err)
	switch {
	case errors.Is(err, gigya.ErrInvalidCredentials):
		if ae != nil && ae.ErrorCode == 403047 {
			return fail(outUnknownUser, "")
		}
		return fail(outWrongCreds, "")
	case errors.Is(err, gigya.ErrNotFound):
		return fail(outNotFound, "")
	case errors.Is(err, gigya.ErrAmbiguous):
		return fail(outAmbiguousFinder, "")
	case errors.Is(err, gigya.ErrAccountLocked):
		return fail(outLocked, "")
	case errors.Is(err, gigya.ErrAccountDisabled):
		return fail(outDisabled, "")
	case errors.Is(err, gigya.ErrCaptchaRequired):
		return fail(outCaptcha, "")
	case errors.Is(err, gigya.ErrRateLimited):
		return &failure{outcome: outRateLimited, detail: "Gigya's rate limit", retryAfter: time.Second}
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return fail(outTimeout, "")
	case fault.IsTransient(err):
		return fail(outUnavailable, "gigya "+code)
	}
	return fail(outGigyaError, code)
}

// migrate is a login that the target takes as it comes (Auth0's login
// script, LoginRadius' lookup node): the password checked at Gigya, the
// account mapped, and the migration recorded on the raw stream. It returns
// the mapped user. The record is published before the target hears of the
// user: an answer it never gets leaves a record of a user it does not
// hold, which the user's next login repairs; a user it holds without a
// record could be overwritten by the bulk load.
func (s *Service) migrate(ctx context.Context, c *call, identifier, password string) (map[string]any, *failure) {
	acc, f := s.verify(ctx, c, identifier, password)
	if f != nil {
		return nil, f
	}
	user, f := s.mapped(acc)
	if f != nil {
		return nil, f
	}
	if err := s.publish(ctx, acc); err != nil {
		s.log.Warn("a user verified at login is not migrated: the record could not be published", "uid", uidOf(acc), "err", err)
		return nil, fail(outUnavailable, "the migration could not be recorded")
	}
	s.log.Info("user migrated at login", "uid", uidOf(acc), "client", c.client)
	return user, nil
}

// mapped maps an account, or says why it cannot be migrated (code and
// field only: the error's text may quote the account's values).
func (s *Service) mapped(acc json.RawMessage) (map[string]any, *failure) {
	user, err := s.mapper.mapAccount(acc)
	if err == nil {
		return user, nil
	}
	_, code := fault.Classify(err)
	if code == "filtered" {
		return nil, fail(outFiltered, strings.TrimPrefix(err.Error(), errFiltered.Error()+": "))
	}
	var fe *mapping.FieldError
	if errors.As(err, &fe) {
		return nil, fail(outMappingFailed, code+" ("+fe.Field+")")
	}
	var ve *validate.ViolationError
	if errors.As(err, &ve) && len(ve.Violations) > 0 {
		return nil, fail(outMappingFailed, code+" ("+ve.Violations[0].Path+")")
	}
	return nil, fail(outMappingFailed, code)
}

// without returns a copy of user without the top-level fields omit names.
func without(user map[string]any, omit []string) map[string]any {
	out := make(map[string]any, len(user))
	for k, v := range user {
		out[k] = v
	}
	for _, k := range omit {
		delete(out, k)
	}
	return out
}
