package login

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
)

// Settings is the login section of the shared configuration file.
type Settings = stage.LoginSettings

// MaxTimeout bounds login.timeout: an Auth0 action script is stopped after
// about 20 seconds (docs/apis/auth0.md, "Custom database scripts"), and the
// service must answer, even with an error, before its caller gives up.
const MaxTimeout = 20 * time.Second

// minSecretLen is the shortest client secret accepted: a shared secret is
// the caller's only credential unless mutual TLS is on.
const minSecretLen = 16

// Pending states of accounts.login, by the fault code the Gigya client
// gives them (docs/apis/gigya.md, "Login answers").
var pendingStates = []string{gigya.CodePendingVerification, gigya.CodePendingRegistration, gigya.CodePendingPasswordChange, gigya.CodePendingTFA}

// DefaultSettings returns the login section's defaults.
func DefaultSettings() Settings {
	var s Settings
	s.Listen = ":8443"
	s.Timeout = 15 * time.Second
	s.Rate.PerClient = 100
	s.Rate.ClientBurst = 200
	s.Rate.PerIdentifier = 0.05
	s.Rate.IdentifierBurst = 5
	s.Gigya.Rate = 50
	s.Gigya.SearchRate = 5
	s.Gigya.Retries = 2
	s.Gigya.CallTimeout = 5 * time.Second
	s.Gigya.LookupField = "loginIDs.emails"
	s.MigratePending = []string{gigya.CodePendingVerification}
	s.Auth0.Omit = []string{"custom_password_hash", "password_hash"}
	s.LoginRadius.Omit = []string{"Password", "PasswordHash", "PasswordEncryption"}
	// LoginRadius' published codes for a weak password and for one found
	// in a breach; which code Account Create answers for a password its
	// policy refuses is unconfirmed (docs/apis/loginradius.md,
	// "Just-in-time migration").
	s.LoginRadius.PolicyErrorCodes = []int{1216, 1315}
	s.LoginRadius.Lookup.IdentifierField = "identifier"
	s.LoginRadius.Lookup.PasswordField = "password"
	s.LoginRadius.Lookup.ProfileField = "profile"
	return s
}

// Validate reports every problem of the login section, with its key path.
func Validate(s Settings, p *config.Problems) {
	p.Check(s.Listen != "", "login.listen", "is required")
	if !s.PlainHTTP {
		p.Check(s.TLS.CertFile != "", "login.tls.cert_file", "is required: the service receives plaintext passwords (or set login.plain_http behind a proxy that terminates TLS)")
		p.Check(s.TLS.KeyFile != "", "login.tls.key_file", "is required with login.tls.cert_file")
	}
	p.Check(!(s.PlainHTTP && s.TLS.ClientCAFile != ""), "login.tls.client_ca_file", "needs TLS: mutual TLS cannot be checked with login.plain_http")
	p.Check(len(s.Clients) > 0, "login.clients", "at least one client (a name and its secret) is required")
	names := map[string]bool{}
	secrets := map[string]bool{}
	for i, c := range s.Clients {
		key := fmt.Sprintf("login.clients[%d]", i)
		p.Check(config.SubjectToken(c.Name), key+".name", "must be a name without '.', '*', '>' or spaces")
		p.Check(!names[c.Name], key+".name", "is used twice")
		names[c.Name] = true
		p.Check(len(c.Secret) >= minSecretLen, key+".secret", fmt.Sprintf("must be at least %d characters", minSecretLen))
		p.Check(c.Secret == "" || !secrets[c.Secret], key+".secret", "is another client's secret: give each client its own")
		secrets[c.Secret] = true
	}
	p.Check(s.Timeout > 0 && s.Timeout < MaxTimeout, "login.timeout", fmt.Sprintf("must be positive and below %s, the time an Auth0 script gets", MaxTimeout))
	p.Check(s.Rate.PerClient > 0, "login.rate.per_client", "must be positive")
	p.Check(s.Rate.ClientBurst >= 1, "login.rate.client_burst", "must be at least 1")
	p.Check(s.Rate.PerIdentifier > 0, "login.rate.per_identifier", "must be positive")
	p.Check(s.Rate.IdentifierBurst >= 1, "login.rate.identifier_burst", "must be at least 1")
	p.Check(s.Gigya.Rate > 0, "login.gigya.rate", "must be positive")
	p.Check(s.Gigya.SearchRate > 0, "login.gigya.search_rate", "must be positive")
	p.Check(s.Gigya.Retries >= 0, "login.gigya.retries", "must not be negative")
	p.Check(s.Gigya.CallTimeout > 0 && s.Gigya.CallTimeout <= s.Timeout, "login.gigya.call_timeout", "must be positive and at most login.timeout")
	p.Check(validPath(s.Gigya.LookupField), "login.gigya.lookup_field", "must be an account field such as loginIDs.emails")
	for _, st := range s.MigratePending {
		p.Check(slices.Contains(pendingStates, st), "login.migrate_pending", fmt.Sprintf("unknown state %q (known: %s)", st, strings.Join(pendingStates, ", ")))
	}
	lr := s.LoginRadius
	p.Check(lr.APISecret == "" || lr.APIKey != "", "login.loginradius.api_key", "is required with login.loginradius.api_secret")
	p.Check(lr.APIKey == "" || lr.APISecret != "", "login.loginradius.api_secret", "is required with login.loginradius.api_key")
	// Both LoginRadius SDKs require the reset page on Forgot Password
	// (docs/apis/loginradius.md, "Just-in-time migration"): without it the
	// reset the API mode starts for a password the policy refuses would fail
	// only when the first such user logs in.
	p.Check(lr.APIKey == "" || len(lr.PolicyErrorCodes) == 0 || lr.ResetPasswordURL != "", "login.loginradius.reset_password_url",
		"is required with login.loginradius.api_key and policy_error_codes: the password reset the API mode starts links to it")
	p.Check(lr.Lookup.IdentifierField != "", "login.loginradius.lookup.identifier_field", "is required")
	p.Check(lr.Lookup.PasswordField != "" && lr.Lookup.PasswordField != lr.Lookup.IdentifierField, "login.loginradius.lookup.password_field", "is required, and must differ from identifier_field")
}

// validPath accepts dotted field names of letters, digits and underscores.
func validPath(s string) bool {
	if s == "" {
		return false
	}
	part := 0
	for i := 0; i < len(s); i++ {
		switch ch := s[i]; {
		case ch == '.':
			if part == 0 {
				return false
			}
			part = 0
		case ch >= 'a' && ch <= 'z', ch >= 'A' && ch <= 'Z', ch >= '0' && ch <= '9', ch == '_':
			part++
		default:
			return false
		}
	}
	return part > 0
}

// ErrNoEndpoints is returned by New for a mapping target the service has no
// login endpoints for.
var ErrNoEndpoints = errors.New("the login service has endpoints for the targets auth0 and loginradius only")
