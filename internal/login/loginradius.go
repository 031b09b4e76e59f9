package login

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
)

// LoginRadius is what the API mode needs of LoginRadius' API (an adapter
// of internal/targets/loginradius; docs/apis/loginradius.md).
type LoginRadius interface {
	// EmailExists reports whether LoginRadius holds a user with email
	// (Check Email Availability).
	EmailExists(ctx context.Context, email string) (bool, error)
	// CreateAccount creates a user (Account Create) from profile, a JSON
	// object whose Password, when present, is the password in clear.
	CreateAccount(ctx context.Context, profile []byte) error
	// Login logs the user in (Login by Email) and returns LoginRadius'
	// answer as it came: its HTTP status and body (the access token and
	// the profile, or LoginRadius' error). err is for an answer that never
	// came or a server error.
	Login(ctx context.Context, email, password string) (status int, body json.RawMessage, err error)
	// ForgotPassword makes LoginRadius email the user a password-reset
	// link to resetURL, with the email template (empty: the default).
	ForgotPassword(ctx context.Context, email, resetURL, template string) error
}

// LoginRadiusError is an error answer of LoginRadius: the adapter's errors
// implement it, so that the service can read the ErrorCode.
type LoginRadiusError interface {
	error
	LoginRadiusCode() int
}

// lrLookup is POST /loginradius/lookup, the endpoint of an Orchestration
// workflow's External Identity Lookup node: the identifier and the
// password the user typed (under login.loginradius.lookup's field names)
// → Gigya's login → the mapped profile, without the bulk password hash,
// for the workflow to create the user with the password it holds. The
// node's request and answer are not published by LoginRadius: every name
// is a setting (docs/apis/loginradius.md, "External Identity Lookup").
func (s *Service) lrLookup(ctx context.Context, c *call, body []byte) (int, any, *failure) {
	var in map[string]json.RawMessage
	if err := json.Unmarshal(body, &in); err != nil {
		return 0, nil, fail(outBadRequest, "the body is not a JSON object")
	}
	look := s.settings.LoginRadius.Lookup
	var identifier, password string
	if json.Unmarshal(in[look.IdentifierField], &identifier) != nil || json.Unmarshal(in[look.PasswordField], &password) != nil ||
		strings.TrimSpace(identifier) == "" || password == "" {
		return 0, nil, fail(outBadRequest, look.IdentifierField+" and "+look.PasswordField+" are required strings")
	}
	user, f := s.migrate(ctx, c, identifier, password)
	if f != nil {
		return 0, nil, f
	}
	profile := without(user, s.lrOmit)
	if look.ProfileField == "" {
		return http.StatusOK, result{outMigrated, profile}, nil
	}
	return http.StatusOK, result{outMigrated, map[string]any{look.ProfileField: profile}}, nil
}

// resetAnswer is the API mode's answer for a user created without the
// password LoginRadius' policy refused.
type resetAnswer struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// lrLogin is POST /loginradius/login {"identifier", "password"}, the API
// mode of LoginRadius' Gigya guide: a user LoginRadius holds logs in
// there; another is logged in at Gigya, created with Account Create (the
// mapped profile and the typed password) and logged in at LoginRadius,
// whose answer is returned as it came. A password the tenant's policy
// refuses (login.loginradius.policy_error_codes) creates the user without
// it and starts a password reset: 202 {"status":"password_reset_required"}.
func (s *Service) lrLogin(ctx context.Context, c *call, body []byte) (int, any, *failure) {
	var in credentials
	if err := decodeStrict(body, &in); err != nil {
		return 0, nil, fail(outBadRequest, err.Error())
	}
	email := strings.TrimSpace(in.Identifier)
	if email == "" || in.Password == "" {
		return 0, nil, fail(outBadRequest, "identifier and password are required")
	}
	exists, err := s.lr.EmailExists(ctx, email)
	if err != nil {
		return 0, nil, s.lrFailure(ctx, err, in.Password)
	}
	if exists {
		return s.lrAnswer(ctx, email, in.Password, outExisting)
	}
	acc, f := s.verify(ctx, c, email, in.Password)
	if f != nil {
		return 0, nil, f
	}
	user, f := s.mapped(acc)
	if f != nil {
		return 0, nil, f
	}
	profile := without(user, s.lrOmit)
	profile["Password"] = in.Password
	reset := false
	err = s.lrCreate(ctx, profile)
	if code, ok := lrCode(err); ok && slices.Contains(s.settings.LoginRadius.PolicyErrorCodes, code) {
		// LoginRadius' guide: create the user without the password its
		// policy refuses, and have them reset it.
		delete(profile, "Password")
		reset = true
		err = s.lrCreate(ctx, profile)
	}
	if err != nil {
		// Another request may have created the user meanwhile.
		if again, aerr := s.lr.EmailExists(ctx, email); aerr != nil || !again {
			return 0, nil, s.lrFailure(ctx, err, in.Password)
		}
	}
	if err := s.publish(ctx, acc); err != nil {
		// LoginRadius holds the user now: the login goes on, and the
		// missing record is logged and counted (gm_login_published_total).
		s.log.Error("a user created in LoginRadius at login is not recorded: the bulk load may write it again", "uid", uidOf(acc), "err", err)
	}
	s.log.Info("user migrated at login", "uid", uidOf(acc), "client", c.client, "password_reset", reset)
	if reset {
		if err := s.lr.ForgotPassword(ctx, email, s.settings.LoginRadius.ResetPasswordURL, s.settings.LoginRadius.ResetTemplate); err != nil {
			s.log.Warn("password reset not started for a user created without the refused password", "uid", uidOf(acc), "err", scrub(err.Error(), in.Password))
		}
		return http.StatusAccepted, result{outMigratedReset, resetAnswer{Status: "password_reset_required",
			Message: "the account is migrated; the password does not meet the password policy: a reset email was sent"}}, nil
	}
	return s.lrAnswer(ctx, email, in.Password, outMigrated)
}

// lrCreate sends Account Create.
func (s *Service) lrCreate(ctx context.Context, profile map[string]any) error {
	b, err := json.Marshal(profile)
	if err != nil {
		return fault.Permanent("encode_failed", errors.New("the profile cannot be encoded"))
	}
	return s.lr.CreateAccount(ctx, b)
}

// lrAnswer logs the user in at LoginRadius and answers with its answer.
func (s *Service) lrAnswer(ctx context.Context, email, password, outcome string) (int, any, *failure) {
	status, body, err := s.lr.Login(ctx, email, password)
	if err != nil {
		return 0, nil, s.lrFailure(ctx, err, password)
	}
	if status != http.StatusOK && outcome == outExisting {
		outcome = outWrongCreds
	}
	return status, result{outcome, body}, nil
}

// lrFailure turns a LoginRadius error into the request's outcome; its text
// never carries the password (scrubbed however the error was worded).
func (s *Service) lrFailure(ctx context.Context, err error, password string) *failure {
	_, code := fault.Classify(err)
	switch {
	case errors.Is(err, context.DeadlineExceeded) || ctx.Err() != nil:
		return fail(outTimeout, "LoginRadius")
	case fault.IsTransient(err):
		return fail(outUnavailable, "LoginRadius "+code)
	}
	detail := "LoginRadius " + code
	if c, ok := lrCode(err); ok {
		detail = "LoginRadius ErrorCode " + strconv.Itoa(c)
	}
	s.log.Warn("LoginRadius refused a user migrated at login", "err", scrub(err.Error(), password))
	return fail(outTargetRefused, detail)
}

// lrCode is the LoginRadius ErrorCode of err.
func lrCode(err error) (int, bool) {
	var le LoginRadiusError
	if err == nil || !errors.As(err, &le) {
		return 0, false
	}
	return le.LoginRadiusCode(), true
}

// scrub removes secret from text: an error's wording is not ours to trust.
func scrub(text, secret string) string {
	if len(secret) < 3 {
		return text
	}
	return strings.ReplaceAll(text, secret, "[REDACTED]")
}
