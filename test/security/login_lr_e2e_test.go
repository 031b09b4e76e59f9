package security

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/gigya-migrate/gigya-migrate/internal/quickstart"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/lrsim"
	"github.com/gigya-migrate/gigya-migrate/test/internal/harness"
)

// TestSecurityLoginServiceLoginRadiusKeepsPasswordsSecret runs `extractor
// login-service` in LoginRadius' API mode and lookup endpoint (TLS, debug
// logs) against the Gigya and LoginRadius simulators, with a transformer
// and a loader on configs/loginradius.yaml over a NATS server that requires
// a password. Users log in with wrong and right passwords, before and
// after they are migrated, some with a password LoginRadius' policy
// refuses (created without it, a reset started), during outages of Gigya
// and of LoginRadius. Then no typed password, client secret, Gigya secret,
// LoginRadius API secret or NATS password may be in any process output,
// /metrics, stream message (dead letters included) or answer of the
// service; and no login identifier in the service's output.
func TestSecurityLoginServiceLoginRadiusKeepsPasswordsSecret(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	suffix := secRandom(t)
	gigyaSecret := "S3cr3t-gigya-" + suffix
	clientSecret := "S3cr3t-login-client-" + suffix
	lrSecret := "S3cr3t-loginradius-" + suffix
	natsPassword := "S3cr3t-nats-" + suffix
	const natsUser = "etl-sec"
	const policy = 10 // LoginRadius refuses a shorter password

	gsim, gbase := harness.StartGigyaSim(t, gigyasim.Options{Accounts: 300, Seed: 407, APIKey: "3_security", Secret: gigyaSecret})
	lsim, lbase := harness.StartLoginRadiusSim(t, lrsim.Options{APIKey: "sec-lr-key", APISecret: lrSecret, BcryptCost: 4, MinPasswordLength: policy})
	srv, js := secStartNATS(t, natsUser, natsPassword)
	dir := t.TempDir()

	lrMapping, err := os.ReadFile(filepath.Join("..", "..", "configs", "loginradius.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// The API mode's users: three whose password the policy refuses, five
	// it takes; then four for the lookup endpoint.
	var short, long, lookup []secUser
	for _, u := range secLoginUsers(t, gsim, lrMapping, 60) {
		switch n := utf8.RuneCountInString(u.password); {
		case n < policy && len(short) < 3:
			short = append(short, u)
		case n >= policy && len(long) < 5:
			long = append(long, u)
		case len(lookup) < 4:
			lookup = append(lookup, u)
		}
	}
	if len(short) < 3 || len(long) < 5 || len(lookup) < 4 {
		t.Fatalf("users: %d short passwords, %d long, %d for the lookup", len(short), len(long), len(lookup))
	}
	apiUsers := append(append([]secUser{}, long...), short...)

	caFile, certFile, keyFile := harness.TLSFiles(t, dir)
	loginMapping := filepath.Join(dir, "loginradius.yaml")
	strict := filepath.Join(dir, "strict.yaml")
	os.WriteFile(loginMapping, lrMapping, 0o644)
	// The transformer's mapping requires a city, so that some of the
	// accounts migrated at login are dead-lettered.
	os.WriteFile(strict, append(append([]byte{}, lrMapping...), "\nrequired: [City]\n"...), 0o644)
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
  name: seclr
  target: loginradius
  unique: [Email.Value, PhoneId]
  sink:
    type: loginradius-bulk
    options: {api_key: sec-lr-key, api_secret: "${SEC_LR_SECRET}", migration_url: %q, api_url: %q, allow_http: true, rate: 0}
  batch: {max_wait: 100ms}
login:
  listen: 127.0.0.1:0
  tls: {cert_file: %q, key_file: %q}
  clients:
    - {name: loginradius, secret: "${SEC_LOGIN_SECRET}"}
  rate: {per_identifier: 100, identifier_burst: 100}
  gigya: {retries: 1, call_timeout: 2s}
  mapping: %q
  loginradius:
    base_url: %q
    allow_http: true
    api_key: sec-lr-key
    api_secret: "${SEC_LR_SECRET}"
    reset_password_url: https://app.example.com/reset
`, natsUser, gbase, strict, lbase, lbase, certFile, keyFile, loginMapping, lbase), 0o600)
	env := []string{"NATS_URL=" + srv.ClientURL(), "GM_CONFIG=" + cfg, "GM_NATS_PASSWORD=" + natsPassword,
		"SEC_GIGYA_SECRET=" + gigyaSecret, "SEC_LOGIN_SECRET=" + clientSecret, "SEC_LR_SECRET=" + lrSecret,
		"GM_TELEMETRY_LISTEN=127.0.0.1:0", "GM_TELEMETRY_LOG_LEVEL=debug"}
	tr, ld := secStart(t, env, "transformer"), secStart(t, env, "loader")
	svc := secStart(t, env, "extractor", "login-service")
	procs := []*secProc{svc, tr, ld}
	var answers bytes.Buffer
	call := secLoginCaller(t, svc, caFile, clientSecret, &answers)
	var typed []string
	wrongOf := func(u secUser) string { return "Wr0ng-" + suffix + "-" + u.password }

	codes := map[int]int{}
	for i, u := range apiUsers {
		login := func(pw string) int {
			return call("/loginradius/login", map[string]string{"identifier": u.email, "password": pw})
		}
		typed = append(typed, u.password, wrongOf(u))
		if code := login(wrongOf(u)); code != 403 {
			t.Fatalf("wrong password, not migrated: %d", code)
		}
		switch i {
		case 1: // Gigya down
			gsim.Inject(gigyasim.HTTP500, 2, gigyasim.OnLogin())
			if code := login(u.password); code != 503 {
				t.Fatalf("Gigya down: %d", code)
			}
		case 2: // LoginRadius down
			lsim.Inject(lrsim.Fault503, 2)
			if code := login(u.password); code != 503 {
				t.Fatalf("LoginRadius down: %d", code)
			}
		}
		code := login(u.password)
		codes[code]++
		if want := map[bool]int{true: 200, false: 202}[utf8.RuneCountInString(u.password) >= policy]; code != want {
			t.Fatalf("right password: %d, want %d", code, want)
		}
		// Migrated: LoginRadius answers now, right and wrong.
		login(u.password)
		if code := login(wrongOf(u)); code == 200 {
			t.Fatal("a wrong password logs a migrated user in")
		}
	}
	for _, u := range lookup {
		typed = append(typed, u.password, wrongOf(u))
		if code := call("/loginradius/lookup", map[string]string{"identifier": u.email, "password": wrongOf(u)}); code != 403 {
			t.Fatalf("lookup, wrong password: %d", code)
		}
		if code := call("/loginradius/lookup", map[string]string{"identifier": u.email, "password": u.password}); code != 200 {
			t.Fatalf("lookup, right password: %d", code)
		}
	}
	for _, u := range short {
		if _, ok := lsim.ResetToken(u.email); !ok {
			t.Fatal("no password reset was started for a user whose password the policy refuses")
		}
	}

	metrics := map[string][]string{}
	for _, p := range procs {
		metrics[p.Name] = append(metrics[p.Name], p.scrapeMetrics(t))
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := quickstart.WaitDrained(ctx, js,
		quickstart.ConsumerRef{Stream: "GIGYA_ACCOUNTS", Durable: "transformer-loginradius"},
		quickstart.ConsumerRef{Stream: "USERS_MAPPED", Durable: "loader-seclr"}); err != nil {
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

	secrets := []secSecrets{
		{"a typed password", typed},
		{"the login client secret", []string{clientSecret}},
		{"the Gigya secret", []string{gigyaSecret}},
		{"the LoginRadius API secret", []string{lrSecret}},
		{"the NATS password", []string{natsPassword}},
	}
	var emails []string
	for _, u := range append(append([]secUser{}, apiUsers...), lookup...) {
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
	migrated := len(apiUsers) + len(lookup)
	if dump.msgs["GIGYA_ACCOUNTS"] != migrated || dump.msgs["USERS_MAPPED"] == 0 || dump.msgs["ETL_DEADLETTER"] == 0 {
		t.Fatalf("messages per stream %v: want %d accounts migrated at login, some mapped, some dead-lettered", dump.msgs, migrated)
	}
	// The loader settled every account migrated at login without writing
	// it: the bulk load does not overwrite what the user brought.
	if st := lsim.Stats(); st.Creates != len(apiUsers) || st.BulkProfiles != 0 {
		t.Fatalf("LoginRadius created %d users (want %d) and took %d from the bulk load (want 0)", st.Creates, len(apiUsers), st.BulkProfiles)
	}
	if !strings.Contains(metrics[ld.Name][1], `result="migrated_at_login"`) {
		t.Fatalf("the loader's /metrics counts no user migrated at login:\n%s", harness.LastBytes([]byte(ld.output()), 2000))
	}
	t.Logf("%d users (%d refused by the policy, %d looked up), %d typed passwords, answers by status %v, %d KiB of output at debug level, messages per stream %v",
		migrated, len(short), len(lookup), len(typed), codes, logBytes/1024, dump.msgs)
}
