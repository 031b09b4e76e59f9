package auth0

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"regexp"
	"strconv"

	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/segmentio/encoding/json"
)

// MaxFileBytes is Auth0's documented size limit of one import file (500 KB).
// Auth0 recommends files under 400 KB.
const MaxFileBytes = 500 * 1024

// Job statuses. Auth0 documents no enum; any other status means still running.
const (
	StatusPending    = "pending"
	StatusProcessing = "processing"
	StatusCompleted  = "completed"
	StatusFailed     = "failed"
	StatusExpired    = "expired"
)

var connectionIDPattern = regexp.MustCompile(`^con_[A-Za-z0-9]{16}$`)

// IsConnectionID reports whether s looks like an Auth0 connection id (con_ + 16 alphanumerics).
func IsConnectionID(s string) bool { return connectionIDPattern.MatchString(s) }

type connection struct {
	ID       string `json:"id"`
	Name     string `json:"name"`
	Strategy string `json:"strategy"`
}

// ConnectionID returns nameOrID unchanged when it is a con_ id; otherwise it
// looks the connection up by name (GET /api/v2/connections?name=..., scope
// read:connections). A missing connection is a permanent error with code
// "connection_not_found".
func (c *Client) ConnectionID(ctx context.Context, nameOrID string) (string, error) {
	if IsConnectionID(nameOrID) {
		return nameOrID, nil
	}
	if nameOrID == "" {
		return "", fault.Permanentf("connection_not_found", "auth0: empty connection name")
	}
	resp, err := c.do(ctx, request{
		op:     "look up connection " + strconv.Quote(nameOrID),
		method: http.MethodGet,
		path:   "/api/v2/connections",
		query:  url.Values{"name": {nameOrID}},
	})
	if err != nil {
		var fe *fault.Error
		if errors.As(err, &fe) && fe.Code == "forbidden" {
			return "", fault.Permanent("forbidden", fmt.Errorf(
				"%w; looking up connection %q by name needs the read:connections scope, or configure its con_ id", err, nameOrID))
		}
		return "", err
	}
	var list []connection
	if err := json.Unmarshal(resp.body, &list); err != nil {
		// With include_totals the API returns an object; accept it too.
		var paged struct {
			Connections []connection `json:"connections"`
		}
		if err2 := json.Unmarshal(resp.body, &paged); err2 != nil {
			return "", fault.Permanent("bad_response", fmt.Errorf("auth0: look up connection %q: decoding response: %w", nameOrID, err))
		}
		list = paged.Connections
	}
	for _, con := range list {
		if con.Name == nameOrID && con.ID != "" {
			return con.ID, nil
		}
	}
	return "", fault.Permanentf("connection_not_found",
		"auth0: connection %q not found (give its con_ id, or check the name and that the M2M application has the read:connections scope)", nameOrID)
}

// ImportRequest is one bulk user-import job.
type ImportRequest struct {
	// ConnectionID is the con_ id of the target database connection.
	ConnectionID string
	// Users is the JSON array file (at most MaxFileBytes).
	Users []byte
	// Upsert updates users that already exist (matched on email).
	Upsert bool
	// ExternalID is echoed in the job status (correlation id).
	ExternalID string
	// SendCompletionEmail emails the tenant owners when the job ends. It is
	// always sent explicitly, so false really disables the email.
	SendCompletionEmail bool
}

// Summary is the outcome of a completed job.
type Summary struct {
	Failed   int `json:"failed"`
	Updated  int `json:"updated"`
	Inserted int `json:"inserted"`
	Total    int `json:"total"`
}

// Job is an import job as returned by Auth0.
type Job struct {
	ID              string   `json:"id"`
	Type            string   `json:"type,omitempty"`
	Status          string   `json:"status"`
	StatusDetails   string   `json:"status_details,omitempty"`
	ConnectionID    string   `json:"connection_id"`
	Connection      string   `json:"connection,omitempty"`
	ExternalID      string   `json:"external_id,omitempty"`
	CreatedAt       string   `json:"created_at"`
	Summary         *Summary `json:"summary,omitempty"`
	PercentageDone  int      `json:"percentage_done,omitempty"`
	TimeLeftSeconds int      `json:"time_left_seconds,omitempty"`
}

// Terminal reports whether the job has stopped (completed, failed or expired).
func (j Job) Terminal() bool {
	switch j.Status {
	case StatusCompleted, StatusFailed, StatusExpired:
		return true
	}
	return false
}

func multipartBody(req ImportRequest) ([]byte, string, error) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", `form-data; name="users"; filename="users.json"`)
	h.Set("Content-Type", "application/json")
	pw, err := w.CreatePart(h)
	if err != nil {
		return nil, "", err
	}
	if _, err := pw.Write(req.Users); err != nil {
		return nil, "", err
	}
	fields := [][2]string{
		{"connection_id", req.ConnectionID},
		{"upsert", strconv.FormatBool(req.Upsert)},
		{"send_completion_email", strconv.FormatBool(req.SendCompletionEmail)},
	}
	if req.ExternalID != "" {
		fields = append(fields, [2]string{"external_id", req.ExternalID})
	}
	for _, f := range fields {
		if err := w.WriteField(f[0], f[1]); err != nil {
			return nil, "", err
		}
	}
	if err := w.Close(); err != nil {
		return nil, "", err
	}
	return buf.Bytes(), w.FormDataContentType(), nil
}

// CreateImport submits a bulk user-import job (multipart POST
// /api/v2/jobs/users-imports, scope create:users) and returns the accepted job.
//
// Errors: all job slots busy (429 "There are 2 active import users jobs")
// matches [ErrJobSlots], transient "job_slots_busy", returned without retrying;
// 413 is permanent "file_too_large"; 400 is permanent with Auth0's message and
// errorCode (usually "invalid_body"); other failures as described in the
// package documentation.
func (c *Client) CreateImport(ctx context.Context, req ImportRequest) (Job, error) {
	if !IsConnectionID(req.ConnectionID) {
		return Job{}, fault.Permanentf("invalid_request",
			"auth0: create import: connection id %q does not match ^con_[A-Za-z0-9]{16}$ (resolve names with ConnectionID)", req.ConnectionID)
	}
	if len(bytes.TrimSpace(req.Users)) == 0 {
		return Job{}, fault.Permanentf("invalid_request", "auth0: create import: empty users file")
	}
	body, ctype, err := multipartBody(req)
	if err != nil {
		return Job{}, fault.Permanent("internal", fmt.Errorf("auth0: create import: building multipart body: %w", err))
	}
	resp, err := c.do(ctx, request{
		op:          "create import",
		method:      http.MethodPost,
		path:        "/api/v2/jobs/users-imports",
		body:        body,
		contentType: ctype,
		jobSlots:    true,
	})
	if err != nil {
		return Job{}, err
	}
	var j Job
	if err := decode("create import", resp.body, &j); err != nil {
		return Job{}, err
	}
	if j.ID == "" {
		return Job{}, fault.Permanentf("bad_response", "auth0: create import: response has no job id")
	}
	return j, nil
}

// Job returns the current state of a job (GET /api/v2/jobs/{id}). An unknown
// job is permanent "not_found" (job data is deleted after 24 hours).
func (c *Client) Job(ctx context.Context, id string) (Job, error) {
	if id == "" {
		return Job{}, fault.Permanentf("invalid_request", "auth0: get job: empty job id")
	}
	resp, err := c.do(ctx, request{
		op:     "get job " + id,
		method: http.MethodGet,
		path:   "/api/v2/jobs/" + url.PathEscape(id),
	})
	if err != nil {
		return Job{}, err
	}
	var j Job
	if err := decode("get job "+id, resp.body, &j); err != nil {
		return Job{}, err
	}
	return j, nil
}

// ErrJobFailed matches (errors.Is) the error WaitJob returns for a job that
// ended as failed or expired; the error is permanent with code "job_failed"
// or "job_expired".
var ErrJobFailed = errors.New("auth0: import job did not complete")

type jobFailedError struct{ msg string }

func (e *jobFailedError) Error() string        { return e.msg }
func (e *jobFailedError) Is(target error) bool { return target == ErrJobFailed }

// WaitJob polls the job, backing off from Config.PollInterval to
// Config.PollMaxInterval, until it is completed, failed or expired; other
// statuses (pending, processing, anything unknown) mean still running. ctx
// bounds the wait. A completed job is returned with a nil error (per-user
// failures are in Summary.Failed and JobErrors); a failed or expired job is
// returned together with a permanent error matching [ErrJobFailed].
func (c *Client) WaitJob(ctx context.Context, id string) (Job, error) {
	interval := c.cfg.PollInterval
	for {
		j, err := c.Job(ctx, id)
		if err != nil {
			return j, err
		}
		switch j.Status {
		case StatusCompleted:
			return j, nil
		case StatusFailed, StatusExpired:
			msg := fmt.Sprintf("auth0: import job %s %s", id, j.Status)
			if j.StatusDetails != "" {
				msg += ": " + j.StatusDetails
			}
			return j, fault.Permanent("job_"+j.Status, &jobFailedError{msg: msg})
		}
		c.log.DebugContext(ctx, "auth0: job still running", "job", id, "status", j.Status,
			"percentage_done", j.PercentageDone, "next_poll", interval)
		if err := c.sleep(ctx, interval); err != nil {
			return j, fmt.Errorf("auth0: waiting for job %s (last status %q): %w", id, j.Status, err)
		}
		interval = min(interval*3/2, c.cfg.PollMaxInterval)
	}
}

// ErrorDetail is one problem with one user of an import file.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Path    string `json:"path,omitempty"`
}

// UserError is one user that failed in an import job, as provided in the file
// (sensitive fields redacted by Auth0 as "*****").
type UserError struct {
	User   map[string]any `json:"user"`
	Errors []ErrorDetail  `json:"errors"`
}

// JobErrors returns the users that failed in a job (GET
// /api/v2/jobs/{id}/errors, scopes create:users and read:users). A 204 or an
// empty body returns nil, nil. When Auth0 answers with an object instead of an
// array (a job-level failure), that is returned as a permanent error with code
// "job_failed" matching [ErrJobFailed].
func (c *Client) JobErrors(ctx context.Context, id string) ([]UserError, error) {
	if id == "" {
		return nil, fault.Permanentf("invalid_request", "auth0: get job errors: empty job id")
	}
	op := "get job errors " + id
	resp, err := c.do(ctx, request{
		op:     op,
		method: http.MethodGet,
		path:   "/api/v2/jobs/" + url.PathEscape(id) + "/errors",
	})
	if err != nil {
		return nil, err
	}
	body := bytes.TrimSpace(resp.body)
	if resp.status == http.StatusNoContent || len(body) == 0 || string(body) == "null" {
		return nil, nil
	}
	switch body[0] {
	case '[':
		var out []UserError
		if err := decode(op, body, &out); err != nil {
			return nil, err
		}
		return out, nil
	case '{':
		var obj map[string]any
		if err := decode(op, body, &obj); err != nil {
			return nil, err
		}
		msg := ""
		for _, k := range []string{"message", "status_details", "error", "status"} {
			if s, ok := obj[k].(string); ok && s != "" {
				msg = s
				break
			}
		}
		if msg == "" {
			msg, _ = errorMessage(body)
		}
		return nil, fault.Permanent("job_failed", &jobFailedError{msg: fmt.Sprintf("auth0: job %s failed: %s", id, c.redact(msg))})
	default:
		return nil, fault.Permanentf("bad_response", "auth0: %s: unexpected response body", op)
	}
}
