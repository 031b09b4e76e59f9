package security

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/configs"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/test/internal/harness"
	"github.com/segmentio/encoding/json"
)

// TestSecurityLoginServiceKeepsPasswordsSecret runs `extractor
// login-service` (TLS, debug logs) with a transformer and a loader over a
// NATS server that requires a password, and logs users in through it with
// wrong and right passwords, during an outage of Gigya too. The
// transformer's mapping requires a nickname, so that some of the accounts
// migrated at login are dead-lettered. Then no typed password (right or
// wrong), client secret, Gigya secret or NATS password may be in any
// process output, any /metrics, any message of any stream (dead letters
// included) or KV bucket, or any answer of the service; and no login
// identifier in the service's output.
func TestSecurityLoginServiceKeepsPasswordsSecret(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	suffix := secRandom(t)
	gigyaSecret := "S3cr3t-gigya-" + suffix
	clientSecret := "S3cr3t-login-client-" + suffix
	natsPassword := "S3cr3t-nats-" + suffix
	const natsUser = "etl-sec"

	gsim, gbase := harness.StartGigyaSim(t, gigyasim.Options{Accounts: 300, Seed: 406, APIKey: "3_security", Secret: gigyaSecret})
	srv, js := secStartNATS(t, natsUser, natsPassword)
	dir := t.TempDir()

	users := secLoginUsers(t, gsim, configs.Auth0Mapping, 16)

	caFile, certFile, keyFile := harness.TLSFiles(t, dir)
	strict := filepath.Join(dir, "strict.yaml")
	os.WriteFile(strict, append(append([]byte{}, configs.Auth0Mapping...), "\nrequired: [nickname]\n"...), 0o644)
	cfg := filepath.Join(dir, "pipeline.yaml")
	os.WriteFile(cfg, fmt.Appendf(nil, `nats:
  user: %s
extractor:
  gigya:
    sites:
      - {name: sec, api_key: 3_security, secret: "${SEC_GIGYA_SECRET}", base_url: %q, allow_http: true}
transformer:
  mapping: %q
loader:
  name: sec
  sink: {type: jsonl, options: {path: %q}}
  batch: {max_wait: 100ms}
login:
  listen: 127.0.0.1:0
  tls: {cert_file: %q, key_file: %q}
  clients:
    - {name: auth0, secret: "${SEC_LOGIN_SECRET}"}
  rate: {per_identifier: 100, identifier_burst: 100}
  gigya: {retries: 1, call_timeout: 2s}
`, natsUser, gbase, strict, filepath.Join(dir, "users.jsonl"), certFile, keyFile), 0o600)
	env := []string{"NATS_URL=" + srv.ClientURL(), "GM_CONFIG=" + cfg, "GM_NATS_PASSWORD=" + natsPassword,
		"SEC_GIGYA_SECRET=" + gigyaSecret, "SEC_LOGIN_SECRET=" + clientSecret,
		"GM_TELEMETRY_LISTEN=127.0.0.1:0", "GM_TELEMETRY_LOG_LEVEL=debug"}
	tr, ld := secStart(t, env, "transformer"), secStart(t, env, "loader")
	svc := secStart(t, env, "extractor", "login-service")
	procs := []*secProc{svc, tr, ld}
	var answers bytes.Buffer
	call := secLoginCaller(t, svc, caFile, clientSecret, &answers)
	var typed []string
	migrated := 0
	for i, u := range users {
		wrong := "Wr0ng-" + suffix + "-" + u.password
		typed = append(typed, u.password, wrong)
		if code := call("/auth0/login", map[string]string{"identifier": u.email, "password": wrong}); code != 403 {
			t.Fatalf("wrong password: %d", code)
		}
		if i == 3 {
			// An outage mid-run: the answers and logs of failures too.
			gsim.Inject(gigyasim.HTTP500, 2, gigyasim.OnLogin())
			if code := call("/auth0/login", map[string]string{"identifier": u.email, "password": u.password}); code != 503 {
				t.Fatalf("Gigya down: %d", code)
			}
		}
		if code := call("/auth0/login", map[string]string{"identifier": u.email, "password": u.password}); code != 200 {
			t.Fatalf("right password: %d", code)
		}
		migrated++
		call("/auth0/get_user", map[string]string{"identifier": u.email})
	}
	metrics := map[string][]string{}
	for _, p := range procs {
		metrics[p.Name] = append(metrics[p.Name], p.scrapeMetrics(t))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := harness.WaitDrainedRefs(ctx, js, "loader-sec"); err != nil {
		t.Fatalf("not drained: %v", err)
	}
	for _, p := range procs {
		metrics[p.Name] = append(metrics[p.Name], p.scrapeMetrics(t))
	}
	for _, p := range procs {
		if err := p.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code, err := p.Wait(time.Minute); err != nil || (code != 0 && code != 3) {
			t.Fatalf("%s exit %d %v:\n%s", p.Name, code, err, harness.LastBytes([]byte(p.output()), 3000))
		}
	}
	if !strings.Contains(metrics[svc.Name][1], "gm_login_requests_total") {
		t.Fatal("the login service's /metrics has no gm_login_requests_total: the scrape did not see the run")
	}

	secrets := []secSecrets{
		{"a typed password", typed},
		{"the login client secret", []string{clientSecret}},
		{"the Gigya secret", []string{gigyaSecret}},
		{"the NATS password", []string{natsPassword}},
	}
	var emails []string
	for _, u := range users {
		emails = append(emails, u.email)
	}
	logBytes := 0
	for _, p := range procs {
		out := p.output()
		logBytes += len(out)
		secFindLeaks(t, p.Name+"'s output", out, secrets...)
		for i, body := range metrics[p.Name] {
			secFindLeaks(t, fmt.Sprintf("%s's /metrics (scrape %d)", p.Name, i+1), body, secrets...)
		}
	}
	secFindLeaks(t, "the login service's output", svc.output(), secSecrets{"a login identifier", emails})
	secFindLeaks(t, "the login service's answers", answers.String(), secrets...)
	dump := secDumpStreams(t, js)
	secFindLeaks(t, "the stream and consumer configurations", dump.config.String(), secrets...)
	for name, text := range dump.perStream {
		secFindLeaks(t, "stream "+name, text.String(), secrets...)
	}
	// The run did what it should: the accounts are in the streams, some
	// mapped and some dead-lettered, so that not finding a password there
	// proves something.
	if dump.msgs["GIGYA_ACCOUNTS"] != migrated || dump.msgs["USERS_MAPPED"] == 0 || dump.msgs["ETL_DEADLETTER"] == 0 {
		t.Fatalf("messages per stream %v: want %d accounts migrated at login, some mapped, some dead-lettered", dump.msgs, migrated)
	}
	t.Logf("%d users, %d typed passwords (right and wrong), %d KiB of output at debug level, messages per stream %v, %d KiB of answers",
		len(users), len(typed), logBytes/1024, dump.msgs, answers.Len()/1024)
}

// secUser is a Gigya user of the simulator and the password they type.
type secUser struct{ uid, email, password string }

// secLoginUsers picks n users that can log in (a verifiable password of 8
// characters or more, a login email, active, registered) and that the
// mapping migrates.
func secLoginUsers(t *testing.T, gsim *gigyasim.Sim, mappingYAML []byte, n int) []secUser {
	t.Helper()
	m, err := mapping.Parse("mapping.yaml", mappingYAML)
	if err != nil {
		t.Fatal(err)
	}
	ev := m.NewEvaluator()
	var users []secUser
	for uid, pw := range gsim.Passwords() {
		raw, _ := gsim.Account(uid)
		var a struct {
			IsActive     *bool `json:"isActive"`
			IsRegistered *bool `json:"isRegistered"`
			LoginIDs     struct {
				Emails []string `json:"emails"`
			} `json:"loginIDs"`
		}
		_ = json.Unmarshal(raw, &a)
		if r, err := ev.MapJSON(raw); err != nil || r.Skip != "" || len(a.LoginIDs.Emails) == 0 || len(pw) < 8 ||
			(a.IsActive != nil && !*a.IsActive) || (a.IsRegistered != nil && !*a.IsRegistered) {
			continue
		}
		users = append(users, secUser{uid, a.LoginIDs.Emails[0], pw})
		if len(users) == n {
			return users
		}
	}
	t.Fatalf("%d users log in, want %d", len(users), n)
	return nil
}

// secLoginCaller waits until the login service listens, then returns a
// function that POSTs a JSON body to one of its paths over TLS with the
// client's secret and returns the status, keeping every answer's body in
// answers.
func secLoginCaller(t *testing.T, svc *secProc, caFile, clientSecret string, answers *bytes.Buffer) func(path string, body map[string]string) int {
	t.Helper()
	var url string
	natstest.Eventually(t, 30*time.Second, func() error {
		m := secListening.FindStringSubmatch(svc.logs.String())
		if m == nil {
			return fmt.Errorf("the login service is not listening yet:\n%s", harness.LastBytes([]byte(svc.output()), 1500))
		}
		url = "https://" + strings.Trim(m[1], `"`)
		return nil
	})
	hc := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: secCertPool(t, caFile)}}}
	return func(path string, body map[string]string) int {
		t.Helper()
		b, _ := json.Marshal(body)
		req, _ := http.NewRequest(http.MethodPost, url+path, bytes.NewReader(b))
		req.Header.Set("Authorization", "Bearer "+clientSecret)
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		answers.Write(raw)
		return resp.StatusCode
	}
}

var secListening = regexp.MustCompile(`login service listening.* addr=(\S+)`)

func secCertPool(t *testing.T, caFile string) *x509.CertPool {
	t.Helper()
	b, err := os.ReadFile(caFile)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		t.Fatal("no certificate in " + caFile)
	}
	return pool
}
