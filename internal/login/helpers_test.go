package login

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/configs"
	"github.com/gigya-migrate/gigya-migrate/internal/gigya"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/syncbuf"
	"github.com/nats-io/nats.go/jetstream"
)

const testSecret = "test-client-secret-0123456789"

type fixture struct {
	sim  *gigyasim.Sim
	js   jetstream.JetStream
	top  *topology.Topology
	svc  *Service
	url  string
	reg  *prometheus.Registry
	logs *syncbuf.Buffer
	m    *mapping.Mapping
}

type fixtureOptions struct {
	sim      gigyasim.Options
	settings func(*Settings)
	mapping  []byte
	lr       LoginRadius
	pub      Publisher
}

func newFixture(t testing.TB, o fixtureOptions) *fixture {
	t.Helper()
	if o.sim.Accounts == 0 {
		o.sim.Accounts, o.sim.Seed = 300, 11
	}
	sim, err := gigyasim.New(o.sim)
	if err != nil {
		t.Fatal(err)
	}
	gsrv := httptest.NewServer(sim.Handler())
	t.Cleanup(gsrv.Close)
	gc, err := gigya.NewClient(gigya.Config{BaseURL: gsrv.URL, AllowHTTP: true, APIKey: sim.APIKey(), Secret: sim.Secret(),
		Rate: 10000, MaxRetries: 1, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	js := natstest.Start(t).JetStream()
	top, err := topology.Ensure(context.Background(), js, topology.Default())
	if err != nil {
		t.Fatal(err)
	}
	src := o.mapping
	if src == nil {
		src = configs.Auth0Mapping
	}
	m, err := mapping.Parse("mapping.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	st := DefaultSettings()
	st.PlainHTTP = true
	st.Clients = []stage.LoginClient{{Name: "auth0", Secret: testSecret}}
	st.Rate.PerIdentifier, st.Rate.IdentifierBurst = 100, 100
	if o.settings != nil {
		o.settings(&st)
	}
	pub := o.pub
	if pub == nil {
		pub = js
	}
	logs := &syncbuf.Buffer{}
	reg := prometheus.NewRegistry()
	svc, err := New(Options{Settings: st, Site: "s1", Run: "login-test", Mapping: m, Gigya: gc, LoginRadius: o.lr,
		Publisher: pub, Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Metrics: reg})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc.Handler())
	t.Cleanup(srv.Close)
	return &fixture{sim: sim, js: js, top: top, svc: svc, url: srv.URL, reg: reg, logs: logs, m: m}
}

// post sends body to path with the client secret and decodes the answer.
func (f *fixture) post(t testing.TB, path, secret string, body any) (int, map[string]any, http.Header) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(http.MethodPost, f.url+path, bytes.NewReader(b))
	if secret != "" {
		req.Header.Set("Authorization", "Bearer "+secret)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if err := json.Unmarshal(raw, &out); err != nil {
		t.Fatalf("%s answered %d with %q", path, resp.StatusCode, raw)
	}
	return resp.StatusCode, out, resp.Header
}

// user is an account of the simulator that logs in with a known password.
type user struct {
	uid, email, password string
}

// users returns n accounts that log in (active, registered, a login email,
// a verifiable password) and that the mapping maps.
func (f *fixture) users(t testing.TB, n int) []user {
	t.Helper()
	ev := f.m.NewEvaluator()
	var out []user
	for uid, pw := range f.sim.Passwords() {
		raw, _ := f.sim.Account(uid)
		var a struct {
			IsActive     *bool `json:"isActive"`
			IsRegistered *bool `json:"isRegistered"`
			LoginIDs     struct {
				Emails []string `json:"emails"`
			} `json:"loginIDs"`
		}
		_ = json.Unmarshal(raw, &a)
		if len(a.LoginIDs.Emails) == 0 || (a.IsActive != nil && !*a.IsActive) || (a.IsRegistered != nil && !*a.IsRegistered) {
			continue
		}
		if r, err := ev.MapJSON(raw); err != nil || r.Skip != "" {
			continue
		}
		out = append(out, user{uid: uid, email: a.LoginIDs.Emails[0], password: pw})
		if len(out) == n {
			return out
		}
	}
	t.Fatalf("the simulator has %d users that log in, want %d", len(out), n)
	return nil
}

// bulkProfile is what the bulk load maps the account to now, less the
// password fields the login profile leaves out.
func (f *fixture) bulkProfile(t *testing.T, uid string) map[string]any {
	t.Helper()
	raw, ok := f.sim.Account(uid)
	if !ok {
		t.Fatalf("no account %s", uid)
	}
	mp, err := newMapper(f.m)
	if err != nil {
		t.Fatal(err)
	}
	u, err := mp.mapAccount(raw)
	if err != nil {
		t.Fatal(err)
	}
	return without(u, DefaultSettings().Auth0.Omit)
}

// canonical renders v as JSON with sorted keys (and numbers as JSON has them).
func canonical(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back any
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	b, _ = json.Marshal(back)
	return string(b)
}

// metric returns the text exposition of the registry.
func (f *fixture) metrics(t *testing.T) string {
	t.Helper()
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			fmt.Fprintf(&b, "%s %v\n", mf.GetName(), m)
		}
	}
	return b.String()
}

func md5b64(s string) string {
	sum := md5.Sum([]byte(s))
	return base64.StdEncoding.EncodeToString(sum[:])
}
