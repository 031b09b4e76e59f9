package auth0api

import (
	"context"
	"crypto/pbkdf2"
	"crypto/sha512"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/auth0sim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/syncbuf"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink/sinktest"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/segmentio/encoding/json"
)

func newSink(t *testing.T, sim *auth0sim.Sim, base string, tweak func(*Options)) *apiSink {
	t.Helper()
	return newSinkLog(t, base, nil, tweak)
}

func newSinkLog(t *testing.T, base string, log *slog.Logger, tweak func(*Options)) *apiSink {
	t.Helper()
	s, err := New(context.Background(), sink.Params{Name: "t", Target: "auth0", Log: log, Metrics: prometheus.NewRegistry(), Decode: func(v any) error {
		o := v.(*Options)
		o.BaseURL, o.AllowHTTP = base, true
		o.ClientID, o.ClientSecret = "sim-client-id", "sim-client-secret"
		o.Connection = "Username-Password-Authentication" // by name: resolved to its con_ id
		o.PollInterval = 20 * time.Millisecond
		if tweak != nil {
			tweak(o)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return s.(*apiSink)
}

func startSim(t *testing.T) (*auth0sim.Sim, string) {
	t.Helper()
	return startSimWith(t, auth0sim.Options{})
}

func startSimWith(t *testing.T, opts auth0sim.Options) (*auth0sim.Sim, string) {
	t.Helper()
	sim := auth0sim.New(opts)
	base, stop, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return sim, base
}

func user(i int) sink.Record {
	uid := fmt.Sprintf("u%04d", i)
	return sink.Record{UID: uid, Data: fmt.Appendf(nil, `{"user_id":%q,"email":"%s@example.com","email_verified":true}`, uid, uid)}
}

func TestImportsAndMapsPerUserErrors(t *testing.T) {
	sim, base := startSim(t)
	s := newSink(t, sim, base, nil)
	if s.connID != sim.ConnectionID() {
		t.Fatalf("connection resolved to %q, want %q", s.connID, sim.ConnectionID())
	}
	recs := []sink.Record{user(1), {UID: "bad", Data: []byte(`{"user_id":"bad","email":"not-an-email"}`)}, user(2)}
	err := s.Write(context.Background(), recs)
	var rej *sink.RejectedError
	if !errors.As(err, &rej) || len(rej.Rejections) != 1 || rej.Rejections[0].Index != 1 || rej.Rejections[0].Code == "" {
		t.Fatalf("want the bad user rejected with Auth0's code, got %v", err)
	}
	if _, ok := sim.User("u0001@example.com"); !ok || len(sim.Users()) != 2 {
		t.Fatalf("users %v", sim.Users())
	}
	// A crash after the job, before the acks: the same users come again.
	// Without upsert Auth0 answers DUPLICATED_USER, which means loaded.
	if err := s.Write(context.Background(), []sink.Record{user(1), user(2)}); err != nil {
		t.Fatalf("re-sent users must count as loaded: %v", err)
	}
	if len(sim.Users()) != 2 {
		t.Fatalf("re-sending duplicated users: %d", len(sim.Users()))
	}
}

func TestUpsertUpdates(t *testing.T) {
	sim, base := startSim(t)
	s := newSink(t, sim, base, func(o *Options) { o.Upsert = true })
	if err := s.Write(context.Background(), []sink.Record{user(1)}); err != nil {
		t.Fatal(err)
	}
	changed := sink.Record{UID: "u0001", Data: []byte(`{"user_id":"u0001","email":"u0001@example.com","given_name":"New"}`)}
	if err := s.Write(context.Background(), []sink.Record{changed}); err != nil {
		t.Fatal(err)
	}
	u, _ := sim.User("u0001@example.com")
	if u["given_name"] != "New" || len(sim.Users()) != 1 {
		t.Fatalf("upsert: %v", sim.Users())
	}
}

func TestWholeJobFailureIsRetried(t *testing.T) {
	sim, base := startSim(t)
	s := newSink(t, sim, base, nil)
	sim.Inject(auth0sim.FaultJobFailed, 1)
	if err := s.Write(context.Background(), []sink.Record{user(1), user(2)}); err != nil {
		t.Fatalf("a job that failed once must be resubmitted: %v", err)
	}
	if len(sim.Users()) != 2 || sim.Stats().JobsFailed != 1 {
		t.Fatalf("users %d, stats %+v", len(sim.Users()), sim.Stats())
	}
	var failed, completed dto.Metric
	_ = s.jobs.WithLabelValues("failed").Write(&failed)
	_ = s.jobs.WithLabelValues("completed").Write(&completed)
	if failed.Counter.GetValue() != 1 || completed.Counter.GetValue() != 1 {
		t.Fatalf("gm_auth0_jobs_total: failed %v, completed %v; want 1 and 1", failed.Counter.GetValue(), completed.Counter.GetValue())
	}
	sim.Inject(auth0sim.FaultJobFailed, 10)
	err := s.Write(context.Background(), []sink.Record{user(3)})
	if err == nil || errors.As(err, new(*sink.RejectedError)) {
		t.Fatalf("a job that keeps failing must fail the batch (dead letters), got %v", err)
	}
}

// Two batches at once take Auth0's two job slots; more wait for a slot.
func TestConcurrentJobs(t *testing.T) {
	sim, base := startSim(t)
	s := newSink(t, sim, base, nil)
	if s.MaxConcurrentWrites() != 2 {
		t.Fatal("Auth0 runs two jobs at once")
	}
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for b := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- s.Write(context.Background(), []sink.Record{user(10 * b), user(10*b + 1)})
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if len(sim.Users()) != 8 || sim.Stats().JobsCompleted != 4 {
		t.Fatalf("users %d, stats %+v", len(sim.Users()), sim.Stats())
	}
}

func TestOptionsValidated(t *testing.T) {
	_, err := New(context.Background(), sink.Params{Decode: func(any) error { return nil }})
	if err == nil {
		t.Fatal("a sink without domain, credentials and connection must not start")
	}
	for _, key := range []string{"loader.sink.options.domain", "loader.sink.options.client_id", "loader.sink.options.connection"} {
		if !strings.Contains(err.Error(), key) {
			t.Errorf("error %v does not name %s", err, key)
		}
	}
}

// TestPlainHTTPRefusedNamingTheKeys: an http:// base_url without
// allow_http names the keys to change, as the file spells them.
func TestPlainHTTPRefusedNamingTheKeys(t *testing.T) {
	_, err := New(context.Background(), sink.Params{Decode: func(v any) error {
		o := v.(*Options)
		o.BaseURL, o.ClientID, o.ClientSecret, o.Connection = "http://127.0.0.1:9", "a", "b", "c"
		return nil
	}})
	if err == nil || !strings.Contains(err.Error(), "loader.sink.options.base_url: is plain http://") ||
		!strings.Contains(err.Error(), "set loader.sink.options.allow_http: true only for a local simulator") {
		t.Fatalf("want the refusal to name base_url and allow_http, got %v", err)
	}
	if strings.Contains(err.Error(), "BaseURL") || strings.Contains(err.Error(), "AllowHTTP") {
		t.Fatalf("the error names Go fields: %v", err)
	}
}

// Rate limiting (429 with the x-ratelimit headers) and server errors are
// ridden out: the batch still lands, once.
func TestRateLimitsAndServerErrors(t *testing.T) {
	sim, base := startSim(t)
	s := newSink(t, sim, base, func(o *Options) { o.PollInterval = 20 * time.Millisecond })
	if err := s.Write(context.Background(), []sink.Record{user(1)}); err != nil {
		t.Fatal(err)
	}
	sim.Inject(auth0sim.FaultRateLimit, 2)
	sim.Inject(auth0sim.Fault503, 1)
	sim.Inject(auth0sim.Fault500, 1)
	if err := s.Write(context.Background(), []sink.Record{user(2), user(3)}); err != nil {
		t.Fatalf("429 and 5xx must be ridden out: %v", err)
	}
	if st := sim.Stats(); len(sim.Users()) != 3 || st.Injected != 4 {
		t.Fatalf("users %d, stats %+v", len(sim.Users()), st)
	}
}

// A token that expired on the tenant's side gets a 401; the client fetches
// a new one and the batch lands.
func TestTokenExpiry(t *testing.T) {
	var mu sync.Mutex
	now := time.Now()
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	sim := auth0sim.New(auth0sim.Options{TokenTTL: time.Hour, Clock: clock})
	base, stop, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	s := newSink(t, sim, base, func(o *Options) { o.PollInterval = 20 * time.Millisecond })
	if err := s.Write(context.Background(), []sink.Record{user(1)}); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	now = now.Add(2 * time.Hour)
	mu.Unlock()
	if err := s.Write(context.Background(), []sink.Record{user(2)}); err != nil {
		t.Fatalf("an expired token must be renewed: %v", err)
	}
	if st := sim.Stats(); len(sim.Users()) != 2 || st.Tokens != 2 {
		t.Fatalf("users %d, stats %+v", len(sim.Users()), st)
	}
}

func TestConformance(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{
		New: func(t *testing.T) sinktest.Storage {
			sim, base := startSimWith(t, auth0sim.Options{JobDuration: 10 * time.Millisecond})
			return sinktest.Storage{
				Open: func(t *testing.T) sink.Sink {
					return newSink(t, sim, base, func(o *Options) { o.PollInterval = 10 * time.Millisecond })
				},
				Stored: func(t *testing.T) map[string]int {
					got := map[string]int{}
					for _, u := range sim.Users() {
						got[strings.TrimPrefix(u["user_id"].(string), "auth0|")]++
					}
					return got
				},
			}
		},
		Refuse: func(r sink.Record) sink.Record {
			r.Data = fmt.Appendf(nil, `{"user_id":%q,"email":"not-an-email-%s"}`, r.UID, r.UID)
			return r
		},
	})
}

// A batch from a replay mixes updates (run with upsert) and first imports
// (run without, so an existing user is a duplicate, counted as loaded).
func TestReplayUpdatesRunWithUpsert(t *testing.T) {
	sim, base := startSimWith(t, auth0sim.Options{JobDuration: 10 * time.Millisecond})
	s := newSink(t, sim, base, func(o *Options) { o.PollInterval = 10 * time.Millisecond })
	if err := s.Write(context.Background(), []sink.Record{user(1), user(2)}); err != nil {
		t.Fatal(err)
	}
	named := func(i int, name string, update bool) sink.Record {
		r := user(i)
		r.Data = fmt.Appendf(nil, `{"user_id":%q,"email":"%s@example.com","email_verified":true,"given_name":%q}`, r.UID, r.UID, name)
		r.Update = update
		return r
	}
	err := s.Write(context.Background(), []sink.Record{named(1, "Insert", false), named(2, "Update", true), named(3, "New", true)})
	if err != nil {
		t.Fatal(err)
	}
	u1, _ := sim.User("u0001@example.com")
	u2, _ := sim.User("u0002@example.com")
	u3, _ := sim.User("u0003@example.com")
	if u1["given_name"] != nil || u2["given_name"] != "Update" || u3["given_name"] != "New" {
		t.Fatalf("u0001 %v (a first import of an existing user changes nothing), u0002 %v and u0003 %v (updated, inserted)", u1, u2, u3)
	}
	if st := sim.Stats(); st.JobsCompleted != 3 || st.UsersUpdated != 1 {
		t.Fatalf("stats %+v: want one job without upsert, one with, after the first", st)
	}
}

// A user who logged in since the import has a password of their own; an
// update that carries a custom_password_hash is refused for it by Auth0.
// The sink imports the user again without the hash: the profile is
// updated, the working password kept, the user counted as stored.
func TestUpdateKeepsThePasswordOfAUserWhoLoggedIn(t *testing.T) {
	sim, base := startSimWith(t, auth0sim.Options{JobDuration: 10 * time.Millisecond, RehashCost: 4})
	var logs syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	s := newSinkLog(t, base, log, func(o *Options) { o.PollInterval = 10 * time.Millisecond })
	withHash := func(i int, password, name string, update bool) sink.Record {
		r := user(i)
		u := map[string]any{"user_id": r.UID, "email": r.UID + "@example.com", "email_verified": true,
			"given_name": name, "custom_password_hash": pbkdf2Hash(t, password)}
		r.Data, _ = json.Marshal(u)
		r.Update = update
		return r
	}
	if err := s.Write(context.Background(), []sink.Record{withHash(1, "old-secret", "Old", false), withHash(2, "old-secret", "Old", false)}); err != nil {
		t.Fatal(err)
	}
	if ok, err := sim.Login("u0001@example.com", "old-secret"); !ok || err != nil {
		t.Fatalf("login: %v %v", ok, err)
	}
	// u0001 logged in (Auth0 re-hashed the password); u0002 did not, so its
	// hash is still the imported one and may change.
	err := s.Write(context.Background(), []sink.Record{withHash(1, "new-secret", "New", true), withHash(2, "new-secret", "New", true)})
	if err != nil {
		t.Fatalf("the update of a user who logged in counts as stored: %v", err)
	}
	for _, c := range []struct {
		email, password string
	}{{"u0001@example.com", "old-secret"}, {"u0002@example.com", "new-secret"}} {
		u, _ := sim.User(c.email)
		if u["given_name"] != "New" {
			t.Fatalf("%s: profile not updated: %v", c.email, u)
		}
		if ok, err := sim.Login(c.email, c.password); !ok || err != nil {
			t.Fatalf("%s cannot log in with %s: %v %v", c.email, c.password, ok, err)
		}
	}
	if out := logs.String(); !strings.Contains(out, "level=INFO") || !strings.Contains(out, "uid=u0001") || strings.Contains(out, "uid=u0002") {
		t.Fatalf("want one info line about u0001, got:\n%s", out)
	}
}

func pbkdf2Hash(t *testing.T, password string) map[string]any {
	t.Helper()
	salt := []byte("abcsomething")
	key, err := pbkdf2.Key(sha512.New, password, salt, 10000, 20)
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.RawStdEncoding
	return map[string]any{"algorithm": "pbkdf2", "hash": map[string]any{
		"value": "$pbkdf2-sha512$i=10000,l=20$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(key), "encoding": "utf8"}}
}

// DUPLICATED_USER is loaded only when the Auth0 user holding the email is
// this very user (a re-sent batch); when it was imported from another Gigya
// account, the user is dead-lettered naming that Auth0 user, even with
// duplicate_is_loaded: the tenant does not hold this one.
func TestADuplicateOfAnotherAccountIsNotLoaded(t *testing.T) {
	sim, base := startSim(t)
	s := newSink(t, sim, base, nil)
	first := sink.Record{UID: "gigya-A", Data: []byte(`{"user_id":"gigya-A","email":"Ada@Example.com","email_verified":true}`)}
	if err := s.Write(context.Background(), []sink.Record{first}); err != nil {
		t.Fatal(err)
	}
	second := sink.Record{UID: "gigya-B", Data: []byte(`{"user_id":"gigya-B","email":"ada@example.com","email_verified":true}`)}
	err := s.Write(context.Background(), []sink.Record{user(7), second})
	var rej *sink.RejectedError
	if !errors.As(err, &rej) || len(rej.Rejections) != 1 || rej.Rejections[0].Index != 1 {
		t.Fatalf("want the second account refused, got %v", err)
	}
	r := rej.Rejections[0]
	if r.Code != "duplicate_user_other" || !strings.Contains(r.Reason, "gigya-B") || !strings.Contains(r.Reason, "auth0|gigya-A") {
		t.Fatalf("rejection %+v: want duplicate_user_other naming gigya-B and auth0|gigya-A", r)
	}
	// The first account, sent again, is still loaded.
	if err := s.Write(context.Background(), []sink.Record{first}); err != nil {
		t.Fatalf("re-sent first account: %v", err)
	}
}
