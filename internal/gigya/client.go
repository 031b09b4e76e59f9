// The Gigya REST client.
//
// [Client] calls Gigya's REST API as docs/apis/gigya.md describes it: every
// method is a POST of an application/x-www-form-urlencoded body to
// {base}/{method}, where base is https://<namespace>.<data-center-domain>
// (https://accounts.us1.gigya.com for accounts.search), or Config.BaseURL
// when set (the simulator). The form carries apiKey, the credentials of the
// auth mode, format=json and the method's parameters. Gigya answers HTTP 200
// even for errors, so the client always reads errorCode from the body.
//
// Each call waits for a token of a rate limiter (Config.Rate per second,
// burst 1; Gigya's smallest contract allows 10 searches per second), then
// sends the request with a per-attempt timeout. Errors are classified with
// package fault:
//
//	transient  rate_limited       403048 "Api rate limit exceeded"
//	transient  gigya_unavailable  100001, 409030, 500001, 500026, 500028,
//	                              500034, 504001, 504002, 599999; HTTP
//	                              5xx/429/408; network errors; attempt
//	                              timeouts; truncated or non-JSON bodies
//	permanent  cursor_expired     400006 on a request carrying cursorId
//	permanent  invalid_credentials 403042, 403047, 401030 (login)
//	permanent  account_disabled / account_locked / captcha_required /
//	           pending_registration / pending_verification /
//	           pending_password_change / pending_tfa (login; see
//	           docs/apis/gigya.md, "Login answers")
//	permanent  wrong_data_center  301001 that cannot be followed
//	permanent  gigya_<errorCode>  every other errorCode
//	permanent  gigya_http_<status> other non-2xx statuses without a Gigya body
//
// Transient errors are retried by [Client.Call] itself with exponential
// backoff and full jitter, resending exactly the same parameters (so the
// same cursorId). A 403048 also halves the limiter's rate for a minute. A
// 301001 "invalid data center" moves the client to the data center Gigya
// names and retries once.
//
// Credentials (the secret, the private key, the JWTs, a login's password)
// never appear in errors, logs or the String/GoString/Format/LogValue of
// Config and Client.

package gigya

import (
	"context"
	"crypto/rsa"
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
	"time"

	"github.com/segmentio/encoding/json"
	"golang.org/x/time/rate"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/retry"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

// Defaults and limits of a Client.
const (
	DefaultTimeout    = 30 * time.Second
	DefaultRate       = 10.0 // searches per second, Gigya's smallest tier (docs/apis/gigya.md, "Rate limits")
	DefaultMaxRetries = 8

	// maxServerTimeout caps the `timeout` parameter at Gigya's documented
	// maximum (docs/apis/gigya.md, "Search parameters").
	maxServerTimeout = 60 * time.Second

	backoffBase = 200 * time.Millisecond
	backoffCap  = 10 * time.Second
	// rateLimitedDelay is the least a 403048 waits before retrying: Gigya
	// counts its quota per second.
	rateLimitedDelay = time.Second
	// maxRetryAfter caps an honoured Retry-After header (Gigya documents
	// none; proxies in front of a simulator or Gigya may send one).
	maxRetryAfter = time.Minute
	// rateReduction is how long a 403048 keeps the limiter at a reduced rate.
	rateReduction  = time.Minute
	minReducedRate = 0.5

	// maxBody bounds a response: a page of 1000 accounts is a few MB.
	maxBody = 256 << 20
)

const redacted = "[REDACTED]"

// Config configures a Client. Exactly one auth mode must be configured:
// Secret alone (partner secret), UserKey and Secret (application key), or
// UserKey and PrivateKeyPEM (bearer JWT). Its errors name the fields as the
// extractor's configuration does (api_key, base_url, allow_http,
// private_key_file), since that is where a person fixes them.
type Config struct {
	// DataCenter is us1 (default), eu1, eu2, au1, ru1, cn1 or global, or an
	// API domain such as "cn1.gigya-api.cn" (see DataCenterDomain).
	DataCenter string
	// BaseURL, e.g. "http://127.0.0.1:8080", replaces the data center's
	// URLs entirely (the simulator). With it, a 301001 is a permanent error
	// instead of a switch.
	BaseURL string
	// AllowHTTP permits an http:// BaseURL. Without it an http base is a
	// configuration error: Gigya rejects secrets sent over HTTP (403006).
	AllowHTTP bool

	APIKey  string
	UserKey string
	Secret  string `json:"-"`
	// PrivateKeyPEM selects bearer JWT mode: the application's RSA private
	// key, PKCS#8 or PKCS#1, unencrypted. UserKey is its kid.
	PrivateKeyPEM []byte `json:"-"`

	// Timeout bounds each HTTP attempt (default 30 s). Searches also send it
	// as the `timeout` parameter in ms, capped at 60000.
	Timeout time.Duration
	// Rate is the number of requests per second (default 10); a 403048
	// halves it for a minute.
	Rate float64
	// MaxRetries is the number of retries of a transient error per call
	// (default 8); negative means none.
	MaxRetries int

	HTTPClient *http.Client `json:"-"` // optional; the default refuses redirects
	Logger     *slog.Logger `json:"-"` // optional; retries and data-center switches
	// Observe, when set, hears every HTTP attempt: the method, the outcome
	// ("0" for success, else Gigya's errorCode or the fault code) and how
	// long it took. The extractor turns it into metrics.
	Observe func(method, code string, took time.Duration) `json:"-"`
}

// authMode reports the auth mode the fields select, or an error.
func (cfg Config) authMode() (AuthMode, error) {
	hasSecret, hasKey, hasPEM := cfg.Secret != "", cfg.UserKey != "", len(cfg.PrivateKeyPEM) > 0
	switch {
	case hasPEM && hasSecret:
		return 0, errors.New("both secret and private_key_file are set: choose one auth mode")
	case hasPEM && !hasKey:
		return 0, errors.New("private_key_file needs user_key (the JWT's kid)")
	case hasPEM:
		return AuthBearerJWT, nil
	case hasSecret && hasKey:
		return AuthAppKey, nil
	case hasSecret:
		return AuthPartnerSecret, nil
	case hasKey:
		return 0, errors.New("user_key needs secret or private_key_file")
	}
	return 0, errors.New("no credentials: set secret (partner secret), user_key and secret, or user_key and private_key_file")
}

// String describes the configuration with its credentials redacted.
func (cfg Config) String() string {
	mode, err := cfg.authMode()
	m := mode.String()
	if err != nil {
		m = "invalid"
	}
	return fmt.Sprintf("gigya.Config{DataCenter:%q BaseURL:%q AllowHTTP:%t APIKey:%q UserKey:%q Secret:%s PrivateKeyPEM:%s Auth:%s Timeout:%s Rate:%g MaxRetries:%d}",
		cfg.DataCenter, cfg.BaseURL, cfg.AllowHTTP, cfg.APIKey, cfg.UserKey,
		redact(cfg.Secret != ""), redact(len(cfg.PrivateKeyPEM) > 0), m, cfg.Timeout, cfg.Rate, cfg.MaxRetries)
}

// GoString is String: %#v must not print the secret either.
func (cfg Config) GoString() string { return cfg.String() }

// Format prints String for every verb, so that no verb (%d, %x, ...) walks
// the fields and prints the secret.
func (cfg Config) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, cfg.String()) }

// LogValue logs the configuration with its credentials redacted.
func (cfg Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("dataCenter", cfg.DataCenter),
		slog.String("baseURL", cfg.BaseURL),
		slog.Bool("allowHTTP", cfg.AllowHTTP),
		slog.String("apiKey", cfg.APIKey),
		slog.String("userKey", cfg.UserKey),
		slog.String("secret", redact(cfg.Secret != "")),
		slog.String("privateKeyPEM", redact(len(cfg.PrivateKeyPEM) > 0)),
		slog.Duration("timeout", cfg.Timeout),
		slog.Float64("rate", cfg.Rate),
		slog.Int("maxRetries", cfg.MaxRetries),
	)
}

func redact(set bool) string {
	if set {
		return redacted
	}
	return `""`
}

// Client calls the Gigya REST API. It is safe for concurrent use; all calls
// share one rate limiter.
type Client struct {
	apiKey     string
	userKey    string
	secret     string
	privateKey *rsa.PrivateKey
	mode       AuthMode
	override   string // BaseURL without a trailing slash, or ""
	timeout    time.Duration
	maxRetries int
	baseRate   float64
	hc         *http.Client
	log        *slog.Logger
	limiter    *rate.Limiter

	mu        sync.Mutex
	domain    string    // current data-center domain (301001 may change it)
	restoreAt time.Time // when a reduced rate goes back to baseRate; zero if not reduced

	observe func(method, code string, took time.Duration)

	// Hooks, replaced by tests.
	now           func() time.Time
	sleep         func(ctx context.Context, d time.Duration) error
	namespaceBase func(namespace, domain string) string
}

// NewClient validates cfg and returns a client. It requires an API key and
// exactly one auth mode, refuses http:// bases unless AllowHTTP, and parses
// the private key of JWT mode.
func NewClient(cfg Config) (*Client, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, fmt.Errorf("gigya config: %w", err)
	}
	return c, nil
}

func newClient(cfg Config) (*Client, error) {
	if strings.TrimSpace(cfg.APIKey) == "" {
		return nil, errors.New("api_key is required")
	}
	mode, err := cfg.authMode()
	if err != nil {
		return nil, err
	}
	c := &Client{
		apiKey:        cfg.APIKey,
		userKey:       cfg.UserKey,
		secret:        cfg.Secret,
		mode:          mode,
		timeout:       cfg.Timeout,
		maxRetries:    cfg.MaxRetries,
		baseRate:      cfg.Rate,
		hc:            cfg.HTTPClient,
		log:           cfg.Logger,
		observe:       cfg.Observe,
		now:           time.Now,
		sleep:         retry.Sleep,
		namespaceBase: defaultNamespaceBase,
	}
	if mode == AuthBearerJWT {
		if c.privateKey, err = parsePrivateKey(cfg.PrivateKeyPEM); err != nil {
			return nil, err
		}
	}
	if cfg.BaseURL != "" {
		if c.override, err = CheckBaseURL(cfg.BaseURL, cfg.AllowHTTP); err != nil {
			return nil, fmt.Errorf("base_url %w", err)
		}
	} else if c.domain, err = DataCenterDomain(cfg.DataCenter); err != nil {
		return nil, err
	}
	switch {
	case c.timeout < 0:
		return nil, errors.New("timeout must not be negative")
	case c.timeout == 0:
		c.timeout = DefaultTimeout
	}
	switch {
	case c.baseRate < 0:
		return nil, errors.New("rate must not be negative")
	case c.baseRate == 0:
		c.baseRate = DefaultRate
	}
	switch {
	case c.maxRetries < 0:
		c.maxRetries = 0
	case c.maxRetries == 0:
		c.maxRetries = DefaultMaxRetries
	}
	if c.hc == nil {
		// Refuse redirects: a 307 would replay the form, secret included,
		// to wherever it points.
		c.hc = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	c.limiter = rate.NewLimiter(rate.Limit(c.baseRate), 1)
	return c, nil
}

// ErrPlainHTTP is the refusal of an http:// base URL without AllowHTTP.
var ErrPlainHTTP = errors.New("is plain http://, and Gigya refuses secrets sent over HTTP (403006): use https://, or set allow_http only for a local simulator")

// CheckBaseURL checks a base URL (a simulator's) as [NewClient] does and
// returns it without a trailing slash. Its errors say what is wrong with the
// URL without naming it, so that a caller names the setting it came from;
// a plain http:// URL without allowHTTP is [ErrPlainHTTP].
func CheckBaseURL(raw string, allowHTTP bool) (string, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", errors.New("is not a URL")
	}
	switch {
	case u.Scheme == "http" && !allowHTTP:
		return "", ErrPlainHTTP
	case u.Scheme != "http" && u.Scheme != "https":
		return "", fmt.Errorf("has the scheme %q: want https://", u.Scheme)
	case u.Host == "":
		return "", errors.New("has no host")
	case u.User != nil:
		return "", errors.New("must not carry user info")
	case u.RawQuery != "" || u.Fragment != "":
		return "", errors.New("must not carry a query or fragment")
	}
	return strings.TrimRight(u.String(), "/"), nil
}

// String describes the client without its credentials.
func (c *Client) String() string {
	return fmt.Sprintf("gigya.Client{base:%q apiKey:%q userKey:%q auth:%s credentials:%s}",
		c.baseDescription(), c.apiKey, c.userKey, c.mode, redacted)
}

// GoString is String.
func (c *Client) GoString() string { return c.String() }

// Format prints String for every verb.
func (c *Client) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, c.String()) }

// LogValue logs the client without its credentials.
func (c *Client) LogValue() slog.Value {
	return slog.GroupValue(slog.String("base", c.baseDescription()), slog.String("apiKey", c.apiKey), slog.String("auth", c.mode.String()))
}

func (c *Client) baseDescription() string {
	if c.override != "" {
		return c.override
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.namespaceBase("accounts", c.domain)
}

// AuthMode reports how the client authenticates.
func (c *Client) AuthMode() AuthMode { return c.mode }

// DataCenterDomain reports the data-center domain the client currently
// calls ("eu1.gigya.com"), which a 301001 may have changed; "" with a
// BaseURL override.
func (c *Client) DataCenterDomain() string {
	if c.override != "" {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.domain
}

// CurrentRate reports the limiter's current rate in requests per second:
// Config.Rate, or less during the minute after a 403048.
func (c *Client) CurrentRate() float64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.restoreRateLocked(c.now())
	return float64(c.limiter.Limit())
}

// Response holds the fields common to every Gigya answer; embed it in the
// out value of Call to read them.
type Response struct {
	StatusCode   int    `json:"statusCode"`
	ErrorCode    int    `json:"errorCode"`
	StatusReason string `json:"statusReason,omitempty"`
	ErrorMessage string `json:"errorMessage,omitempty"`
	CallID       string `json:"callId,omitempty"`
	Time         string `json:"time,omitempty"`
}

// envelope is the part of an answer the client checks before decoding.
type envelope struct {
	StatusCode   int             `json:"statusCode"`
	ErrorCode    *int            `json:"errorCode"`
	StatusReason string          `json:"statusReason"`
	ErrorMessage string          `json:"errorMessage"`
	ErrorDetails json.RawMessage `json:"errorDetails"`
	CallID       string          `json:"callId"`
	APIDomain    string          `json:"apiDomain"`
}

// Call performs one API method (e.g. "accounts.search") with params, rate
// limiting and retries, and decodes a successful answer into out (which
// may embed Response; nil discards it). The client adds apiKey, the
// credentials and format=json itself: params must not contain them.
// Retries resend the same params. The returned error is classified with
// package fault and wraps an *APIError when Gigya answered one.
func (c *Client) Call(ctx context.Context, method string, params url.Values, out any) error {
	body, err := c.call(ctx, method, params)
	if err != nil {
		return err
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(body, out); err != nil {
		return fault.Permanent("gigya_decode", fmt.Errorf("gigya %s: decoding the answer: %w", method, err))
	}
	return nil
}

// reservedParams are set by the client and refused in params.
var reservedParams = []string{"apiKey", "userKey", "secret", "format"}

// outcomeCode names an attempt's outcome for metrics: "0", Gigya's error
// code, or the fault code of a transport failure.
func outcomeCode(err error) string {
	if err == nil {
		return "0"
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return strconv.Itoa(ae.ErrorCode)
	}
	_, code := fault.Classify(err)
	return code
}

// call runs the retry loop and returns the body of the successful answer.
// On an API error it returns the body too (Login reads pending answers).
func (c *Client) call(ctx context.Context, method string, params url.Values) ([]byte, error) {
	if !validMethod(method) {
		return nil, fault.Permanent(CodeInvalidRequest, fmt.Errorf("gigya: invalid method name %q", method))
	}
	for _, k := range reservedParams {
		if _, ok := params[k]; ok {
			return nil, fault.Permanent(CodeInvalidRequest, fmt.Errorf("gigya %s: parameter %s is set by the client", method, k))
		}
	}
	if params.Has("query") && params.Has("cursorId") {
		return nil, fault.Permanent(CodeInvalidRequest, fmt.Errorf("gigya %s: query and cursorId must not be sent together", method))
	}
	form := url.Values{}
	for k, v := range params {
		form[k] = append([]string(nil), v...)
	}
	form.Set("apiKey", c.apiKey)
	switch c.mode {
	case AuthAppKey:
		form.Set("userKey", c.userKey)
		form.Set("secret", c.secret)
	case AuthPartnerSecret:
		form.Set("secret", c.secret)
	}
	form.Set("format", "json")
	req := request{
		method:  method,
		body:    form.Encode(),
		cursor:  form.Has("cursorId"),
		secrets: []string{c.secret, form.Get("password"), form.Get("newPassword")},
	}

	switched := false
	for attempt := 0; ; attempt++ {
		if err := c.waitRate(ctx); err != nil {
			return nil, ctxError(method, err, nil)
		}
		began := time.Now()
		res := c.attempt(ctx, &req)
		if c.observe != nil {
			c.observe(method, outcomeCode(res.err), time.Since(began))
		}
		if res.err == nil {
			return res.body, nil
		}
		if ctx.Err() != nil {
			return nil, ctxError(method, ctx.Err(), res.err)
		}
		var ae *APIError
		errors.As(res.err, &ae)
		if ae != nil && ae.ErrorCode == errInvalidDataCenter {
			if err := c.switchDataCenter(ctx, ae, switched); err != nil {
				return res.body, err
			}
			switched = true
			attempt-- // the switch is not a retry
			continue
		}
		if !fault.IsTransient(res.err) {
			return res.body, res.err
		}
		if attempt >= c.maxRetries {
			kind, code := fault.Classify(res.err)
			return res.body, &fault.Error{Kind: kind, Code: code, Err: fmt.Errorf("after %d attempts: %w", attempt+1, res.err)}
		}
		delay := c.backoff(attempt)
		if ae != nil && ae.ErrorCode == errRateLimited {
			c.reduceRate()
			delay = max(delay, rateLimitedDelay)
		}
		delay = max(delay, res.retryAfter)
		_, code := fault.Classify(res.err)
		c.log.LogAttrs(ctx, slog.LevelWarn, "gigya call failed; retrying",
			slog.String("method", method), slog.Int("attempt", attempt+1), slog.String("code", code),
			slog.Duration("delay", delay), slog.String("error", res.err.Error()))
		if err := c.sleep(ctx, delay); err != nil {
			return nil, ctxError(method, err, res.err)
		}
	}
}

// request is one call's fixed parts: every retry resends body as is.
type request struct {
	method  string
	body    string
	cursor  bool
	secrets []string // values to scrub from anything Gigya echoes
}

// scrub replaces the call's credentials in text that came from the server.
// Values shorter than 3 bytes are left alone (they would garble the text
// without protecting anything Gigya accepts as a credential).
func (r *request) scrub(s string, extra ...string) string {
	for _, v := range append(r.secrets, extra...) {
		if len(v) >= 3 {
			s = strings.ReplaceAll(s, v, redacted)
		}
	}
	return s
}

type result struct {
	body       []byte
	err        error
	retryAfter time.Duration
}

// attempt sends the request once and interprets the answer.
func (c *Client) attempt(ctx context.Context, r *request) result {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	hreq, err := http.NewRequestWithContext(actx, http.MethodPost, c.urlFor(r.method), strings.NewReader(r.body))
	if err != nil {
		return result{err: fault.Permanent(CodeInvalidRequest, fmt.Errorf("gigya %s: building the request failed", r.method))}
	}
	hreq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	hreq.Header.Set("Accept", "application/json")
	hreq.Header.Set("User-Agent", "gigya-migrate")
	var jwt string
	if c.mode == AuthBearerJWT {
		if jwt, err = signJWT(c.privateKey, c.userKey, c.now()); err != nil {
			return result{err: fault.Permanent("gigya_jwt", fmt.Errorf("gigya %s: %w", r.method, err))}
		}
		hreq.Header.Set("Authorization", "Bearer "+jwt)
	}
	resp, err := c.hc.Do(hreq)
	if err != nil {
		if actx.Err() != nil && ctx.Err() == nil {
			return result{err: fault.Transient(CodeUnavailable, fmt.Errorf("gigya %s: no answer within %s", r.method, c.timeout))}
		}
		return result{err: fault.Transient(CodeUnavailable, fmt.Errorf("gigya %s: %s", r.method, r.scrub(err.Error(), jwt)))}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	if err != nil {
		if actx.Err() != nil && ctx.Err() == nil {
			return result{err: fault.Transient(CodeUnavailable, fmt.Errorf("gigya %s: answer not complete within %s", r.method, c.timeout))}
		}
		return result{err: fault.Transient(CodeUnavailable, fmt.Errorf("gigya %s: reading the answer (HTTP %d, %d bytes read): %s", r.method, resp.StatusCode, len(body), r.scrub(err.Error(), jwt)))}
	}
	if len(body) > maxBody {
		return result{err: fault.Permanent("gigya_response_too_large", fmt.Errorf("gigya %s: answer larger than %d bytes", r.method, maxBody))}
	}
	return c.interpret(r, resp, body, jwt)
}

// interpret turns an HTTP answer into a body or a classified error.
func (c *Client) interpret(r *request, resp *http.Response, body []byte, jwt string) result {
	var env envelope
	jerr := json.Unmarshal(body, &env)
	if jerr == nil && env.ErrorCode != nil && *env.ErrorCode != 0 && !successCodes[*env.ErrorCode] {
		msg := env.ErrorMessage
		if msg == "" {
			msg = env.StatusReason
		}
		ae := &APIError{
			Method:     r.method,
			ErrorCode:  *env.ErrorCode,
			StatusCode: env.StatusCode,
			Message:    r.scrub(msg, jwt),
			Details:    r.scrub(detailsText(env.ErrorDetails), jwt),
			CallID:     r.scrub(env.CallID, jwt),
			APIDomain:  strings.ToLower(strings.TrimSpace(env.APIDomain)),
			cursor:     r.cursor,
		}
		return result{body: body, err: classify(ae), retryAfter: retryAfter(resp)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		err := fmt.Errorf("gigya %s: HTTP %d%s", r.method, resp.StatusCode, snippet(r.scrub(string(body[:min(len(body), 4096)]), jwt)))
		switch {
		case resp.StatusCode >= 500, resp.StatusCode == http.StatusTooManyRequests, resp.StatusCode == http.StatusRequestTimeout:
			return result{err: fault.Transient(CodeUnavailable, err), retryAfter: retryAfter(resp)}
		}
		return result{err: fault.Permanent("gigya_http_"+strconv.Itoa(resp.StatusCode), err)}
	}
	if jerr != nil {
		return result{err: fault.Transient(CodeUnavailable, fmt.Errorf("gigya %s: malformed or truncated JSON answer (%d bytes): %s", r.method, len(body), r.scrub(jerr.Error(), jwt)))}
	}
	if env.ErrorCode == nil {
		return result{err: fault.Transient(CodeUnavailable, fmt.Errorf("gigya %s: answer without errorCode (%d bytes)", r.method, len(body)))}
	}
	return result{body: body}
}

// detailsText renders errorDetails, normally a string, as text.
func detailsText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// snippet is the start of a non-Gigya body, for an HTTP error message.
func snippet(body string) string {
	const n = 200
	s := strings.TrimSpace(body)
	if s == "" {
		return ""
	}
	if len(s) > n {
		s = s[:n] + "…"
	}
	return ": " + strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// retryAfter reads a Retry-After header in seconds, capped.
func retryAfter(resp *http.Response) time.Duration {
	v := resp.Header.Get("Retry-After")
	if v == "" {
		return 0
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		return 0
	}
	return min(time.Duration(n)*time.Second, maxRetryAfter)
}

// switchDataCenter follows a 301001 once, to a Gigya domain, without a
// BaseURL override.
func (c *Client) switchDataCenter(ctx context.Context, ae *APIError, switched bool) error {
	switch {
	case c.override != "":
		return fault.Permanent(CodeWrongDataCenter, fmt.Errorf("gigya %s: base_url %s points at the wrong data center (Gigya names %q): %w", ae.Method, c.override, ae.APIDomain, ae))
	case switched:
		return fault.Permanent(CodeWrongDataCenter, fmt.Errorf("gigya %s: wrong data center again after switching: %w", ae.Method, ae))
	case !trustedAPIDomain(ae.APIDomain):
		return fault.Permanent(CodeWrongDataCenter, fmt.Errorf("gigya %s: not following apiDomain %q, which is not a Gigya domain; set data_center to it if it is right: %w", ae.Method, ae.APIDomain, ae))
	}
	c.mu.Lock()
	from := c.domain
	c.domain = ae.APIDomain
	c.mu.Unlock()
	c.log.LogAttrs(ctx, slog.LevelWarn, "gigya: wrong data center; switching",
		slog.String("method", ae.Method), slog.String("from", from), slog.String("to", ae.APIDomain), slog.String("callId", ae.CallID))
	return nil
}

func (c *Client) urlFor(method string) string {
	if c.override != "" {
		return c.override + "/" + method
	}
	ns := method[:strings.IndexByte(method, '.')]
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.namespaceBase(ns, c.domain) + "/" + method
}

// validMethod accepts "namespace.method" names made of ASCII letters and
// digits, so that a method cannot add a path, query or host.
func validMethod(m string) bool {
	parts := strings.Split(m, ".")
	if len(parts) < 2 {
		return false
	}
	for _, p := range parts {
		if p == "" {
			return false
		}
		for i := 0; i < len(p); i++ {
			ch := p[i]
			if !(ch >= 'a' && ch <= 'z' || ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9') {
				return false
			}
		}
	}
	return true
}

// waitRate blocks until the limiter grants one request.
func (c *Client) waitRate(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c.mu.Lock()
	now := c.now()
	c.restoreRateLocked(now)
	r := c.limiter.ReserveN(now, 1)
	c.mu.Unlock()
	if d := r.DelayFrom(now); d > 0 {
		if err := c.sleep(ctx, d); err != nil {
			r.CancelAt(c.now())
			return err
		}
	}
	return nil
}

// reduceRate halves the limiter's rate (not below 0.5/s, not above the
// configured rate) for rateReduction after a 403048. Another 403048 in that
// minute halves it again and restarts the minute.
func (c *Client) reduceRate() {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	c.restoreRateLocked(now)
	next := min(max(float64(c.limiter.Limit())/2, minReducedRate), c.baseRate)
	c.limiter.SetLimitAt(now, rate.Limit(next))
	c.restoreAt = now.Add(rateReduction)
	c.log.Warn("gigya: rate limit exceeded; lowering the request rate", slog.Float64("perSecond", next), slog.Duration("for", rateReduction))
}

func (c *Client) restoreRateLocked(now time.Time) {
	if !c.restoreAt.IsZero() && !now.Before(c.restoreAt) {
		c.limiter.SetLimitAt(now, rate.Limit(c.baseRate))
		c.restoreAt = time.Time{}
	}
}

// backoff is the delay before retry n+1: full jitter over an exponential
// ceiling of 200 ms·2ⁿ, capped at 10 s.
func (c *Client) backoff(n int) time.Duration {
	ceil := backoffCap
	if n < 16 {
		ceil = min(backoffBase<<n, backoffCap)
	}
	return rand.N(ceil + 1)
}

// ctxError reports a call ended by its context; last is the error that was
// going to be retried, if any. It wraps ctx's error so that errors.Is and
// fault.Classify see context.Canceled or context.DeadlineExceeded.
func ctxError(method string, err, last error) error {
	if last != nil {
		return fmt.Errorf("gigya %s: %w (last error: %v)", method, err, last)
	}
	return fmt.Errorf("gigya %s: %w", method, err)
}
