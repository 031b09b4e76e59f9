package security

// Security end to end (docs/scale.md, "Sensitive data": secrets never enter
// a stream, a log line, an error or a metric): the three real binaries run
// with distinctive secrets (Gigya partner secret, Auth0 client secret, NATS
// password), and every place a
// secret could escape to is collected and searched: each process's stdout
// and stderr, its /metrics, every message (subject, headers, payload) of
// every stream and of the etl_state KV bucket, and the stream and consumer
// configurations. Password hashes must travel in the streams (they are the
// migration) and must never be logged.

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/configs"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/quickstart"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/auth0sim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/lrsim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/syncbuf"
	"github.com/gigya-migrate/gigya-migrate/test/internal/harness"
	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

// secRandom returns a random hex suffix, so that a secret value found
// anywhere can only have come from this run.
func secRandom(t *testing.T) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// secProc is a binary started by these tests, with its own log buffer.
type secProc struct {
	*quickstart.Proc
	logs *syncbuf.Buffer
}

// secStart runs bin from the test build with env (on top of the test
// process's environment); it is killed when the test ends.
func secStart(t *testing.T, env []string, bin string, args ...string) *secProc {
	t.Helper()
	logs := &syncbuf.Buffer{}
	p, err := quickstart.Start(filepath.Join(harness.BinDir(t), bin), args, env, logs)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = p.Signal(syscall.SIGKILL) })
	return &secProc{Proc: p, logs: logs}
}

// output is everything the process printed: stdout (summary) and stderr
// (logs and the final error).
func (p *secProc) output() string { return p.Output() + p.logs.String() }

var secMetricsAddr = regexp.MustCompile(`serving metrics and health.*addr=(\S+)`)

// scrapeMetrics waits until the process logs its telemetry address, then
// returns its /metrics.
func (p *secProc) scrapeMetrics(t *testing.T) string {
	t.Helper()
	var body string
	natstest.Eventually(t, 30*time.Second, func() error {
		m := secMetricsAddr.FindStringSubmatch(p.logs.String())
		if m == nil {
			return fmt.Errorf("%s has not logged its telemetry address", p.Name)
		}
		resp, err := (&http.Client{Timeout: 5 * time.Second}).Get("http://" + strings.Trim(m[1], `"`) + "/metrics")
		if err != nil {
			return err
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil || resp.StatusCode != http.StatusOK {
			return fmt.Errorf("/metrics: %d %v", resp.StatusCode, err)
		}
		body = string(b)
		return nil
	})
	return body
}

// secStartNATS starts a JetStream server that requires user/password
// and returns it with a JetStream client of the test's own.
func secStartNATS(t *testing.T, user, password string) (*natstest.Server, jetstream.JetStream) {
	t.Helper()
	srv := natstest.StartWith(t, func(o *server.Options) { o.Username, o.Password = user, password })
	nc, err := nats.Connect(srv.ClientURL(), nats.UserInfo(user, password))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return srv, js
}

// secSecrets is a named list of values that must not appear somewhere.
type secSecrets struct {
	kind   string
	values []string
}

// secFindLeaks reports, for each secret value found in text, where.
func secFindLeaks(t *testing.T, where, text string, sets ...secSecrets) {
	t.Helper()
	for _, set := range sets {
		leaked := 0
		for _, v := range set.values {
			if i := strings.Index(text, v); i >= 0 {
				if leaked == 0 {
					lo, hi := max(0, i-120), min(len(text), i+len(v)+40)
					t.Errorf("LEAK: %s %q is in %s: ...%s...", set.kind, v, where, text[lo:hi])
				}
				leaked++
			}
		}
		if leaked > 1 {
			t.Errorf("LEAK: %d %s values in all are in %s", leaked, set.kind, where)
		}
	}
}

// secStreamText is everything JetStream holds: for each stream (the KV bucket
// included) its configuration, its consumers' configurations and every
// message's subject, headers and payload.
type secStreamText struct {
	perStream map[string]*strings.Builder // stream -> messages
	config    strings.Builder             // stream and consumer infos
	msgs      map[string]int
}

func secDumpStreams(t *testing.T, js jetstream.JetStream) *secStreamText {
	t.Helper()
	ctx := context.Background()
	out := &secStreamText{perStream: map[string]*strings.Builder{}, msgs: map[string]int{}}
	names := js.StreamNames(ctx)
	for name := range names.Name() {
		s, err := js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := json.Marshal(info)
		out.config.Write(raw)
		cons := s.ListConsumers(ctx)
		for ci := range cons.Info() {
			raw, _ := json.Marshal(ci)
			out.config.Write(raw)
		}
		if err := cons.Err(); err != nil {
			t.Fatal(err)
		}
		b := &strings.Builder{}
		out.perStream[name] = b
		for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
			m, err := s.GetMsg(ctx, seq)
			if errors.Is(err, jetstream.ErrMsgNotFound) {
				continue
			}
			if err != nil {
				t.Fatal(err)
			}
			out.msgs[name]++
			fmt.Fprintf(b, "\n%s\n", m.Subject)
			for k, vs := range m.Header {
				fmt.Fprintf(b, "%s: %s\n", k, strings.Join(vs, ", "))
			}
			b.Write(m.Data)
		}
	}
	if err := names.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// secPasswordHashes returns the hash of every account of sim that has one.
func secPasswordHashes(t *testing.T, sim *gigyasim.Sim) []string {
	t.Helper()
	var out []string
	for _, uid := range sim.UIDs() {
		raw, _ := sim.Account(uid)
		var a struct {
			Password struct {
				Hash string `json:"hash"`
			} `json:"password"`
		}
		if err := json.Unmarshal(raw, &a); err != nil {
			t.Fatal(err)
		}
		if len(a.Password.Hash) >= 16 {
			out = append(out, a.Password.Hash)
		}
	}
	return out
}

// secMappedHashes returns the converted hashes (custom_password_hash.hash.value)
// of the users in USERS_MAPPED: the hash as the loader sends it.
func secMappedHashes(t *testing.T, js jetstream.JetStream) []string {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, "USERS_MAPPED")
	if err != nil {
		t.Fatal(err)
	}
	info, _ := s.Info(ctx)
	var out []string
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if err != nil {
			t.Fatal(err)
		}
		var u struct {
			Custom struct {
				Hash struct {
					Value string `json:"value"`
				} `json:"hash"`
			} `json:"custom_password_hash"`
		}
		if json.Unmarshal(m.Data, &u) == nil && len(u.Custom.Hash.Value) >= 16 {
			out = append(out, u.Custom.Hash.Value)
		}
	}
	return out
}

// secPlainPasswords returns the known plaintext passwords of sim's accounts
// that are long enough not to match by chance.
func secPlainPasswords(sim *gigyasim.Sim) []string {
	var out []string
	for _, pw := range sim.Passwords() {
		if len(pw) >= 8 {
			out = append(out, pw)
		}
	}
	return out
}

// secCountContaining returns how many of values occur in text.
func secCountContaining(text string, values []string) int {
	n := 0
	for _, v := range values {
		if strings.Contains(text, v) {
			n++
		}
	}
	return n
}

// TestSecurityNoSecretInLogsMetricsOrStreams migrates a simulated Gigya site
// of 400 accounts into a simulated Auth0 tenant through the Management API,
// over a NATS server that requires a password, with the three real binaries
// at debug log level. Then no secret (Gigya secret, Auth0 client secret,
// Auth0 access tokens, NATS password, plaintext passwords) may be found in
// any process output, any /metrics, any stream or KV message or any stream
// or consumer configuration; and no password hash (as Gigya stores it, or as
// converted for Auth0) in any process output or /metrics, while the hashes
// must be in the streams.
func TestSecurityNoSecretInLogsMetricsOrStreams(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	start := time.Now()
	suffix := secRandom(t)
	gigyaSecret := "S3cr3t-gigya-" + suffix
	auth0Secret := "S3cr3t-auth0-" + suffix
	natsPassword := "S3cr3t-nats-" + suffix
	const natsUser = "etl-sec"

	gsim, gbase := harness.StartGigyaSim(t, gigyasim.Options{Accounts: 400, Seed: 404, APIKey: "3_security", Secret: gigyaSecret})
	asim, tokens, abase := harness.StartAuth0Sim(t, auth0sim.Options{ClientID: "sec-client", ClientSecret: auth0Secret, JobDuration: 100 * time.Millisecond, RehashCost: 4})
	srv, js := secStartNATS(t, natsUser, natsPassword)
	srvURL := srv.ClientURL() // no credentials in the URL: they come from the config and the environment

	// What should land: every full account the mapping accepts.
	m, err := mapping.Parse("auth0.yaml", configs.Auth0Mapping)
	if err != nil {
		t.Fatal(err)
	}
	ev := m.NewEvaluator()
	full, want := 0, 0
	for _, uid := range gsim.UIDs() {
		raw, _ := gsim.Account(uid)
		r, err := ev.MapJSON(raw)
		if r.Skip == "lite_account" {
			continue // a full-account search does not return it
		}
		full++
		if err == nil && r.Skip == "" {
			want++
		}
	}

	cfg := filepath.Join(t.TempDir(), "pipeline.yaml")
	os.WriteFile(cfg, fmt.Appendf(nil, `nats:
  user: %s
extractor:
  source: {type: gigya-api}
  gigya:
    rate: 50
    page_size: 100
    sites:
      - {name: sec, api_key: 3_security, secret: "${SEC_GIGYA_SECRET}", base_url: %q, allow_http: true}
loader:
  name: sec
  sink:
    type: auth0-api
    options: {base_url: %q, allow_http: true, client_id: sec-client, client_secret: "${SEC_AUTH0_SECRET}",
              connection: Username-Password-Authentication, poll_interval: 50ms}
  batch: {max_wait: 200ms}
`, natsUser, gbase, abase), 0o600)
	env := []string{
		"NATS_URL=" + srvURL, "GM_CONFIG=" + cfg,
		"GM_NATS_PASSWORD=" + natsPassword, // the password through the environment
		"SEC_GIGYA_SECRET=" + gigyaSecret, "SEC_AUTH0_SECRET=" + auth0Secret,
		"GM_TELEMETRY_LISTEN=127.0.0.1:0", "GM_TELEMETRY_LOG_LEVEL=debug",
	}

	tr := secStart(t, env, "transformer")
	ld := secStart(t, env, "loader")
	// -follow keeps the extractor running after the catch-up, so its
	// /metrics can be read with the run's counters in them.
	ex := secStart(t, env, "extractor", "-follow")
	procs := []*secProc{ex, tr, ld}
	metrics := map[string][]string{}
	for _, p := range procs {
		metrics[p.Name] = append(metrics[p.Name], p.scrapeMetrics(t)) // early, mid-run
	}
	natstest.Eventually(t, time.Minute, func() error {
		select {
		case <-ex.Done():
			t.Fatalf("the extractor exited before the end of the catch-up:\n%s", ex.output())
		default:
		}
		s, err := js.Stream(context.Background(), "GIGYA_ACCOUNTS")
		if err != nil {
			return err
		}
		if n := s.CachedInfo().State.Msgs; n < uint64(full) {
			return fmt.Errorf("%d of %d accounts extracted", n, full)
		}
		return nil
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := harness.WaitDrainedRefs(ctx, js, "loader-sec"); err != nil {
		t.Fatalf("not drained: %v\n%s", err, ld.output())
	}
	for _, p := range procs {
		metrics[p.Name] = append(metrics[p.Name], p.scrapeMetrics(t)) // with the run's totals
	}
	for _, p := range procs {
		if err := p.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		code, err := p.Wait(time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if code != 0 && code != 3 {
			t.Fatalf("%s exit %d after SIGTERM:\n%s", p.Name, code, harness.LastBytes([]byte(p.output()), 4000))
		}
	}

	// The run did what it should, with the secrets in use: otherwise not
	// finding them proves nothing.
	if users := len(asim.Users()); users != want {
		t.Fatalf("the tenant has %d users, want %d", users, want)
	}
	issued := tokens.Issued()
	if len(issued) == 0 || gsim.Stats().PagesServed == 0 {
		t.Fatalf("the simulators were not used: %d tokens, %+v", len(issued), gsim.Stats())
	}

	secrets := []secSecrets{
		{"the Gigya secret", []string{gigyaSecret}},
		{"the Auth0 client secret", []string{auth0Secret}},
		{"the NATS password", []string{natsPassword}},
		{"an Auth0 access token", issued},
		{"a plaintext password", secPlainPasswords(gsim)},
	}
	rawHashes := secPasswordHashes(t, gsim)
	convHashes := secMappedHashes(t, js)
	hashes := []secSecrets{
		{"a Gigya password hash", rawHashes},
		{"a converted (Auth0) password hash", convHashes},
	}

	for name, want := range map[string]string{"extractor": "gm_extractor_records_total", "transformer": "gm_transformer_records_total", "loader": "gm_loader_records_total"} {
		if bodies := metrics[name]; !strings.Contains(bodies[len(bodies)-1], want) {
			t.Errorf("%s's /metrics has no %s: the scrape did not see the run", name, want)
		}
	}
	logBytes := 0
	for _, p := range procs {
		out := p.output()
		logBytes += len(out)
		secFindLeaks(t, p.Name+"'s output", out, append(secrets, hashes...)...)
		for i, body := range metrics[p.Name] {
			secFindLeaks(t, fmt.Sprintf("%s's /metrics (scrape %d)", p.Name, i+1), body, append(secrets, hashes...)...)
		}
	}
	dump := secDumpStreams(t, js)
	secFindLeaks(t, "the stream and consumer configurations", dump.config.String(), secrets...)
	for name, text := range dump.perStream {
		secFindLeaks(t, "stream "+name, text.String(), secrets...)
	}
	for _, name := range []string{"GIGYA_ACCOUNTS", "USERS_MAPPED", "ETL_DEADLETTER", "KV_etl_state"} {
		if dump.msgs[name] == 0 {
			t.Errorf("stream %s holds no message: the scan did not cover it (streams: %v)", name, dump.msgs)
		}
	}
	// The hashes travel: that is the migration.
	rawIn := secCountContaining(dump.perStream["GIGYA_ACCOUNTS"].String(), rawHashes)
	convIn := secCountContaining(dump.perStream["USERS_MAPPED"].String(), convHashes)
	if rawIn == 0 || convIn == 0 {
		t.Errorf("password hashes are missing from the streams: %d of %d in GIGYA_ACCOUNTS, %d of %d in USERS_MAPPED",
			rawIn, len(rawHashes), convIn, len(convHashes))
	}
	t.Logf("%d accounts (%d full, %d loaded); searched %d KiB of process output at debug level, %d /metrics scrapes, "+
		"messages per stream %v; %d Gigya hashes (%d found in GIGYA_ACCOUNTS), %d converted hashes (%d in USERS_MAPPED), "+
		"%d access tokens, %d plaintext passwords; %v",
		gsim.Len(), full, want, logBytes/1024, 2*len(procs), dump.msgs, len(rawHashes), rawIn, len(convHashes), convIn,
		len(issued), len(secPlainPasswords(gsim)), time.Since(start).Round(time.Millisecond))
}

// TestSecurityErrorOutputHasNoSecrets makes each binary fail on a wrong
// credential (and connect with credentials embedded in the NATS URL) and
// checks that neither the wrong value nor the right one is in what it
// printed: an error message is where a secret most easily slips out.
func TestSecurityErrorOutputHasNoSecrets(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	suffix := secRandom(t)
	gigyaSecret, wrongGigya := "S3cr3t-gigya-"+suffix, "S3cr3t-wrong-gigya-"+suffix
	auth0Secret, wrongAuth0 := "S3cr3t-auth0-"+suffix, "S3cr3t-wrong-auth0-"+suffix
	natsPassword, wrongNATS := "S3cr3t-nats-"+suffix, "S3cr3t-wrong-nats-"+suffix
	const natsUser = "etl-sec"
	all := []secSecrets{{"a secret", []string{gigyaSecret, wrongGigya, auth0Secret, wrongAuth0, natsPassword, wrongNATS}}}

	gsim, gbase := harness.StartGigyaSim(t, gigyasim.Options{Accounts: 20, Seed: 405, APIKey: "3_security", Secret: gigyaSecret})
	_, tokens, abase := harness.StartAuth0Sim(t, auth0sim.Options{ClientID: "sec-client", ClientSecret: auth0Secret})
	srv, _ := secStartNATS(t, natsUser, natsPassword)
	dir := t.TempDir()
	base := []string{"NATS_URL=" + srv.ClientURL(), "GM_NATS_USER=" + natsUser, "GM_NATS_PASSWORD=" + natsPassword,
		"GM_TELEMETRY_LOG_LEVEL=debug", "GM_NATS_CONNECT_RETRY=0s"}
	failing := func(t *testing.T, p *secProc, within time.Duration) {
		t.Helper()
		code, err := p.Wait(within)
		if err != nil {
			t.Fatalf("%v\n%s", err, harness.LastBytes([]byte(p.output()), 3000))
		}
		if code == 0 {
			t.Fatalf("%s exit 0 with a wrong credential:\n%s", p.Name, harness.LastBytes([]byte(p.output()), 3000))
		}
		secFindLeaks(t, p.Name+"'s output", p.output(), all...)
		t.Logf("%s exit %d: %s", p.Name, code, secLastLine(p.output()))
	}

	t.Run("wrong Gigya secret", func(t *testing.T) {
		cfg := filepath.Join(dir, "gigya.yaml")
		os.WriteFile(cfg, fmt.Appendf(nil, "extractor:\n  source: {type: gigya-api}\n  gigya:\n    retries: 2\n    sites:\n      - {name: sec, api_key: 3_security, secret: %q, base_url: %q, allow_http: true}\n",
			wrongGigya, gbase), 0o600)
		failing(t, secStart(t, append(base, "GM_CONFIG="+cfg), "extractor"), time.Minute)
		if gsim.Stats().Requests["accounts.search"] == 0 {
			t.Fatal("the extractor did not reach Gigya: the test proves nothing")
		}
	})
	t.Run("wrong Auth0 client secret", func(t *testing.T) {
		cfg := filepath.Join(dir, "auth0.yaml")
		os.WriteFile(cfg, fmt.Appendf(nil, "loader:\n  name: wrong\n  sink:\n    type: auth0-api\n    options: {base_url: %q, allow_http: true, client_id: sec-client, client_secret: %q, connection: Username-Password-Authentication}\n",
			abase, wrongAuth0), 0o600)
		before := tokens.Requests()
		failing(t, secStart(t, append(base, "GM_CONFIG="+cfg), "loader"), time.Minute)
		if tokens.Requests() == before {
			t.Fatal("the loader did not reach Auth0: the test proves nothing")
		}
	})
	t.Run("wrong NATS password", func(t *testing.T) {
		// A config that is right in everything else, the real secrets included.
		cfg := filepath.Join(dir, "good.yaml")
		os.WriteFile(cfg, fmt.Appendf(nil, "extractor:\n  source: {type: gigya-api}\n  gigya:\n    sites:\n      - {name: sec, api_key: 3_security, secret: %q, base_url: %q, allow_http: true}\n"+
			"loader:\n  sink:\n    type: auth0-api\n    options: {base_url: %q, allow_http: true, client_id: sec-client, client_secret: %q, connection: Username-Password-Authentication}\n",
			gigyaSecret, gbase, abase, auth0Secret), 0o600)
		env := append(slices.Clone(base), "GM_NATS_PASSWORD="+wrongNATS, "GM_CONFIG="+cfg)
		for _, bin := range []string{"extractor", "transformer", "loader"} {
			p := secStart(t, env, bin)
			failing(t, p, 30*time.Second)
			if !strings.Contains(strings.ToLower(p.output()), "authorization") {
				t.Errorf("%s does not say the NATS credentials were refused:\n%s", bin, harness.LastBytes([]byte(p.output()), 2000))
			}
		}
	})
	t.Run("NATS credentials in the URL", func(t *testing.T) {
		// nats://user:password@host is a common way to pass them: the
		// binaries must redact it wherever they print a server address.
		withCreds := strings.Replace(srv.ClientURL(), "nats://", "nats://"+natsUser+":"+natsPassword+"@", 1)
		env := []string{"NATS_URL=" + withCreds, "GM_TELEMETRY_LOG_LEVEL=debug"}
		p := secStart(t, env, "transformer")
		natstest.Eventually(t, 30*time.Second, func() error {
			if !strings.Contains(p.logs.String(), "connected to NATS") {
				return errors.New("not connected yet")
			}
			return nil
		})
		if err := p.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code, err := p.Wait(30 * time.Second); err != nil || code != 0 {
			t.Fatalf("transformer exit %d %v:\n%s", code, err, p.output())
		}
		secFindLeaks(t, "the transformer's output", p.output(), all...)
		// And when the connection fails, the address in the error is redacted too.
		bad := strings.Replace(withCreds, natsPassword, wrongNATS, 1)
		failing(t, secStart(t, []string{"NATS_URL=" + bad, "GM_NATS_CONNECT_RETRY=0s"}, "transformer"), 30*time.Second)
	})
	t.Run("config errors", func(t *testing.T) {
		// A validation error must name the key, not echo the secret.
		cfg := filepath.Join(dir, "invalid.yaml")
		os.WriteFile(cfg, fmt.Appendf(nil, "extractor:\n  source: {type: gigya-api}\n  gigya:\n    page_size: 0\n    sites:\n      - {name: 'bad name', api_key: '', secret: %q, base_url: %q}\nloader:\n  sink:\n    type: auth0-api\n    options: {client_id: '', client_secret: %q}\n",
			gigyaSecret, gbase, auth0Secret), 0o600)
		for _, bin := range []string{"extractor", "loader"} {
			p := secStart(t, append(base, "GM_CONFIG="+cfg), bin)
			failing(t, p, 30*time.Second)
		}
	})
}

func secLastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}

// TestSecurityPlainHTTPRefused: a Gigya site (or an Auth0 tenant) with an
// http:// base URL and no allow_http is a configuration error: the binary
// exits 2 with a message saying why, before it sends anything, so the secret
// never crosses the network in clear.
func TestSecurityPlainHTTPRefused(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	suffix := secRandom(t)
	gigyaSecret, auth0Secret := "S3cr3t-gigya-"+suffix, "S3cr3t-auth0-"+suffix
	all := []secSecrets{{"a secret", []string{gigyaSecret, auth0Secret}}}
	gsim, gbase := harness.StartGigyaSim(t, gigyasim.Options{Accounts: 10, Seed: 406, APIKey: "3_security", Secret: gigyaSecret})
	_, tokens, abase := harness.StartAuth0Sim(t, auth0sim.Options{ClientID: "sec-client", ClientSecret: auth0Secret})
	srv := natstest.Start(t)
	dir := t.TempDir()

	check := func(t *testing.T, p *secProc, sent func() int) {
		t.Helper()
		code, err := p.Wait(30 * time.Second)
		if err != nil {
			t.Fatal(err)
		}
		out := p.output()
		if code != 2 {
			t.Errorf("%s exit %d, want 2 (configuration error):\n%s", p.Name, code, harness.LastBytes([]byte(out), 2000))
		}
		low := strings.ToLower(out)
		if !strings.Contains(low, "http://") && !strings.Contains(low, "plain http") {
			t.Errorf("%s does not say the base URL is plain HTTP:\n%s", p.Name, harness.LastBytes([]byte(out), 2000))
		}
		if !strings.Contains(low, "allow_http") && !strings.Contains(low, "allowhttp") {
			t.Errorf("%s does not say how to allow it (allow_http):\n%s", p.Name, harness.LastBytes([]byte(out), 2000))
		}
		if n := sent(); n != 0 {
			t.Errorf("%s sent %d requests over plain HTTP before refusing", p.Name, n)
		}
		secFindLeaks(t, p.Name+"'s output", out, all...)
		t.Logf("%s exit %d: %s", p.Name, code, secLastLine(out))
	}
	t.Run("gigya-api site", func(t *testing.T) {
		cfg := filepath.Join(dir, "gigya.yaml")
		os.WriteFile(cfg, fmt.Appendf(nil, "extractor:\n  source: {type: gigya-api}\n  gigya:\n    sites:\n      - {name: sec, api_key: 3_security, secret: %q, base_url: %q}\n",
			gigyaSecret, gbase), 0o600)
		p := secStart(t, []string{"NATS_URL=" + srv.ClientURL(), "GM_CONFIG=" + cfg}, "extractor")
		check(t, p, func() int {
			n := 0
			for _, c := range gsim.Stats().Requests {
				n += c
			}
			return n
		})
	})
	t.Run("auth0-api sink", func(t *testing.T) {
		cfg := filepath.Join(dir, "auth0.yaml")
		os.WriteFile(cfg, fmt.Appendf(nil, "loader:\n  sink:\n    type: auth0-api\n    options: {base_url: %q, client_id: sec-client, client_secret: %q, connection: Username-Password-Authentication}\n",
			abase, auth0Secret), 0o600)
		p := secStart(t, []string{"NATS_URL=" + srv.ClientURL(), "GM_CONFIG=" + cfg}, "loader")
		check(t, p, func() int { return int(tokens.Requests()) })
	})
	for _, sinkType := range []string{"loginradius-bulk", "loginradius-api"} {
		t.Run(sinkType+" sink", func(t *testing.T) {
			lrSecret := "S3cr3t-loginradius-" + suffix
			lsim, lbase := harness.StartLoginRadiusSim(t, lrsim.Options{APISecret: lrSecret})
			all := append(all, secSecrets{"the LoginRadius secret", []string{lrSecret}})
			cfg := filepath.Join(dir, sinkType+".yaml")
			urls := fmt.Sprintf("api_url: %q", lbase)
			if sinkType == "loginradius-bulk" {
				urls = fmt.Sprintf("migration_url: %q, %s", lbase, urls)
			}
			os.WriteFile(cfg, fmt.Appendf(nil, "loader:\n  target: loginradius\n  sink:\n    type: %s\n    options: {%s, api_key: sim-api-key, api_secret: %q}\n",
				sinkType, urls, lrSecret), 0o600)
			p := secStart(t, []string{"NATS_URL=" + srv.ClientURL(), "GM_CONFIG=" + cfg}, "loader")
			code, err := p.Wait(30 * time.Second)
			if err != nil {
				t.Fatal(err)
			}
			out := strings.ToLower(p.output())
			if code != 2 || !strings.Contains(out, "plain http") || !strings.Contains(out, "allow_http") || lsim.Stats().Requests != 0 {
				t.Errorf("loader exit %d, %d requests sent:\n%s", code, lsim.Stats().Requests, harness.LastBytes([]byte(p.output()), 2000))
			}
			secFindLeaks(t, "the loader's output", p.output(), all...)
			t.Logf("loader exit %d: %s", code, secLastLine(p.output()))
		})
	}
}
