// Package auth0api is a sink that loads users into Auth0 through the
// Management API's bulk user-import jobs: each loader batch is packed into
// one import file (the packing of the auth0-file sink), submitted as a job,
// and polled until it finished; the users Auth0 refused are mapped back to
// their messages and dead-lettered with Auth0's error codes, the rest are
// acked. Auth0 runs at most two import jobs per tenant at once, so the sink
// asks the loader for that many concurrent writes and waits for a free slot
// when a third would be refused.
//
// Updates ([sink.Record.Update], users a replay re-sends) run with
// upsert=true. A batch that mixes them with first imports runs as two jobs,
// one after the other: first imports keep the configured upsert, so they
// stay fast and DUPLICATED_USER keeps meaning "loaded by an earlier
// attempt". Auth0 refuses a custom_password_hash on upsert for a user who
// already has a password of their own (who logged in since the import):
// such a user is imported again without the hash, so the profile is updated
// and the working password kept, and counts as stored.
//
// An import job outlives the loader that submitted it: after a crash it
// still runs, and could finish after a job of the restarted loader with a
// newer version of one of its users, and so undo the update. The sink
// therefore records its unfinished jobs in the loader's state (one key per
// sink instance, the job ids) and, on start, waits for those an earlier
// instance left before submitting anything. A job a Write stopped waiting
// for (a transient error while polling) is waited for likewise before the
// next job starts. Only a crash between Auth0's answer to the job's creation
// and the record of its id (one round trip to NATS) escapes this.
package auth0api

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/targets/auth0"
	"github.com/gigya-migrate/gigya-migrate/internal/targets/auth0file"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/segmentio/encoding/json"
)

// Options are the sink's loader.sink.options.
type Options struct {
	Domain              string        `yaml:"domain" doc:"tenant domain, e.g. example.eu.auth0.com"`
	BaseURL             string        `yaml:"base_url" doc:"overrides https://<domain> (a simulator)"`
	AllowHTTP           bool          `yaml:"allow_http" doc:"permit a plain http:// base_url"`
	ClientID            string        `yaml:"client_id" doc:"M2M application with create:users, read:users, read:connections"`
	ClientSecret        string        `yaml:"client_secret" doc:"the application's secret; use ${VAR}"`
	Connection          string        `yaml:"connection" doc:"database connection: name or con_ id"`
	Upsert              bool          `yaml:"upsert" doc:"import every user with upsert, updating those that exist (matched on email); updates from a replay always use upsert"`
	SendCompletionEmail bool          `yaml:"send_completion_email" doc:"let Auth0 email the tenant owners after each job"`
	MaxFileBytes        int           `yaml:"max_file_bytes" doc:"size of one job's file, 1024 to 500000"`
	ConcurrentJobs      int           `yaml:"concurrent_jobs" doc:"jobs at once; Auth0 runs at most 2 per tenant"`
	DuplicateIsLoaded   bool          `yaml:"duplicate_is_loaded" doc:"count DUPLICATED_USER of a job without upsert as loaded when the user Auth0 holds is this one (same user_id, looked up by email; a crash between a job and its acks redelivers users Auth0 has); a user of another account with that email is dead-lettered as duplicate_user_other either way"`
	JobRetries          int           `yaml:"job_retries" doc:"resubmissions of a job that failed as a whole before its users are dead-lettered"`
	PollInterval        time.Duration `yaml:"poll_interval" doc:"first pause between two job status checks, growing to 30s"`
}

// optionsKey is where the loader's configuration holds the options, which
// the problems name so that they can be found in the file.
const optionsKey = "loader.sink.options"

// validate reports every problem of the options, each naming its key.
func validate(o Options) error {
	var p config.Problems
	if o.BaseURL == "" {
		p.Check(o.Domain != "", "domain", "is required (the tenant's domain, e.g. example.eu.auth0.com)")
	} else if u, err := url.Parse(o.BaseURL); err != nil || u.Host == "" || u.Scheme != "https" && u.Scheme != "http" {
		p.Addf("base_url", "must be an https:// URL")
	} else if u.Scheme == "http" && !o.AllowHTTP {
		// Checked here, not only by the client, so that the refusal names
		// the keys to change.
		p.Addf("base_url", "is plain http://, and the client secret and every user would cross the network in clear: use https://, or set %s.allow_http: true only for a local simulator", optionsKey)
	}
	p.Check(o.ClientID != "", "client_id", "is required (an M2M application with create:users, read:users, read:connections)")
	p.Check(o.ClientSecret != "", "client_secret", "is required (the M2M application's secret; use ${VAR})")
	p.Check(o.Connection != "", "connection", "is required (the database connection's name or con_ id)")
	p.Check(o.MaxFileBytes >= 1024 && o.MaxFileBytes <= auth0file.AuthZeroLimit, "max_file_bytes", fmt.Sprintf("must be between 1024 and %d", auth0file.AuthZeroLimit))
	p.Check(o.ConcurrentJobs >= 1, "concurrent_jobs", "must be at least 1")
	var q config.Problems
	q.Merge(optionsKey, p.Err())
	return q.Err()
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
	jobs    *prometheus.CounterVec // by final status; nil: not counted

	state sink.State // nil until Recover: jobs are not recorded (tests)
	putMu sync.Mutex // orders the records of open
	mu    sync.Mutex
	open  map[string]bool // this instance's jobs not known to have ended
	// recorded: the instance has a record in the state, for Close to delete.
	recorded bool
	// unsettled are jobs nobody waits for (a Write gave up polling them)
	// that must end before another job starts.
	unsettled map[string]bool
}

// New builds the sink and resolves the connection.
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
	s := &apiSink{opts: o, client: client, connID: connID, name: p.Name, log: log,
		session: time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b),
		open:    map[string]bool{}, unsettled: map[string]bool{}}
	if p.Metrics != nil {
		s.jobs = prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gm_auth0_jobs_total",
			Help: "Auth0 import jobs by final status (completed, failed); failed jobs are resubmitted.",
		}, []string{"status"})
		if err := p.Metrics.Register(s.jobs); err != nil {
			return nil, fmt.Errorf("auth0-api metrics: %w", err)
		}
	}
	return s, nil
}

// BatchLimits makes each loader batch one job file.
func (s *apiSink) BatchLimits() (int, int) { return 0, s.opts.MaxFileBytes - 1 }

// MaxConcurrentWrites is the number of jobs Auth0 runs at once.
func (s *apiSink) MaxConcurrentWrites() int { return s.opts.ConcurrentJobs }

// Write imports the batch: first imports and updates as separate jobs.
func (s *apiSink) Write(ctx context.Context, recs []sink.Record) error {
	var groups [2][]int // indexes into recs: without upsert, with upsert
	for i, r := range recs {
		g := 0
		if r.Update || s.opts.Upsert {
			g = 1
		}
		groups[g] = append(groups[g], i)
	}
	var rejected []sink.Rejection
	for g, idx := range groups {
		if len(idx) == 0 {
			continue
		}
		refused, err := s.load(ctx, subset(recs, idx), g == 1, true)
		if err != nil {
			return err
		}
		for _, r := range refused {
			r.Index = idx[r.Index]
			rejected = append(rejected, r)
		}
	}
	if rejected != nil {
		slices.SortFunc(rejected, func(a, b sink.Rejection) int { return cmp.Compare(a.Index, b.Index) })
		return &sink.RejectedError{Rejections: rejected}
	}
	return nil
}

func subset(recs []sink.Record, idx []int) []sink.Record {
	out := make([]sink.Record, len(idx))
	for k, i := range idx {
		out[k] = recs[i]
	}
	return out
}

// load imports recs, one job per packed file (usually one: BatchLimits;
// more only when the loader's own limits are larger), and returns the
// refused ones, indexed into recs. With keepPasswords, users whose existing
// password refused the hash are imported again without it.
func (s *apiSink) load(ctx context.Context, recs []sink.Record, upsert, keepPasswords bool) ([]sink.Rejection, error) {
	files, rejected := auth0file.Pack(recs, s.opts.MaxFileBytes)
	var kept []int
	for _, f := range files {
		refused, hasPassword, err := s.runJob(ctx, f.Data, recs, upsert)
		if err != nil {
			return nil, err
		}
		rejected = append(rejected, refused...)
		kept = append(kept, hasPassword...)
	}
	if len(kept) == 0 {
		return rejected, nil
	}
	if !keepPasswords {
		// Refused again without a hash: not the password, then.
		for _, i := range kept {
			rejected = append(rejected, sink.Rejection{Index: i, Code: "password_hash_refused",
				Reason: "Auth0 refused the update although it carried no password hash"})
		}
		return rejected, nil
	}
	again := make([]sink.Record, 0, len(kept))
	idx := make([]int, 0, len(kept))
	for _, i := range kept {
		r, err := withoutPasswordHash(recs[i])
		if err != nil {
			rejected = append(rejected, sink.Rejection{Index: i, Code: "invalid_json", Reason: fmt.Sprintf("user %s: %v", recs[i].UID, err)})
			continue
		}
		again, idx = append(again, r), append(idx, i)
	}
	refused, err := s.load(ctx, again, true, false)
	if err != nil {
		return nil, err
	}
	for _, r := range refused {
		r.Index = idx[r.Index]
		rejected = append(rejected, r)
	}
	return rejected, nil
}

// withoutPasswordHash is r without custom_password_hash and password_hash.
func withoutPasswordHash(r sink.Record) (sink.Record, error) {
	var u map[string]json.RawMessage
	if err := json.Unmarshal(r.Data, &u); err != nil {
		return r, err
	}
	delete(u, "custom_password_hash")
	delete(u, "password_hash")
	b, err := json.Marshal(u)
	r.Data = b
	return r, err
}

// runJob submits one file and waits for its outcome: the users Auth0
// refused, and those of an upsert who keep the password they have.
func (s *apiSink) runJob(ctx context.Context, file []byte, recs []sink.Record, upsert bool) (refused []sink.Rejection, hasPassword []int, err error) {
	var lastErr error
	for attempt := 1; attempt <= s.opts.JobRetries+1; attempt++ {
		req := auth0.ImportRequest{ConnectionID: s.connID, Users: file, Upsert: upsert,
			SendCompletionEmail: s.opts.SendCompletionEmail,
			ExternalID:          fmt.Sprintf("%s-%s-%d", s.name, s.session, s.seq.Add(1))}
		if err := s.settle(ctx); err != nil {
			return nil, nil, err
		}
		job, err := s.create(ctx, req)
		if err != nil {
			return nil, nil, err
		}
		s.started(ctx, job.ID)
		id := job.ID
		job, err = s.client.WaitJob(ctx, id)
		if !jobEnded(err) {
			s.abandon(id)
			return nil, nil, err
		}
		s.ended(ctx, id)
		if s.jobs != nil && job.Status != "" {
			s.jobs.WithLabelValues(job.Status).Inc()
		}
		if err == nil {
			return s.refused(ctx, job, recs, upsert)
		}
		if !errors.Is(err, auth0.ErrJobFailed) {
			return nil, nil, err
		}
		lastErr = err
		s.log.Warn("import job failed as a whole; resubmitting", "job", job.ID, "status", job.Status, "attempt", attempt)
	}
	return nil, nil, fault.Permanent("job_failed", fmt.Errorf("%w after %d attempts", lastErr, s.opts.JobRetries+1))
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

// hasPasswordMessage is how Auth0 refuses a custom_password_hash on upsert
// for a user who already has a password (docs/apis/auth0.md, "Known
// pitfalls", item 1).
const hasPasswordMessage = "already has password hash defined"

// refused maps the job's per-user errors back to the batch's records.
func (s *apiSink) refused(ctx context.Context, job auth0.Job, recs []sink.Record, upsert bool) (out []sink.Rejection, hasPassword []int, err error) {
	if job.Summary != nil && job.Summary.Failed == 0 {
		return nil, nil, nil
	}
	errs, err := s.client.JobErrors(ctx, job.ID)
	if err != nil {
		return nil, nil, err
	}
	byID, byEmail := map[string]int{}, map[string]int{}
	users := make([]auth0.User, len(recs))
	for i, r := range recs {
		if json.Unmarshal(r.Data, &users[i]) == nil {
			byID[users[i].UserID], byEmail[strings.ToLower(users[i].Email)] = i, i
		}
	}
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
		if code == "DUPLICATED_USER" && !upsert {
			holder, err := s.holder(ctx, users[i])
			if err != nil {
				return nil, nil, err
			}
			if holder == "" && s.opts.DuplicateIsLoaded {
				continue // this very user is in Auth0: loaded by an earlier attempt
			}
			if holder != "" {
				out = append(out, sink.Rejection{Index: i, Code: "duplicate_user_other", Reason: fmt.Sprintf(
					"Auth0 job %s: the email of Gigya UID %s already belongs to Auth0 user %s, which was not imported from this account: merge the accounts, or delete the Auth0 user if it is a leftover, then redrive",
					job.ID, recs[i].UID, holder)})
				continue
			}
		}
		if upsert && len(ue.Errors) == 1 && strings.Contains(ue.Errors[0].Message, hasPasswordMessage) {
			s.log.Info("user has logged in since the import: keeping their password, updating the profile without the hash",
				"uid", recs[i].UID, "job", job.ID)
			hasPassword = append(hasPassword, i)
			continue
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
	return out, hasPassword, nil
}

// holder returns the user_id of the Auth0 user that holds u's email when it
// is not u, "" when it is u (or nobody: the duplicate vanished since).
// Auth0's DUPLICATED_USER does not say which user it found; counting it as
// loaded without looking would count a user the tenant does not hold.
func (s *apiSink) holder(ctx context.Context, u auth0.User) (string, error) {
	if u.Email == "" {
		return "", nil
	}
	found, err := s.client.UsersByEmail(ctx, u.Email)
	if err != nil {
		return "", fmt.Errorf("look up the Auth0 user that holds a duplicated email: %w", err)
	}
	for _, f := range found {
		if f.Is(u.UserID) {
			return "", nil
		}
	}
	// The duplicate is in the database connection the job imported into:
	// prefer a database user over a social one with the same email.
	for _, f := range found {
		for _, id := range f.Identities {
			if id.Provider == "auth0" {
				return f.UserID, nil
			}
		}
	}
	if len(found) > 0 {
		return found[0].UserID, nil
	}
	return "", nil
}

// Recover waits for the jobs earlier instances of the loader recorded and
// did not see end (a crash, or a stop while a job ran), then forgets them.
func (s *apiSink) Recover(ctx context.Context, st sink.State) error {
	s.state = st
	entries, err := st.List(ctx)
	if err != nil {
		return err
	}
	for _, e := range entries {
		var ids []string
		if err := json.Unmarshal(e.Value, &ids); err != nil {
			s.log.Warn("unreadable record of import jobs in the loader's state; ignoring it", "key", e.Key, "err", err)
			ids = nil
		}
		if len(ids) > 0 {
			s.log.Info("waiting for the import jobs an earlier loader left running, so that they cannot land after newer versions",
				"jobs", ids, "instance", e.Key)
		}
		for _, id := range ids {
			if err := s.wait(ctx, id); err != nil {
				return err
			}
		}
		if err := st.Delete(ctx, e.Key, e.Revision); err != nil {
			return err
		}
	}
	return nil
}

// jobEnded reports whether WaitJob's error means the job ended: failed,
// expired, or gone (Auth0 keeps a job 24 hours).
func jobEnded(err error) bool {
	if err == nil || errors.Is(err, auth0.ErrJobFailed) {
		return true
	}
	kind, code := fault.Classify(err)
	return kind == fault.KindPermanent && code == "not_found"
}

// wait returns once job id ended.
func (s *apiSink) wait(ctx context.Context, id string) error {
	_, err := s.client.WaitJob(ctx, id)
	if !jobEnded(err) {
		return fmt.Errorf("waiting for import job %s, left running by an earlier attempt, before starting another: %w", id, err)
	}
	return nil
}

// settle waits for the unsettled jobs.
func (s *apiSink) settle(ctx context.Context) error {
	for {
		s.mu.Lock()
		var id string
		for id = range s.unsettled {
			break
		}
		s.mu.Unlock()
		if id == "" {
			return nil
		}
		s.log.Info("waiting for an import job an earlier attempt stopped polling, so that it cannot land after a newer one", "job", id)
		if err := s.wait(ctx, id); err != nil {
			return err
		}
		s.ended(ctx, id)
	}
}

func (s *apiSink) started(ctx context.Context, id string) {
	s.mu.Lock()
	s.open[id] = true
	s.mu.Unlock()
	s.record(ctx)
}

func (s *apiSink) abandon(id string) {
	s.mu.Lock()
	s.unsettled[id] = true
	s.mu.Unlock()
}

func (s *apiSink) ended(ctx context.Context, id string) {
	s.mu.Lock()
	delete(s.unsettled, id)
	_, was := s.open[id]
	delete(s.open, id)
	s.mu.Unlock()
	if was {
		s.record(ctx)
	}
}

// record writes the open jobs to the loader's state. A failed write is
// logged, not returned: the job runs either way, and failing the batch
// would only submit it again.
func (s *apiSink) record(ctx context.Context) {
	if s.state == nil {
		return
	}
	s.putMu.Lock()
	defer s.putMu.Unlock()
	s.mu.Lock()
	ids := slices.Sorted(maps.Keys(s.open))
	s.mu.Unlock()
	data, _ := json.Marshal(ids)
	if ids == nil {
		data = []byte("[]")
	}
	s.recorded = true
	if err := s.state.Put(context.WithoutCancel(ctx), s.session, data); err != nil {
		s.log.Warn("import jobs not recorded in the loader's state: should the loader crash now, its restart will not wait for them",
			"jobs", ids, "err", err)
	}
}

// Close forgets the instance's record when no job of it is left running.
func (s *apiSink) Close(ctx context.Context) error {
	s.putMu.Lock()
	recorded := s.recorded
	s.putMu.Unlock()
	if s.state == nil || !recorded {
		return nil
	}
	s.mu.Lock()
	n := len(s.open)
	s.mu.Unlock()
	if n > 0 {
		s.log.Info("import jobs still running at Auth0: the next loader waits for them before it submits any", "jobs", n)
		return nil
	}
	return s.state.Delete(ctx, s.session, 0)
}
