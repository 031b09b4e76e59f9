package sink_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
)

// Webhook POSTs each batch to a URL as a JSON array of
// {"id","uid","update","user"}. The receiver stores the users idempotently
// by id (a batch comes again after a crash), applies "update" as an upsert,
// and answers 200 with the users it refused: {"rejected":[{"index":1,
// "code":"invalid_email","reason":"..."}]}.
type Webhook struct {
	URL    string
	Client *http.Client
}

// WebhookOptions are the sink's loader.sink.options.
type WebhookOptions struct {
	URL     string        `yaml:"url" doc:"where batches are POSTed"`
	Timeout time.Duration `yaml:"timeout" doc:"for one batch (default 30s)"`
}

// NewWebhook is the sink's factory, for the loader's registry.
func NewWebhook(_ context.Context, p sink.Params) (sink.Sink, error) {
	o := WebhookOptions{Timeout: 30 * time.Second}
	if err := p.Decode(&o); err != nil {
		return nil, err
	}
	if o.URL == "" {
		return nil, errors.New("loader.sink.options.url: required")
	}
	return &Webhook{URL: o.URL, Client: &http.Client{Timeout: o.Timeout}}, nil
}

type webhookUser struct {
	ID     string          `json:"id"`
	UID    string          `json:"uid"`
	Update bool            `json:"update,omitempty"`
	User   json.RawMessage `json:"user"`
}

// Write sends one batch; the loader acks it when Write returns nil.
func (w *Webhook) Write(ctx context.Context, recs []sink.Record) error {
	batch := make([]webhookUser, len(recs))
	for i, r := range recs {
		batch[i] = webhookUser{ID: r.MsgID, UID: r.UID, Update: r.Update, User: r.Data}
	}
	body, err := json.Marshal(batch) // a copy: the loader reuses r.Data
	if err != nil {
		return fault.Permanent("invalid_json", err) // a user that is not JSON: dead-letter the batch
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		return fault.Permanent("config", err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.Client.Do(req)
	if err != nil {
		return fault.Transient("unavailable", err) // network, timeout: retry later
	}
	defer resp.Body.Close()
	switch s := resp.StatusCode; {
	case s == http.StatusTooManyRequests || s >= 500:
		return fault.Transient("webhook_unavailable", fmt.Errorf("webhook: HTTP %d", s))
	case s != http.StatusOK:
		return fault.Permanent("webhook_refused", fmt.Errorf("webhook: HTTP %d", s))
	}
	var out struct{ Rejected []sink.Rejection }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return fault.Transient("bad_response", fmt.Errorf("webhook: %w", err)) // stored or not: send again
	}
	for _, r := range out.Rejected {
		if r.Index < 0 || r.Index >= len(recs) {
			return fault.Transient("bad_response", fmt.Errorf("webhook: refused index %d of %d", r.Index, len(recs)))
		}
	}
	if len(out.Rejected) > 0 {
		return &sink.RejectedError{Rejections: out.Rejected}
	}
	return nil
}

// BatchLimits keeps a request under the receiver's body limit.
func (w *Webhook) BatchLimits() (maxRecords, maxBytes int) { return 500, 1 << 20 }

// MaxConcurrentWrites lets the loader send four batches at once.
func (w *Webhook) MaxConcurrentWrites() int { return 4 }

// Close has nothing to flush: every Write waited for its answer.
func (w *Webhook) Close(context.Context) error { return nil }

// receiver stands in for the target: it stores users by id, and refuses
// those without an email.
type receiver struct {
	mu    sync.Mutex
	users map[string]string // id → uid
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var batch []webhookUser
	if err := json.NewDecoder(r.Body).Decode(&batch); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var out struct {
		Rejected []sink.Rejection `json:"rejected"`
	}
	rc.mu.Lock()
	defer rc.mu.Unlock()
	for i, u := range batch {
		var p struct{ Email string }
		if json.Unmarshal(u.User, &p) != nil || !strings.Contains(p.Email, "@") {
			out.Rejected = append(out.Rejected, sink.Rejection{Index: i, Code: "invalid_email", Reason: "no valid email"})
			continue
		}
		rc.users[u.ID] = u.UID
	}
	_ = json.NewEncoder(w).Encode(out)
}

func Example() {
	srv := httptest.NewServer(&receiver{users: map[string]string{}})
	defer srv.Close()
	s, err := NewWebhook(context.Background(), sink.Params{Decode: func(v any) error {
		v.(*WebhookOptions).URL = srv.URL // the loader decodes loader.sink.options here
		return nil
	}})
	if err != nil {
		panic(err)
	}
	defer s.Close(context.Background())
	err = s.Write(context.Background(), []sink.Record{
		{UID: "U1", MsgID: "auth0:U1:1700000000000:v1", Data: []byte(`{"email":"ada@example.com"}`)},
		{UID: "U2", MsgID: "auth0:U2:1700000000000:v1", Data: []byte(`{"email":"none"}`)},
	})
	var rej *sink.RejectedError
	if errors.As(err, &rej) {
		fmt.Printf("refused record %d: %s\n", rej.Rejections[0].Index, rej.Rejections[0].Code)
	}
	// Output: refused record 1: invalid_email
}
