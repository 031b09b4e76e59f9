package auth0

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

// tokenEarly is how long before expiry a cached token is replaced.
const tokenEarly = time.Minute

type tokenResponse struct {
	AccessToken string `json:"access_token"`
	TokenType   string `json:"token_type"`
	ExpiresIn   int64  `json:"expires_in"`
}

// token returns a cached Management API token or fetches a new one with the
// client-credentials grant. Concurrent callers share one fetch.
func (c *Client) token(ctx context.Context) (string, error) {
	c.tokMu.Lock()
	defer c.tokMu.Unlock()
	if c.tok != "" && c.now().Before(c.tokExp) {
		return c.tok, nil
	}
	form := url.Values{
		"grant_type":    {"client_credentials"},
		"client_id":     {c.cfg.ClientID},
		"client_secret": {c.cfg.ClientSecret},
		"audience":      {c.cfg.Audience},
	}
	resp, err := c.do(ctx, request{
		op:          "get token",
		method:      http.MethodPost,
		path:        "/oauth/token",
		body:        []byte(form.Encode()),
		contentType: "application/x-www-form-urlencoded",
		noAuth:      true,
	})
	if err != nil {
		var fe *fault.Error
		if errors.As(err, &fe) && fe.Kind == fault.KindPermanent {
			// 401/403 from /oauth/token: wrong credentials or an application not
			// authorised for the audience. Never include the secret.
			return "", fault.Permanent("auth0_credentials", fmt.Errorf(
				"%w (check ClientID/ClientSecret and that the application is authorised for audience %q)", err, c.cfg.Audience))
		}
		return "", err
	}
	var tr tokenResponse
	if err := decode("get token", resp.body, &tr); err != nil {
		return "", err
	}
	if tr.AccessToken == "" {
		return "", fault.Permanentf("bad_response", "auth0: get token: response has no access_token")
	}
	life := time.Duration(tr.ExpiresIn) * time.Second
	if life <= 0 {
		life = time.Hour
	}
	if life > 2*tokenEarly {
		life -= tokenEarly
	} else {
		life /= 2
	}
	c.tok = tr.AccessToken
	c.tokSeen.Store(&tr.AccessToken)
	c.tokExp = c.now().Add(life)
	return c.tok, nil
}

// invalidateToken drops the cached token if it is still the one that failed.
func (c *Client) invalidateToken(tok string) {
	c.tokMu.Lock()
	defer c.tokMu.Unlock()
	if c.tok == tok {
		c.tok = ""
		c.tokExp = time.Time{}
	}
}
