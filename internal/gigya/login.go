package gigya

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

// LoginInclude is the include parameter of Login: the account sections a
// just-in-time migration needs (docs/apis/gigya.md, "accounts.login").
const LoginInclude = "profile,data,loginIDs,emails,identities-all,preferences,subscriptions"

// loginDropped are the fields of an accounts.login answer that Login does
// not return: the response envelope, and the session and tokens the login
// created, which are credentials.
var loginDropped = []string{
	"statusCode", "errorCode", "statusReason", "errorMessage", "errorDetails",
	"callId", "time", "apiVersion", "validationErrors",
	"sessionInfo", "regToken", "id_token", "UIDSignature", "signatureTimestamp",
}

// Login verifies loginID and password with accounts.login (include =
// LoginInclude, targetEnv=mobile so that the session comes back as a token
// rather than cookies) and returns the account as a JSON object, without
// the response envelope, sessionInfo, regToken, id_token or UID signature.
//
// Errors: a wrong loginID or password (and an empty password, refused
// without a call) matches ErrInvalidCredentials; a disabled, locked-out or
// CAPTCHA-guarded account matches ErrAccountDisabled, ErrAccountLocked or
// ErrCaptchaRequired. When Gigya verified the password but the account is
// pending (ErrPending; PasswordVerified reports it), Login returns the
// account fields Gigya sent together with the error. Transient failures
// are retried like every Call. All of them are permanent except the
// transient ones of Call.
//
// Whether a server-side accounts.login leaves a Gigya session that should
// be ended with accounts.logout is UNCONFIRMED (docs/apis/gigya.md,
// "accounts.login"); Login does not log out.
func (c *Client) Login(ctx context.Context, loginID, password string) (json.RawMessage, error) {
	if strings.TrimSpace(loginID) == "" {
		return nil, fault.Permanent(CodeInvalidCredentials, fmt.Errorf("gigya accounts.login: empty loginID: %w", ErrInvalidCredentials))
	}
	if password == "" {
		return nil, fault.Permanent(CodeInvalidCredentials, fmt.Errorf("gigya accounts.login: empty password: %w", ErrInvalidCredentials))
	}
	params := url.Values{
		"loginID":   {loginID},
		"password":  {password},
		"include":   {LoginInclude},
		"targetEnv": {"mobile"},
	}
	body, err := c.call(ctx, "accounts.login", params)
	if err != nil {
		if errors.Is(err, ErrPending) && body != nil {
			if acc, aerr := loginAccount(body); aerr == nil {
				return acc, err
			}
		}
		return nil, err
	}
	acc, err := loginAccount(body)
	if err != nil {
		return nil, fault.Permanent("gigya_decode", fmt.Errorf("gigya accounts.login: decoding the answer: %w", err))
	}
	return acc, nil
}

// loginAccount strips an accounts.login answer down to the account.
func loginAccount(body []byte) (json.RawMessage, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, err
	}
	for _, k := range loginDropped {
		delete(m, k)
	}
	return json.Marshal(m)
}
