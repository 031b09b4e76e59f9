package loginradius

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
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/retry"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/segmentio/encoding/json"
	"golang.org/x/time/rate"
)

// Defaults of [Config].
const (
	DefaultMigrationURL   = "https://migration.loginradius.com"
	DefaultAPIURL         = "https://api.loginradius.com"
	DefaultTimeout        = 2 * time.Minute
	DefaultMaxRetries     = 8
	DefaultBackoffInitial = 500 * time.Millisecond
	DefaultBackoffMax     = 30 * time.Second
	DefaultMaxRateWait    = 5 * time.Minute
)

// maxResponseBytes bounds how much of a response body is read.
const maxResponseBytes = 32 << 20

const redacted = "[REDACTED]"

// Config configures a [Client]. Its String and LogValue never reveal the
// secret.
type Config struct {
	// APIKey and APISecret are the tenant's credentials.
	APIKey, APISecret string
	// MigrationURL is the bulk migration API's scheme and host (default
	// https://migration.loginradius.com), APIURL the Account APIs' (default
	// https://api.loginradius.com); a simulator serves both.
	MigrationURL, APIURL string
	// AllowHTTP permits plain http URLs.
	AllowHTTP bool
	// Timeout bounds one HTTP attempt (default 2m: a bulk request carries
	// up to 10 MB).
	Timeout time.Duration
	// MaxRetries is how many times a transient failure is retried (default
	// 8; negative: none).
	MaxRetries int
	// BackoffInitial and BackoffMax bound the retry backoff (defaults 500ms
	// and 30s); MaxRateWait caps one wait for Retry-After (default 5m).
	BackoffInitial, BackoffMax, MaxRateWait time.Duration
	// Rate is the requests per second of this Client at most, Burst its
	// bucket (default 1); 0 is unlimited.
	Rate  float64
	Burst int
	// HTTPClient sends the requests (default: a new http.Client).
	HTTPClient *http.Client
	// Logger receives debug records about retries (default: discard).
	Logger *slog.Logger
	// Sleep replaces the sleeper (tests); it returns ctx.Err() when ctx
	// ends first.
	Sleep func(ctx context.Context, d time.Duration) error
	// InFlight, when set, is told of every attempt of a write (POST, PUT)
	// before it is sent, and of each that got no answer, which LoginRadius
	// may still store; it must be made with this Config's Timeout.
	InFlight *InFlight
}

// String describes the configuration with the secret redacted.
func (c Config) String() string {
	sec := ""
	if c.APISecret != "" {
		sec = redacted
	}
	return fmt.Sprintf("loginradius.Config{APIKey:%q APISecret:%q MigrationURL:%q APIURL:%q}", c.APIKey, sec, c.MigrationURL, c.APIURL)
}

// GoString is String.
func (c Config) GoString() string { return c.String() }

// LogValue implements slog.LogValuer with the secret redacted.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Client calls LoginRadius. It is safe for concurrent use.
type Client struct {
	cfg            Config
	migration, api string
	http           *http.Client
	log            *slog.Logger
	sleep          func(context.Context, time.Duration) error
	limiter        *rate.Limiter
}

// String never reveals the secret.
func (c *Client) String() string { return "loginradius.Client{" + c.migration + " " + c.api + "}" }

// NewClient validates cfg, applies defaults and returns a Client. No network
// call is made.
func NewClient(cfg Config) (*Client, error) {
	if cfg.APIKey == "" || cfg.APISecret == "" {
		return nil, fault.Permanentf("config", "loginradius: APIKey and APISecret are required")
	}
	base := func(name, u, def string) (string, error) {
		if u == "" {
			u = def
		}
		u = strings.TrimRight(u, "/")
		p, err := url.Parse(u)
		if err != nil || p.Host == "" {
			return "", fault.Permanentf("config", "loginradius: invalid %s %q", name, u)
		}
		switch {
		case p.Scheme == "https":
		case p.Scheme == "http" && cfg.AllowHTTP:
		case p.Scheme == "http":
			return "", fault.Permanentf("config", "loginradius: plain http %s %q needs AllowHTTP", name, u)
		default:
			return "", fault.Permanentf("config", "loginradius: unsupported scheme in %s %q", name, u)
		}
		return u, nil
	}
	mig, err := base("migration URL", cfg.MigrationURL, DefaultMigrationURL)
	if err != nil {
		return nil, err
	}
	api, err := base("API URL", cfg.APIURL, DefaultAPIURL)
	if err != nil {
		return nil, err
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
	c := &Client{cfg: cfg, migration: mig, api: api, http: cfg.HTTPClient, log: cfg.Logger, sleep: cfg.Sleep}
	if c.http == nil {
		c.http = &http.Client{}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.sleep == nil {
		c.sleep = retry.Sleep
	}
	if cfg.Rate > 0 {
		c.limiter = rate.NewLimiter(rate.Limit(cfg.Rate), max(cfg.Burst, 1))
	}
	return c, nil
}

// Error is LoginRadius' error answer ("Errors": {Description, ErrorCode,
// Message, ...}), with the HTTP status. The classified error wraps it.
type Error struct {
	Op          string
	Status      int
	ErrorCode   int
	Message     string
	Description string
}

func (e *Error) Error() string {
	s := fmt.Sprintf("loginradius: %s: HTTP %d", e.Op, e.Status)
	if e.ErrorCode != 0 {
		s += fmt.Sprintf(" ErrorCode %d", e.ErrorCode)
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	if e.Description != "" && e.Description != e.Message {
		s += " (" + e.Description + ")"
	}
	return s
}

// ErrNotFound matches (errors.Is) the error for a user that does not exist
// (ErrorCode 938).
var ErrNotFound = errors.New("loginradius: user does not exist")

// Is makes errors.Is(err, ErrNotFound) true for ErrorCode 938.
func (e *Error) Is(target error) bool { return target == ErrNotFound && e.ErrorCode == 938 }

// codes names LoginRadius' error codes the sinks act on (docs/apis/loginradius.md, "Errors").
var codes = map[int]string{
	6002: "unauthorized", 901: "unauthorized", 902: "unauthorized", 920: "unauthorized", 921: "unauthorized", 922: "unauthorized",
	938: "not_found", 936: "email_exists", 988: "email_exists", 1017: "username_exists", 1058: "phone_exists",
	1200: "invalid_uid", 990: "invalid_email", 1134: "validation_failed", 7914: "invalid_body",
}

// Code returns the fault code of a LoginRadius ErrorCode, as [classify]
// gives it (for Failed items, which have no HTTP status).
func Code(errorCode int) string {
	if c, ok := codes[errorCode]; ok {
		return c
	}
	return "lr_" + strconv.Itoa(errorCode)
}

// classify turns a non-2xx answer into a classified error: the one place
// where LoginRadius' answers become transient or permanent.
func classify(op string, status int, body []byte) error {
	e := &Error{Op: op, Status: status}
	var b struct {
		ErrorCode   int    `json:"ErrorCode"`
		Message     string `json:"Message"`
		Description string `json:"Description"`
	}
	if json.Unmarshal(body, &b) == nil {
		e.ErrorCode, e.Message, e.Description = b.ErrorCode, b.Message, b.Description
	}
	if e.Message == "" && e.Description == "" {
		s := strings.TrimSpace(string(body))
		if len(s) > 300 {
			s = s[:300] + "…"
		}
		e.Message = s
	}
	switch {
	case status == http.StatusTooManyRequests || e.ErrorCode == 429:
		return fault.Transient("rate_limited", e)
	case status >= 500, status == http.StatusRequestTimeout:
		return fault.Transient("server_error", e)
	case status == http.StatusRequestEntityTooLarge:
		return fault.Permanent("request_too_large", e)
	case e.ErrorCode != 0:
		return fault.Permanent(Code(e.ErrorCode), e)
	case status == http.StatusBadRequest:
		return fault.Permanent("invalid_body", e)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return fault.Permanent("unauthorized", e)
	case status == http.StatusNotFound:
		return fault.Permanent("http_404", e)
	}
	return fault.Permanent("http_"+strconv.Itoa(status), e)
}

// request is one logical call.
type request struct {
	op     string
	method string
	base   string // c.migration or c.api
	path   string
	query  url.Values
	body   []byte
	// bulk sends the credentials in the query (the bulk API's form); the
	// others send them as headers.
	bulk    bool
	keyOnly bool // the auth APIs: apikey only
}

// redact removes the secret from s.
func (c *Client) redact(s string) string {
	if c.cfg.APISecret == "" {
		return s
	}
	s = strings.ReplaceAll(s, c.cfg.APISecret, redacted)
	return strings.ReplaceAll(s, url.QueryEscape(c.cfg.APISecret), redacted)
}

func (c *Client) backoff(attempt int) time.Duration {
	d := c.cfg.BackoffInitial
	for i := 0; i < attempt && d < c.cfg.BackoffMax; i++ {
		d *= 2
	}
	d = min(d, c.cfg.BackoffMax)
	half := d / 2
	return half + rand.N(half+1)
}

// do runs req with the rate limit and retries, and returns the body of a
// 2xx answer.
func (c *Client) do(ctx context.Context, req request) ([]byte, error) {
	var last error
	for attempt := 0; ; attempt++ {
		if c.limiter != nil {
			if err := c.limiter.Wait(ctx); err != nil {
				return nil, c.ctxErr(req.op, err, last)
			}
		}
		write := req.method != http.MethodGet
		sent := time.Now()
		if write && c.cfg.InFlight != nil {
			c.cfg.InFlight.sending(ctx, sent)
		}
		status, hdr, body, err := c.send(ctx, req)
		if err != nil && write && c.cfg.InFlight != nil {
			c.cfg.InFlight.unanswered(sent)
		}
		var wait time.Duration
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, c.ctxErr(req.op, ctx.Err(), last)
		case err != nil:
			last = fault.Transient("unavailable", fmt.Errorf("loginradius: %s: %s", req.op, c.redact(err.Error())))
		case status >= 200 && status < 300:
			return body, nil
		default:
			cerr := classify(req.op, status, []byte(c.redact(string(body))))
			if !fault.IsTransient(cerr) {
				return nil, cerr
			}
			last = cerr
			if ra := parseRetryAfter(hdr.Get("Retry-After")); ra > 0 {
				wait = min(ra, c.cfg.MaxRateWait)
			}
		}
		if attempt >= c.cfg.MaxRetries {
			return nil, last
		}
		if wait <= 0 {
			wait = c.backoff(attempt)
		}
		c.log.DebugContext(ctx, "loginradius: retrying", "op", req.op, "attempt", attempt+1, "wait", wait, "error", last.Error())
		if err := c.sleep(ctx, wait); err != nil {
			return nil, c.ctxErr(req.op, err, last)
		}
	}
}

func (c *Client) ctxErr(op string, err, last error) error {
	if last != nil {
		return fmt.Errorf("loginradius: %s: %w (last error: %v)", op, err, last)
	}
	return fmt.Errorf("loginradius: %s: %w", op, err)
}

func parseRetryAfter(v string) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil {
		return time.Duration(n) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil {
		return time.Until(t)
	}
	return 0
}

// send performs one attempt.
func (c *Client) send(ctx context.Context, req request) (int, http.Header, []byte, error) {
	actx, cancel := context.WithTimeout(ctx, c.cfg.Timeout)
	defer cancel()
	q := url.Values{}
	for k, v := range req.query {
		q[k] = v
	}
	if req.bulk || req.keyOnly {
		q.Set("apikey", c.cfg.APIKey)
	}
	if req.bulk {
		q.Set("apisecret", c.cfg.APISecret)
	}
	u := req.base + req.path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var body io.Reader
	if req.body != nil {
		body = bytes.NewReader(req.body)
	}
	hr, err := http.NewRequestWithContext(actx, req.method, u, body)
	if err != nil {
		return 0, nil, nil, err
	}
	hr.Header.Set("Accept", "application/json")
	if req.body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	if !req.bulk && !req.keyOnly {
		hr.Header.Set("X-LoginRadius-ApiKey", c.cfg.APIKey)
		hr.Header.Set("X-LoginRadius-ApiSecret", c.cfg.APISecret)
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

func decode(op string, body []byte, v any) error {
	if err := json.Unmarshal(body, v); err != nil {
		return fault.Permanent("bad_response", fmt.Errorf("loginradius: %s: decoding the answer: %w", op, err))
	}
	return nil
}
