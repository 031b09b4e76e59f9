package login

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
)

func validSettings() Settings {
	s := DefaultSettings()
	s.TLS.CertFile, s.TLS.KeyFile = "c.pem", "k.pem"
	s.Clients = []stage.LoginClient{{Name: "auth0", Secret: "0123456789abcdef"}}
	return s
}

func TestValidate(t *testing.T) {
	var p config.Problems
	Validate(validSettings(), &p)
	if err := p.Err(); err != nil {
		t.Fatalf("valid settings: %v", err)
	}
	tests := []struct {
		name   string
		change func(*Settings)
		want   string
	}{
		{"no TLS", func(s *Settings) { s.TLS.CertFile = "" }, "login.tls.cert_file: is required"},
		{"mutual TLS over plain HTTP", func(s *Settings) { s.PlainHTTP, s.TLS.ClientCAFile = true, "ca.pem" }, "login.tls.client_ca_file"},
		{"no client", func(s *Settings) { s.Clients = nil }, "login.clients: at least one client"},
		{"short secret", func(s *Settings) { s.Clients[0].Secret = "short" }, "login.clients[0].secret: must be at least 16"},
		{"shared secret", func(s *Settings) {
			s.Clients = append(s.Clients, stage.LoginClient{Name: "lr", Secret: s.Clients[0].Secret})
		}, "login.clients[1].secret: is another client's secret"},
		{"same name", func(s *Settings) {
			s.Clients = append(s.Clients, stage.LoginClient{Name: "auth0", Secret: "fedcba9876543210"})
		}, "login.clients[1].name: is used twice"},
		{"timeout of Auth0's script", func(s *Settings) { s.Timeout = 20 * time.Second }, "login.timeout: must be positive and below 20s"},
		{"call timeout above the request's", func(s *Settings) { s.Gigya.CallTimeout = time.Minute }, "login.gigya.call_timeout"},
		{"no identifier limit", func(s *Settings) { s.Rate.PerIdentifier = 0 }, "login.rate.per_identifier"},
		{"lookup field", func(s *Settings) { s.Gigya.LookupField = `a = "b"` }, "login.gigya.lookup_field"},
		{"unknown pending state", func(s *Settings) { s.MigratePending = []string{"pending_payment"} }, `login.migrate_pending: unknown state "pending_payment"`},
		{"LoginRadius key without secret", func(s *Settings) { s.LoginRadius.APIKey = "k" }, "login.loginradius.api_secret"},
		{"policy reset without its page", func(s *Settings) {
			s.LoginRadius.APIKey, s.LoginRadius.APISecret, s.LoginRadius.PolicyErrorCodes = "k", "s", []int{1216}
		}, "login.loginradius.reset_password_url: is required"},
		{"lookup names", func(s *Settings) { s.LoginRadius.Lookup.PasswordField = "identifier" }, "login.loginradius.lookup.password_field"},
	}
	for _, tt := range tests {
		s := validSettings()
		tt.change(&s)
		var p config.Problems
		Validate(s, &p)
		if err := p.Err(); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s: %v, want %q", tt.name, err, tt.want)
		}
	}
}

func TestIdentifierLimitsStayBounded(t *testing.T) {
	now := time.Unix(1000, 0)
	l := newIdentifierLimits(1, 2, func() time.Time { return now })
	l.max = 100
	for i := range 1000 {
		if ok, _ := l.allow(fmt.Sprintf("user%d@example.com", i)); !ok {
			t.Fatalf("a first login of user %d was refused", i)
		}
	}
	if n := l.len(); n > l.max {
		t.Fatalf("%d identifiers held, max %d", n, l.max)
	}
	// The key is a keyed hash: two limiters key one identifier differently.
	m := newIdentifierLimits(1, 2, time.Now)
	if l.digest("a@example.com") == m.digest("a@example.com") || l.digest("A@Example.com ") != l.digest("a@example.com") {
		t.Fatal("identifier digests are not keyed per process, or not normalized")
	}
}
