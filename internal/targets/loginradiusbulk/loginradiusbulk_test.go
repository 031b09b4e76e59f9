package loginradiusbulk

import (
	"context"
	"errors"
	"fmt"
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

func newSink(t *testing.T, base string, tweak func(*Options)) *bulkSink {
	t.Helper()
	s, err := New(context.Background(), sink.Params{Name: "t", Target: "loginradius", Metrics: prometheus.NewRegistry(), Decode: func(v any) error {
		o := v.(*Options)
		o.APIKey, o.APISecret = "sim-api-key", "sim-api-secret"
		o.MigrationURL, o.APIURL, o.AllowHTTP = base, base, true
		o.Rate = 0 // unlimited against the simulator
		if tweak != nil {
			tweak(o)
		}
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return s.(*bulkSink)
}

// lrShaped turns a conformance-suite record ({"user_id", "email",
// "user_metadata": {"pad"}}) into a LoginRadius profile, as the mapping
// would have made it.
type lrShaped struct{ s sink.Sink }

func reshape(r sink.Record) sink.Record {
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
	return r
}

func (a lrShaped) Write(ctx context.Context, recs []sink.Record) error {
	out := make([]sink.Record, len(recs))
	for i, r := range recs {
		out[i] = reshape(r)
	}
	return a.s.Write(ctx, out)
}
func (a lrShaped) Close(ctx context.Context) error { return a.s.Close(ctx) }
func (a lrShaped) BatchLimits() (int, int)         { return a.s.(sink.BatchLimiter).BatchLimits() }
func (a lrShaped) MaxConcurrentWrites() int        { return a.s.(sink.ConcurrentWriter).MaxConcurrentWrites() }
func storedByUid(sim *lrsim.Sim) map[string]int {
	n := map[string]int{}
	for _, u := range sim.Users() {
		n[u["Uid"].(string)]++
	}
	return n
}

func TestConformance(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{
		New: func(t *testing.T) sinktest.Storage {
			sim, base := startSim(t)
			return sinktest.Storage{
				Open:   func(t *testing.T) sink.Sink { return lrShaped{newSink(t, base, nil)} },
				Stored: func(t *testing.T) map[string]int { return storedByUid(sim) },
			}
		},
		// LoginRadius refuses an invalid email (ErrorCode 990).
		Refuse: func(r sink.Record) sink.Record {
			r.Data = []byte(`{"user_id":"` + r.UID + `","email":"not-an-email"}`)
			return r
		},
	})
}

// md5("password"+"salt") and sha1("password"), hex: coreutils md5sum and sha1sum.
const (
	md5Enc  = `{"Type":"MD5","IsPerPasswordSalt":true,"SaltAttachType":"Append","PasswordHashEncodingType":"Hex"}`
	sha1Enc = `{"PasswordHashEncodingType":"Hex","Type":"SHA1"}`
)

func rec(uid, extra string) sink.Record {
	return sink.Record{UID: uid, MsgID: "m:" + uid, Data: []byte(`{"Email":[{"Type":"Primary","Value":"` + uid + `@example.com"}]` + extra + `}`)}
}

// Users are grouped by PasswordEncryption, one request per group; the
// field is lifted out of the profiles; everybody logs in.
func TestGroupsByEncryption(t *testing.T) {
	sim, base := startSim(t)
	s := newSink(t, base, nil)
	recs := []sink.Record{
		rec("a", `,"PasswordHash":"b305cadbb3bce54f3aa59c64fec00dea:salt","PasswordEncryption":`+md5Enc),
		rec("b", `,"PasswordHash":"5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8","PasswordEncryption":{"Type":"SHA1","PasswordHashEncodingType":"Hex"}`),
		rec("c", ""),
		rec("d", `,"PasswordHash":"b305cadbb3bce54f3aa59c64fec00dea:salt","PasswordEncryption":{"SaltAttachType":"Append","Type":"MD5","PasswordHashEncodingType":"Hex","IsPerPasswordSalt":true}`),
		rec("e", `,"PasswordHash":"5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8","PasswordEncryption":`+sha1Enc),
	}
	if err := s.Write(t.Context(), recs); err != nil {
		t.Fatal(err)
	}
	st := sim.Stats()
	if st.BulkRequests != 3 || st.BulkEncryptions != 2 || st.Inserted != 5 {
		t.Fatalf("three groups (md5, sha1, none) in three requests: %+v", st)
	}
	for _, uid := range []string{"a", "b", "d", "e"} {
		if ok, err := sim.Login(uid+"@example.com", "password"); !ok || err != nil {
			t.Errorf("%s cannot log in: %v", uid, err)
		}
	}
	u, _ := sim.User("c")
	if u["Uid"] != "c" || u["PasswordEncryption"] != nil {
		t.Fatalf("the Uid must be filled in from the Gigya UID: %v", u)
	}
}

// A batch over one request's bytes is split; no request exceeds the limit;
// a profile too large for any request is refused alone.
func TestPacksWithinTheLimit(t *testing.T) {
	sim, base := startSim(t)
	s := newSink(t, base, func(o *Options) { o.MaxRequestBytes = 2000 })
	var recs []sink.Record
	for i := range 20 {
		recs = append(recs, rec(fmt.Sprintf("u%02d", i), `,"FirstName":"`+strings.Repeat("x", 200)+`"`))
	}
	recs = append(recs, rec("big", `,"FirstName":"`+strings.Repeat("y", 3000)+`"`))
	err := s.Write(t.Context(), recs)
	var rej *sink.RejectedError
	if !errors.As(err, &rej) || len(rej.Rejections) != 1 || rej.Rejections[0].Index != 20 || rej.Rejections[0].Code != "user_too_large" {
		t.Fatalf("want the big user refused alone: %v", err)
	}
	st := sim.Stats()
	if st.BulkRequests < 3 || st.MaxBulkBytes > 2000 || st.Inserted != 20 {
		t.Fatalf("stats %+v", st)
	}
	s2 := newSink(t, base, func(o *Options) { o.MaxProfiles = 7 })
	if err := s2.Write(t.Context(), recs[:20]); err != nil {
		t.Fatal(err)
	}
	if st2 := sim.Stats(); st2.BulkRequests-st.BulkRequests != 3 || st2.Updated != 20 {
		t.Fatalf("20 profiles, 7 a request: %+v", st2)
	}
}

// Failed profiles are dead-lettered with their code; a 429 and a 500 are
// retried; unattributed failures are resolved by looking users up.
func TestFailuresAndRetries(t *testing.T) {
	sim, base := startSim(t)
	s := newSink(t, base, nil)
	if err := s.Write(t.Context(), []sink.Record{rec("a", "")}); err != nil {
		t.Fatal(err)
	}
	dup := sink.Record{UID: "b", Data: []byte(`{"Email":[{"Type":"Primary","Value":"a@example.com"}]}`)}
	sim.Inject(lrsim.FaultRateLimit, 1)
	sim.Inject(lrsim.Fault500, 1)
	err := s.Write(t.Context(), []sink.Record{rec("c", ""), dup, {UID: "x", Data: []byte(`[1]`)}})
	var rej *sink.RejectedError
	if !errors.As(err, &rej) || len(rej.Rejections) != 2 {
		t.Fatalf("want two refusals: %v", err)
	}
	codes := map[int]string{}
	for _, r := range rej.Rejections {
		codes[r.Index] = r.Code
	}
	if codes[1] != "email_exists" || codes[2] != "invalid_profile" {
		t.Fatalf("codes %v", codes)
	}
	if _, ok := sim.User("c"); !ok {
		t.Fatal("c must be stored")
	}
	// Failures LoginRadius does not attribute: the users it does not hold
	// are refused, the others stored.
	sim.Inject(lrsim.FaultUnattributed, 1)
	err = s.Write(t.Context(), []sink.Record{rec("d", ""), {UID: "e", Data: []byte(`{"Email":[{"Type":"Primary","Value":"A@example.com"}]}`)}})
	if !errors.As(err, &rej) || len(rej.Rejections) != 1 || rej.Rejections[0].Index != 1 || rej.Rejections[0].Code != "unattributed_failure" ||
		!strings.Contains(rej.Rejections[0].Reason, "already registered") {
		t.Fatalf("unattributed: %v", err)
	}
	var inserted, failed dto.Metric
	_ = s.profiles.WithLabelValues("inserted").Write(&inserted)
	_ = s.profiles.WithLabelValues("failed").Write(&failed)
	if inserted.Counter.GetValue() != 3 || failed.Counter.GetValue() != 2 {
		t.Fatalf("gm_loginradius_profiles_total: inserted %v failed %v", inserted.Counter.GetValue(), failed.Counter.GetValue())
	}
	// A tenant that keeps failing: the batch fails transiently, for the
	// loader to retry.
	s3 := newSink(t, base, func(o *Options) { o.MaxRetries = 1 })
	sim.Inject(lrsim.Fault503, 5)
	if err := s3.Write(t.Context(), []sink.Record{rec("f", "")}); err == nil || errors.As(err, &rej) {
		t.Fatalf("want a transient error: %v", err)
	}
}

func TestOptions(t *testing.T) {
	for name, tweak := range map[string]func(*Options){
		"no key":      func(o *Options) { o.APIKey = "" },
		"tiny limit":  func(o *Options) { o.MaxRequestBytes = 10 },
		"no field":    func(o *Options) { o.EncryptionField = "" },
		"plain http":  func(o *Options) { o.AllowHTTP = false },
		"no writes":   func(o *Options) { o.ConcurrentWrite = 0 },
		"neg profile": func(o *Options) { o.MaxProfiles = -1 },
	} {
		_, err := New(context.Background(), sink.Params{Decode: func(v any) error {
			o := v.(*Options)
			o.APIKey, o.APISecret, o.MigrationURL, o.APIURL, o.AllowHTTP = "k", "s", "http://127.0.0.1:1", "http://127.0.0.1:1", true
			tweak(o)
			return nil
		}})
		if err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	_, err := New(context.Background(), sink.Params{Decode: func(v any) error {
		o := v.(*Options)
		o.MigrationURL = "http://127.0.0.1:1"
		return nil
	}})
	for _, key := range []string{"loader.sink.options.api_key", "loader.sink.options.api_secret", "loader.sink.options.migration_url", "allow_http"} {
		if err == nil || !strings.Contains(err.Error(), key) {
			t.Errorf("the problems must name %s: %v", key, err)
		}
	}
	d := DefaultOptions()
	if d.MaxRequestBytes != 10_000_000 || d.EncryptionField != "PasswordEncryption" || !d.FillUid || d.Timeout != 2*time.Minute {
		t.Fatalf("defaults %+v", d)
	}
}
