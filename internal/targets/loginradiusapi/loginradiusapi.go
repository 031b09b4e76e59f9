// Package loginradiusapi is a sink that loads users into LoginRadius one at
// a time through the Account (management) APIs: Account Create, or Account
// Update for a user LoginRadius already holds. It is for users without a
// password hash (social-only users, or a load that resets every password):
// the Account APIs take a plaintext password only, so a profile with a
// PasswordHash is refused (password_hash: reject, the default; load those
// through loginradius-bulk) or loaded without it (password_hash: drop).
//
// Idempotency: the Uid is the Gigya UID. A first import is created; when
// Create fails for good (the email, the Uid or another unique value is
// taken), the sink looks the Uid up: a user LoginRadius holds under this Uid
// is this one, sent again after a crash, and is updated instead; otherwise
// the user is refused with LoginRadius' error (email_exists naming the
// LoginRadius user that holds the email, username_exists, ...). Updates
// ([sink.Record.Update]) are updated, or created when missing.
//
// A request that got no answer may still be stored after its client gave
// up; a batch holding updates waits until such requests, of this loader or
// of an earlier one that crashed, are past their deadline, as in
// loginradius-bulk ([loginradius.InFlight]).
//
// Requests are spaced by a rate limit (Options.Rate, default 50 per second:
// the core API rate of LoginRadius' acceptable-use policy for a production
// tenant up to 10M users; 5 on a development tenant) and sent by
// Options.Workers at once. A transient failure (network, 429, 5xx, retried
// by the client first) fails the batch for the loader to retry; the users
// already written are found again by the lookup above.
package loginradiusapi

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/targets/loginradius"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/encoding/json"
)

// Password hash policies.
const (
	PasswordHashReject = "reject"
	PasswordHashDrop   = "drop"
)

// Options are the sink's loader.sink.options.
type Options struct {
	APIKey          string        `yaml:"api_key" doc:"the tenant's API key (Admin Console)"`
	APISecret       string        `yaml:"api_secret" doc:"the tenant's API secret; use ${VAR}"`
	APIURL          string        `yaml:"api_url" doc:"Account API host (empty: https://api.loginradius.com; a simulator)"`
	AllowHTTP       bool          `yaml:"allow_http" doc:"permit a plain http:// api_url"`
	Rate            float64       `yaml:"rate" doc:"requests per second at most: 50 is a production tenant's core API rate (acceptable-use policy, up to 10M users; 100 above), 5 a development tenant's"`
	Burst           int           `yaml:"burst" doc:"requests at once above the rate"`
	Workers         int           `yaml:"workers" doc:"users written at once"`
	PasswordHash    string        `yaml:"password_hash" doc:"a profile with a PasswordHash, which the Account API cannot take: reject (dead-letter it; load it with loginradius-bulk) or drop (load it without, for a reset)"`
	EncryptionField string        `yaml:"encryption_field" doc:"the profile member with the bulk request's PasswordEncryption, removed before sending"`
	FillUid         bool          `yaml:"fill_uid" doc:"set Uid to the Gigya UID when a profile has none, so that a re-sent user is found and updated"`
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
	loginradius.CheckURL(&p, optionsKey, "api_url", o.APIURL, o.AllowHTTP)
	p.Check(o.PasswordHash == PasswordHashReject || o.PasswordHash == PasswordHashDrop, "password_hash", "must be reject or drop")
	p.Check(o.Rate >= 0, "rate", "must not be negative (0: unlimited)")
	p.Check(o.Workers >= 1, "workers", "must be at least 1")
	var q config.Problems
	q.Merge(optionsKey, p.Err())
	return q.Err()
}

// DefaultOptions are the options a config does not set.
func DefaultOptions() Options {
	return Options{Rate: 50, Burst: 10, Workers: 8, PasswordHash: PasswordHashReject, EncryptionField: "PasswordEncryption",
		FillUid: true, Timeout: 30 * time.Second, MaxRetries: 8}
}

type apiSink struct {
	opts     Options
	client   *loginradius.Client
	inflight *loginradius.InFlight
	log      *slog.Logger
	profiles *prometheus.CounterVec // by result; nil: not counted
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
	client, inflight, err := loginradius.SinkClient(loginradius.Config{APIKey: o.APIKey, APISecret: o.APISecret, APIURL: o.APIURL,
		AllowHTTP: o.AllowHTTP, Timeout: o.Timeout, MaxRetries: o.MaxRetries, Rate: o.Rate, Burst: o.Burst, Logger: log})
	if err != nil {
		return nil, err
	}
	s := &apiSink{opts: o, client: client, inflight: inflight, log: log}
	if p.Metrics != nil {
		s.profiles = loginradius.NewProfilesCounter()
		if err := p.Metrics.Register(s.profiles); err != nil {
			return nil, fmt.Errorf("loginradius-api metrics: %w", err)
		}
	}
	return s, nil
}

// Write loads each user, Options.Workers at once.
func (s *apiSink) Write(ctx context.Context, recs []sink.Record) error {
	if slices.ContainsFunc(recs, func(r sink.Record) bool { return r.Update }) {
		// An older version of these users may be in a request that got no
		// answer; a first import is the oldest version there is.
		if err := s.inflight.Settle(ctx); err != nil {
			return fault.Transient("unsettled_writes", err)
		}
	}
	type outcome struct {
		rej *sink.Rejection
		err error
	}
	results := make([]outcome, len(recs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(s.opts.Workers, len(recs)) {
		wg.Go(func() {
			for i := range next {
				results[i].rej, results[i].err = s.load(ctx, i, recs[i])
			}
		})
	}
	for i := range recs {
		next <- i
	}
	close(next)
	wg.Wait()
	var rejected []sink.Rejection
	for _, r := range results {
		if r.err != nil {
			return r.err
		}
		if r.rej != nil {
			rejected = append(rejected, *r.rej)
		}
	}
	if len(rejected) > 0 {
		return &sink.RejectedError{Rejections: rejected}
	}
	return nil
}

// load writes one user: a refusal for good, or an error to retry.
func (s *apiSink) load(ctx context.Context, i int, r sink.Record) (*sink.Rejection, error) {
	refuse := func(code, reason string) (*sink.Rejection, error) {
		s.count("failed")
		return &sink.Rejection{Index: i, Code: code, Reason: reason}, nil
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(r.Data, &obj); err != nil || obj == nil {
		return refuse("invalid_profile", fmt.Sprintf("user %s: not a JSON object", r.UID))
	}
	delete(obj, s.opts.EncryptionField)
	if _, has := obj["PasswordHash"]; has {
		if s.opts.PasswordHash == PasswordHashReject {
			return refuse("password_hash_not_supported", fmt.Sprintf(
				"user %s has a PasswordHash, which LoginRadius' Account API cannot take: load it with the loginradius-bulk sink, or set password_hash: drop to load it for a password reset", r.UID))
		}
		delete(obj, "PasswordHash")
		s.log.Info("user loaded without its password hash (password_hash: drop): it must reset its password", "uid", r.UID)
	}
	var uid string
	if raw, ok := obj["Uid"]; ok {
		_ = json.Unmarshal(raw, &uid)
	}
	if uid == "" && s.opts.FillUid {
		uid = r.UID
		obj["Uid"], _ = json.Marshal(uid)
	}
	create, _ := json.Marshal(obj)
	delete(obj, "Uid") // an update names the user in its path
	update, _ := json.Marshal(obj)

	if r.Update && uid != "" {
		err := s.client.UpdateAccount(ctx, uid, update)
		switch {
		case err == nil:
			s.count("updated")
			return nil, nil
		case !errors.Is(err, loginradius.ErrNotFound):
			return s.failed(i, r, err)
		}
	}
	_, err := s.client.CreateAccount(ctx, create)
	if err == nil {
		s.count("created")
		return nil, nil
	}
	if fault.IsTransient(err) || uid == "" {
		return s.failed(i, r, err)
	}
	// Create failed for good: is this user already there (sent again after
	// a crash, or loaded by an earlier run)?
	_, lookErr := s.client.AccountByUID(ctx, uid)
	switch {
	case lookErr == nil:
		if err := s.client.UpdateAccount(ctx, uid, update); err != nil {
			return s.failed(i, r, err)
		}
		s.count("updated")
		return nil, nil
	case !errors.Is(lookErr, loginradius.ErrNotFound):
		return nil, lookErr
	}
	_, code := fault.Classify(err)
	if code == "email_exists" {
		if holder := s.holder(ctx, obj); holder != "" {
			return refuse("email_exists", fmt.Sprintf("LoginRadius: the email of Gigya UID %s already belongs to LoginRadius user %s, which was not loaded from this account: merge the accounts, or delete that user if it is a leftover, then redrive (%v)", r.UID, holder, err))
		}
	}
	return s.failed(i, r, err)
}

// failed turns a request's error into a refusal (permanent) or an error
// for the loader to retry (transient).
func (s *apiSink) failed(i int, r sink.Record, err error) (*sink.Rejection, error) {
	kind, code := fault.Classify(err)
	if kind == fault.KindTransient {
		return nil, err
	}
	if code == "unauthorized" {
		// Every user would fail alike: fail the batch, not each user.
		return nil, err
	}
	s.count("failed")
	return &sink.Rejection{Index: i, Code: code, Reason: fmt.Sprintf("user %s: %v", r.UID, err)}, nil
}

// holder returns the Uid of the LoginRadius user with the profile's first
// email, "" when it cannot be told.
func (s *apiSink) holder(ctx context.Context, obj map[string]json.RawMessage) string {
	var items []struct {
		Value string `json:"Value"`
	}
	if json.Unmarshal(obj["Email"], &items) != nil || len(items) == 0 {
		return ""
	}
	p, err := s.client.AccountByEmail(ctx, items[0].Value)
	if err != nil {
		return ""
	}
	return p.Uid()
}

func (s *apiSink) count(result string) {
	if s.profiles != nil {
		s.profiles.WithLabelValues(result).Inc()
	}
}

// Recover takes over the requests an earlier instance of the loader may
// have left in flight (see [loginradius.InFlight.Recover]).
func (s *apiSink) Recover(ctx context.Context, st sink.State) error {
	return s.inflight.Recover(ctx, st)
}

// Close has nothing to flush; it forgets the instance's record of requests
// in flight unless one that got no answer may still be stored.
func (s *apiSink) Close(ctx context.Context) error { return s.inflight.Close(ctx) }
