// Package auth0api is a sink that loads users into Auth0 through the
// Management API's bulk user-import jobs: each loader batch is packed into
// one import file (the packing of the auth0-file sink), submitted as a job,
// and polled until it finished; the users Auth0 refused are mapped back to
// their messages and dead-lettered with Auth0's error codes, the rest are
// acked. Auth0 runs at most two import jobs per tenant at once, so the sink
// asks the loader for that many concurrent writes and waits for a free slot
// when a third would be refused.
package auth0api

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/gigya-migrate/gigya-migrate/loader/sinks/auth0file"
	"github.com/gigya-migrate/gigya-migrate/pkg/auth0"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/segmentio/encoding/json"
)

// Options are the sink's loader.sink.options.
type Options struct {
	Domain       string `yaml:"domain"`        // tenant domain, e.g. example.eu.auth0.com
	BaseURL      string `yaml:"base_url"`      // overrides https://<domain> (a simulator)
	AllowHTTP    bool   `yaml:"allow_http"`    // permit a plain http:// base_url
	ClientID     string `yaml:"client_id"`     // M2M application with create:users, read:users, read:connections
	ClientSecret string `yaml:"client_secret"` // use ${VAR}
	Connection   string `yaml:"connection"`    // database connection: name or con_ id
	// Upsert updates users that exist (matched on email); see the README
	// for what upsert can change.
	Upsert              bool `yaml:"upsert"`
	SendCompletionEmail bool `yaml:"send_completion_email"`
	// MaxFileBytes is the size of one job's file; Auth0 accepts 500 KB.
	MaxFileBytes int `yaml:"max_file_bytes"`
	// ConcurrentJobs is how many jobs run at once (Auth0 allows 2 per tenant).
	ConcurrentJobs int `yaml:"concurrent_jobs"`
	// DuplicateIsLoaded counts DUPLICATED_USER (without upsert) as already
	// loaded: after a crash between a job and its acks, the redelivered
	// users are the ones Auth0 already has.
	DuplicateIsLoaded bool `yaml:"duplicate_is_loaded"`
	// JobRetries is how often a job that failed as a whole is resubmitted
	// before its users are dead-lettered.
	JobRetries int `yaml:"job_retries"`
	// PollInterval is the first pause between two job status checks (it
	// grows up to 30 s while a job runs).
	PollInterval time.Duration `yaml:"poll_interval"`
}

// DefaultOptions are the options a config does not set.
func DefaultOptions() Options {
	return Options{MaxFileBytes: 480_000, ConcurrentJobs: 2, DuplicateIsLoaded: true, JobRetries: 3, PollInterval: 2 * time.Second}
}

type apiSink struct {
	opts    Options
	client  *auth0.Client
	connID  string
	name    string
	session string
	seq     atomic.Int64
	log     *slog.Logger
}

// New builds the sink and resolves the connection.
func New(ctx context.Context, p sink.Params) (sink.Sink, error) {
	o := DefaultOptions()
	if err := p.Decode(&o); err != nil {
		return nil, err
	}
	var problems []string
	if o.Domain == "" && o.BaseURL == "" {
		problems = append(problems, "domain is required")
	}
	if o.ClientID == "" || o.ClientSecret == "" {
		problems = append(problems, "client_id and client_secret are required (an M2M application with create:users, read:users, read:connections)")
	}
	if o.Connection == "" {
		problems = append(problems, "connection is required (the database connection's name or con_ id)")
	}
	if o.MaxFileBytes < 1024 || o.MaxFileBytes > auth0file.AuthZeroLimit {
		problems = append(problems, fmt.Sprintf("max_file_bytes must be between 1024 and %d", auth0file.AuthZeroLimit))
	}
	if o.ConcurrentJobs < 1 {
		problems = append(problems, "concurrent_jobs must be at least 1")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("loader.sink.options: %s", strings.Join(problems, "; "))
	}
	log := p.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	client, err := auth0.NewClient(auth0.Config{Domain: o.Domain, BaseURL: o.BaseURL, AllowHTTP: o.AllowHTTP,
		ClientID: o.ClientID, ClientSecret: o.ClientSecret, PollInterval: o.PollInterval, Logger: log})
	if err != nil {
		return nil, err
	}
	connID, err := client.ConnectionID(ctx, o.Connection)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return &apiSink{opts: o, client: client, connID: connID, name: p.Name, log: log,
		session: time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)}, nil
}

// BatchLimits makes each loader batch one job file.
func (s *apiSink) BatchLimits() (int, int) { return 0, s.opts.MaxFileBytes - 2 }

// MaxConcurrentWrites is the number of jobs Auth0 runs at once.
func (s *apiSink) MaxConcurrentWrites() int { return s.opts.ConcurrentJobs }

func (s *apiSink) Write(ctx context.Context, recs []sink.Record) error {
	files, rejected := auth0file.Pack(recs, s.opts.MaxFileBytes)
	// Usually one file per batch (BatchLimits); more only when the loader's
	// own limits are larger.
	for _, f := range files {
		refused, err := s.runJob(ctx, f, recs)
		if err != nil {
			return err
		}
		rejected = append(rejected, refused...)
	}
	if rejected != nil {
		return &sink.RejectedError{Rejections: rejected}
	}
	return nil
}

// runJob submits one file and waits for its outcome.
func (s *apiSink) runJob(ctx context.Context, file []byte, recs []sink.Record) ([]sink.Rejection, error) {
	var lastErr error
	for attempt := 1; attempt <= s.opts.JobRetries+1; attempt++ {
		req := auth0.ImportRequest{ConnectionID: s.connID, Users: file, Upsert: s.opts.Upsert,
			SendCompletionEmail: s.opts.SendCompletionEmail,
			ExternalID:          fmt.Sprintf("%s-%s-%d", s.name, s.session, s.seq.Add(1))}
		job, err := s.create(ctx, req)
		if err != nil {
			return nil, err
		}
		job, err = s.client.WaitJob(ctx, job.ID)
		if err == nil {
			return s.refused(ctx, job, recs)
		}
		if !errors.Is(err, auth0.ErrJobFailed) {
			return nil, err
		}
		lastErr = err
		s.log.Warn("import job failed as a whole; resubmitting", "job", job.ID, "status", job.Status, "attempt", attempt)
	}
	return nil, fault.Permanent("job_failed", fmt.Errorf("%w after %d attempts", lastErr, s.opts.JobRetries+1))
}

// create submits a job, waiting while Auth0 already runs its maximum of
// jobs (another loader, or a job of ours still finishing).
func (s *apiSink) create(ctx context.Context, req auth0.ImportRequest) (auth0.Job, error) {
	wait := time.Second
	for {
		job, err := s.client.CreateImport(ctx, req)
		if !errors.Is(err, auth0.ErrJobSlots) {
			return job, err
		}
		s.log.Info("Auth0 runs its maximum of import jobs; waiting for a slot", "retry_in", wait)
		select {
		case <-ctx.Done():
			return job, ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, 30*time.Second)
	}
}

// refused maps the job's per-user errors back to the batch's records.
func (s *apiSink) refused(ctx context.Context, job auth0.Job, recs []sink.Record) ([]sink.Rejection, error) {
	if job.Summary != nil && job.Summary.Failed == 0 {
		return nil, nil
	}
	errs, err := s.client.JobErrors(ctx, job.ID)
	if err != nil {
		return nil, err
	}
	byID, byEmail := map[string]int{}, map[string]int{}
	for i, r := range recs {
		var u struct {
			UserID string `json:"user_id"`
			Email  string `json:"email"`
		}
		if json.Unmarshal(r.Data, &u) == nil {
			byID[u.UserID], byEmail[strings.ToLower(u.Email)] = i, i
		}
	}
	var out []sink.Rejection
	for _, ue := range errs {
		i, ok := -1, false
		if id, _ := ue.User["user_id"].(string); id != "" {
			i, ok = byID[id]
		}
		if email, _ := ue.User["email"].(string); !ok && email != "" {
			i, ok = byEmail[strings.ToLower(email)]
		}
		if !ok || len(ue.Errors) == 0 {
			s.log.Warn("Auth0 reported an error for a user not in the batch", "job", job.ID)
			continue
		}
		code := ue.Errors[0].Code
		if code == "DUPLICATED_USER" && !s.opts.Upsert && s.opts.DuplicateIsLoaded {
			continue // already in Auth0: loaded by an earlier attempt
		}
		var msgs []string
		for _, e := range ue.Errors {
			m := e.Code + ": " + e.Message
			if e.Path != "" {
				m += " (" + e.Path + ")"
			}
			msgs = append(msgs, m)
		}
		out = append(out, sink.Rejection{Index: i, Code: code, Reason: "Auth0 job " + job.ID + ": " + strings.Join(msgs, "; ")})
	}
	return out, nil
}

func (s *apiSink) Close(context.Context) error { return nil }
