package loginradiusapi

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/lrsim"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink/sinktest"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/segmentio/encoding/json"
)

func startSim(t *testing.T) (*lrsim.Sim, string) {
	t.Helper()
	sim := lrsim.New(lrsim.Options{BcryptCost: 4})
	base, stop, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	return sim, base
}

func newSink(t *testing.T, base string, tweak func(*Options)) *apiSink {
	t.Helper()
	s, err := New(context.Background(), sink.Params{Name: "t", Target: "loginradius", Metrics: prometheus.NewRegistry(), Decode: func(v any) error {
		o := v.(*Options)
		o.APIKey, o.APISecret, o.APIURL, o.AllowHTTP = "sim-api-key", "sim-api-secret", base, true
		o.Rate = 0
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

// lrShaped turns the conformance suite's records into LoginRadius profiles,
// as the mapping would.
type lrShaped struct{ s sink.Sink }

func (a lrShaped) Write(ctx context.Context, recs []sink.Record) error {
	out := make([]sink.Record, len(recs))
	for i, r := range recs {
		var u struct {
			UserID string         `json:"user_id"`
			Email  string         `json:"email"`
			Name   string         `json:"name"`
			Meta   map[string]any `json:"user_metadata"`
		}
		_ = json.Unmarshal(r.Data, &u)
		p := map[string]any{"Uid": u.UserID, "Email": []any{map[string]any{"Type": "Primary", "Value": u.Email}}}
		if u.Name != "" {
			p["FirstName"] = u.Name
		}
		if pad, ok := u.Meta["pad"].(string); ok {
			p["CustomFields"] = map[string]any{"pad": pad}
		}
		r.Data, _ = json.Marshal(p)
		out[i] = r
	}
	return a.s.Write(ctx, out)
}
func (a lrShaped) Close(ctx context.Context) error { return a.s.Close(ctx) }

func TestConformance(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{
		New: func(t *testing.T) sinktest.Storage {
			sim, base := startSim(t)
			return sinktest.Storage{
				Open: func(t *testing.T) sink.Sink { return lrShaped{newSink(t, base, nil)} },
				Stored: func(t *testing.T) map[string]int {
					n := map[string]int{}
					for _, u := range sim.Users() {
						n[u["Uid"].(string)]++
					}
					return n
				},
			}
		},
		Refuse: func(r sink.Record) sink.Record {
			r.Data = []byte(`{"user_id":"` + r.UID + `","email":"not-an-email"}`)
			return r
		},
	})
}

func rec(uid, email, extra string) sink.Record {
	return sink.Record{UID: uid, Data: []byte(`{"Email":[{"Type":"Primary","Value":"` + email + `"}]` + extra + `}`)}
}

func TestCreateUpdateAndConflicts(t *testing.T) {
	sim, base := startSim(t)
	s := newSink(t, base, nil)
	ctx := t.Context()
	if err := s.Write(ctx, []sink.Record{rec("a", "a@example.com", `,"FirstName":"A"`), rec("b", "b@example.com", "")}); err != nil {
		t.Fatal(err)
	}
	// Sent again (a crash before the acks): found by Uid, updated.
	if err := s.Write(ctx, []sink.Record{rec("a", "a@example.com", `,"FirstName":"A2"`)}); err != nil {
		t.Fatal(err)
	}
	if u, _ := sim.User("a"); u["FirstName"] != "A2" || len(sim.Users()) != 2 {
		t.Fatalf("re-sent user: %v, %d users", u, len(sim.Users()))
	}
	// Another account with a's email: refused, naming the holder.
	err := s.Write(ctx, []sink.Record{rec("c", "A@example.com", "")})
	var rej *sink.RejectedError
	if !errors.As(err, &rej) || rej.Rejections[0].Code != "email_exists" || !strings.Contains(rej.Rejections[0].Reason, "LoginRadius user a") {
		t.Fatalf("conflict: %v", err)
	}
	// An update of a user LoginRadius does not hold yet: created.
	up := rec("d", "d@example.com", "")
	up.Update = true
	if err := s.Write(ctx, []sink.Record{up}); err != nil {
		t.Fatal(err)
	}
	if _, ok := sim.User("d"); !ok {
		t.Fatal("d must be created")
	}
	var created, updated, failed dto.Metric
	_ = s.profiles.WithLabelValues("created").Write(&created)
	_ = s.profiles.WithLabelValues("updated").Write(&updated)
	_ = s.profiles.WithLabelValues("failed").Write(&failed)
	if created.Counter.GetValue() != 3 || updated.Counter.GetValue() != 1 || failed.Counter.GetValue() != 1 {
		t.Fatalf("created %v updated %v failed %v", created.Counter.GetValue(), updated.Counter.GetValue(), failed.Counter.GetValue())
	}
}

// A PasswordHash cannot go through the Account API: refused by default,
// dropped on request; the bulk request's PasswordEncryption is removed.
func TestPasswordHashPolicy(t *testing.T) {
	sim, base := startSim(t)
	withHash := rec("h", "h@example.com", `,"PasswordHash":"x:y","PasswordEncryption":{"Type":"MD5"}`)
	err := newSink(t, base, nil).Write(t.Context(), []sink.Record{withHash})
	var rej *sink.RejectedError
	if !errors.As(err, &rej) || rej.Rejections[0].Code != "password_hash_not_supported" {
		t.Fatalf("reject: %v", err)
	}
	if err := newSink(t, base, func(o *Options) { o.PasswordHash = PasswordHashDrop }).Write(t.Context(), []sink.Record{withHash}); err != nil {
		t.Fatal(err)
	}
	u, ok := sim.User("h")
	if !ok || u["PasswordHash"] != nil || u["PasswordEncryption"] != nil {
		t.Fatalf("dropped: %v", u)
	}
}

// Transient failures are retried by the client; a tenant that keeps
// failing fails the batch transiently; a wrong secret fails it.
func TestRetriesAndRate(t *testing.T) {
	sim, base := startSim(t)
	s := newSink(t, base, nil)
	sim.Inject(lrsim.FaultRateLimit, 2)
	sim.Inject(lrsim.Fault500, 1)
	if err := s.Write(t.Context(), []sink.Record{rec("a", "a@example.com", "")}); err != nil {
		t.Fatal(err)
	}
	sim.Inject(lrsim.Fault503, 10)
	err := newSink(t, base, func(o *Options) { o.MaxRetries = 1 }).Write(t.Context(), []sink.Record{rec("b", "b@example.com", "")})
	if err == nil || errors.As(err, new(*sink.RejectedError)) {
		t.Fatalf("want a transient error: %v", err)
	}
	sim.Inject(lrsim.Fault503, 0)
	err = newSink(t, base, func(o *Options) { o.APISecret = "wrong" }).Write(t.Context(), []sink.Record{rec("c", "c@example.com", "")})
	if err == nil || errors.As(err, new(*sink.RejectedError)) || strings.Contains(err.Error(), "wrong") {
		t.Fatalf("wrong secret: %v", err)
	}
	// 20 users at 40 requests per second, burst 1: at least half a second.
	paced := newSink(t, base, func(o *Options) { o.Rate, o.Burst = 40, 1 })
	var recs []sink.Record
	for i := range 20 {
		recs = append(recs, rec(string(rune('k'+i%10))+string(rune('a'+i/10)), string(rune('k'+i%10))+string(rune('a'+i/10))+"@example.com", ""))
	}
	began := time.Now()
	if err := paced.Write(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d < 450*time.Millisecond {
		t.Fatalf("20 creates at 40/s took %v", d)
	}
	if d := DefaultOptions(); d.Rate != 50 || d.PasswordHash != PasswordHashReject {
		t.Fatalf("defaults %+v", d)
	}
}

// oneRecord is a sink.State holding an earlier instance's record of a
// write that may still land until a moment ahead.
type oneRecord struct {
	value   []byte
	deleted bool
	puts    int
}

func (o *oneRecord) List(context.Context) ([]sink.StateEntry, error) {
	if o.deleted {
		return nil, nil
	}
	return []sink.StateEntry{{Key: "lr-earlier", Value: o.value, Revision: 1}}, nil
}
func (o *oneRecord) Put(context.Context, string, []byte) error { o.puts++; return nil }
func (o *oneRecord) Delete(_ context.Context, key string, _ uint64) error {
	o.deleted = o.deleted || key == "lr-earlier"
	return nil
}

// A restarted loader's batch of updates waits until the Account API writes
// an earlier instance may have left in flight are settled; first imports
// do not wait.
func TestUpdatesWaitForWritesLeftInFlight(t *testing.T) {
	_, base := startSim(t)
	until := time.Now().Add(400 * time.Millisecond)
	st := &oneRecord{value: []byte(`{"until":"` + until.UTC().Format(time.RFC3339Nano) + `"}`)}
	s := newSink(t, base, nil)
	if err := s.Recover(context.Background(), st); err != nil {
		t.Fatal(err)
	}
	if !st.deleted || st.puts == 0 {
		t.Fatalf("Recover must take the earlier record over: deleted %v, puts %d", st.deleted, st.puts)
	}
	began := time.Now()
	if err := s.Write(context.Background(), []sink.Record{rec("u1", "u1@example.com", "")}); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(began); d > 300*time.Millisecond {
		t.Errorf("first imports waited %v", d)
	}
	up := rec("u1", "u1@example.com", `,"FirstName":"New"`)
	up.Update = true
	if err := s.Write(context.Background(), []sink.Record{up}); err != nil {
		t.Fatal(err)
	}
	if time.Now().Before(until) {
		t.Fatal("an update was written before the earlier instance's writes were settled")
	}
}
