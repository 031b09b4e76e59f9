// Package loginradiusbulk is a sink that loads users into LoginRadius
// through the bulk migration API (POST /v2/bulk/upsert on the migration
// host), the one LoginRadius API that takes password hashes.
//
// A request carries one PasswordEncryption and the profiles hashed with it.
// The mapping (configs/loginradius.yaml) puts each user's PasswordEncryption
// into its profile; the sink lifts it out (Options.EncryptionField), groups
// the batch's users by it (equal JSON, keys sorted), and packs each group
// into requests of at most Options.MaxRequestBytes (LoginRadius documents
// 10 MB per request) and Options.MaxProfiles. Users without a password go
// in requests without a PasswordEncryption.
//
// Idempotency: profiles are upserted by Uid, which the mapping sets to the
// Gigya UID (and the sink sets when a profile has none, Options.FillUid), so
// a batch sent again after a crash updates the same users. Write returns
// only after every request of the batch was answered: the loader acks then.
// A transient failure (network, 429, 5xx, retried by the client first)
// fails the whole batch for a later retry, and requests already answered
// are simply upserted again.
//
// A request that got no answer (a network error, a timeout, a loader
// killed while it waited) may still be stored by LoginRadius after its
// client gave up, and carry an older version of a user than one written
// since. So the sink records the deadline of every request it sends
// (sending + timeout, after which LoginRadius is assumed to have finished
// or dropped it) in the loader's state, and a batch holding updates waits
// until the requests without an answer, of this loader or of an earlier
// one that crashed, are past theirs ([loginradius.InFlight]).
//
// Each profile LoginRadius lists in Failed is rejected (dead-lettered) with
// the code of its ErrorCode (email_exists, invalid_uid, ...) and its
// message. The shape of Failed items is not documented: they are matched to
// the request's profiles by Uid, else by email; when some cannot be matched,
// or the counts do not add up, the sink looks the request's unmatched users
// up by Uid through the Account API and rejects those LoginRadius does not
// hold, with the unattributed messages.
package loginradiusbulk

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/targets/loginradius"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/encoding/json"
)

// Options are the sink's loader.sink.options.
type Options struct {
	APIKey          string        `yaml:"api_key" doc:"the tenant's API key (Admin Console)"`
	APISecret       string        `yaml:"api_secret" doc:"the tenant's API secret; use ${VAR}"`
	MigrationURL    string        `yaml:"migration_url" doc:"bulk migration API host (empty: https://migration.loginradius.com; a simulator)"`
	APIURL          string        `yaml:"api_url" doc:"Account API host, to look up users whose failure LoginRadius does not attribute (empty: https://api.loginradius.com)"`
	AllowHTTP       bool          `yaml:"allow_http" doc:"permit plain http:// URLs"`
	MaxRequestBytes int           `yaml:"max_request_bytes" doc:"one request body at most, in bytes: LoginRadius documents 10 MB; 10000000, the smaller reading, by default"`
	MaxProfiles     int           `yaml:"max_profiles" doc:"profiles per request at most (0: no limit; LoginRadius documents none)"`
	EncryptionField string        `yaml:"encryption_field" doc:"the profile member that carries the user's PasswordEncryption: lifted out of the profile, one request per distinct value"`
	FillUid         bool          `yaml:"fill_uid" doc:"set Uid to the Gigya UID when a profile has none, so that a re-sent user is updated, not created twice"`
	Rate            float64       `yaml:"rate" doc:"requests per second at most (the migration endpoint's limit is unconfirmed; 5 is a development tenant's core API rate)"`
	Burst           int           `yaml:"burst" doc:"requests at once above the rate"`
	ConcurrentWrite int           `yaml:"concurrent_writes" doc:"loader batches written at once, each its own requests"`
	Timeout         time.Duration `yaml:"timeout" doc:"for one request; a request still unanswered then is assumed done or dropped by LoginRadius, which is how long updates wait after a request got no answer or a loader crashed"`
	MaxRetries      int           `yaml:"max_retries" doc:"retries of a request that failed transiently (429, 5xx, network) before the batch is left to the loader's retries"`
}

// optionsKey is where the loader's configuration holds the options, which
// the problems name so that they can be found in the file.
const optionsKey = "loader.sink.options"

// validate reports every problem of the options, each naming its key.
func validate(o Options) error {
	var p config.Problems
	loginradius.CheckCredentials(&p, o.APIKey, o.APISecret)
	loginradius.CheckURL(&p, optionsKey, "migration_url", o.MigrationURL, o.AllowHTTP)
	loginradius.CheckURL(&p, optionsKey, "api_url", o.APIURL, o.AllowHTTP)
	p.Check(o.MaxRequestBytes >= 1024, "max_request_bytes", "must be at least 1024 (LoginRadius takes 10 MB per request)")
	p.Check(o.MaxProfiles >= 0, "max_profiles", "must not be negative (0: no limit)")
	p.Check(o.EncryptionField != "", "encryption_field", "is required (the profile member with the request's PasswordEncryption)")
	p.Check(o.Rate >= 0, "rate", "must not be negative (0: unlimited)")
	p.Check(o.ConcurrentWrite >= 1, "concurrent_writes", "must be at least 1")
	var q config.Problems
	q.Merge(optionsKey, p.Err())
	return q.Err()
}

// DefaultOptions are the options a config does not set.
func DefaultOptions() Options {
	return Options{MaxRequestBytes: 10_000_000, EncryptionField: "PasswordEncryption", FillUid: true,
		Rate: 5, Burst: 2, ConcurrentWrite: 2, Timeout: 2 * time.Minute, MaxRetries: 8}
}

// envelope is the request's fixed text around the profiles: the longest
// prefix without an encryption is `{"Profiles":[`, with one
// `{"PasswordEncryption":<enc>,"Profiles":[`, and the suffix `]}`.
const (
	profilesKey = `"Profiles":[`
	suffix      = "]}"
)

type bulkSink struct {
	opts     Options
	client   *loginradius.Client
	inflight *loginradius.InFlight
	log      *slog.Logger
	profiles *prometheus.CounterVec // by result; nil: not counted
	bytes    prometheus.Histogram   // request body sizes; nil: not measured
}

// New builds the sink.
func New(ctx context.Context, p sink.Params) (sink.Sink, error) {
	o := DefaultOptions()
	if err := p.Decode(&o); err != nil {
		return nil, err
	}
	if err := validate(o); err != nil {
		return nil, err
	}
	log := p.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	client, inflight, err := loginradius.SinkClient(loginradius.Config{APIKey: o.APIKey, APISecret: o.APISecret,
		MigrationURL: o.MigrationURL, APIURL: o.APIURL, AllowHTTP: o.AllowHTTP, Timeout: o.Timeout,
		MaxRetries: o.MaxRetries, Rate: o.Rate, Burst: o.Burst, Logger: log})
	if err != nil {
		return nil, err
	}
	s := &bulkSink{opts: o, client: client, inflight: inflight, log: log}
	if p.Metrics != nil {
		s.profiles = loginradius.NewProfilesCounter()
		s.bytes = prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "gm_loginradius_request_bytes",
			Help:    "Size of the bulk upsert requests sent, in bytes (LoginRadius takes 10 MB per request).",
			Buckets: []float64{64 << 10, 256 << 10, 1 << 20, 2 << 20, 4 << 20, 6 << 20, 8 << 20, 10_000_000},
		})
		for _, c := range []prometheus.Collector{s.profiles, s.bytes} {
			if err := p.Metrics.Register(c); err != nil {
				return nil, fmt.Errorf("loginradius-bulk metrics: %w", err)
			}
		}
	}
	return s, nil
}

// BatchLimits keeps a batch within one request's bytes (whatever its
// grouping: each group's profiles then fit one request).
func (s *bulkSink) BatchLimits() (int, int) {
	return s.opts.MaxProfiles, s.opts.MaxRequestBytes - len(`{"Profiles":[]}`) - 4096
}

// MaxConcurrentWrites is the number of batches in flight.
func (s *bulkSink) MaxConcurrentWrites() int { return s.opts.ConcurrentWrite }

// profile is one record, ready for a request.
type profile struct {
	index int    // into the batch
	data  []byte // the profile without the encryption field
	uid   string // the profile's Uid
	email string // its first email, lower-cased
}

// group is the profiles of one PasswordEncryption.
type group struct {
	enc      []byte // canonical JSON, nil: none
	profiles []profile
}

// Write upserts the batch: one request per group and size.
func (s *bulkSink) Write(ctx context.Context, recs []sink.Record) error {
	if slices.ContainsFunc(recs, func(r sink.Record) bool { return r.Update }) {
		// An older version of these users may be in a request that got no
		// answer; a first import is the oldest version there is.
		if err := s.inflight.Settle(ctx); err != nil {
			return fault.Transient("unsettled_writes", err)
		}
	}
	var rejected []sink.Rejection
	var groups []*group
	byKey := map[string]*group{}
	for i, r := range recs {
		p, enc, err := s.prepare(i, r)
		if err != nil {
			rejected = append(rejected, sink.Rejection{Index: i, Code: "invalid_profile", Reason: fmt.Sprintf("user %s: %v", r.UID, err)})
			continue
		}
		g := byKey[string(enc)]
		if g == nil {
			g = &group{enc: enc}
			byKey[string(enc)] = g
			groups = append(groups, g)
		}
		g.profiles = append(g.profiles, p)
	}
	for _, g := range groups {
		reqs, tooLarge := s.pack(g)
		for _, p := range tooLarge {
			rejected = append(rejected, sink.Rejection{Index: p.index, Code: "user_too_large",
				Reason: fmt.Sprintf("user %s is %d bytes as a LoginRadius profile; one request takes %d", recs[p.index].UID, len(p.data), s.opts.MaxRequestBytes)})
		}
		for _, req := range reqs {
			refused, err := s.send(ctx, req)
			if err != nil {
				return err
			}
			rejected = append(rejected, refused...)
		}
	}
	if len(rejected) > 0 {
		return &sink.RejectedError{Rejections: rejected}
	}
	return nil
}

// prepare lifts the encryption out of record i and fills in its Uid.
func (s *bulkSink) prepare(i int, r sink.Record) (profile, []byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(r.Data, &obj); err != nil {
		return profile{}, nil, fmt.Errorf("not a JSON object: %w", err)
	}
	if obj == nil {
		return profile{}, nil, errors.New("not a JSON object")
	}
	var enc []byte
	if raw, ok := obj[s.opts.EncryptionField]; ok {
		delete(obj, s.opts.EncryptionField)
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return profile{}, nil, fmt.Errorf("%s: %w", s.opts.EncryptionField, err)
		}
		if v != nil {
			if _, isObj := v.(map[string]any); !isObj {
				return profile{}, nil, fmt.Errorf("%s is not an object", s.opts.EncryptionField)
			}
			// Map keys marshal sorted: equal objects give equal text.
			b, err := json.Marshal(v)
			if err != nil {
				return profile{}, nil, fmt.Errorf("%s: %w", s.opts.EncryptionField, err)
			}
			enc = b
		}
	}
	return s.finish(i, r, obj, enc)
}

func (s *bulkSink) finish(i int, r sink.Record, obj map[string]json.RawMessage, enc []byte) (profile, []byte, error) {
	p := profile{index: i}
	if raw, ok := obj["Uid"]; ok {
		_ = json.Unmarshal(raw, &p.uid)
	}
	if p.uid == "" && s.opts.FillUid && r.UID != "" {
		p.uid = r.UID
		obj["Uid"], _ = json.Marshal(r.UID)
	}
	if raw, ok := obj["Email"]; ok {
		var items []struct {
			Value string `json:"Value"`
		}
		if json.Unmarshal(raw, &items) == nil && len(items) > 0 {
			p.email = strings.ToLower(items[0].Value)
		}
	}
	data, err := json.Marshal(obj)
	if err != nil {
		return profile{}, nil, err
	}
	p.data = data
	return p, enc, nil
}

// request is one bulk upsert: its body and the profiles in it.
type request struct {
	body     []byte
	profiles []profile
}

// pack splits a group into requests within the byte and profile limits;
// a profile too large for any request comes back apart.
func (s *bulkSink) pack(g *group) (reqs []request, tooLarge []profile) {
	prefix := []byte("{" + profilesKey)
	if g.enc != nil {
		prefix = []byte(`{"PasswordEncryption":` + string(g.enc) + "," + profilesKey)
	}
	var cur request
	size := 0
	flush := func() {
		if len(cur.profiles) == 0 {
			return
		}
		var b bytes.Buffer
		b.Grow(size)
		b.Write(prefix)
		for k, p := range cur.profiles {
			if k > 0 {
				b.WriteByte(',')
			}
			b.Write(p.data)
		}
		b.WriteString(suffix)
		cur.body = b.Bytes()
		reqs = append(reqs, cur)
		cur = request{}
	}
	for _, p := range g.profiles {
		if len(prefix)+len(p.data)+len(suffix) > s.opts.MaxRequestBytes {
			tooLarge = append(tooLarge, p)
			continue
		}
		next := len(prefix) + len(suffix)
		if len(cur.profiles) > 0 {
			next = size + 1
		}
		full := s.opts.MaxProfiles > 0 && len(cur.profiles) >= s.opts.MaxProfiles
		if full || next+len(p.data) > s.opts.MaxRequestBytes {
			flush()
			next = len(prefix) + len(suffix)
		}
		cur.profiles = append(cur.profiles, p)
		size = next + len(p.data)
	}
	flush()
	return reqs, tooLarge
}

// send posts one request and returns the profiles LoginRadius refused.
func (s *bulkSink) send(ctx context.Context, req request) ([]sink.Rejection, error) {
	if s.bytes != nil {
		s.bytes.Observe(float64(len(req.body)))
	}
	res, err := s.client.BulkUpsert(ctx, req.body)
	if err != nil {
		return nil, err
	}
	s.count("inserted", res.Inserted)
	s.count("updated", res.Updated)
	s.count("failed", len(res.Failed))
	byUID, byEmail := map[string]int{}, map[string]int{}
	for k, p := range req.profiles {
		if p.uid != "" {
			byUID[p.uid] = k
		}
		if p.email != "" {
			byEmail[p.email] = k
		}
	}
	var out []sink.Rejection
	matched := map[int]bool{}
	var unattributed []loginradius.Failed
	for _, f := range res.Failed {
		k, ok := byUID[f.Uid]
		if !ok || f.Uid == "" {
			k, ok = byEmail[strings.ToLower(f.Email)]
			ok = ok && f.Email != ""
		}
		if !ok || matched[k] {
			unattributed = append(unattributed, f)
			continue
		}
		matched[k] = true
		out = append(out, rejection(req.profiles[k].index, f))
	}
	if len(unattributed) == 0 && res.Inserted+res.Updated+len(res.Failed) >= len(req.profiles) {
		return out, nil
	}
	// LoginRadius refused users it does not name (or the counts do not add
	// up): the unmatched users it holds are stored, the others refused.
	s.log.Warn("LoginRadius reported failures it did not attribute to a profile; looking the request's users up by Uid",
		"profiles", len(req.profiles), "inserted", res.Inserted, "updated", res.Updated, "failed", len(res.Failed), "unattributed", len(unattributed))
	reason := unattributedReason(unattributed)
	for k, p := range req.profiles {
		if matched[k] {
			continue
		}
		if p.uid != "" {
			_, err := s.client.AccountByUID(ctx, p.uid)
			if err == nil {
				continue
			}
			if !errors.Is(err, loginradius.ErrNotFound) {
				return nil, fmt.Errorf("look up a user of a bulk request whose failures LoginRadius did not attribute: %w", err)
			}
		}
		out = append(out, sink.Rejection{Index: p.index, Code: "unattributed_failure",
			Reason: "LoginRadius does not hold this user after the bulk upsert, and reported failures it did not attribute: " + reason})
	}
	return out, nil
}

func (s *bulkSink) count(result string, n int) {
	if s.profiles != nil && n > 0 {
		s.profiles.WithLabelValues(result).Add(float64(n))
	}
}

// rejection dead-letters a Failed item's user with its code and reason.
func rejection(index int, f loginradius.Failed) sink.Rejection {
	code := "refused"
	if f.ErrorCode != 0 {
		code = loginradius.Code(f.ErrorCode)
	}
	reason := "LoginRadius bulk upsert: " + f.Reason()
	if f.ErrorCode != 0 {
		reason += fmt.Sprintf(" (ErrorCode %d)", f.ErrorCode)
	}
	return sink.Rejection{Index: index, Code: code, Reason: reason}
}

func unattributedReason(fs []loginradius.Failed) string {
	if len(fs) == 0 {
		return "none listed (the counts did not add up)"
	}
	var parts []string
	for i, f := range fs {
		if i == 3 {
			parts = append(parts, fmt.Sprintf("and %d more", len(fs)-3))
			break
		}
		parts = append(parts, f.Reason())
	}
	return strings.Join(parts, "; ")
}

// Recover takes over the requests an earlier instance of the loader may
// have left in flight (see [loginradius.InFlight.Recover]).
func (s *bulkSink) Recover(ctx context.Context, st sink.State) error {
	return s.inflight.Recover(ctx, st)
}

// Close has nothing to flush (every request was answered, or given up on,
// before Write returned); it forgets the instance's record of requests in
// flight unless one that got no answer may still be stored.
func (s *bulkSink) Close(ctx context.Context) error { return s.inflight.Close(ctx) }
