package auth0api

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/pkg/auth0sim"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
)

func newSink(t *testing.T, sim *auth0sim.Sim, base string, tweak func(*Options)) *apiSink {
	t.Helper()
	s, err := New(context.Background(), sink.Params{Name: "t", Target: "auth0", Decode: func(v any) error {
		o := v.(*Options)
		o.BaseURL, o.AllowHTTP = base, true
		o.ClientID, o.ClientSecret = "sim-client-id", "sim-client-secret"
		o.Connection = "Username-Password-Authentication" // by name: resolved to its con_ id
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
	sim := auth0sim.New(auth0sim.Options{})
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
