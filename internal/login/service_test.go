package login

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/configs"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
)

// TestAuth0LoginMigratesWithTheBulkProfile: the right password answers the
// profile the bulk load would import for the account (without its password
// hash), and the account is published marked as migrated at login, with no
// password in it.
func TestAuth0LoginMigratesWithTheBulkProfile(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	for _, u := range f.users(t, 3) {
		status, body, _ := f.post(t, "/auth0/login", testSecret, credentials{Identifier: u.email, Password: u.password})
		if status != http.StatusOK {
			t.Fatalf("%s: %d %v", u.uid, status, body)
		}
		got := body["profile"].(map[string]any)
		// Gigya bumps lastLogin at the login: the bulk mapping of the
		// account as it is now.
		if want := f.bulkProfile(t, u.uid); canonical(t, got) != canonical(t, want) {
			t.Fatalf("%s: profile\n%s\nwant the bulk mapping\n%s", u.uid, canonical(t, got), canonical(t, want))
		}
		if got["user_id"] != u.uid || got["custom_password_hash"] != nil {
			t.Fatalf("%s: profile %v", u.uid, got)
		}
		m, err := f.top.Raw.GetLastMsgForSubject(context.Background(), "gigya.accounts.s1")
		if err != nil {
			t.Fatal(err)
		}
		h := m.Header
		if h.Get(message.HdrLoginMigrated) != "auth0" || h.Get(message.HdrUID) != u.uid || h.Get(message.HdrRun) != "login-test" ||
			h.Get(message.HdrSite) != "s1" || !strings.HasPrefix(h.Get(message.HdrMsgID), "login:s1:"+u.uid+":") || h.Get(message.HdrLastUpdated) == "" {
			t.Fatalf("%s: published headers %v", u.uid, h)
		}
		var acc map[string]any
		if err := json.Unmarshal(m.Data, &acc); err != nil || acc["UID"] != u.uid || acc["password"] != nil || acc["sessionInfo"] != nil {
			t.Fatalf("%s: published account %s", u.uid, m.Data)
		}
		if strings.Contains(string(m.Data), u.password) {
			t.Fatalf("%s: the typed password is in the published account", u.uid)
		}
	}
	if tot := f.svc.Totals(); tot.Published != 3 || tot.Outcomes[outMigrated] != 3 {
		t.Fatalf("totals %+v", tot)
	}
}

func TestAuth0LoginRefusals(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	us := f.users(t, 3)
	check := func(name string, status int, body map[string]any, wantStatus int, wantErr string, retryable bool) {
		t.Helper()
		if status != wantStatus || body["error"] != wantErr || body["retryable"] != retryable {
			t.Errorf("%s: %d %v, want %d %s (retryable %t)", name, status, body, wantStatus, wantErr, retryable)
		}
	}
	status, body, _ := f.post(t, "/auth0/login", testSecret, credentials{Identifier: us[0].email, Password: us[0].password + "x"})
	check("wrong password", status, body, 403, "wrong_credentials", false)
	status, body, _ = f.post(t, "/auth0/login", testSecret, credentials{Identifier: "nobody@example.com", Password: "whatever-1"})
	check("unknown user (Gigya answers 403042)", status, body, 403, "wrong_credentials", false)

	if err := f.sim.Update(us[1].uid, func(a map[string]any) { a["isActive"] = false }); err != nil {
		t.Fatal(err)
	}
	status, body, _ = f.post(t, "/auth0/login", testSecret, credentials{Identifier: us[1].email, Password: us[1].password})
	check("disabled", status, body, 403, "account_disabled", false)

	for range gigyasim.DefaultLockoutAfter {
		f.post(t, "/auth0/login", testSecret, credentials{Identifier: us[2].email, Password: "wrong-password"})
	}
	status, body, _ = f.post(t, "/auth0/login", testSecret, credentials{Identifier: us[2].email, Password: us[2].password})
	check("locked", status, body, 423, "account_locked", false)
	if tot := f.svc.Totals(); tot.Published != 0 {
		t.Fatalf("published %d accounts of refused logins", tot.Published)
	}
	metrics := f.metrics(t)
	for _, want := range []string{`value:"wrong_credentials"`, `value:"account_locked"`, `value:"account_disabled"`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("no gm_login_requests_total{outcome=%s}", want)
		}
	}
}

// TestPendingVerification: Gigya verified the password of an account whose
// email is not verified (206002): migrated by default, with the account
// read again since the pending answer does not carry it; refused when
// login.migrate_pending does not list the state.
func TestPendingVerification(t *testing.T) {
	for _, migrate := range []bool{true, false} {
		f := newFixture(t, fixtureOptions{sim: gigyasim.Options{Accounts: 300, Seed: 11, RequireVerification: true}, settings: func(s *Settings) {
			if !migrate {
				s.MigratePending = nil
			}
		}})
		u := f.users(t, 1)[0]
		if err := f.sim.Update(u.uid, func(a map[string]any) { a["isVerified"] = false }); err != nil {
			t.Fatal(err)
		}
		status, body, _ := f.post(t, "/auth0/login", testSecret, credentials{Identifier: u.email, Password: u.password})
		switch {
		case migrate && (status != 200 || body["profile"].(map[string]any)["email_verified"] != false):
			t.Fatalf("migrate pending: %d %v", status, body)
		case migrate && canonical(t, body["profile"]) != canonical(t, f.bulkProfile(t, u.uid)):
			t.Fatalf("pending profile %v, want the bulk one", body["profile"])
		case !migrate && (status != 403 || body["error"] != "pending" || !strings.Contains(body["message"].(string), "pending_verification")):
			t.Fatalf("refuse pending: %d %v", status, body)
		}
	}
}

func TestCallerAuthenticationAndLimits(t *testing.T) {
	f := newFixture(t, fixtureOptions{settings: func(s *Settings) {
		s.Rate.PerIdentifier, s.Rate.IdentifierBurst = 0.001, 2
		s.Rate.PerClient, s.Rate.ClientBurst = 0.001, 8
	}})
	us := f.users(t, 2)
	for _, secret := range []string{"", "wrong-secret-0123456789", strings.ToUpper(testSecret), testSecret + "x", "Basic " + testSecret} {
		if status, body, _ := f.post(t, "/auth0/login", secret, credentials{Identifier: us[0].email, Password: us[0].password}); status != 401 || body["error"] != "unauthorized" {
			t.Errorf("secret %q: %d %v", secret, status, body)
		}
	}
	resp, err := http.Get(f.url + "/auth0/login")
	if err != nil || resp.StatusCode != http.StatusMethodNotAllowed {
		t.Fatalf("GET: %v %v", resp, err)
	}
	resp.Body.Close()
	if status, body, _ := f.post(t, "/auth0/login", testSecret, map[string]any{"identifier": us[0].email, "password": "x", "extra": 1}); status != 400 {
		t.Errorf("unknown field: %d %v", status, body)
	}
	if status, _, _ := f.post(t, "/auth0/login", testSecret, map[string]any{"identifier": us[0].email}); status != 400 {
		t.Errorf("no password: %d", status)
	}
	// Two Gigya logins for one identifier, then 429; another identifier
	// still logs in; the case and spaces of an email make no difference.
	for i := range 2 {
		if status, body, _ := f.post(t, "/auth0/login", testSecret, credentials{Identifier: us[0].email, Password: "wrong-" + string(rune('a'+i))}); status != 403 {
			t.Fatalf("attempt %d: %d %v", i, status, body)
		}
	}
	status, body, h := f.post(t, "/auth0/login", testSecret, credentials{Identifier: " " + strings.ToUpper(us[0].email), Password: us[0].password})
	if status != 429 || body["error"] != "rate_limited" || body["retryable"] != true || h.Get("Retry-After") == "" {
		t.Fatalf("third attempt: %d %v %v", status, body, h)
	}
	if status, body, _ := f.post(t, "/auth0/login", testSecret, credentials{Identifier: us[1].email, Password: us[1].password}); status != 200 {
		t.Fatalf("another identifier: %d %v", status, body)
	}
	// The client's own budget (8, three of them taken above by the
	// 400s... every authenticated request counts).
	limited := 0
	for range 8 {
		if status, _, _ := f.post(t, "/auth0/get_user", testSecret, map[string]string{"identifier": us[1].email}); status == 429 {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("the client was never rate-limited")
	}
	if n := f.svc.identifiers.len(); n != 2 {
		t.Fatalf("the identifier limiter holds %d keys, want 2", n)
	}
}

func TestGigyaOutageAndSlowness(t *testing.T) {
	f := newFixture(t, fixtureOptions{settings: func(s *Settings) { s.Timeout = 600 * time.Millisecond; s.Gigya.CallTimeout = 500 * time.Millisecond }})
	u := f.users(t, 1)[0]
	f.sim.Inject(gigyasim.HTTP500, -1, gigyasim.OnLogin())
	status, body, _ := f.post(t, "/auth0/login", testSecret, credentials{Identifier: u.email, Password: u.password})
	if status != 503 || body["error"] != "unavailable" || body["retryable"] != true {
		t.Fatalf("Gigya down: %d %v", status, body)
	}
	f.sim.ClearFaults()
	f.sim.Inject(gigyasim.Slow, -1, gigyasim.OnLogin(), gigyasim.WithDelay(2*time.Second))
	start := time.Now()
	status, body, _ = f.post(t, "/auth0/login", testSecret, credentials{Identifier: u.email, Password: u.password})
	if status != 504 || body["error"] != "timeout" || body["retryable"] != true {
		t.Fatalf("Gigya slow: %d %v", status, body)
	}
	if took := time.Since(start); took > 1500*time.Millisecond {
		t.Fatalf("answered after %s, login.timeout is 600ms", took)
	}
	f.sim.ClearFaults()
	f.sim.Inject(gigyasim.RateLimited, -1, gigyasim.OnLogin())
	status, body, _ = f.post(t, "/auth0/login", testSecret, credentials{Identifier: u.email, Password: u.password})
	if status != 429 && status != 504 {
		t.Fatalf("Gigya rate limit: %d %v", status, body)
	}
	f.sim.ClearFaults()
	if status, body, _ := f.post(t, "/auth0/login", testSecret, credentials{Identifier: u.email, Password: u.password}); status != 200 {
		t.Fatalf("after the outage: %d %v", status, body)
	}
}

func TestAuth0GetUser(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	u := f.users(t, 1)[0]
	status, body, _ := f.post(t, "/auth0/get_user", testSecret, map[string]string{"identifier": strings.ToUpper(u.email)})
	if status != 200 || canonical(t, body["profile"]) != canonical(t, f.bulkProfile(t, u.uid)) {
		t.Fatalf("found: %d %v\nwant %v", status, body, f.bulkProfile(t, u.uid))
	}
	for _, id := range []string{"nobody@example.com", `quo"te@example.com`} {
		if status, body, _ := f.post(t, "/auth0/get_user", testSecret, map[string]string{"identifier": id}); status != 404 || body["error"] != "not_found" {
			t.Fatalf("%s: %d %v", id, status, body)
		}
	}
	if f.svc.Totals().Published != 0 {
		t.Fatal("get_user published an account")
	}
	f.sim.Inject(gigyasim.HTTP500, -1, gigyasim.OnSearch())
	if status, body, _ := f.post(t, "/auth0/get_user", testSecret, map[string]string{"identifier": u.email}); status != 503 || body["retryable"] != true {
		t.Fatalf("Gigya down: %d %v", status, body)
	}
}

// failingPublisher cannot reach JetStream.
type failingPublisher struct{}

func (failingPublisher) PublishMsg(context.Context, *nats.Msg, ...jetstream.PublishOpt) (*jetstream.PubAck, error) {
	return nil, errors.New("nats: no responders available for request")
}

// TestUnrecordedLoginIsNotMigrated: without its record in GIGYA_ACCOUNTS a
// user is not handed to Auth0 (a bulk run could overwrite them): the login
// fails as retryable.
func TestUnrecordedLoginIsNotMigrated(t *testing.T) {
	f := newFixture(t, fixtureOptions{pub: failingPublisher{}})
	u := f.users(t, 1)[0]
	status, body, _ := f.post(t, "/auth0/login", testSecret, credentials{Identifier: u.email, Password: u.password})
	if status != 503 || body["retryable"] != true || body["profile"] != nil {
		t.Fatalf("%d %v", status, body)
	}
	if f.svc.Totals().PublishFailed != 1 {
		t.Fatalf("totals %+v", f.svc.Totals())
	}
}

// TestNoPasswordLeaves: after right and wrong passwords, none is in a log
// line (at debug level), a metric, an answer or the stream.
func TestNoPasswordLeaves(t *testing.T) {
	f := newFixture(t, fixtureOptions{})
	us := f.users(t, 4)
	var passwords, answers []string
	for i, u := range us {
		wrong := "Wr0ng-" + u.password
		passwords = append(passwords, u.password, wrong)
		for _, pw := range []string{wrong, u.password} {
			_, body, _ := f.post(t, "/auth0/login", testSecret, credentials{Identifier: u.email, Password: pw})
			b, _ := json.Marshal(body)
			answers = append(answers, string(b))
		}
		if i == 0 {
			f.sim.Inject(gigyasim.HTTP500, 3, gigyasim.OnLogin())
			_, body, _ := f.post(t, "/auth0/login", testSecret, credentials{Identifier: u.email, Password: u.password})
			b, _ := json.Marshal(body)
			answers = append(answers, string(b))
		}
	}
	stream := ""
	info, _ := f.top.Raw.Info(context.Background())
	for seq := uint64(1); seq <= info.State.LastSeq; seq++ {
		m, err := f.top.Raw.GetMsg(context.Background(), seq)
		if err != nil {
			t.Fatal(err)
		}
		stream += string(m.Data)
		for k, v := range m.Header {
			stream += k + strings.Join(v, ",")
		}
	}
	if info.State.Msgs != uint64(len(us)) {
		t.Fatalf("%d accounts published, want %d", info.State.Msgs, len(us))
	}
	for where, text := range map[string]string{"logs": f.logs.String(), "metrics": f.metrics(t), "answers": strings.Join(answers, "\n"), "stream": stream} {
		for _, pw := range passwords {
			if strings.Contains(text, pw) {
				t.Errorf("a password is in the %s", where)
			}
		}
		for _, u := range us {
			if where != "stream" && where != "answers" && strings.Contains(text, u.email) {
				t.Errorf("an identifier is in the %s", where)
			}
		}
	}
}

// TestGetUserOfAFilteredAccount: an account the mapping filters is no user
// for Auth0: get_user answers not_found, which the script turns into
// callback(null).
func TestGetUserOfAFilteredAccount(t *testing.T) {
	probe := newFixture(t, fixtureOptions{})
	u := probe.users(t, 1)[0]
	src := string(configs.Auth0Mapping) + "  - name: test_filter\n    when: UID == \"" + u.uid + "\"\n"
	f := newFixture(t, fixtureOptions{mapping: []byte(src)})
	status, body, _ := f.post(t, "/auth0/get_user", testSecret, map[string]string{"identifier": u.email})
	if status != 404 || body["error"] != "not_found" {
		t.Fatalf("%d %v", status, body)
	}
	status, body, _ = f.post(t, "/auth0/login", testSecret, credentials{Identifier: u.email, Password: u.password})
	if status != 404 || body["error"] != "filtered" || !strings.Contains(body["message"].(string), "test_filter") {
		t.Fatalf("login: %d %v", status, body)
	}
}
