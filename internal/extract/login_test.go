package extract

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/segmentio/encoding/json"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/syncbuf"
)

var listeningRE = regexp.MustCompile(`login service listening.* addr=(\S+)`)

// TestLoginServiceSubcommand runs `extractor login-service` in-process on
// the shared configuration file (the site's credentials from
// extractor.gigya.sites): a user logs in through it, the account lands in
// gigya.accounts.<site> marked, the run is recorded for status, and a
// stop prints the summary.
func TestLoginServiceSubcommand(t *testing.T) {
	sim, err := gigyasim.New(gigyasim.Options{Accounts: 200, Seed: 5, APIKey: "3_testkey", Secret: knownSecret})
	if err != nil {
		t.Fatal(err)
	}
	base, stop, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	srv := natstest.Start(t)
	cfg := filepath.Join(t.TempDir(), "pipeline.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `
extractor:
  gigya:
    sites:
      - {name: s1, api_key: 3_testkey, secret: "${TEST_GIGYA_SECRET}", base_url: %q, allow_http: true}
login:
  plain_http: true
  clients:
    - {name: auth0, secret: "${TEST_LOGIN_SECRET}"}
`, base), 0o600); err != nil {
		t.Fatal(err)
	}
	const loginSecret = "a-login-client-secret-of-length"
	var out, logs syncbuf.Buffer
	env := stage.Env{Args: []string{"login-service", "-config", cfg, "-listen", "127.0.0.1:0"}, Stdout: &out, Stderr: &logs,
		Getenv: func(k string) string {
			return map[string]string{"NATS_URL": srv.ClientURL(), "TEST_GIGYA_SECRET": knownSecret, "TEST_LOGIN_SECRET": loginSecret}[k]
		}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- Run(ctx, env) }()
	var addr string
	natstest.Eventually(t, 20*time.Second, func() error {
		select {
		case err := <-done:
			t.Fatalf("login-service exited: %v\n%s", err, logs.String())
		default:
		}
		m := listeningRE.FindStringSubmatch(logs.String())
		if m == nil {
			return fmt.Errorf("not listening yet")
		}
		addr = strings.Trim(m[1], `"`)
		return nil
	})

	// A user of the site with a known password and a login email.
	var uid, email, password string
	for u, pw := range sim.Passwords() {
		raw, _ := sim.Account(u)
		var a struct {
			IsActive     *bool                     `json:"isActive"`
			IsRegistered *bool                     `json:"isRegistered"`
			LoginIDs     struct{ Emails []string } `json:"loginIDs"`
		}
		_ = json.Unmarshal(raw, &a)
		if len(a.LoginIDs.Emails) > 0 && (a.IsActive == nil || *a.IsActive) && (a.IsRegistered == nil || *a.IsRegistered) {
			uid, email, password = u, a.LoginIDs.Emails[0], pw
			break
		}
	}
	body, _ := json.Marshal(map[string]string{"identifier": email, "password": password})
	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/auth0/login", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+loginSecret)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Profile map[string]any `json:"profile"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&got)
	resp.Body.Close()
	if resp.StatusCode != 200 || got.Profile["user_id"] != uid {
		t.Fatalf("login: %d %v\n%s", resp.StatusCode, got, logs.String())
	}
	js := srv.JetStream()
	s, err := js.Stream(context.Background(), "GIGYA_ACCOUNTS")
	if err != nil {
		t.Fatal(err)
	}
	m, err := s.GetLastMsgForSubject(context.Background(), "gigya.accounts.s1")
	if err != nil || m.Header.Get(message.HdrLoginMigrated) != "auth0" || m.Header.Get(message.HdrUID) != uid {
		t.Fatalf("published %v %v", m, err)
	}
	run := m.Header.Get(message.HdrRun)
	kv, err := js.KeyValue(context.Background(), "etl_state")
	if err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 15*time.Second, func() error {
		e, err := kv.Get(context.Background(), "run."+run+".s1")
		if err != nil {
			return err
		}
		if !strings.Contains(string(e.Value()), `"published":1`) || !strings.Contains(string(e.Value()), `"stage":"login-service"`) {
			return fmt.Errorf("run record %s", e.Value())
		}
		return nil
	})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("stop: %v", err)
	}
	var sum LoginSummary
	if err := json.Unmarshal([]byte(out.String()), &sum); err != nil || sum.Published != 1 || sum.Outcomes["migrated"] != 1 || sum.Run != run {
		t.Fatalf("summary %q (%v)", out.String(), err)
	}
	if strings.Contains(logs.String(), password) || strings.Contains(logs.String(), loginSecret) || strings.Contains(logs.String(), knownSecret) {
		t.Fatal("a password or a secret is in the logs")
	}
}

// TestLoginServiceConfigProblems: the subcommand names the keys to fix.
func TestLoginServiceConfigProblems(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "pipeline.yaml")
	if err := os.WriteFile(cfg, []byte(`
extractor:
  gigya:
    sites:
      - {name: s1, api_key: k, secret: s}
      - {name: s2, api_key: k, secret: s}
login:
  timeout: 30s
  clients:
    - {name: auth0, secret: short}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	env := stage.Env{Args: []string{"login-service", "-config", cfg}, Stdout: &bytes.Buffer{}, Stderr: &stderr, Getenv: func(string) string { return "" }}
	code := stage.ExitCode("extractor", Run(context.Background(), env), &stderr)
	for _, want := range []string{"login.site: is required when extractor.gigya.sites has 2 sites", "login.timeout:", "login.clients[0].secret:", "login.tls.cert_file: is required"} {
		if code != stage.ExitUsage || !strings.Contains(stderr.String(), want) {
			t.Errorf("exit %d, stderr:\n%s\nwant %q", code, stderr.String(), want)
		}
	}
}
