package loginradius

import (
	"context"
	"errors"
	"net/http"
	"net/url"

	"github.com/segmentio/encoding/json"
)

// The authentication APIs the login service's API mode calls on the user's
// behalf (docs/apis/loginradius.md, "Account APIs"): they take the API key
// only.

// Login logs a user in with their email and password (POST
// /identity/v2/auth/login) and returns LoginRadius' answer as it came: the
// HTTP status and the body (the access token and the profile, or
// LoginRadius' error for a wrong password or a blocked user). err is for an
// answer that never came, a rate limit or a server error that outlived the
// retries. The password travels in the body only; no error carries it.
func (c *Client) Login(ctx context.Context, email, password string) (int, []byte, error) {
	body, err := json.Marshal(map[string]string{"email": email, "password": password})
	if err != nil {
		return 0, nil, err
	}
	resp, err := c.do(ctx, request{op: "login", method: http.MethodPost, base: c.api, path: "/identity/v2/auth/login", body: body, keyOnly: true})
	if err == nil {
		return http.StatusOK, resp, nil
	}
	var e *Error
	if errors.As(err, &e) && e.Status >= 400 && e.Status < 500 && e.Status != http.StatusTooManyRequests {
		b, _ := json.Marshal(map[string]any{"ErrorCode": e.ErrorCode, "Message": e.Message, "Description": e.Description})
		return e.Status, b, nil
	}
	return 0, nil, err
}

// ForgotPassword has LoginRadius email the user a password-reset link to
// resetURL (POST /identity/v2/auth/password {"email"}), with the email
// template (empty: the default).
func (c *Client) ForgotPassword(ctx context.Context, email, resetURL, template string) error {
	body, err := json.Marshal(map[string]string{"email": email})
	if err != nil {
		return err
	}
	q := url.Values{}
	if resetURL != "" {
		q.Set("resetpasswordurl", resetURL)
	}
	if template != "" {
		q.Set("emailtemplate", template)
	}
	_, err = c.do(ctx, request{op: "forgot password", method: http.MethodPost, base: c.api, path: "/identity/v2/auth/password", query: q, body: body, keyOnly: true})
	return err
}
