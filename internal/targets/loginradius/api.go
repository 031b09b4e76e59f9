package loginradius

import (
	"context"
	"net/http"
	"net/url"
	"strings"

	"github.com/segmentio/encoding/json"
)

// BulkResult is the answer of a bulk upsert ("Bulk upsert": {"Profile":
// {RecordInserted, RecordUpdated, Failed}}).
type BulkResult struct {
	Inserted, Updated int
	Failed            []Failed
}

// Failed is one profile LoginRadius refused in a bulk upsert. The shape of
// LoginRadius' Failed items is not documented: this reads a Uid, an Email
// (an array of {Value} or a string) and the error members, at the top level
// or inside a Profile member, and keeps the item whole in Raw. Uid and Email
// are "" when the item carries none.
type Failed struct {
	Uid, Email  string
	ErrorCode   int
	Message     string
	Description string
	Raw         json.RawMessage
}

// Reason is the item's message for a dead letter.
func (f Failed) Reason() string {
	var parts []string
	for _, s := range []string{f.Message, f.Description} {
		if s != "" && (len(parts) == 0 || parts[0] != s) {
			parts = append(parts, s)
		}
	}
	if len(parts) == 0 {
		s := string(f.Raw)
		if len(s) > 300 {
			s = s[:300] + "…"
		}
		return "LoginRadius refused the profile: " + s
	}
	return strings.Join(parts, ": ")
}

// BulkUpsert sends one bulk upsert request, body being the JSON object
// {"PasswordEncryption": ..., "Profiles": [...]} (built by the caller, who
// sizes it against the 10 MB limit).
func (c *Client) BulkUpsert(ctx context.Context, body []byte) (BulkResult, error) {
	const op = "bulk upsert"
	resp, err := c.do(ctx, request{op: op, method: http.MethodPost, base: c.migration, path: "/v2/bulk/upsert", body: body, bulk: true})
	if err != nil {
		return BulkResult{}, err
	}
	var out struct {
		Profile struct {
			RecordInserted int               `json:"RecordInserted"`
			RecordUpdated  int               `json:"RecordUpdated"`
			Failed         []json.RawMessage `json:"Failed"`
		} `json:"Profile"`
	}
	if err := decode(op, resp, &out); err != nil {
		return BulkResult{}, err
	}
	r := BulkResult{Inserted: out.Profile.RecordInserted, Updated: out.Profile.RecordUpdated}
	for _, raw := range out.Profile.Failed {
		r.Failed = append(r.Failed, parseFailed(raw))
	}
	return r, nil
}

// parseFailed reads one Failed item as leniently as its undocumented shape
// requires.
func parseFailed(raw json.RawMessage) Failed {
	f := Failed{Raw: raw}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		f.Message = s
		return f
	}
	var item struct {
		Uid         string          `json:"Uid"`
		Email       json.RawMessage `json:"Email"`
		ErrorCode   int             `json:"ErrorCode"`
		Message     string          `json:"Message"`
		Description string          `json:"Description"`
		Profile     *struct {
			Uid   string          `json:"Uid"`
			Email json.RawMessage `json:"Email"`
		} `json:"Profile"`
	}
	if json.Unmarshal(raw, &item) != nil {
		return f
	}
	f.Uid, f.ErrorCode, f.Message, f.Description = item.Uid, item.ErrorCode, item.Message, item.Description
	email := item.Email
	if item.Profile != nil {
		if f.Uid == "" {
			f.Uid = item.Profile.Uid
		}
		if len(email) == 0 {
			email = item.Profile.Email
		}
	}
	f.Email = firstEmail(email)
	return f
}

// firstEmail reads an Email member: [{"Value": ...}] or a string.
func firstEmail(raw json.RawMessage) string {
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	var items []struct {
		Value string `json:"Value"`
	}
	if json.Unmarshal(raw, &items) == nil && len(items) > 0 {
		return items[0].Value
	}
	return ""
}

// Profile is a user profile as LoginRadius answers it.
type Profile map[string]any

// Uid is the profile's Uid.
func (p Profile) Uid() string {
	s, _ := p["Uid"].(string)
	return s
}

// CreateAccount creates one user from profile (JSON; a plaintext Password
// may be in it, no hash) through Account Create (POST
// /identity/v2/manage/account), and returns the created profile.
func (c *Client) CreateAccount(ctx context.Context, profile []byte) (Profile, error) {
	const op = "account create"
	resp, err := c.do(ctx, request{op: op, method: http.MethodPost, base: c.api, path: "/identity/v2/manage/account", body: profile})
	if err != nil {
		return nil, err
	}
	var p Profile
	return p, decode(op, resp, &p)
}

// UpdateAccount updates user uid with the members of profile (PUT
// /identity/v2/manage/account/{uid}). A missing user is an error matching
// [ErrNotFound].
func (c *Client) UpdateAccount(ctx context.Context, uid string, profile []byte) error {
	_, err := c.do(ctx, request{op: "account update", method: http.MethodPut, base: c.api,
		path: "/identity/v2/manage/account/" + url.PathEscape(uid), body: profile})
	return err
}

// AccountByUID returns user uid (GET /identity/v2/manage/account/{uid}); a
// missing user is an error matching [ErrNotFound].
func (c *Client) AccountByUID(ctx context.Context, uid string) (Profile, error) {
	const op = "account by uid"
	resp, err := c.do(ctx, request{op: op, method: http.MethodGet, base: c.api, path: "/identity/v2/manage/account/" + url.PathEscape(uid)})
	if err != nil {
		return nil, err
	}
	var p Profile
	return p, decode(op, resp, &p)
}

// AccountByEmail returns the user with email (GET
// /identity/v2/manage/account?email=); none is an error matching
// [ErrNotFound].
func (c *Client) AccountByEmail(ctx context.Context, email string) (Profile, error) {
	const op = "account by email"
	resp, err := c.do(ctx, request{op: op, method: http.MethodGet, base: c.api, path: "/identity/v2/manage/account", query: url.Values{"email": {email}}})
	if err != nil {
		return nil, err
	}
	var p Profile
	return p, decode(op, resp, &p)
}

// EmailExists reports whether a user has email (GET
// /identity/v2/auth/email, {"IsExist": bool}).
func (c *Client) EmailExists(ctx context.Context, email string) (bool, error) {
	const op = "email availability"
	resp, err := c.do(ctx, request{op: op, method: http.MethodGet, base: c.api, path: "/identity/v2/auth/email", query: url.Values{"email": {email}}, keyOnly: true})
	if err != nil {
		return false, err
	}
	var out struct {
		IsExist bool `json:"IsExist"`
	}
	return out.IsExist, decode(op, resp, &out)
}
