package auth0

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/retry"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/segmentio/encoding/json"
)

// Defaults applied by [NewClient] to zero Config fields.
const (
	DefaultTimeout         = 30 * time.Second
	DefaultMaxRetries      = 8
	DefaultBackoffInitial  = 500 * time.Millisecond
	DefaultBackoffMax      = 30 * time.Second
	DefaultPollInterval    = 2 * time.Second
	DefaultPollMaxInterval = 30 * time.Second
	// DefaultMaxRateWait caps a single wait for a rate-limit reset or Retry-After.
	DefaultMaxRateWait = 5 * time.Minute
)

// maxResponseBytes bounds how much of a response body is read.
const maxResponseBytes = 32 << 20

const redacted = "[REDACTED]"

// Config configures a [Client]. Its String, GoString and LogValue methods
// never reveal ClientSecret.
type Config struct {
	// Domain is the tenant domain, e.g. example.eu.auth0.com. Requests go to
	// https://<Domain> unless BaseURL is set.
	Domain string
	// BaseURL overrides the scheme and host (a simulator), e.g. http://127.0.0.1:8080.
	BaseURL string
	// AllowHTTP permits a plain http BaseURL.
	AllowHTTP bool
	// ClientID and ClientSecret identify the M2M application (scopes
	// create:users, read:users, read:connections).
	ClientID     string
	ClientSecret string
	// Audience of the token; default https://<Domain>/api/v2/ (or BaseURL + /api/v2/).
	Audience string
	// Timeout bounds each HTTP attempt (default 30s).
	Timeout time.Duration
	// MaxRetries is how many times a transient failure is retried (default 8;
	// negative means no retries).
	MaxRetries int
	// BackoffInitial and BackoffMax bound the exponential retry backoff
	// (defaults 500ms and 30s).
	BackoffInitial, BackoffMax time.Duration
	// MaxRateWait caps one wait for x-ratelimit-reset or Retry-After (default 5m).
	MaxRateWait time.Duration
	// PollInterval and PollMaxInterval bound WaitJob's polling backoff
	// (defaults 2s and 30s).
	PollInterval, PollMaxInterval time.Duration
	// HTTPClient sends the requests (default: a new http.Client).
	HTTPClient *http.Client
	// Logger receives debug records about retries and waits (default: discard).
	Logger *slog.Logger
	// Now and Sleep replace the clock and the sleeper (tests). Sleep must
	// return ctx.Err() when ctx ends first.
	Now   func() time.Time
	Sleep func(ctx context.Context, d time.Duration) error
}

// String describes the configuration with the secret redacted.
func (c Config) String() string {
	sec := ""
	if c.ClientSecret != "" {
		sec = redacted
	}
	return fmt.Sprintf("auth0.Config{Domain:%q BaseURL:%q ClientID:%q ClientSecret:%q Audience:%q}",
		c.Domain, c.BaseURL, c.ClientID, sec, c.Audience)
}

// GoString is String, so %#v does not reveal the secret either.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer with the secret redacted.
func (c Config) LogValue() slog.Value {
	sec := ""
	if c.ClientSecret != "" {
		sec = redacted
	}
	return slog.GroupValue(
		slog.String("domain", c.Domain),
		slog.String("base_url", c.BaseURL),
		slog.String("client_id", c.ClientID),
		slog.String("client_secret", sec),
		slog.String("audience", c.Audience),
	)
}

// Client calls the Auth0 Management API. It is safe for concurrent use.
type Client struct {
	cfg    Config
	base   string // scheme://host, no trailing slash
	http   *http.Client
	log    *slog.Logger
	now    func() time.Time
	sleep  func(context.Context, time.Duration) error
	tokMu  sync.Mutex
	tok    string
	tokExp time.Time
	// tokSeen is the latest token, readable without tokMu, for redaction.
	tokSeen atomic.Pointer[string]

	rateMu       sync.Mutex
	blockedUntil time.Time
}

// String never reveals the token or the secret.
func (c *Client) String() string { return "auth0.Client{" + c.base + "}" }

// GoString is String.
func (c *Client) GoString() string { return c.String() }

// NewClient validates cfg, applies defaults and returns a Client. No network
// call is made until the first request.
func NewClient(cfg Config) (*Client, error) {
	base := strings.TrimRight(cfg.BaseURL, "/")
	if base == "" {
		d := strings.TrimSpace(cfg.Domain)
		if d == "" {
			return nil, fault.Permanentf("config", "auth0: domain or base_url is required")
		}
		if strings.Contains(d, "://") {
			return nil, fault.Permanentf("config", "auth0: domain %q must be a host name without a scheme", d)
		}
		base = "https://" + strings.TrimRight(d, "/")
	}
	u, err := url.Parse(base)
	if err != nil || u.Host == "" {
		return nil, fault.Permanentf("config", "auth0: base_url %q is not a URL", base)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !cfg.AllowHTTP {
			return nil, fault.Permanentf("config", "auth0: base_url %q is plain http://: set allow_http only for a local simulator", base)
		}
	default:
		return nil, fault.Permanentf("config", "auth0: base_url %q: want an https:// URL", base)
	}
	if cfg.ClientID == "" || cfg.ClientSecret == "" {
		return nil, fault.Permanentf("config", "auth0: client_id and client_secret are required")
	}
	if cfg.Audience == "" {
		if cfg.Domain != "" {
			cfg.Audience = "https://" + strings.TrimRight(strings.TrimSpace(cfg.Domain), "/") + "/api/v2/"
		} else {
			cfg.Audience = base + "/api/v2/"
		}
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.MaxRetries == 0 {
		cfg.MaxRetries = DefaultMaxRetries
	} else if cfg.MaxRetries < 0 {
		cfg.MaxRetries = 0
	}
	if cfg.BackoffInitial <= 0 {
		cfg.BackoffInitial = DefaultBackoffInitial
	}
	if cfg.BackoffMax <= 0 {
		cfg.BackoffMax = DefaultBackoffMax
	}
	if cfg.MaxRateWait <= 0 {
		cfg.MaxRateWait = DefaultMaxRateWait
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = DefaultPollInterval
	}
	if cfg.PollMaxInterval <= 0 {
		cfg.PollMaxInterval = DefaultPollMaxInterval
	}
	c := &Client{cfg: cfg, base: base, http: cfg.HTTPClient, log: cfg.Logger, now: cfg.Now, sleep: cfg.Sleep}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.sleep == nil {
		c.sleep = retry.Sleep
	}
	return c, nil
}

// apiError is the Management API error body; OAuth errors use error/error_description.
type apiError struct {
	StatusCode       int    `json:"statusCode"`
	Error            string `json:"error"`
	ErrorDescription string `json:"error_description"`
	Message          string `json:"message"`
	ErrorCode        string `json:"errorCode"`
}

// message extracts a human-readable message from an error body.
func errorMessage(body []byte) (msg, code string) {
	var ae apiError
	if json.Unmarshal(body, &ae) == nil {
		switch {
		case ae.Message != "":
			msg = ae.Message
		case ae.ErrorDescription != "":
			msg = ae.ErrorDescription
		case ae.Error != "":
			msg = ae.Error
		}
		code = ae.ErrorCode
		if code == "" && ae.ErrorDescription != "" {
			code = ae.Error
		}
		if msg != "" {
			return msg, code
		}
	}
	s := strings.TrimSpace(string(body))
	if len(s) > 300 {
		s = s[:300] + "…"
	}
	return s, ""
}

// request describes one logical API call; body is rebuilt for every attempt.
type request struct {
	op          string // for errors and logs, e.g. "create import"
	method      string
	path        string // starting with /
	query       url.Values
	body        []byte
	contentType string
	noAuth      bool
	jobSlots    bool // interpret 429 "active import users jobs" as ErrJobSlots
}

// response is a completed call with a 2xx status.
type response struct {
	status int
	body   []byte
}

// redact removes the secret and the current token from s.
func (c *Client) redact(s string) string {
	if c.cfg.ClientSecret != "" {
		s = strings.ReplaceAll(s, c.cfg.ClientSecret, redacted)
	}
	if tok := c.tokSeen.Load(); tok != nil && *tok != "" {
		s = strings.ReplaceAll(s, *tok, redacted)
	}
	return s
}

// waitRateGate sleeps until a previously announced rate-limit reset.
func (c *Client) waitRateGate(ctx context.Context, op string) error {
	c.rateMu.Lock()
	until := c.blockedUntil
	c.rateMu.Unlock()
	if until.IsZero() {
		return nil
	}
	d := until.Sub(c.now())
	if d <= 0 {
		return nil
	}
	if d > c.cfg.MaxRateWait {
		d = c.cfg.MaxRateWait
	}
	c.log.DebugContext(ctx, "auth0: rate limit exhausted, waiting for reset", "op", op, "wait", d)
	return c.sleep(ctx, d)
}

// noteRateLimit records x-ratelimit-remaining/reset and returns the reset time
// (zero when absent) and whether remaining is 0.
func (c *Client) noteRateLimit(h http.Header) (reset time.Time, exhausted bool) {
	if v := h.Get("X-Ratelimit-Reset"); v != "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n > 0 {
			reset = time.Unix(n, 0)
		}
	}
	if v := h.Get("X-Ratelimit-Remaining"); v != "" {
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil && n <= 0 {
			exhausted = true
		}
	}
	c.rateMu.Lock()
	defer c.rateMu.Unlock()
	if exhausted && !reset.IsZero() {
		if reset.After(c.blockedUntil) {
			c.blockedUntil = reset
		}
	} else if h.Get("X-Ratelimit-Remaining") != "" {
		// Requests are available again.
		c.blockedUntil = time.Time{}
	}
	return reset, exhausted
}

func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return t.Sub(now)
	}
	return 0
}

// backoff returns the jittered exponential delay before retry number attempt (0-based).
func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.BackoffInitial
	for i := 0; i < attempt && d < c.cfg.BackoffMax; i++ {
		d *= 2
	}
	if d > c.cfg.BackoffMax {
		d = c.cfg.BackoffMax
	}
	// "Equal jitter": between d/2 and d.
	half := d / 2
	return half + rand.N(half+1)
}

// do runs req with rate limiting, token handling and retries.
func (c *Client) do(ctx context.Context, req request) (response, error) {
	refreshed := false
	var lastErr error
	for attempt := 0; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return response{}, c.ctxErr(req.op, err, lastErr)
		}
		if err := c.waitRateGate(ctx, req.op); err != nil {
			return response{}, c.ctxErr(req.op, err, lastErr)
		}
		var token string
		if !req.noAuth {
			t, err := c.token(ctx)
			if err != nil {
				return response{}, err
			}
			token = t
		}
		status, hdr, body, err := c.send(ctx, req, token)
		var wait time.Duration
		var retryErr error
		if err != nil {
			if ctx.Err() != nil {
				return response{}, c.ctxErr(req.op, ctx.Err(), err)
			}
			retryErr = fault.Transient("unavailable", fmt.Errorf("auth0: %s: %s", req.op, c.redact(err.Error())))
		} else {
			reset, exhausted := c.noteRateLimit(hdr)
			if status >= 200 && status < 300 {
				return response{status: status, body: body}, nil
			}
			msg, code := errorMessage(body)
			msg = c.redact(msg)
			switch {
			case status == http.StatusUnauthorized && !req.noAuth && !refreshed:
				refreshed = true
				c.invalidateToken(token)
				c.log.DebugContext(ctx, "auth0: 401, refreshing token", "op", req.op)
				attempt-- // the refresh does not use up a retry
				continue
			case status == http.StatusTooManyRequests && req.jobSlots && isJobSlotsMessage(msg):
				return response{}, fault.Transient("job_slots_busy",
					&jobSlotsError{msg: fmt.Sprintf("auth0: %s: %s", req.op, msg)})
			case status == http.StatusTooManyRequests,
				status == http.StatusConflict && (exhausted || isRateLimitMessage(msg)):
				retryErr = fault.Transient("rate_limited", fmt.Errorf("auth0: %s: HTTP %d: %s", req.op, status, msg))
				if ra := parseRetryAfter(hdr.Get("Retry-After"), c.now()); ra > 0 {
					wait = ra
				} else if !reset.IsZero() {
					wait = reset.Sub(c.now())
				}
				if wait > c.cfg.MaxRateWait {
					wait = c.cfg.MaxRateWait
				}
			case status >= 500:
				retryErr = fault.Transient("server_error", fmt.Errorf("auth0: %s: HTTP %d: %s", req.op, status, msg))
				if exhausted && !reset.IsZero() {
					wait = min(reset.Sub(c.now()), c.cfg.MaxRateWait)
				}
			default:
				return response{}, c.permanent(req, status, code, msg)
			}
		}
		lastErr = retryErr
		if attempt >= c.cfg.MaxRetries {
			return response{}, retryErr
		}
		if wait <= 0 {
			wait = c.backoff(attempt)
		}
		c.log.DebugContext(ctx, "auth0: retrying", "op", req.op, "attempt", attempt+1, "wait", wait, "error", retryErr.Error())
		if err := c.sleep(ctx, wait); err != nil {
			return response{}, c.ctxErr(req.op, err, lastErr)
		}
	}
}

func (c *Client) ctxErr(op string, err, last error) error {
	if last != nil {
		return fmt.Errorf("auth0: %s: %w (last error: %v)", op, err, last)
	}
	return fmt.Errorf("auth0: %s: %w", op, err)
}

func (c *Client) permanent(req request, status int, code, msg string) error {
	err := fmt.Errorf("auth0: %s: HTTP %d: %s", req.op, status, msg)
	switch status {
	case http.StatusBadRequest:
		if code == "" {
			code = "invalid_body"
		}
		return fault.Permanent(code, err)
	case http.StatusUnauthorized:
		return fault.Permanent("unauthorized", err)
	case http.StatusForbidden:
		return fault.Permanent("forbidden", fmt.Errorf("%w (check the M2M application's scopes: create:users, read:users, read:connections)", err))
	case http.StatusNotFound:
		return fault.Permanent("not_found", err)
	case http.StatusRequestEntityTooLarge:
		return fault.Permanent("file_too_large", err)
	default:
		return fault.Permanent(fmt.Sprintf("http_%d", status), err)
	}
}

// send performs one HTTP attempt bounded by Config.Timeout.
func (c *Client) send(ctx context.Context, req request, token string) (int, http.Header, []byte, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	u := c.base + req.path
	if len(req.query) > 0 {
		u += "?" + req.query.Encode()
	}
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(actx, req.method, u, body)
	if err != nil {
		return 0, nil, nil, err
	}
	if req.contentType != "" {
		hr.Header.Set("Content-Type", req.contentType)
	}
	hr.Header.Set("Accept", "application/json")
	if token != "" {
		hr.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.http.Do(hr)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxResponseBytes))
	if err != nil {
		return 0, nil, nil, err
	}
	return resp.StatusCode, resp.Header, b, nil
}

func isRateLimitMessage(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "rate limit") || strings.Contains(m, "too many requests") ||
		strings.Contains(m, "global limit")
}

// ErrJobSlots matches (errors.Is) the error returned by CreateImport when the
// tenant already runs its maximum of concurrent import jobs (HTTP 429 "There
// are 2 active import users jobs ..."). It is transient with code
// "job_slots_busy": wait for a running job to finish, then submit again.
var ErrJobSlots = errors.New("auth0: all import job slots are busy")

type jobSlotsError struct{ msg string }

func (e *jobSlotsError) Error() string        { return e.msg }
func (e *jobSlotsError) Is(target error) bool { return target == ErrJobSlots }

func isJobSlotsMessage(msg string) bool {
	m := strings.ToLower(msg)
	return strings.Contains(m, "active import users jobs") ||
		(strings.Contains(m, "active") && strings.Contains(m, "import") && strings.Contains(m, "job"))
}

// decode unmarshals a successful response body.
func decode(op string, body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fault.Permanent("bad_response", fmt.Errorf("auth0: %s: decoding response: %w", op, err))
	}
	return nil
}
