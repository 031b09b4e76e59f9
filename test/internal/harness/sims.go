package harness

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/auth0sim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/lrsim"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

// TokenRecorder serves a simulated tenant and records the access tokens it
// issues, so a test can look for them too (a bearer token is a secret like
// any other), and counts the requests, so a test can tell whether a binary
// reached the tenant at all.
type TokenRecorder struct {
	h        http.Handler
	requests atomic.Int64
	mu       sync.Mutex
	tokens   []string
}

type teeWriter struct {
	http.ResponseWriter
	body bytes.Buffer
}

func (w *teeWriter) Write(p []byte) (int, error) {
	w.body.Write(p)
	return w.ResponseWriter.Write(p)
}

// ServeHTTP passes the request to the tenant, keeping the token of an
// /oauth/token answer.
func (r *TokenRecorder) ServeHTTP(w http.ResponseWriter, req *http.Request) {
	r.requests.Add(1)
	if req.URL.Path != "/oauth/token" {
		r.h.ServeHTTP(w, req)
		return
	}
	tw := &teeWriter{ResponseWriter: w}
	r.h.ServeHTTP(tw, req)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	if json.Unmarshal(tw.body.Bytes(), &tok) == nil && tok.AccessToken != "" {
		r.mu.Lock()
		r.tokens = append(r.tokens, tok.AccessToken)
		r.mu.Unlock()
	}
}

// Issued returns the access tokens issued so far.
func (r *TokenRecorder) Issued() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.tokens)
}

// Requests returns the number of requests served so far.
func (r *TokenRecorder) Requests() int64 { return r.requests.Load() }

// StartAuth0Sim serves a simulated tenant through a TokenRecorder until the
// test ends, and returns its base URL.
func StartAuth0Sim(t *testing.T, opts auth0sim.Options) (*auth0sim.Sim, *TokenRecorder, string) {
	t.Helper()
	sim := auth0sim.New(opts)
	rec := &TokenRecorder{h: sim.Handler()}
	srv := httptest.NewServer(rec)
	t.Cleanup(func() { srv.Close(); sim.Close() })
	return sim, rec, srv.URL
}

// StartGigyaSim serves a simulated Gigya site until the test ends, and
// returns its base URL.
func StartGigyaSim(t *testing.T, opts gigyasim.Options) (*gigyasim.Sim, string) {
	t.Helper()
	sim, err := gigyasim.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	base, stop, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return sim, base
}

// RenameAccount gives a raw Gigya account new names, numbered n: a newer
// version of it whose mapped user differs in given_name (Updated<n>) and
// family_name (Newer<n>), so a test can tell which version a target holds.
func RenameAccount(acct map[string]any, n int) {
	profile, _ := acct["profile"].(map[string]any)
	if profile == nil {
		profile = map[string]any{}
		acct["profile"] = profile
	}
	profile["firstName"] = fmt.Sprintf("Updated%d", n)
	profile["lastName"] = fmt.Sprintf("Newer%d", n)
}

// JobsRecorded reports whether jobs run at the simulator and the loader's
// record in etl_state (sink.<loader>.*) lists every one: a kill then leaves
// jobs the restarted loader knows to wait for. A kill between a job's
// creation and its record is the one gap the README names.
func JobsRecorded(js jetstream.JetStream, asim *auth0sim.Sim, loader string) bool {
	active := asim.ActiveJobs()
	if len(active) == 0 {
		return false
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	kv, err := js.KeyValue(ctx, "etl_state")
	if err != nil {
		return false
	}
	lister, err := kv.ListKeysFiltered(ctx, "sink."+loader+".>")
	if err != nil {
		return false
	}
	recorded := map[string]bool{}
	for key := range lister.Keys() {
		e, err := kv.Get(ctx, key)
		if err != nil {
			continue
		}
		var ids []string
		_ = json.Unmarshal(e.Value(), &ids)
		for _, id := range ids {
			recorded[id] = true
		}
	}
	for _, id := range active {
		if !recorded[id] {
			return false
		}
	}
	return true
}

// StartLoginRadiusSim serves a simulated LoginRadius tenant until the test
// ends, and returns its base URL (both the migration and the API host).
func StartLoginRadiusSim(t *testing.T, opts lrsim.Options) (*lrsim.Sim, string) {
	t.Helper()
	sim := lrsim.New(opts)
	srv := httptest.NewServer(sim.Handler())
	t.Cleanup(srv.Close)
	return sim, srv.URL
}
