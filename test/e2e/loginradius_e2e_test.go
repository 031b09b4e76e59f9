package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash/lrverify"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/gigya-migrate/gigya-migrate/internal/quickstart"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/lrsim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/test/internal/harness"
	"github.com/segmentio/encoding/json"
)

// TestEndToEndLoginRadius migrates a simulated Gigya site into a simulated
// LoginRadius tenant with the three real binaries, configs/loginradius.yaml
// and the loginradius-bulk sink: the loader is killed mid-run and
// restarted, then a second loader sends every user again through the
// Account API (loginradius-api, password hashes dropped from the request:
// the stored ones stay). The generated accounts carry every Gigya hash
// algorithm and salt placement with known passwords. Every user the
// mapping keeps must exist exactly once with its mapped email; every user
// whose hash LoginRadius supports must log in with the original password
// (and not with a wrong one); the users with a hash LoginRadius cannot
// verify are imported without one and flagged; and extracted = loaded +
// dead-lettered + filtered.
func TestEndToEndLoginRadius(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	gsim, gbase := harness.StartGigyaSim(t, gigyasim.Options{Accounts: 2000, Seed: 21})
	lsim, lbase := harness.StartLoginRadiusSim(t, lrsim.Options{BcryptCost: 4})

	mappingFile, err := filepath.Abs(filepath.Join("..", "..", "configs", "loginradius.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	// Expected users, computed without the pipeline.
	ev, check := lrEvaluator(t, mappingFile)
	type expected struct {
		login, password, algorithm string
	}
	want := map[string]expected{} // by UID
	refused := 0
	passwords := gsim.Passwords()
	for _, uid := range gsim.UIDs() {
		raw, _ := gsim.Account(uid)
		out, skip, err := ev.ApplyJSON(raw)
		if skip != "" {
			continue
		}
		if err != nil || !check.Validate(out).OK() {
			refused++
			continue
		}
		var acct struct {
			Password struct {
				HashSettings struct {
					Algorithm string `json:"algorithm"`
				} `json:"hashSettings"`
			} `json:"password"`
		}
		_ = json.Unmarshal(raw, &acct)
		e := expected{password: passwords[uid], algorithm: acct.Password.HashSettings.Algorithm}
		if emails, _ := out["Email"].([]any); len(emails) > 0 {
			e.login, _ = emails[0].(map[string]any)["Value"].(string)
		}
		want[uid] = e
	}

	srv := natstest.Start(t)
	js := srv.JetStream()
	dir := t.TempDir()
	exCfg := writeAPIExtractorConfig(t, dir, gsim, gbase, "    rate: 1000\n")
	trCfg := filepath.Join(dir, "transformer.yaml")
	if err := os.WriteFile(trCfg, fmt.Appendf(nil, "transformer:\n  mapping: %q\n", mappingFile), 0o600); err != nil {
		t.Fatal(err)
	}
	loaderCfg := func(name, sinkType, options string) string {
		p := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(p, fmt.Appendf(nil, `loader:
  name: %s
  target: loginradius
  unique: [Email.Value, PhoneId]
  batch: {max_records: 400}
  sink:
    type: %s
    options: {api_key: sim-api-key, api_secret: sim-api-secret, allow_http: true, rate: 0, %s}
  consumer: {max_ack_pending: 4000, ack_wait: 10s}
`, name, sinkType, options), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	bulkOpts := fmt.Sprintf("migration_url: %q, api_url: %q", lbase, lbase)
	p := harness.NewPipeline(t, srv.ClientURL(), filepath.Join(dir, "unused"))

	tr := p.Start("transformer", "-config", trCfg)
	ld := p.Start("loader", "-config", loaderCfg("lr-bulk", "loginradius-bulk", bulkOpts))
	ex := p.Start("extractor", "-config", exCfg)
	if code := harness.ExitCode(t, ex); code != 0 {
		t.Fatalf("extractor exit %d", code)
	}
	natstest.Eventually(t, 2*time.Minute, func() error {
		if st := lsim.Stats(); st.BulkRequests < 3 {
			return fmt.Errorf("waiting for three bulk requests: %+v", st)
		}
		return ld.Signal(syscall.SIGKILL)
	})
	harness.ExitCode(t, ld)
	t.Logf("loader killed after %d bulk requests", lsim.Stats().BulkRequests)
	drain := func(loader string) {
		t.Helper()
		ctx, cancel := contextWithTimeout(3 * time.Minute)
		defer cancel()
		if err := quickstart.WaitDrained(ctx, js,
			quickstart.ConsumerRef{Stream: "GIGYA_ACCOUNTS", Durable: "transformer-loginradius"},
			quickstart.ConsumerRef{Stream: "USERS_MAPPED", Durable: "loader-" + loader}); err != nil {
			t.Fatalf("not drained: %v", err)
		}
	}
	ld2 := p.Start("loader", "-config", loaderCfg("lr-bulk", "loginradius-bulk", bulkOpts))
	drain("lr-bulk")
	harness.StopGracefully(t, ld2)
	bulk := lsim.Stats()

	// Every user again, through the Account API: found by Uid and updated.
	api := p.Start("loader", "-config", loaderCfg("lr-api", "loginradius-api", fmt.Sprintf("api_url: %q, password_hash: drop", lbase)))
	drain("lr-api")
	harness.StopGracefully(t, api, tr)
	var ts struct {
		Filtered int64 `json:"filtered"`
	}
	if err := tr.Summary(&ts); err != nil {
		t.Fatal(err)
	}

	byUID := map[string]map[string]any{}
	for _, u := range lsim.Users() {
		uid, _ := u["Uid"].(string)
		if byUID[uid] != nil {
			t.Fatalf("user %s exists twice in the tenant", uid)
		}
		byUID[uid] = u
	}
	if len(byUID) != len(want) {
		t.Fatalf("the tenant has %d users, want %d", len(byUID), len(want))
	}
	counts := map[string]int{}
	logins, verifiable, flagged, cryptMD5 := 0, 0, 0, 0
	for uid, w := range want {
		u := byUID[uid]
		if u == nil {
			t.Fatalf("user %s is missing", uid)
		}
		if w.login != "" {
			emails, _ := u["Email"].([]any)
			if len(emails) == 0 || emails[0].(map[string]any)["Value"] != w.login {
				t.Fatalf("user %s: Email %v, want %s first", uid, u["Email"], w.login)
			}
		}
		hash, _ := u["PasswordHash"].(string)
		custom, _ := u["CustomFields"].(map[string]any)
		switch {
		case w.password != "" && w.login != "":
			verifiable++
			ok, err := lsim.Login(w.login, w.password)
			if err == lrsim.ErrBlocked {
				// Gigya isActive false: LoginRadius refuses the login (991),
				// but the hash must still be the right one.
				enc, _ := json.Marshal(u["PasswordEncryption"])
				if ok, err := lrverify.Verify(enc, hash, w.password); err != nil || !ok {
					t.Fatalf("%s (%s, blocked): the stored hash does not verify: %v", uid, w.algorithm, err)
				}
				counts["blocked (isActive false), hash verified: "+w.algorithm]++
				continue
			}
			if err != nil || !ok {
				t.Fatalf("%s (%s) cannot log in with the original password: %v\n%v %v", uid, w.algorithm, err, hash, u["PasswordEncryption"])
			}
			if bad, _ := lsim.Login(w.login, w.password+"x"); bad {
				t.Fatalf("%s (%s) logs in with a wrong password", uid, w.algorithm)
			}
			logins++
			counts["logs in: "+w.algorithm]++
		case w.algorithm == "md5_crypt":
			// Converted to Crypt_MD5; the sample's md5_crypt hashes are of
			// no known password, so only the hash is checked.
			enc, _ := u["PasswordEncryption"].(map[string]any)
			if !strings.HasPrefix(hash, "$1$") || enc["Type"] != "Crypt_MD5" {
				t.Fatalf("%s: md5_crypt hash not carried over: %q %v", uid, hash, enc)
			}
			cryptMD5++
		case w.algorithm != "":
			if hash != "" || custom["password_reset_required"] != "true" {
				t.Fatalf("%s (%s): an unverifiable hash must be left out and flagged: %q %v", uid, w.algorithm, hash, custom)
			}
			flagged++
			counts["flagged: "+w.algorithm]++
		default:
			counts["no password"]++
		}
	}
	bySubject, _ := harness.DeadLetters(t, js)
	transformDL, loadDL := bySubject["etl.deadletter.transform.loginradius"], bySubject["etl.deadletter.load.loginradius"]
	if transformDL != refused {
		t.Fatalf("%d dead letters at the transformer, want %d", transformDL, refused)
	}
	if loadDL != 0 {
		t.Fatalf("%d users dead-lettered by the loaders: %v", loadDL, bySubject)
	}
	raw, err := js.Stream(t.Context(), "GIGYA_ACCOUNTS")
	if err != nil {
		t.Fatal(err)
	}
	info, err := raw.Info(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	extracted := int(info.State.Msgs)
	if extracted != len(byUID)+transformDL+loadDL+int(ts.Filtered) {
		t.Fatalf("extracted %d != loaded %d + dead-lettered %d + filtered %d", extracted, len(byUID), transformDL+loadDL, ts.Filtered)
	}
	for _, alg := range []string{"pbkdf2_sha512", "pbkdf2_sha256", "pbkdf2", "md5", "sha1", "sha256", "sha512", "bcrypt"} {
		if counts["logs in: "+alg] == 0 {
			t.Errorf("no %s user was proven to log in", alg)
		}
	}
	t.Logf("extracted %d = loaded %d + dead-lettered %d + filtered %d", extracted, len(byUID), transformDL+loadDL, ts.Filtered)
	t.Logf("%d of %d users with a known password log in (the rest are blocked, their hashes verified); %d flagged for a reset (custom hashes); %d md5_crypt carried as Crypt_MD5", logins, verifiable, flagged, cryptMD5)
	for k, v := range counts {
		t.Logf("%5d %s", v, k)
	}
	st := lsim.Stats()
	t.Logf("bulk loader: %d requests, %d profiles (%d inserted, %d updated, %d failed), largest request %d bytes, %d with a PasswordEncryption; api loader: %d updates, %d creates",
		bulk.BulkRequests, bulk.BulkProfiles, bulk.Inserted, bulk.Updated, bulk.Failed, bulk.MaxBulkBytes, bulk.BulkEncryptions, st.Updates, st.Creates)
}

// lrEvaluator evaluates the shipped LoginRadius mapping and validates as the
// transformer does, for expectations computed without the pipeline.
func lrEvaluator(t *testing.T, path string) (*mapping.Evaluator, validate.Validator) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Parse("loginradius.yaml", b)
	if err != nil {
		t.Fatal(err)
	}
	return m.NewEvaluator(), validate.Builtin()["loginradius"](validate.Options{})
}

// TestQuickstartLoginRadius is `make run TARGET=loginradius`: the sample
// site migrated into a simulated LoginRadius tenant, every mapped user
// loaded once, most with a password hash, and the summary balancing.
func TestQuickstartLoginRadius(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	root, err := quickstart.ModuleRoot(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var sim *lrsim.Sim
	var stdout strings.Builder
	rep, err := quickstart.Run(t.Context(), quickstart.Options{
		Root: root, BinDir: harness.BinDir(t), Accounts: 300, OutDir: filepath.Join(t.TempDir(), "out"), Stdout: &stdout,
		Target: "loginradius", LoginRadiusSim: func(s *lrsim.Sim) { sim = s },
	})
	if err != nil {
		t.Fatal(err)
	}
	users := sim.Users()
	hashed := 0
	for _, u := range users {
		if u["PasswordHash"] != nil {
			hashed++
		}
	}
	if rep.Loaded == 0 || int(rep.Loaded) != len(users) || rep.Unaccounted() != 0 || hashed < len(users)/2 || rep.LRRequests == 0 {
		t.Fatalf("report %+v: %d users in the tenant, %d with a hash", rep, len(users), hashed)
	}
	rep.Print(&stdout, "out")
	for _, want := range []string{"LoginRadius bulk migration API", ": balances", "CustomFields.password_reset_required"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, stdout.String())
		}
	}
}
