package login

import (
	"context"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"

	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/targets/loginradius"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/lrsim"
)

// fakeLR is an in-memory LoginRadius for the API mode's flow (the
// simulator of internal/testkit checks the same flow end to end).
type fakeLR struct {
	mu      sync.Mutex
	users   map[string]map[string]any // lower-cased email → profile, with Password
	refuse  func(password string) bool
	resets  []string
	creates int
}

type fakeLRError struct{ code int }

func (e *fakeLRError) Error() string        { return "loginradius: ErrorCode " + itoa(e.code) }
func (e *fakeLRError) LoginRadiusCode() int { return e.code }

func itoa(n int) string { b, _ := json.Marshal(n); return string(b) }

func (l *fakeLR) EmailExists(_ context.Context, email string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.users[strings.ToLower(email)] != nil, nil
}

func (l *fakeLR) CreateAccount(_ context.Context, profile []byte) error {
	var p map[string]any
	if err := json.Unmarshal(profile, &p); err != nil {
		return err
	}
	if pw, ok := p["Password"].(string); ok && l.refuse != nil && l.refuse(pw) {
		return &fakeLRError{1101}
	}
	emails, _ := p["Email"].([]any)
	email := strings.ToLower(emails[0].(map[string]any)["Value"].(string))
	l.mu.Lock()
	defer l.mu.Unlock()
	l.creates++
	if l.users[email] != nil {
		return &fakeLRError{936}
	}
	l.users[email] = p
	return nil
}

func (l *fakeLR) Login(_ context.Context, email, password string) (int, json.RawMessage, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	u := l.users[strings.ToLower(email)]
	if u == nil || u["Password"] != password {
		return http.StatusForbidden, json.RawMessage(`{"ErrorCode":1200,"Message":"The provided email or password is incorrect"}`), nil
	}
	return http.StatusOK, json.RawMessage(`{"access_token":"tok-` + u["Uid"].(string) + `","Profile":{"Uid":"` + u["Uid"].(string) + `"}}`), nil
}

func (l *fakeLR) ForgotPassword(_ context.Context, email, _, _ string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.resets = append(l.resets, email)
	return nil
}

func lrMapping(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../../configs/loginradius.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestLoginRadiusAPIMode: a user LoginRadius does not hold is logged in at
// Gigya, created with the typed password and the mapped profile (without
// the bulk password hash), logged in at LoginRadius, whose answer comes
// back; the next login goes to LoginRadius alone; a password the policy
// refuses creates the user without it and starts a reset.
func TestLoginRadiusAPIMode(t *testing.T) {
	lr := &fakeLR{users: map[string]map[string]any{}, refuse: func(pw string) bool { return strings.HasPrefix(pw, "refused") }}
	f := newFixture(t, fixtureOptions{mapping: lrMapping(t), lr: lr, settings: func(s *Settings) { s.LoginRadius.PolicyErrorCodes = []int{1101} }})
	us := f.users(t, 3)
	u := us[0]
	status, body, _ := f.post(t, "/loginradius/login", testSecret, credentials{Identifier: u.email, Password: u.password + "x"})
	if status != 403 || body["error"] != "wrong_credentials" || lr.creates != 0 {
		t.Fatalf("wrong password: %d %v, %d creates", status, body, lr.creates)
	}
	status, body, _ = f.post(t, "/loginradius/login", testSecret, credentials{Identifier: u.email, Password: u.password})
	if status != 200 || body["access_token"] != "tok-"+u.uid {
		t.Fatalf("migration: %d %v", status, body)
	}
	created := lr.users[strings.ToLower(u.email)]
	if created["Password"] != u.password || created["Uid"] != u.uid || created["PasswordHash"] != nil || created["PasswordEncryption"] != nil {
		t.Fatalf("created %v", created)
	}
	m, err := f.top.Raw.GetLastMsgForSubject(context.Background(), "gigya.accounts.s1")
	if err != nil || m.Header.Get(message.HdrLoginMigrated) != "loginradius" || m.Header.Get(message.HdrUID) != u.uid {
		t.Fatalf("published %v %v", m, err)
	}
	// Its next login is LoginRadius' alone: no Gigya call, no record.
	logins := f.sim.Stats().Logins
	status, body, _ = f.post(t, "/loginradius/login", testSecret, credentials{Identifier: u.email, Password: u.password})
	if status != 200 || f.sim.Stats().Logins != logins || f.svc.Totals().Published != 1 {
		t.Fatalf("second login: %d %v; Gigya logins %d → %d", status, body, logins, f.sim.Stats().Logins)
	}
	status, body, _ = f.post(t, "/loginradius/login", testSecret, credentials{Identifier: u.email, Password: "nope-nope"})
	if status != 403 || body["ErrorCode"] == nil {
		t.Fatalf("wrong password at LoginRadius: %d %v", status, body)
	}

	// A password the policy refuses.
	v := us[1]
	f.setPassword(t, v.uid, "refused-short")
	status, body, _ = f.post(t, "/loginradius/login", testSecret, credentials{Identifier: v.email, Password: "refused-short"})
	if status != 202 || body["status"] != "password_reset_required" {
		t.Fatalf("policy: %d %v", status, body)
	}
	if c := lr.users[strings.ToLower(v.email)]; c == nil || c["Password"] != nil || len(lr.resets) != 1 || lr.resets[0] != v.email {
		t.Fatalf("created %v, resets %v", c, lr.resets)
	}
	if f.svc.Totals().Published != 2 {
		t.Fatalf("totals %+v", f.svc.Totals())
	}
}

// setPassword gives an account of the simulator an unsalted md5 hash of pw.
func (f *fixture) setPassword(t *testing.T, uid, pw string) {
	t.Helper()
	if err := f.sim.Update(uid, func(a map[string]any) {
		a["password"] = map[string]any{"hash": md5b64(pw), "hashSettings": map[string]any{"algorithm": "md5", "rounds": 1}}
	}); err != nil {
		t.Fatal(err)
	}
}

// TestLoginRadiusLookup: the External Identity Lookup node's endpoint
// answers the mapped profile (no password, no hash) under the configured
// field names, and records the user as migrated at login.
func TestLoginRadiusLookup(t *testing.T) {
	f := newFixture(t, fixtureOptions{mapping: lrMapping(t), settings: func(s *Settings) {
		s.LoginRadius.Lookup.IdentifierField, s.LoginRadius.Lookup.PasswordField, s.LoginRadius.Lookup.ProfileField = "Email", "Password", ""
	}})
	u := f.users(t, 1)[0]
	if status, _, _ := f.post(t, "/loginradius/login", testSecret, credentials{Identifier: u.email, Password: u.password}); status != 404 {
		t.Fatalf("the API mode answers %d without LoginRadius credentials", status)
	}
	status, body, _ := f.post(t, "/loginradius/lookup", testSecret, map[string]string{"Email": u.email, "Password": u.password + "x"})
	if status != 403 || body["error"] != "wrong_credentials" {
		t.Fatalf("wrong password: %d %v", status, body)
	}
	status, body, _ = f.post(t, "/loginradius/lookup", testSecret, map[string]string{"Email": u.email, "Password": u.password})
	if status != 200 || body["Uid"] != u.uid || body["Password"] != nil || body["Email"] == nil {
		t.Fatalf("lookup: %d %v", status, body)
	}
	b, _ := json.Marshal(body)
	if strings.Contains(string(b), u.password) {
		t.Fatal("the password is in the answer")
	}
	if f.svc.Totals().Published != 1 {
		t.Fatalf("totals %+v", f.svc.Totals())
	}
	if status, _, _ := f.post(t, "/auth0/login", testSecret, credentials{Identifier: u.email, Password: u.password}); status != 404 {
		t.Fatalf("an Auth0 endpoint answers %d for a LoginRadius mapping", status)
	}
}

// TestLoginRadiusAPIModeAgainstTheSimulator runs the API mode with the
// LoginRadius client against the LoginRadius simulator: a Gigya user is
// created there with the password they typed and then logs in there with
// it, without the service; a password the tenant's policy refuses creates
// the user without it and starts a reset.
func TestLoginRadiusAPIModeAgainstTheSimulator(t *testing.T) {
	sim := lrsim.New(lrsim.Options{BcryptCost: 4, MinPasswordLength: 6})
	base, stop, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	c, err := loginradius.NewClient(loginradius.Config{APIKey: sim.APIKey(), APISecret: sim.APISecret(), APIURL: base, AllowHTTP: true, MaxRetries: 1})
	if err != nil {
		t.Fatal(err)
	}
	f := newFixture(t, fixtureOptions{mapping: lrMapping(t), lr: NewLoginRadius(c)})
	us := f.users(t, 2)
	u := us[0]
	// The sample's passwords can be shorter than the policy's 6 characters.
	u.password = "Zebra-Crossing 42"
	f.setPassword(t, u.uid, u.password)
	status, body, _ := f.post(t, "/loginradius/login", testSecret, credentials{Identifier: u.email, Password: u.password})
	if status != 200 || body["access_token"] == nil || body["Profile"].(map[string]any)["Uid"] != u.uid {
		t.Fatalf("migration: %d %v", status, body)
	}
	if ok, err := sim.Login(u.email, u.password); err != nil || !ok {
		t.Fatalf("the user does not log in at LoginRadius with their password: %v %v", ok, err)
	}
	if ok, _ := sim.Login(u.email, u.password+"x"); ok {
		t.Fatal("LoginRadius takes a wrong password")
	}
	stored, _ := sim.User(u.uid)
	if stored["PasswordHash"] != nil || stored["Password"] != nil || stored["Email"] == nil {
		t.Fatalf("stored profile %v", stored)
	}
	if sim.Stats().Creates != 1 {
		t.Fatalf("stats %+v", sim.Stats())
	}

	// A password the tenant's policy refuses (shorter than 6).
	v := us[1]
	f.setPassword(t, v.uid, "abc")
	status, body, _ = f.post(t, "/loginradius/login", testSecret, credentials{Identifier: v.email, Password: "abc"})
	if status != 202 || body["status"] != "password_reset_required" {
		t.Fatalf("policy: %d %v", status, body)
	}
	if _, ok := sim.ResetToken(v.email); !ok {
		t.Fatal("no reset was started")
	}
	if ok, _ := sim.Login(v.email, "abc"); ok {
		t.Fatal("the refused password logs in")
	}
	if f.svc.Totals().Published != 2 {
		t.Fatalf("totals %+v", f.svc.Totals())
	}
}
