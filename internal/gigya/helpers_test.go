package gigya

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

// recorded is one request a test server received.
type recorded struct {
	Method      string
	Path        string
	ContentType string
	Auth        string
	Body        string
	Form        url.Values
}

// testServer is an httptest server whose handler sees the request number
// (0-based) and the parsed form.
type testServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func newServer(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int, form url.Values)) *testServer {
	t.Helper()
	s := &testServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		s.mu.Lock()
		n := len(s.reqs)
		s.reqs = append(s.reqs, recorded{r.Method, r.URL.Path, r.Header.Get("Content-Type"), r.Header.Get("Authorization"), string(body), form})
		s.mu.Unlock()
		h(w, r, n, form)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *testServer) requests() []recorded {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]recorded(nil), s.reqs...)
}

// answer writes a JSON body with HTTP 200.
func answer(w http.ResponseWriter, body string) {
	w.Header().Set("Content-Type", "application/json")
	_, _ = io.WriteString(w, body)
}

const okBody = `{"statusCode":200,"errorCode":0,"statusReason":"OK","callId":"c1","time":"2024-01-01T00:00:00.000Z"}`

// sequence answers the i-th request with bodies[i] (the last one repeats).
func sequence(bodies ...string) func(http.ResponseWriter, *http.Request, int, url.Values) {
	return func(w http.ResponseWriter, _ *http.Request, n int, _ url.Values) {
		answer(w, bodies[min(n, len(bodies)-1)])
	}
}

// fakeClock makes sleeps instant and records them; the rate limiter and the
// rate-reduction window run on its time.
type fakeClock struct {
	mu    sync.Mutex
	t     time.Time
	slept []time.Duration
}

func (f *fakeClock) now() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.t
}

func (f *fakeClock) sleep(ctx context.Context, d time.Duration) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
	f.slept = append(f.slept, d)
	return nil
}

func (f *fakeClock) advance(d time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.t = f.t.Add(d)
}

func (f *fakeClock) sleeps() []time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Duration(nil), f.slept...)
}

const (
	testAPIKey  = "3_apikey"
	testUserKey = "AUserKey1"
	testSecret  = "S3cr3t-Value+/="
)

// testConfig is an app-key config against base.
func testConfig(base string) Config {
	return Config{BaseURL: base, AllowHTTP: true, APIKey: testAPIKey, UserKey: testUserKey, Secret: testSecret}
}

// newTestClient builds a client on a fake clock.
func newTestClient(t *testing.T, cfg Config) (*Client, *fakeClock) {
	t.Helper()
	c, err := NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	fc := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	c.now, c.sleep = fc.now, fc.sleep
	return c, fc
}

var (
	keyOnce sync.Once
	testKey *rsa.PrivateKey
)

func rsaKey(t *testing.T) *rsa.PrivateKey {
	t.Helper()
	keyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKey = k
	})
	return testKey
}

func pkcs8PEM(t *testing.T, k *rsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})
}

func pkcs1PEM(k *rsa.PrivateKey) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)})
}

// wantFault checks err's classification.
func wantFault(t *testing.T, err error, kind fault.Kind, code string) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %s %s", kind, code)
	}
	k, c := fault.Classify(err)
	if k != kind || c != code {
		t.Fatalf("Classify(%v) = %s %s, want %s %s", err, k, c, kind, code)
	}
}

func apiError(t *testing.T, err error) *APIError {
	t.Helper()
	var ae *APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err %v does not wrap *APIError", err)
	}
	return ae
}
