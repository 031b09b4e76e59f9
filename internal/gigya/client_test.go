package gigya

import (
	"bytes"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

func TestNewClientValidation(t *testing.T) {
	key := pkcs8PEM(t, rsaKey(t))
	tests := []struct {
		name    string
		cfg     Config
		wantErr string // "" means valid
		mode    AuthMode
	}{
		{"partner secret", Config{APIKey: "k", Secret: "s"}, "", AuthPartnerSecret},
		{"app key", Config{APIKey: "k", UserKey: "u", Secret: "s"}, "", AuthAppKey},
		{"jwt pkcs8", Config{APIKey: "k", UserKey: "u", PrivateKeyPEM: key}, "", AuthBearerJWT},
		{"jwt pkcs1", Config{APIKey: "k", UserKey: "u", PrivateKeyPEM: pkcs1PEM(rsaKey(t))}, "", AuthBearerJWT},
		{"no api key", Config{Secret: "s"}, "api_key is required", 0},
		{"no credentials", Config{APIKey: "k"}, "no credentials", 0},
		{"user key alone", Config{APIKey: "k", UserKey: "u"}, "user_key needs", 0},
		{"secret and key", Config{APIKey: "k", UserKey: "u", Secret: "s", PrivateKeyPEM: key}, "choose one auth mode", 0},
		{"pem without kid", Config{APIKey: "k", PrivateKeyPEM: key}, "needs user_key", 0},
		{"bad pem", Config{APIKey: "k", UserKey: "u", PrivateKeyPEM: []byte("not a key")}, "no PEM block", 0},
		{"encrypted pem", Config{APIKey: "k", UserKey: "u", PrivateKeyPEM: []byte("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n")}, "encrypted", 0},
		{"unknown dc", Config{APIKey: "k", Secret: "s", DataCenter: "xx9"}, "unknown data center", 0},
		{"http base", Config{APIKey: "k", Secret: "s", BaseURL: "http://127.0.0.1:1"}, "base_url is plain http://, and Gigya refuses secrets sent over HTTP (403006): use https://, or set allow_http", 0},
		{"http base allowed", Config{APIKey: "k", Secret: "s", BaseURL: "http://127.0.0.1:1", AllowHTTP: true}, "", AuthPartnerSecret},
		{"https base", Config{APIKey: "k", Secret: "s", BaseURL: "https://gigya.example.test"}, "", AuthPartnerSecret},
		{"ftp base", Config{APIKey: "k", Secret: "s", BaseURL: "ftp://x", AllowHTTP: true}, "scheme", 0},
		{"user info", Config{APIKey: "k", Secret: "s", BaseURL: "https://a:b@x"}, "user info", 0},
		{"query", Config{APIKey: "k", Secret: "s", BaseURL: "https://x/?a=1"}, "query", 0},
		{"negative timeout", Config{APIKey: "k", Secret: "s", Timeout: -1}, "timeout must not be negative", 0},
		{"negative rate", Config{APIKey: "k", Secret: "s", Rate: -1}, "rate must not be negative", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := NewClient(tt.cfg)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("NewClient: %v", err)
				}
				if c.AuthMode() != tt.mode {
					t.Fatalf("mode = %s, want %s", c.AuthMode(), tt.mode)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("NewClient err = %v, want containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestDefaults(t *testing.T) {
	c, err := NewClient(Config{APIKey: "k", Secret: "s"})
	if err != nil {
		t.Fatal(err)
	}
	if c.timeout != DefaultTimeout || c.maxRetries != DefaultMaxRetries || c.CurrentRate() != DefaultRate {
		t.Fatalf("defaults: timeout %s retries %d rate %g", c.timeout, c.maxRetries, c.CurrentRate())
	}
	if c.DataCenterDomain() != "us1.gigya.com" {
		t.Fatalf("default data center %q", c.DataCenterDomain())
	}
	c, _ = NewClient(Config{APIKey: "k", Secret: "s", MaxRetries: -1})
	if c.maxRetries != 0 {
		t.Fatalf("MaxRetries -1 gives %d retries", c.maxRetries)
	}
}

// roundTripFunc lets a test see the URL a client calls without a network.
type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestDataCenterURLs(t *testing.T) {
	tests := []struct{ dc, base, want string }{
		{"", "", "https://accounts.us1.gigya.com/accounts.search"},
		{"us1", "", "https://accounts.us1.gigya.com/accounts.search"},
		{"EU1", "", "https://accounts.eu1.gigya.com/accounts.search"},
		{"eu2", "", "https://accounts.eu2.gigya.com/accounts.search"},
		{"au1", "", "https://accounts.au1.gigya.com/accounts.search"},
		{"ru1", "", "https://accounts.ru1.gigya.com/accounts.search"},
		{"cn1", "", "https://accounts.cn1.sapcdm.cn/accounts.search"},
		{"global", "", "https://accounts.global.gigya.com/accounts.search"},
		{"cn1.gigya-api.cn", "", "https://accounts.cn1.gigya-api.cn/accounts.search"},
		{"eu1", "https://sim.example.test/", "https://sim.example.test/accounts.search"},
		{"", "https://sim.example.test/prefix", "https://sim.example.test/prefix/accounts.search"},
	}
	for _, tt := range tests {
		t.Run(tt.dc+tt.base, func(t *testing.T) {
			var got string
			hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
				got = r.URL.String()
				return &http.Response{StatusCode: 200, Header: http.Header{}, Body: io.NopCloser(strings.NewReader(okBody)), Request: r}, nil
			})}
			c, err := NewClient(Config{DataCenter: tt.dc, BaseURL: tt.base, APIKey: "k", Secret: "s", HTTPClient: hc})
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Call(context.Background(), "accounts.search", url.Values{"query": {"q"}}, nil); err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Fatalf("URL = %s, want %s", got, tt.want)
			}
		})
	}
}

func TestFormEncodingSearch(t *testing.T) {
	s := newServer(t, sequence(`{"statusCode":200,"errorCode":0,"results":[],"objectsCount":0,"totalCount":0,"nextCursorId":"cur-1"}`))
	cfg := testConfig(s.URL)
	cfg.Timeout = 45 * time.Second
	c, _ := newTestClient(t, cfg)
	ctx := context.Background()
	if _, err := c.Search(ctx, "SELECT * FROM accounts", "full,lite"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.SearchNext(ctx, "cur-1"); err != nil {
		t.Fatal(err)
	}
	reqs := s.requests()
	if len(reqs) != 2 {
		t.Fatalf("%d requests", len(reqs))
	}
	for _, r := range reqs {
		if r.Method != http.MethodPost || r.Path != "/accounts.search" || r.ContentType != "application/x-www-form-urlencoded" {
			t.Fatalf("request %s %s %q", r.Method, r.Path, r.ContentType)
		}
		if r.Form.Get("apiKey") != testAPIKey || r.Form.Get("userKey") != testUserKey || r.Form.Get("secret") != testSecret || r.Form.Get("format") != "json" {
			t.Fatalf("common fields: %v", r.Form)
		}
		if r.Form.Get("timeout") != "45000" {
			t.Fatalf("timeout = %q", r.Form.Get("timeout"))
		}
		if r.Auth != "" {
			t.Fatalf("Authorization header %q in secret mode", r.Auth)
		}
	}
	first, next := reqs[0].Form, reqs[1].Form
	if first.Get("query") != "SELECT * FROM accounts" || first.Get("openCursor") != "true" || first.Get("accountTypes") != "full,lite" || first.Has("cursorId") {
		t.Fatalf("first page form: %v", first)
	}
	if next.Get("cursorId") != "cur-1" || next.Has("query") || next.Has("openCursor") || next.Has("accountTypes") {
		t.Fatalf("next page form: %v", next)
	}
	// The raw body is form-encoded: the '+' and '/' of the secret are escaped.
	if !strings.Contains(reqs[0].Body, "secret="+url.QueryEscape(testSecret)) {
		t.Fatalf("body %q does not carry the escaped secret", reqs[0].Body)
	}
}

func TestTimeoutParamCapped(t *testing.T) {
	s := newServer(t, sequence(`{"statusCode":200,"errorCode":0,"results":[]}`))
	cfg := testConfig(s.URL)
	cfg.Timeout = 2 * time.Minute
	c, _ := newTestClient(t, cfg)
	if _, err := c.Search(context.Background(), "SELECT UID FROM accounts", ""); err != nil {
		t.Fatal(err)
	}
	if got := s.requests()[0].Form; got.Get("timeout") != "60000" || got.Has("accountTypes") {
		t.Fatalf("form %v", got)
	}
}

func TestCallRefusesBadRequests(t *testing.T) {
	s := newServer(t, sequence(okBody))
	c, _ := newTestClient(t, testConfig(s.URL))
	ctx := context.Background()
	for name, tc := range map[string]struct {
		method string
		params url.Values
	}{
		"query and cursor": {"accounts.search", url.Values{"query": {"q"}, "cursorId": {"c"}}},
		"secret param":     {"accounts.search", url.Values{"secret": {"x"}}},
		"apiKey param":     {"accounts.search", url.Values{"apiKey": {"x"}}},
		"path in method":   {"accounts.search/../x", nil},
		"query in method":  {"accounts.search?x=1", nil},
		"no namespace":     {"search", nil},
	} {
		t.Run(name, func(t *testing.T) {
			wantFault(t, c.Call(ctx, tc.method, tc.params, nil), fault.KindPermanent, CodeInvalidRequest)
		})
	}
	if _, err := c.SearchNext(ctx, ""); err == nil {
		t.Fatal("SearchNext with an empty cursor succeeded")
	}
	if n := len(s.requests()); n != 0 {
		t.Fatalf("%d requests sent for refused calls", n)
	}
}

func TestAuthPartnerSecret(t *testing.T) {
	s := newServer(t, sequence(okBody))
	c, _ := newTestClient(t, Config{BaseURL: s.URL, AllowHTTP: true, APIKey: testAPIKey, Secret: testSecret})
	if err := c.Call(context.Background(), "accounts.search", url.Values{"query": {"q"}}, nil); err != nil {
		t.Fatal(err)
	}
	r := s.requests()[0]
	if r.Form.Get("apiKey") != testAPIKey || r.Form.Get("secret") != testSecret || r.Form.Has("userKey") || r.Auth != "" {
		t.Fatalf("partner secret request: form %v auth %q", r.Form, r.Auth)
	}
}

func TestAuthBearerJWT(t *testing.T) {
	for name, pemBytes := range map[string][]byte{"pkcs8": pkcs8PEM(t, rsaKey(t)), "pkcs1": pkcs1PEM(rsaKey(t))} {
		t.Run(name, func(t *testing.T) {
			pub := &rsaKey(t).PublicKey
			s := newServer(t, sequence(`{"statusCode":500,"errorCode":500001}`, okBody))
			c, fc := newTestClient(t, Config{BaseURL: s.URL, AllowHTTP: true, APIKey: testAPIKey, UserKey: testUserKey, PrivateKeyPEM: pemBytes})
			if err := c.Call(context.Background(), "accounts.search", url.Values{"query": {"q"}}, nil); err != nil {
				t.Fatal(err)
			}
			reqs := s.requests()
			if len(reqs) != 2 {
				t.Fatalf("%d requests", len(reqs))
			}
			jtis := map[string]bool{}
			for _, r := range reqs {
				if r.Form.Has("secret") || r.Form.Has("userKey") || r.Form.Get("apiKey") != testAPIKey {
					t.Fatalf("JWT mode form: %v", r.Form)
				}
				tok, ok := strings.CutPrefix(r.Auth, "Bearer ")
				if !ok {
					t.Fatalf("Authorization = %q", r.Auth)
				}
				hdr, payload := verifyJWT(t, pub, tok)
				if hdr["alg"] != "RS256" || hdr["typ"] != "JWT" || hdr["kid"] != testUserKey {
					t.Fatalf("JWT header %v", hdr)
				}
				iat, _ := payload["iat"].(float64)
				if int64(iat) < fc.t.Add(-time.Hour).Unix() || int64(iat) > fc.now().Unix() {
					t.Fatalf("iat %v, clock %d", payload["iat"], fc.now().Unix())
				}
				jti, _ := payload["jti"].(string)
				if len(jti) < 16 || jtis[jti] {
					t.Fatalf("jti %q empty, short or reused", jti)
				}
				jtis[jti] = true
			}
		})
	}
}

// verifyJWT checks an RS256 signature and returns header and payload.
func verifyJWT(t *testing.T, pub *rsa.PublicKey, tok string) (hdr, payload map[string]any) {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("JWT %q has %d parts", tok, len(parts))
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if err := rsa.VerifyPKCS1v15(pub, crypto.SHA256, sum[:], sig); err != nil {
		t.Fatalf("JWT signature: %v", err)
	}
	for i, dst := range []*map[string]any{&hdr, &payload} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			t.Fatal(err)
		}
	}
	return hdr, payload
}

func TestInvalidDataCenterSwitch(t *testing.T) {
	b := newServer(t, sequence(okBody))
	a := newServer(t, sequence(`{"statusCode":301,"errorCode":301001,"errorMessage":"Invalid data center","apiDomain":"EU1.gigya.com","callId":"x"}`))
	hosts := map[string]string{"us1.gigya.com": a.URL, "eu1.gigya.com": b.URL}
	c, _ := newTestClient(t, Config{APIKey: testAPIKey, Secret: testSecret, MaxRetries: -1})
	c.namespaceBase = func(ns, domain string) string {
		if ns != "accounts" {
			t.Errorf("namespace %q", ns)
		}
		return hosts[domain]
	}
	ctx := context.Background()
	if err := c.Call(ctx, "accounts.search", url.Values{"query": {"q"}}, nil); err != nil {
		t.Fatalf("call after switch: %v", err)
	}
	if got := c.DataCenterDomain(); got != "eu1.gigya.com" {
		t.Fatalf("domain after switch = %q", got)
	}
	if err := c.Call(ctx, "accounts.search", url.Values{"query": {"q"}}, nil); err != nil {
		t.Fatal(err)
	}
	if len(a.requests()) != 1 || len(b.requests()) != 2 {
		t.Fatalf("requests: A %d, B %d; want 1, 2", len(a.requests()), len(b.requests()))
	}
	if a.requests()[0].Body != b.requests()[0].Body {
		t.Fatal("the retried request differs from the first")
	}
}

func TestInvalidDataCenterNotFollowed(t *testing.T) {
	wrongDC := `{"statusCode":301,"errorCode":301001,"errorMessage":"Invalid data center","apiDomain":"%s"}`
	t.Run("override", func(t *testing.T) {
		s := newServer(t, sequence(fmt.Sprintf(wrongDC, "eu1.gigya.com"), okBody))
		c, _ := newTestClient(t, testConfig(s.URL))
		err := c.Call(context.Background(), "accounts.search", nil, nil)
		wantFault(t, err, fault.KindPermanent, CodeWrongDataCenter)
		if !strings.Contains(err.Error(), "base_url") || !strings.Contains(err.Error(), "eu1.gigya.com") {
			t.Fatalf("error %q does not explain the override", err)
		}
		if n := len(s.requests()); n != 1 {
			t.Fatalf("%d requests", n)
		}
	})
	for name, domain := range map[string]string{"foreign domain": "eu1.attacker.example", "empty": "", "with path": "eu1.gigya.com/x"} {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, sequence(fmt.Sprintf(wrongDC, domain), okBody))
			c, _ := newTestClient(t, Config{APIKey: "k", Secret: "s"})
			c.namespaceBase = func(string, string) string { return s.URL }
			wantFault(t, c.Call(context.Background(), "accounts.search", nil, nil), fault.KindPermanent, CodeWrongDataCenter)
			if n := len(s.requests()); n != 1 {
				t.Fatalf("%d requests", n)
			}
		})
	}
	t.Run("twice", func(t *testing.T) {
		s := newServer(t, sequence(fmt.Sprintf(wrongDC, "eu1.gigya.com")))
		c, _ := newTestClient(t, Config{APIKey: "k", Secret: "s"})
		c.namespaceBase = func(string, string) string { return s.URL }
		wantFault(t, c.Call(context.Background(), "accounts.search", nil, nil), fault.KindPermanent, CodeWrongDataCenter)
		if n := len(s.requests()); n != 2 {
			t.Fatalf("%d requests, want 2 (one switch)", n)
		}
	})
}

func TestErrorMapping(t *testing.T) {
	tests := []struct {
		code     int
		status   int
		cursor   bool
		kind     fault.Kind
		fcode    string
		sentinel error
	}{
		{403048, 403, false, fault.KindTransient, CodeRateLimited, ErrRateLimited},
		{100001, 200, false, fault.KindTransient, CodeUnavailable, nil},
		{409030, 409, false, fault.KindTransient, CodeUnavailable, nil},
		{500001, 500, false, fault.KindTransient, CodeUnavailable, nil},
		{500026, 500, false, fault.KindTransient, CodeUnavailable, nil},
		{500028, 500, false, fault.KindTransient, CodeUnavailable, nil},
		{500034, 500, false, fault.KindTransient, CodeUnavailable, nil},
		{504001, 504, false, fault.KindTransient, CodeUnavailable, nil},
		{504002, 504, false, fault.KindTransient, CodeUnavailable, nil},
		{599999, 500, false, fault.KindTransient, CodeUnavailable, nil},
		{400006, 400, true, fault.KindPermanent, CodeCursorExpired, ErrCursorExpired},
		{400006, 400, false, fault.KindPermanent, "gigya_400006", nil},
		{400001, 400, false, fault.KindPermanent, "gigya_400001", nil},
		{400002, 400, false, fault.KindPermanent, "gigya_400002", nil},
		{400093, 400, false, fault.KindPermanent, "gigya_400093", nil},
		{403003, 403, false, fault.KindPermanent, "gigya_403003", nil},
		{403006, 403, false, fault.KindPermanent, "gigya_403006", nil},
		{403007, 403, false, fault.KindPermanent, "gigya_403007", nil},
		{403010, 403, false, fault.KindPermanent, "gigya_403010", nil},
		{403042, 403, false, fault.KindPermanent, CodeInvalidCredentials, ErrInvalidCredentials},
		{403047, 403, false, fault.KindPermanent, CodeInvalidCredentials, ErrInvalidCredentials},
		{401030, 401, false, fault.KindPermanent, CodeInvalidCredentials, ErrInvalidCredentials},
		{403041, 403, false, fault.KindPermanent, CodeAccountDisabled, ErrAccountDisabled},
		{403120, 403, false, fault.KindPermanent, CodeAccountLocked, ErrAccountLocked},
		{401020, 401, false, fault.KindPermanent, CodeCaptchaRequired, ErrCaptchaRequired},
		{401021, 401, false, fault.KindPermanent, CodeCaptchaRequired, ErrCaptchaRequired},
		{206001, 206, false, fault.KindPermanent, CodePendingRegistration, ErrPending},
		{206002, 206, false, fault.KindPermanent, CodePendingVerification, ErrPending},
		{403100, 403, false, fault.KindPermanent, CodePendingPasswordChange, ErrPending},
		{403101, 403, false, fault.KindPermanent, CodePendingTFA, ErrPending},
		{403102, 403, false, fault.KindPermanent, CodePendingTFA, ErrPending},
	}
	sentinels := []error{ErrRateLimited, ErrCursorExpired, ErrInvalidCredentials, ErrAccountDisabled, ErrAccountLocked, ErrCaptchaRequired, ErrPending}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/cursor=%t", tt.code, tt.cursor), func(t *testing.T) {
			body := fmt.Sprintf(`{"statusCode":%d,"errorCode":%d,"errorMessage":"msg %d","errorDetails":"details","callId":"call-%d"}`, tt.status, tt.code, tt.code, tt.code)
			s := newServer(t, sequence(body))
			cfg := testConfig(s.URL)
			cfg.MaxRetries = -1
			c, _ := newTestClient(t, cfg)
			params := url.Values{"query": {"q"}}
			if tt.cursor {
				params = url.Values{"cursorId": {"c"}}
			}
			err := c.Call(context.Background(), "accounts.search", params, nil)
			wantFault(t, err, tt.kind, tt.fcode)
			ae := apiError(t, err)
			if ae.ErrorCode != tt.code || ae.StatusCode != tt.status || ae.Method != "accounts.search" || ae.Message != fmt.Sprintf("msg %d", tt.code) || ae.Details != "details" || ae.CallID != fmt.Sprintf("call-%d", tt.code) {
				t.Fatalf("APIError %+v", ae)
			}
			for _, s := range sentinels {
				if got := errors.Is(err, s); got != (s == tt.sentinel) {
					t.Fatalf("errors.Is(err, %v) = %t", s, got)
				}
			}
			if n := len(s.requests()); n != 1 {
				t.Fatalf("%d requests with MaxRetries -1", n)
			}
		})
	}
}

func TestSuccessCodesAndHTTPErrorBody(t *testing.T) {
	// 200009 "accounts linked" is a success.
	s := newServer(t, sequence(`{"statusCode":200,"errorCode":200009,"callId":"c"}`))
	c, _ := newTestClient(t, testConfig(s.URL))
	var r Response
	if err := c.Call(context.Background(), "accounts.search", nil, &r); err != nil || r.ErrorCode != 200009 || r.CallID != "c" {
		t.Fatalf("200009: %v %+v", err, r)
	}
	// With httpStatusCodes the HTTP status mirrors the error; the body still wins.
	s = newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int, _ url.Values) {
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, `{"statusCode":403,"errorCode":403010,"errorMessage":"Invalid secret"}`)
	})
	c, _ = newTestClient(t, testConfig(s.URL))
	err := c.Call(context.Background(), "accounts.search", nil, nil)
	wantFault(t, err, fault.KindPermanent, "gigya_403010")
	if len(s.requests()) != 1 {
		t.Fatal("permanent error retried")
	}
}

func TestRateLimitedRetriedAndRateLowered(t *testing.T) {
	rl := `{"statusCode":403,"errorCode":403048,"statusReason":"Forbidden","errorMessage":"Api rate limit exceeded"}`
	s := newServer(t, sequence(rl, okBody))
	c, fc := newTestClient(t, testConfig(s.URL))
	if got := c.CurrentRate(); got != 10 {
		t.Fatalf("initial rate %g", got)
	}
	if err := c.Call(context.Background(), "accounts.search", nil, nil); err != nil {
		t.Fatal(err)
	}
	if n := len(s.requests()); n != 2 {
		t.Fatalf("%d requests", n)
	}
	if got := c.CurrentRate(); got != 5 {
		t.Fatalf("rate after 403048 = %g, want 5", got)
	}
	var backedOff bool
	for _, d := range fc.sleeps() {
		backedOff = backedOff || d >= rateLimitedDelay
	}
	if !backedOff {
		t.Fatalf("no backoff ≥ %s in %v", rateLimitedDelay, fc.sleeps())
	}
	c.mu.Lock()
	left := c.restoreAt.Sub(fc.now())
	c.mu.Unlock()
	if left <= 55*time.Second || left > rateReduction {
		t.Fatalf("reduced rate lasts %s more, want about a minute", left)
	}
	fc.advance(left - time.Second)
	if got := c.CurrentRate(); got != 5 {
		t.Fatalf("rate restored early: %g", got)
	}
	fc.advance(2 * time.Second)
	if got := c.CurrentRate(); got != 10 {
		t.Fatalf("rate after the window = %g, want 10", got)
	}
}

func TestRateFloor(t *testing.T) {
	rl := `{"statusCode":403,"errorCode":403048}`
	s := newServer(t, sequence(rl, rl, rl, rl, rl, rl, okBody))
	c, _ := newTestClient(t, testConfig(s.URL))
	if err := c.Call(context.Background(), "accounts.search", nil, nil); err != nil {
		t.Fatal(err)
	}
	if got := c.CurrentRate(); got != minReducedRate {
		t.Fatalf("rate after six 403048 = %g, want %g", got, minReducedRate)
	}
}

func TestRetriesExhausted(t *testing.T) {
	s := newServer(t, sequence(`{"statusCode":403,"errorCode":403048}`))
	cfg := testConfig(s.URL)
	cfg.MaxRetries = 3
	c, fc := newTestClient(t, cfg)
	err := c.Call(context.Background(), "accounts.search", nil, nil)
	wantFault(t, err, fault.KindTransient, CodeRateLimited)
	if !errors.Is(err, ErrRateLimited) || !strings.Contains(err.Error(), "after 4 attempts") {
		t.Fatalf("err = %v", err)
	}
	if n := len(s.requests()); n != 4 {
		t.Fatalf("%d requests, want 4", n)
	}
	// Backoff and limiter waits (0.5/s at the floor) stay under the cap.
	for _, d := range fc.sleeps() {
		if d > backoffCap {
			t.Fatalf("sleep %s over the cap", d)
		}
	}
}

func TestBackoffBounds(t *testing.T) {
	c, _ := newTestClient(t, Config{APIKey: "k", Secret: "s"})
	for n := 0; n < 40; n++ {
		ceil := min(backoffBase<<min(n, 16), backoffCap)
		for range 50 {
			if d := c.backoff(n); d < 0 || d > ceil {
				t.Fatalf("backoff(%d) = %s, want within [0, %s]", n, d, ceil)
			}
		}
	}
}

func TestTruncatedBodyRetried(t *testing.T) {
	t.Run("connection cut", func(t *testing.T) {
		s := newServer(t, func(w http.ResponseWriter, _ *http.Request, n int, _ url.Values) {
			if n == 0 {
				conn, buf, err := w.(http.Hijacker).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				_, _ = buf.WriteString("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 500\r\n\r\n{\"statusCode\":200,\"errorCode\":0,\"res")
				_ = buf.Flush()
				_ = conn.Close()
				return
			}
			answer(w, okBody)
		})
		c, _ := newTestClient(t, testConfig(s.URL))
		if err := c.Call(context.Background(), "accounts.search", nil, nil); err != nil {
			t.Fatal(err)
		}
		if n := len(s.requests()); n != 2 {
			t.Fatalf("%d requests", n)
		}
	})
	for name, body := range map[string]string{
		"truncated json": `{"statusCode":200,"errorCode":0,"results":[{"UID":"a"`,
		"html":           `<html><body>Bad gateway</body></html>`,
		"empty":          ``,
		"no errorCode":   `{"hello":"world"}`,
	} {
		t.Run(name, func(t *testing.T) {
			s := newServer(t, sequence(body, okBody))
			c, _ := newTestClient(t, testConfig(s.URL))
			if err := c.Call(context.Background(), "accounts.search", nil, nil); err != nil {
				t.Fatal(err)
			}
			if n := len(s.requests()); n != 2 {
				t.Fatalf("%d requests", n)
			}
			// Without retries the error is transient gigya_unavailable.
			s = newServer(t, sequence(body))
			cfg := testConfig(s.URL)
			cfg.MaxRetries = -1
			c, _ = newTestClient(t, cfg)
			wantFault(t, c.Call(context.Background(), "accounts.search", nil, nil), fault.KindTransient, CodeUnavailable)
		})
	}
}

func TestHTTPStatusErrors(t *testing.T) {
	tests := []struct {
		status    int
		retried   bool
		code      string
		retryWait time.Duration
	}{
		{http.StatusServiceUnavailable, true, CodeUnavailable, 0},
		{http.StatusBadGateway, true, CodeUnavailable, 0},
		{http.StatusTooManyRequests, true, CodeUnavailable, 3 * time.Second},
		{http.StatusRequestTimeout, true, CodeUnavailable, 0},
		{http.StatusNotFound, false, "gigya_http_404", 0},
		{http.StatusFound, false, "gigya_http_302", 0},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status), func(t *testing.T) {
			s := newServer(t, func(w http.ResponseWriter, _ *http.Request, n int, _ url.Values) {
				if n == 0 {
					if tt.retryWait > 0 {
						w.Header().Set("Retry-After", strconv.Itoa(int(tt.retryWait/time.Second)))
					}
					if tt.status == http.StatusFound {
						w.Header().Set("Location", "https://elsewhere.example/")
					}
					w.WriteHeader(tt.status)
					_, _ = io.WriteString(w, "<html>oops</html>")
					return
				}
				answer(w, okBody)
			})
			c, fc := newTestClient(t, testConfig(s.URL))
			err := c.Call(context.Background(), "accounts.search", nil, nil)
			if tt.retried {
				if err != nil {
					t.Fatal(err)
				}
				if n := len(s.requests()); n != 2 {
					t.Fatalf("%d requests", n)
				}
				if tt.retryWait > 0 {
					var waited bool
					for _, d := range fc.sleeps() {
						waited = waited || d >= tt.retryWait
					}
					if !waited {
						t.Fatalf("Retry-After ignored: sleeps %v", fc.sleeps())
					}
				}
				return
			}
			wantFault(t, err, fault.KindPermanent, tt.code)
			if !strings.Contains(err.Error(), "oops") {
				t.Fatalf("error %q lacks the body snippet", err)
			}
			if n := len(s.requests()); n != 1 {
				t.Fatalf("%d requests", n)
			}
		})
	}
}

func TestNetworkErrorRetried(t *testing.T) {
	s := newServer(t, sequence(okBody))
	cfg := testConfig(s.URL)
	cfg.MaxRetries = 2
	c, _ := newTestClient(t, cfg)
	s.Close() // connection refused from now on
	err := c.Call(context.Background(), "accounts.search", nil, nil)
	wantFault(t, err, fault.KindTransient, CodeUnavailable)
	if !strings.Contains(err.Error(), "after 3 attempts") {
		t.Fatalf("err = %v", err)
	}
}

func TestAttemptTimeoutRetried(t *testing.T) {
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int, _ url.Values) {
		if n == 0 {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return
		}
		answer(w, `{"statusCode":200,"errorCode":0,"results":[]}`)
	})
	cfg := testConfig(s.URL)
	cfg.Timeout = 100 * time.Millisecond
	c, _ := newTestClient(t, cfg)
	if _, err := c.SearchNext(context.Background(), "cur"); err != nil {
		t.Fatal(err)
	}
	reqs := s.requests()
	if len(reqs) != 2 || reqs[0].Form.Get("timeout") != "100" {
		t.Fatalf("%d requests, timeout param %q", len(reqs), reqs[0].Form.Get("timeout"))
	}
}

func TestRetriesResendSameCursor(t *testing.T) {
	s := newServer(t, sequence(
		`{"statusCode":500,"errorCode":500001}`,
		`{"statusCode":403,"errorCode":403048}`,
		`{"statusCode":504,"errorCode":504001}`,
		`{"statusCode":200,"errorCode":0,"results":[{"UID":"a"}],"nextCursorId":"cur-2"}`,
	))
	c, _ := newTestClient(t, testConfig(s.URL))
	p, err := c.SearchNext(context.Background(), "cur-1")
	if err != nil {
		t.Fatal(err)
	}
	if p.NextCursorID != "cur-2" {
		t.Fatalf("page %+v", p)
	}
	reqs := s.requests()
	if len(reqs) != 4 {
		t.Fatalf("%d requests", len(reqs))
	}
	for _, r := range reqs {
		if r.Form.Get("cursorId") != "cur-1" || r.Form.Has("query") || r.Body != reqs[0].Body {
			t.Fatalf("retry sent %q, first was %q", r.Body, reqs[0].Body)
		}
	}
}

func TestContextCancellationStopsRetries(t *testing.T) {
	t.Run("during request", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := newServer(t, func(w http.ResponseWriter, _ *http.Request, n int, _ url.Values) {
			if n == 1 {
				cancel()
			}
			answer(w, `{"statusCode":500,"errorCode":500001}`)
		})
		c, err := NewClient(testConfig(s.URL)) // real clock and sleeps
		if err != nil {
			t.Fatal(err)
		}
		err = c.Call(ctx, "accounts.search", nil, nil)
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if n := len(s.requests()); n != 2 {
			t.Fatalf("%d requests after cancellation at the second", n)
		}
	})
	t.Run("during backoff", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		s := newServer(t, func(w http.ResponseWriter, _ *http.Request, _ int, _ url.Values) {
			w.Header().Set("Retry-After", "60")
			w.WriteHeader(http.StatusServiceUnavailable)
		})
		c, err := NewClient(testConfig(s.URL))
		if err != nil {
			t.Fatal(err)
		}
		time.AfterFunc(100*time.Millisecond, cancel)
		err = c.Call(ctx, "accounts.search", nil, nil)
		if !errors.Is(err, context.Canceled) || !strings.Contains(err.Error(), "HTTP 503") {
			t.Fatalf("err = %v, want context.Canceled naming the last error", err)
		}
		if n := len(s.requests()); n != 1 {
			t.Fatalf("%d requests", n)
		}
	})
	t.Run("already cancelled", func(t *testing.T) {
		s := newServer(t, sequence(okBody))
		c, _ := newTestClient(t, testConfig(s.URL))
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if err := c.Call(ctx, "accounts.search", nil, nil); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
		if n := len(s.requests()); n != 0 {
			t.Fatalf("%d requests", n)
		}
	})
}

// TestRateAdherence checks the limiter from below only: 100 calls at 50/s
// with burst 1 cannot take less than 99/50 s.
func TestRateAdherence(t *testing.T) {
	if testing.Short() {
		t.Skip("takes 2 s")
	}
	s := newServer(t, sequence(okBody))
	cfg := testConfig(s.URL)
	cfg.Rate = 50
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			for range 25 {
				if err := c.Call(context.Background(), "accounts.search", url.Values{"query": {strconv.Itoa(g)}}, nil); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if elapsed := time.Since(start); elapsed < 1900*time.Millisecond {
		t.Fatalf("100 calls at 50/s took %s, want ≥ 1.98 s", elapsed)
	}
	if n := len(s.requests()); n != 100 {
		t.Fatalf("%d requests", n)
	}
}

func TestDefaultClientRefusesRedirects(t *testing.T) {
	target := newServer(t, sequence(okBody))
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, _ int, _ url.Values) {
		http.Redirect(w, r, target.URL+"/accounts.search", http.StatusTemporaryRedirect)
	})
	c, _ := newTestClient(t, testConfig(s.URL))
	wantFault(t, c.Call(context.Background(), "accounts.search", nil, nil), fault.KindPermanent, "gigya_http_307")
	if n := len(target.requests()); n != 0 {
		t.Fatalf("redirect followed: the form (and secret) reached another host %d times", n)
	}
}

// TestSecretsNeverLeak runs failing calls with known credentials and a
// server that echoes them, and checks errors, logs and every formatting of
// Config and Client.
func TestSecretsNeverLeak(t *testing.T) {
	const secret = "TopSecret-4711-xyz"
	const password = "Pa55word-0815-abc"
	keyPEM := pkcs8PEM(t, rsaKey(t))
	pemLines := strings.Split(string(keyPEM), "\n")
	keyFragment := pemLines[len(pemLines)/2] // a line of base64 key material

	var jwts []string
	var mu sync.Mutex
	s := newServer(t, func(w http.ResponseWriter, r *http.Request, n int, form url.Values) {
		mu.Lock()
		if tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
			jwts = append(jwts, tok)
		}
		mu.Unlock()
		echo := strings.NewReplacer(`"`, `'`, `\`, `/`).Replace(fmt.Sprintf("got secret=%s password=%s auth=%s", form.Get("secret"), form.Get("password"), r.Header.Get("Authorization")))
		switch n % 3 {
		case 0:
			answer(w, `{"statusCode":500,"errorCode":500001,"errorMessage":"`+echo+`","errorDetails":"`+echo+`"}`)
		case 1:
			w.WriteHeader(http.StatusBadGateway)
			_, _ = io.WriteString(w, echo)
		default:
			answer(w, `{"statusCode":403,"errorCode":403010,"errorMessage":"Invalid secret `+echo+`"}`)
		}
	})

	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	configs := map[string]Config{
		"app key": {BaseURL: s.URL, AllowHTTP: true, APIKey: testAPIKey, UserKey: testUserKey, Secret: secret, Logger: logger},
		"partner": {BaseURL: s.URL, AllowHTTP: true, APIKey: testAPIKey, Secret: secret, Logger: logger},
		"jwt":     {BaseURL: s.URL, AllowHTTP: true, APIKey: testAPIKey, UserKey: testUserKey, PrivateKeyPEM: keyPEM, Logger: logger},
	}
	var texts []string
	for name, cfg := range configs {
		c, _ := newTestClient(t, cfg)
		err := c.Call(context.Background(), "accounts.search", url.Values{"query": {"q"}}, nil)
		if err == nil {
			t.Fatalf("%s: call succeeded", name)
		}
		_, lerr := c.Login(context.Background(), "user@example.com", password)
		if lerr == nil {
			t.Fatalf("%s: login succeeded", name)
		}
		var cfgLog bytes.Buffer
		slog.New(slog.NewTextHandler(&cfgLog, nil)).Info("config", "cfg", cfg, "client", c)
		cfgJSON, _ := json.Marshal(cfg)
		texts = append(texts, err.Error(), lerr.Error(), cfgLog.String(), string(cfgJSON))
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x"} {
			texts = append(texts, fmt.Sprintf(verb, cfg), fmt.Sprintf(verb, &cfg), fmt.Sprintf(verb, c))
		}
	}
	if !strings.Contains(logs.String(), "retrying") {
		t.Fatal("no retry was logged: the log check would prove nothing")
	}
	texts = append(texts, logs.String())
	mu.Lock()
	forbidden := append([]string{secret, url.QueryEscape(secret), password, keyFragment}, jwts...)
	mu.Unlock()
	if len(jwts) == 0 {
		t.Fatal("no JWT captured")
	}
	for _, text := range texts {
		for _, f := range forbidden {
			if strings.Contains(text, f) {
				t.Fatalf("leaked %q in:\n%s", f, text)
			}
		}
	}
}
