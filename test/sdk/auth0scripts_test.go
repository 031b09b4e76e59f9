package sdk

// The Auth0 custom database scripts of configs/ (auth0-login.js,
// auth0-get-user.js), run as Auth0 runs them: their source in a sandbox of
// the globals Auth0's runtime provides (auth0-sandbox.js), against the login
// service (internal/login) over TLS, in front of a simulated Gigya site.

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/configs"
	"github.com/gigya-migrate/gigya-migrate/internal/gigya"
	"github.com/gigya-migrate/gigya-migrate/internal/login"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/test/internal/harness"
	"github.com/nats-io/nats.go/jetstream"
)

const scriptSecret = "auth0-connection-secret-0123456789"

// scriptResult is what auth0-sandbox.js reports of one call.
type scriptResult struct {
	Calls int `json:"calls"`
	Error *struct {
		Name            string  `json:"name"`
		Message         string  `json:"message"`
		UserNameOrEmail *string `json:"userNameOrEmail"`
	} `json:"error"`
	Profile  map[string]any `json:"profile"`
	Argc     int            `json:"argc"`
	MS       int            `json:"ms"`
	Logged   []string       `json:"logged"`
	TimedOut bool           `json:"timedOut"`
}

// scriptEnv is the login service over TLS and what the scripts need to
// reach it.
type scriptEnv struct {
	sim    *gigyasim.Sim
	js     jetstream.JetStream
	url    string
	caFile string
	m      *mapping.Mapping
}

// startLoginService starts a Gigya site, JetStream and the login service
// with the mapping src, over TLS.
func startLoginService(t *testing.T, src []byte, tweak func(*login.Settings)) *scriptEnv {
	t.Helper()
	sim, err := gigyasim.New(gigyasim.Options{Accounts: 300, Seed: 21})
	if err != nil {
		t.Fatal(err)
	}
	base, stop, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	gc, err := gigya.NewClient(gigya.Config{BaseURL: base, AllowHTTP: true, APIKey: sim.APIKey(), Secret: sim.Secret(), Rate: 1000, MaxRetries: 1, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	js := natstest.Start(t).JetStream()
	if _, err := topology.Ensure(context.Background(), js, topology.Default()); err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Parse("mapping.yaml", src)
	if err != nil {
		t.Fatal(err)
	}
	caFile, certFile, keyFile := harness.TLSFiles(t, t.TempDir())
	st := login.DefaultSettings()
	st.Listen = "127.0.0.1:0"
	st.TLS.CertFile, st.TLS.KeyFile = certFile, keyFile
	st.Clients = []stage.LoginClient{{Name: "auth0", Secret: scriptSecret}}
	st.Rate.PerIdentifier, st.Rate.IdentifierBurst = 100, 100
	if tweak != nil {
		tweak(&st)
	}
	svc, err := login.New(login.Options{Settings: st, Site: "s1", Run: "login-sdk", Mapping: m, Gigya: gc, Publisher: js,
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := login.Listen(st)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Serve(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	})
	return &scriptEnv{sim: sim, js: js, url: "https://" + ln.Addr().String(), caFile: caFile, m: m}
}

// run calls fn of the script file (under configs/) with args in the
// sandbox, with the connection settings conf (nil: the service's).
func (e *scriptEnv) run(t *testing.T, file, fn string, conf map[string]string, unauthorized bool, args ...any) scriptResult {
	t.Helper()
	if conf == nil {
		conf = map[string]string{"GIGYA_MIGRATE_URL": e.url, "GIGYA_MIGRATE_SECRET": scriptSecret}
	}
	job, _ := json.Marshal(map[string]any{"script": filepath.Join("..", "..", "configs", file), "function": fn, "args": args,
		"configuration": conf, "unauthorizedError": unauthorized})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", "auth0-sandbox.js")
	cmd.Env = append(os.Environ(), "NODE_EXTRA_CA_CERTS="+e.caFile, "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost")
	cmd.Stdin = bytes.NewReader(job)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("node auth0-sandbox.js %s %s: %v\n%s", file, fn, err, stderr.Bytes())
	}
	var r scriptResult
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("sandbox output %q: %v\n%s", stdout.Bytes(), err, stderr.Bytes())
	}
	if r.Calls != 1 && !r.TimedOut {
		t.Fatalf("%s %s called back %d times", file, fn, r.Calls)
	}
	return r
}

// bulkProfile maps the account as the transformer would (the mapping, then
// the target's validator with the mapping's repairs), without the fields
// the login profile leaves out.
func (e *scriptEnv) bulkProfile(t *testing.T, uid string) map[string]any {
	t.Helper()
	raw, _ := e.sim.Account(uid)
	r, err := e.m.NewEvaluator().MapJSON(raw)
	if err != nil || r.Skip != "" {
		t.Fatalf("bulk mapping of %s: %v %q", uid, err, r.Skip)
	}
	_, repairs := e.m.Validator()
	opts, _ := validate.ParseRepairs(repairs)
	if err := validate.Builtin()["auth0"](opts).Validate(r.Outputs[0]).Err(); err != nil {
		t.Fatal(err)
	}
	for _, k := range login.DefaultSettings().Auth0.Omit {
		delete(r.Outputs[0], k)
	}
	b, _ := json.Marshal(r.Outputs[0])
	var out map[string]any
	_ = json.Unmarshal(b, &out)
	return out
}

// loginUser is an account that logs in, with its email and password.
func (e *scriptEnv) loginUser(t *testing.T, skip int) (uid, email, password string) {
	t.Helper()
	ev := e.m.NewEvaluator()
	for u, pw := range e.sim.Passwords() {
		raw, _ := e.sim.Account(u)
		var a struct {
			IsActive     *bool `json:"isActive"`
			IsRegistered *bool `json:"isRegistered"`
			LoginIDs     struct {
				Emails []string `json:"emails"`
			} `json:"loginIDs"`
		}
		_ = json.Unmarshal(raw, &a)
		if len(a.LoginIDs.Emails) == 0 || (a.IsActive != nil && !*a.IsActive) || (a.IsRegistered != nil && !*a.IsRegistered) {
			continue
		}
		if r, err := ev.MapJSON(raw); err != nil || r.Skip != "" {
			continue
		}
		if skip--; skip < 0 {
			return u, a.LoginIDs.Emails[0], pw
		}
	}
	t.Fatal("no user logs in")
	return
}

func canonicalJSON(v any) string {
	b, _ := json.Marshal(v)
	var back any
	_ = json.Unmarshal(b, &back)
	b, _ = json.Marshal(back)
	return string(b)
}

func TestAuth0Scripts(t *testing.T) {
	if _, err := exec.LookPath("node"); err != nil {
		t.Fatalf("the Auth0 scripts run in Node.js, which is not on PATH (see docs/testing.md): %v", err)
	}
	e := startLoginService(t, configs.Auth0Mapping, func(s *login.Settings) { s.Timeout, s.Gigya.CallTimeout = 2*time.Second, time.Second })

	t.Run("login with the right password gives the bulk profile", func(t *testing.T) {
		uid, email, password := e.loginUser(t, 0)
		r := e.run(t, "auth0-login.js", "login", nil, true, email, password)
		if r.Error != nil || r.Argc != 2 || r.Profile == nil {
			t.Fatalf("login: %+v", r)
		}
		// The login bumped lastLogin at Gigya: the bulk mapping of the
		// account as it is now.
		if got, want := canonicalJSON(r.Profile), canonicalJSON(e.bulkProfile(t, uid)); got != want {
			t.Fatalf("profile\n%s\nwant the bulk mapping\n%s", got, want)
		}
		if r.Profile["user_id"] != uid || r.Profile["custom_password_hash"] != nil || strings.Contains(canonicalJSON(r.Profile), password) {
			t.Fatalf("profile %v", r.Profile)
		}
	})
	t.Run("login with a wrong password", func(t *testing.T) {
		_, email, password := e.loginUser(t, 1)
		r := e.run(t, "auth0-login.js", "login", nil, true, email, password+"-wrong")
		if r.Error == nil || r.Error.Name != "WrongUsernameOrPasswordError" || r.Error.UserNameOrEmail == nil || *r.Error.UserNameOrEmail != email || r.Profile != nil {
			t.Fatalf("wrong password: %+v", r)
		}
		if strings.Contains(r.Error.Message, password) {
			t.Fatal("the password is in the error")
		}
	})
	t.Run("login of an unknown user", func(t *testing.T) {
		// Gigya answers an unknown loginID like a wrong password (403042).
		r := e.run(t, "auth0-login.js", "login", nil, true, "nobody@example.com", "a-password")
		if r.Error == nil || r.Error.Name != "WrongUsernameOrPasswordError" {
			t.Fatalf("unknown user: %+v", r)
		}
	})
	t.Run("login of a locked account", func(t *testing.T) {
		_, email, password := e.loginUser(t, 2)
		for range gigyasim.DefaultLockoutAfter {
			e.run(t, "auth0-login.js", "login", nil, true, email, "wrong-"+password)
		}
		r := e.run(t, "auth0-login.js", "login", nil, true, email, password)
		if r.Error == nil || r.Error.Name != "UnauthorizedError" || !strings.Contains(r.Error.Message, "locked") {
			t.Fatalf("locked: %+v", r)
		}
		// A runtime without UnauthorizedError gets a plain Error.
		r = e.run(t, "auth0-login.js", "login", nil, false, email, password)
		if r.Error == nil || r.Error.Name != "Error" {
			t.Fatalf("locked, no UnauthorizedError: %+v", r)
		}
	})
	t.Run("login while Gigya is down or slow", func(t *testing.T) {
		_, email, password := e.loginUser(t, 3)
		e.sim.Inject(gigyasim.HTTP500, -1, gigyasim.OnLogin())
		r := e.run(t, "auth0-login.js", "login", nil, true, email, password)
		e.sim.ClearFaults()
		if r.Error == nil || r.Error.Name != "Error" || !strings.Contains(r.Error.Message, "try again") {
			t.Fatalf("Gigya down: %+v", r)
		}
		e.sim.Inject(gigyasim.Slow, -1, gigyasim.OnLogin(), gigyasim.WithDelay(5*time.Second))
		r = e.run(t, "auth0-login.js", "login", nil, true, email, password)
		e.sim.ClearFaults()
		if r.Error == nil || r.Error.Name != "Error" || r.MS > 10000 {
			t.Fatalf("Gigya slow: %+v", r)
		}
	})
	t.Run("login with the service unreachable or unset", func(t *testing.T) {
		_, email, password := e.loginUser(t, 3)
		r := e.run(t, "auth0-login.js", "login", map[string]string{"GIGYA_MIGRATE_URL": "https://127.0.0.1:1", "GIGYA_MIGRATE_SECRET": scriptSecret}, true, email, password)
		if r.Error == nil || r.Error.Name != "Error" || !strings.Contains(r.Error.Message, "unreachable") {
			t.Fatalf("unreachable: %+v", r)
		}
		r = e.run(t, "auth0-login.js", "login", map[string]string{"GIGYA_MIGRATE_URL": e.url, "GIGYA_MIGRATE_SECRET": "not-the-secret-0123456"}, true, email, password)
		if r.Error == nil || r.Error.Name != "Error" {
			t.Fatalf("wrong secret: %+v", r)
		}
		r = e.run(t, "auth0-login.js", "login", map[string]string{}, true, email, password)
		if r.Error == nil || !strings.Contains(r.Error.Message, "GIGYA_MIGRATE_URL") {
			t.Fatalf("no settings: %+v", r)
		}
	})
	t.Run("get_user", func(t *testing.T) {
		uid, email, _ := e.loginUser(t, 4)
		r := e.run(t, "auth0-get-user.js", "getUser", nil, true, email)
		if r.Error != nil || canonicalJSON(r.Profile) != canonicalJSON(e.bulkProfile(t, uid)) {
			t.Fatalf("found: %+v\nwant %v", r, e.bulkProfile(t, uid))
		}
		r = e.run(t, "auth0-get-user.js", "getUser", nil, true, "nobody@example.com")
		if r.Error != nil || r.Profile != nil || r.Argc != 1 {
			t.Fatalf("not found: %+v (want callback(null))", r)
		}
		e.sim.Inject(gigyasim.HTTP500, -1, gigyasim.OnSearch())
		r = e.run(t, "auth0-get-user.js", "getUser", nil, true, email)
		e.sim.ClearFaults()
		if r.Error == nil || r.Error.Name != "Error" {
			t.Fatalf("Gigya down: %+v", r)
		}
	})
}

// TestAuth0ScriptsHybridMD5Crypt: a user whose md5-crypt hash Auth0 cannot
// verify is filtered from the bulk load by the hybrid mapping, and migrates
// at login with the password they type.
func TestAuth0ScriptsHybridMD5Crypt(t *testing.T) {
	src := string(configs.Auth0Mapping)
	const commented = "  # - name: login_migration\n  #   when: "
	if !strings.Contains(src, commented) {
		t.Fatal("configs/auth0.yaml has no commented login_migration filter")
	}
	hybrid := []byte(strings.Replace(src, commented, "  - name: login_migration\n    when: ", 1))
	e := startLoginService(t, hybrid, nil)
	const password = "Tr0ub4dor&3-md5"
	acct := map[string]any{
		"UID": "md5cryptuser0000000000000000001", "isActive": true, "isRegistered": true, "isVerified": true,
		"created": "2015-06-01T10:00:00.000Z", "createdTimestamp": 1433152800000,
		"loginIDs": map[string]any{"emails": []string{"legacy.md5@example.com"}},
		"emails":   map[string]any{"verified": []string{"legacy.md5@example.com"}},
		"profile":  map[string]any{"email": "legacy.md5@example.com", "firstName": "Lee", "lastName": "Gacy"},
		"password": map[string]any{"hash": gigyasim.MD5Crypt(password, "s4ltS4lt"), "hashSettings": map[string]any{"algorithm": "md5_crypt"}},
	}
	raw, _ := json.Marshal(acct)
	if err := e.sim.Put(raw); err != nil {
		t.Fatal(err)
	}
	stored, _ := e.sim.Account("md5cryptuser0000000000000000001")
	if r, err := e.m.NewEvaluator().MapJSON(stored); err != nil || r.Skip != "login_migration" {
		t.Fatalf("the bulk load does not filter the md5-crypt user: skip %q, %v", r.Skip, err)
	}
	if r := e.run(t, "auth0-login.js", "login", nil, true, "legacy.md5@example.com", "not-"+password); r.Error == nil || r.Error.Name != "WrongUsernameOrPasswordError" {
		t.Fatalf("wrong password: %+v", r)
	}
	r := e.run(t, "auth0-login.js", "login", nil, true, "Legacy.MD5@example.com", password)
	if r.Error != nil || r.Profile["user_id"] != "md5cryptuser0000000000000000001" || r.Profile["email"] != "legacy.md5@example.com" ||
		r.Profile["custom_password_hash"] != nil || r.Profile["app_metadata"].(map[string]any)["password_reset_required"] != nil {
		t.Fatalf("md5-crypt login: %+v", r)
	}
	s, _ := e.js.Stream(context.Background(), "GIGYA_ACCOUNTS")
	m, err := s.GetLastMsgForSubject(context.Background(), "gigya.accounts.s1")
	if err != nil || m.Header.Get("Etl-Login-Migrated") != "auth0" || strings.Contains(string(m.Data), password) {
		t.Fatalf("the migration is not recorded: %v %v", m, err)
	}
}
