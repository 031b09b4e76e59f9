package auth0sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash/auth0verify"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"golang.org/x/crypto/bcrypt"
)

const (
	statusPending    = "pending"
	statusProcessing = "processing"
	statusCompleted  = "completed"
	statusFailed     = "failed"
)

// Messages as Auth0 sends them (docs/apis/auth0.md, "Limits and concurrency",
// "Job errors", "Create an import job", "Upsert"), except msgDupInFile, whose
// wording is ours: Auth0 documents the error, not its text.
const (
	msgTooManyJobs    = "There are 2 active import users jobs, please wait until some of them are finished and try again"
	msgDuplicated     = "The user already exist and upsert parameter is false"
	msgDupInFile      = "The user is duplicated in the users file"
	msgConnPattern    = "Payload validation error: 'String does not match pattern ^con_[A-Za-z0-9]{16}$' on property connection_id"
	msgHashAlreadySet = "A custom_password_hash was provided, but the user already has password hash defined"
)

type userError struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Path    string `json:"path,omitempty"`
}

type jobUserErrors struct {
	User   map[string]any `json:"user"`
	Errors []userError    `json:"errors"`
}

type summary struct {
	Failed   int `json:"failed"`
	Updated  int `json:"updated"`
	Inserted int `json:"inserted"`
	Total    int `json:"total"`
}

type job struct {
	id, externalID string
	status         string
	createdAt      time.Time
	started        time.Time // real time, for progress
	duration       time.Duration
	upsert         bool
	failWhole      bool
	users          []map[string]any
	summary        summary
	errors         []jobUserErrors
}

func validConnID(id string) bool {
	rest, ok := strings.CutPrefix(id, "con_")
	if !ok || len(rest) != 16 {
		return false
	}
	for i := 0; i < len(rest); i++ {
		if !strings.ContainsRune(alnum, rune(rest[i])) {
			return false
		}
	}
	return true
}

func parseBool(field, v string, def bool) (bool, error) {
	if v == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		return false, fmt.Errorf("Payload validation error: 'Expected type boolean but found type string' on property %s", field)
	}
	return b, nil
}

func (s *Sim) handleCreateJob(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, int64(s.opts.MaxFileSize)*4+1<<20)
	if err := r.ParseMultipartForm(1 << 20); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			writeError(w, http.StatusRequestEntityTooLarge, "Payload content length greater than maximum allowed: "+strconv.Itoa(s.opts.MaxFileSize), "")
			return
		}
		writeError(w, http.StatusBadRequest, "Payload validation error: 'Invalid multipart payload'", "invalid_body")
		return
	}
	defer func() { _ = r.MultipartForm.RemoveAll() }()
	val := func(k string) string { return r.FormValue(k) }
	connID := val("connection_id")
	if connID == "" {
		writeError(w, http.StatusBadRequest, "Payload validation error: 'Missing required property: connection_id'", "invalid_body")
		return
	}
	if !validConnID(connID) {
		writeError(w, http.StatusBadRequest, msgConnPattern, "invalid_body")
		return
	}
	if connID != s.connID {
		if slices.ContainsFunc(s.conns, func(c Connection) bool { return c.ID == connID }) {
			// Options.ExtraConnections are listed only (a simulator
			// choice): the tenant has one user store.
			writeError(w, http.StatusBadRequest, "The simulator imports into its database connection "+s.connID+" only", "invalid_body")
			return
		}
		writeError(w, http.StatusNotFound, "The connection does not exist", "inexistent_connection")
		return
	}
	upsert, err := parseBool("upsert", val("upsert"), false)
	if err == nil {
		_, err = parseBool("send_completion_email", val("send_completion_email"), true)
	}
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error(), "invalid_body")
		return
	}
	files := r.MultipartForm.File["users"]
	if len(files) == 0 {
		writeError(w, http.StatusBadRequest, "Payload validation error: 'Missing required property: users'", "invalid_body")
		return
	}
	if files[0].Size > int64(s.opts.MaxFileSize) {
		writeError(w, http.StatusRequestEntityTooLarge, "Payload content length greater than maximum allowed: "+strconv.Itoa(s.opts.MaxFileSize), "")
		return
	}
	f, err := files[0].Open()
	if err != nil {
		writeError(w, http.StatusBadRequest, "Payload validation error: 'Cannot read users file'", "invalid_body")
		return
	}
	data, err := io.ReadAll(f)
	_ = f.Close()
	if err != nil {
		writeError(w, http.StatusBadRequest, "Payload validation error: 'Cannot read users file'", "invalid_body")
		return
	}
	users, err := decodeUsers(data)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Users file must be an array of user objects: "+err.Error(), "invalid_body")
		return
	}

	s.mu.Lock()
	active := 0
	for _, j := range s.jobs {
		if j.status == statusPending || j.status == statusProcessing {
			active++
		}
	}
	if active >= s.opts.MaxConcurrentJobs {
		s.stats.Rejected429++
		s.mu.Unlock()
		writeJSON(w, http.StatusTooManyRequests, apiError{StatusCode: 429, Error: "Too Many Requests", Message: msgTooManyJobs})
		return
	}
	j := &job{
		id: "job_" + randAlnum(16), externalID: val("external_id"), status: statusPending,
		createdAt: s.opts.Clock().UTC(), started: time.Now(), duration: s.opts.JobDuration,
		upsert: upsert, users: users,
	}
	if s.takeFault(FaultSlowJob) {
		j.duration = s.opts.SlowJobDuration
	}
	j.failWhole = s.takeFault(FaultJobFailed)
	s.jobs[j.id] = j
	s.stats.JobsCreated++
	body := s.jobBodyLocked(j)
	s.wg.Add(1)
	s.mu.Unlock()
	go s.run(j)
	writeJSON(w, http.StatusAccepted, body)
}

// decodeUsers requires a JSON array of objects (numbers kept as
// json.Number so that they round-trip).
func decodeUsers(data []byte) ([]map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var raw []json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, err
	}
	if raw == nil {
		return nil, errors.New("not an array")
	}
	if dec.More() {
		return nil, errors.New("trailing data")
	}
	users := make([]map[string]any, len(raw))
	for i, rm := range raw {
		d := json.NewDecoder(bytes.NewReader(rm))
		d.UseNumber()
		if err := d.Decode(&users[i]); err != nil || users[i] == nil {
			return nil, fmt.Errorf("item %d is not an object", i)
		}
	}
	return users, nil
}

// run drives a job: pending for half the duration, processing for the
// other half, then processes all users at once.
func (s *Sim) run(j *job) {
	defer s.wg.Done()
	half := j.duration / 2
	select {
	case <-time.After(half):
	case <-s.done:
		return
	}
	s.mu.Lock()
	j.status = statusProcessing
	s.mu.Unlock()
	select {
	case <-time.After(j.duration - half):
	case <-s.done:
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if j.failWhole {
		j.status = statusFailed
		s.stats.JobsFailed++
		return
	}
	s.processLocked(j)
	j.status = statusCompleted
	s.stats.JobsCompleted++
}

// upsertable are the fields an upsert may change (docs/apis/auth0.md, "User
// fields").
var upsertable = []string{"email_verified", "given_name", "family_name", "name", "nickname", "picture", "app_metadata", "user_metadata"}

func (s *Sim) processLocked(j *job) {
	seenEmail := map[string]bool{}
	seenID := map[string]bool{}
	j.summary.Total = len(j.users)
	for _, u := range j.users {
		errs := s.userErrors(u)
		email, _ := u["email"].(string)
		key := strings.ToLower(email)
		uid, _ := u["user_id"].(string)
		if len(errs) == 0 {
			if seenEmail[key] || (uid != "" && seenID[uid]) {
				errs = append(errs, userError{Code: "DUPLICATED_USER", Message: msgDupInFile})
			}
		}
		if key != "" {
			seenEmail[key] = true
		}
		if uid != "" {
			seenID[uid] = true
		}
		if len(errs) == 0 {
			existing := s.users[key]
			if existing == nil && uid != "" {
				existing = s.findByUserIDLocked(uid)
				if existing != nil && !j.upsert {
					errs = append(errs, userError{Code: "DUPLICATED_USER", Message: msgDuplicated})
				} else if existing != nil {
					// Upsert matches on email only
					// (docs/apis/auth0.md, "Upsert"): a user_id
					// taken by another email is a conflict.
					errs = append(errs, userError{Code: "CONFLICT", Message: "The user_id is already used by another user"})
				}
			} else if existing != nil && !j.upsert {
				errs = append(errs, userError{Code: "DUPLICATED_USER", Message: msgDuplicated})
			} else if existing != nil {
				if e, ok := s.upsertLocked(existing, u); ok {
					j.summary.Updated++
					s.stats.UsersUpdated++
					continue
				} else {
					errs = append(errs, e)
				}
			}
		}
		if len(errs) > 0 {
			j.summary.Failed++
			s.stats.UsersFailed++
			j.errors = append(j.errors, jobUserErrors{User: redact(u), Errors: errs})
			continue
		}
		s.insertLocked(u, key)
		j.summary.Inserted++
		s.stats.UsersInserted++
	}
	j.users = nil
}

func (s *Sim) findByUserIDLocked(uid string) *storedUser {
	key, ok := s.byID["auth0|"+uid]
	if !ok {
		return nil
	}
	return s.users[key]
}

func (s *Sim) insertLocked(u map[string]any, key string) {
	d := maps.Clone(u)
	if uid, ok := d["user_id"].(string); ok {
		d["user_id"] = "auth0|" + uid // prepended by the connection strategy
	} else {
		d["user_id"] = "auth0|" + strings.ToLower(randAlnum(24))
	}
	if _, ok := d["email_verified"]; !ok {
		d["email_verified"] = false
	}
	now := s.opts.Clock().UTC().Format(time.RFC3339Nano)
	d["created_at"], d["updated_at"] = now, now
	s.users[key] = &storedUser{data: d}
	s.byID[d["user_id"].(string)] = key
	s.order = append(s.order, key)
}

// upsertLocked updates the upsertable fields of existing from u.
func (s *Sim) upsertLocked(existing *storedUser, u map[string]any) (userError, bool) {
	if cph, ok := u["custom_password_hash"]; ok {
		_, hasPH := existing.data["password_hash"]
		if existing.loggedIn || hasPH {
			return userError{Code: "CONFLICT", Message: msgHashAlreadySet, Path: "custom_password_hash"}, false
		}
		existing.data["custom_password_hash"] = cph
	}
	for _, f := range upsertable {
		if v, ok := u[f]; ok {
			existing.data[f] = v // overwrite, no merge (Auth0 does not merge metadata)
		}
	}
	existing.data["updated_at"] = s.opts.Clock().UTC().Format(time.RFC3339Nano)
	return userError{}, true
}

// ruleCode maps internal/mapping/validate rule ids to Auth0 error codes
// (docs/apis/auth0.md, "Job error codes").
func ruleCode(rule string, u map[string]any) string {
	switch rule {
	case validate.RuleRequired:
		return "OBJECT_REQUIRED"
	case validate.RuleType, validate.RuleJSONValue:
		return "INVALID_TYPE"
	case validate.RuleFormatEmail, validate.RuleInvalidUTF8:
		return "FORMAT"
	case validate.RuleE164, validate.RuleTOTPSecret, validate.RulePasswordHashFormat:
		return "PATTERN"
	case validate.RuleArrayLength:
		if a, ok := u["mfa_factors"].([]any); ok && len(a) == 0 {
			return "ARRAY_LENGTH_SHORT"
		}
		return "ARRAY_LENGTH_LONG"
	case validate.RuleMFAFactor:
		return "MFA_FACTORS_FAILED"
	default:
		// additional_property, reserved_app_metadata_key,
		// metadata_key_chars, password_hash_exclusive,
		// custom_password_hash_shape, max_size, ...
		return "NOT_PASSED"
	}
}

func (s *Sim) userErrors(u map[string]any) []userError {
	var errs []userError
	res := s.validator.Validate(u)
	for _, v := range res.Violations {
		if v.Rule == validate.RuleUserIDPrefix {
			// Auth0 accepts it and stores auth0|auth0|... (docs/apis/auth0.md,
			// "Known pitfalls", item 8).
			continue
		}
		errs = append(errs, userError{Code: ruleCode(v.Rule, u), Message: v.Message, Path: v.Path})
	}
	if cph, ok := u["custom_password_hash"]; ok && len(errs) == 0 {
		b, _ := json.Marshal(cph)
		if _, err := auth0verify.Parse(b); err != nil {
			errs = append(errs, userError{Code: "NOT_PASSED", Message: err.Error(), Path: "custom_password_hash"})
		}
	}
	return errs
}

const redacted = "*****"

// redact copies u with hash values replaced by "*****", as Auth0's job errors
// do.
func redact(u map[string]any) map[string]any {
	d := maps.Clone(u)
	if _, ok := d["password_hash"]; ok {
		d["password_hash"] = redacted
	}
	if c, ok := d["custom_password_hash"].(map[string]any); ok {
		c = maps.Clone(c)
		if h, ok := c["hash"].(map[string]any); ok {
			h = maps.Clone(h)
			if _, ok := h["value"]; ok {
				h["value"] = redacted
			}
			if k, ok := h["key"].(map[string]any); ok {
				k = maps.Clone(k)
				k["value"] = redacted
				h["key"] = k
			}
			c["hash"] = h
		}
		if sa, ok := c["salt"].(map[string]any); ok {
			sa = maps.Clone(sa)
			sa["value"] = redacted
			c["salt"] = sa
		}
		d["custom_password_hash"] = c
	}
	return d
}

func (s *Sim) jobBodyLocked(j *job) map[string]any {
	b := map[string]any{
		"type":          "users_import",
		"status":        j.status,
		"connection_id": s.connID,
		"connection":    s.opts.Connection,
		"created_at":    j.createdAt.Format("2006-01-02T15:04:05.000Z"),
		"id":            j.id,
	}
	if j.externalID != "" {
		b["external_id"] = j.externalID
	}
	return b
}

func (s *Sim) handleGetJob(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	j, ok := s.jobs[r.PathValue("id")]
	if !ok {
		s.mu.Unlock()
		writeError(w, http.StatusNotFound, "The job does not exist", "inexistent_job")
		return
	}
	b := s.jobBodyLocked(j)
	switch j.status {
	case statusCompleted:
		b["summary"] = j.summary
		b["percentage_done"] = 100
		b["time_left_seconds"] = 0
	case statusFailed:
		b["status_details"] = "The import job failed"
	default:
		el := time.Since(j.started)
		pct := min(99, int(100*el/max(j.duration, 1)))
		b["percentage_done"] = max(pct, 0)
		b["time_left_seconds"] = max(0, int((j.duration-el+time.Second-1)/time.Second))
	}
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, b)
}

func (s *Sim) handleJobErrors(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	j, ok := s.jobs[r.PathValue("id")]
	var errs []jobUserErrors
	var status string
	if ok {
		errs = slices.Clone(j.errors)
		status = j.status
	}
	s.mu.Unlock()
	switch {
	case !ok:
		writeError(w, http.StatusNotFound, "The job does not exist", "inexistent_job")
	case status == statusFailed && s.opts.FailedJobErrorsObject:
		writeJSON(w, http.StatusOK, map[string]string{"message": "The import job failed"})
	case len(errs) == 0:
		w.WriteHeader(http.StatusNoContent)
	default:
		writeJSON(w, http.StatusOK, errs)
	}
}

// ActiveJobs returns the ids of the jobs still pending or processing,
// sorted.
func (s *Sim) ActiveJobs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ids []string
	for id, j := range s.jobs {
		if j.status == statusPending || j.status == statusProcessing {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return ids
}

// Users returns copies of the stored users in insertion order.
func (s *Sim) Users() []map[string]any {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]any, 0, len(s.order))
	for _, k := range s.order {
		out = append(out, deepCopy(s.users[k].data))
	}
	return out
}

// User returns a copy of the stored user with this email (case-insensitive).
func (s *Sim) User(email string) (map[string]any, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	su, ok := s.users[strings.ToLower(email)]
	if !ok {
		return nil, false
	}
	return deepCopy(su.data), true
}

func deepCopy(m map[string]any) map[string]any {
	b, _ := json.Marshal(m)
	var out map[string]any
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	_ = d.Decode(&out)
	return out
}

// Login checks a password the way Auth0 would for an imported user:
// password_hash with bcrypt, custom_password_hash with auth0verify. A user
// without a hash (or unknown) gets false. On the first successful login
// with a custom_password_hash the hash is replaced by a bcrypt
// password_hash, as Auth0 does (docs/apis/auth0.md, "Known pitfalls", item 2).
func (s *Sim) Login(email, password string) (bool, error) {
	s.mu.Lock()
	su, ok := s.users[strings.ToLower(email)]
	var ph string
	var cph any
	if ok {
		ph, _ = su.data["password_hash"].(string)
		cph = su.data["custom_password_hash"]
	}
	s.mu.Unlock()
	if !ok {
		return false, nil
	}
	if ph != "" {
		err := bcrypt.CompareHashAndPassword([]byte(ph), []byte(password))
		if errors.Is(err, bcrypt.ErrMismatchedHashAndPassword) {
			return false, nil
		}
		if err != nil {
			return false, err
		}
		s.mu.Lock()
		su.loggedIn = true
		s.mu.Unlock()
		return true, nil
	}
	if cph == nil {
		return false, nil
	}
	b, err := json.Marshal(cph)
	if err != nil {
		return false, err
	}
	okPw, err := auth0verify.Verify(b, password)
	if err != nil || !okPw {
		return false, err
	}
	nh, err := bcrypt.GenerateFromPassword([]byte(password), s.opts.RehashCost)
	if err != nil {
		return true, nil
	}
	s.mu.Lock()
	su.loggedIn = true
	delete(su.data, "custom_password_hash")
	su.data["password_hash"] = string(nh)
	s.mu.Unlock()
	return true, nil
}
