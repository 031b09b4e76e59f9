package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/configs"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/test/internal/harness"
	"github.com/segmentio/encoding/json"
)

// TestEndToEndHybridLoginMigration is the hybrid migration of
// docs/login-migration.md with the real binaries: the bulk pipeline with
// the hybrid mapping into Auth0 import files, and `extractor
// login-service` beside it.
//
//   - A user who logs in through the service before the bulk run is
//     migrated at login; the bulk run's version of them is never written.
//   - An md5-crypt user, whom Auth0 cannot verify, is filtered from the bulk
//     load by name (login_migration), then migrates at login with their
//     password.
//   - status balances both runs, with migrated at login as a term.
func TestEndToEndHybridLoginMigration(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	const secret, clientSecret = "e2e-gigya-secret", "e2e-auth0-connection-secret"
	sim, err := gigyasim.New(gigyasim.Options{Accounts: 400, Seed: 31, APIKey: "3_e2e", Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	const md5UID, md5Email, md5Password = "md5cryptuser00000000000000000e2e", "legacy.md5@example.com", "An old md5 password"
	md5Account, _ := json.Marshal(map[string]any{
		"UID": md5UID, "isActive": true, "isRegistered": true, "isVerified": true,
		"created": "2015-06-01T10:00:00.000Z", "createdTimestamp": 1433152800000,
		"loginIDs": map[string]any{"emails": []string{md5Email}}, "emails": map[string]any{"verified": []string{md5Email}},
		"profile":  map[string]any{"email": md5Email, "firstName": "Lee"},
		"password": map[string]any{"hash": gigyasim.MD5Crypt(md5Password, "e2eSalt1"), "hashSettings": map[string]any{"algorithm": "md5_crypt"}},
	})
	if err := sim.Put(md5Account); err != nil {
		t.Fatal(err)
	}
	base, stopSim, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stopSim()

	// The hybrid mapping: configs/auth0.yaml with its login_migration
	// filter turned on, as the guide says.
	src := string(configs.Auth0Mapping)
	const commented = "  # - name: login_migration\n  #   when: "
	if !strings.Contains(src, commented) {
		t.Fatal("configs/auth0.yaml has no commented login_migration filter")
	}
	hybrid := strings.Replace(src, commented, "  - name: login_migration\n    when: ", 1)
	dir := t.TempDir()
	mappingFile := filepath.Join(dir, "auth0-hybrid.yaml")
	if err := os.WriteFile(mappingFile, []byte(hybrid), 0o644); err != nil {
		t.Fatal(err)
	}
	m, err := mapping.Parse("hybrid", []byte(hybrid))
	if err != nil {
		t.Fatal(err)
	}
	// What the bulk load should write, and a user who logs in first.
	ev := m.NewEvaluator()
	want := map[string]bool{}
	filtered := 0
	var early struct{ uid, email, password string }
	for _, uid := range sim.UIDs() {
		raw, _ := sim.Account(uid)
		r, err := ev.MapJSON(raw)
		switch {
		case r.Skip == "login_migration":
			filtered++
		case err == nil && r.Skip == "":
			want[uid] = true
			if pw, ok := sim.Passwords()[uid]; ok && early.uid == "" && !strings.Contains(string(raw), `"isActive":false`) {
				var a struct{ LoginIDs struct{ Emails []string } }
				_ = json.Unmarshal(raw, &a)
				if len(a.LoginIDs.Emails) > 0 {
					early.uid, early.email, early.password = uid, a.LoginIDs.Emails[0], pw
				}
			}
		}
	}
	if filtered < 2 || early.uid == "" || want[md5UID] {
		t.Fatalf("the site has %d users the hybrid mapping filters, early user %q, md5 user loadable %t", filtered, early.uid, want[md5UID])
	}
	delete(want, early.uid)

	srv := natstest.Start(t)
	js := srv.JetStream()
	out := filepath.Join(dir, "out")
	port := harness.FreePorts(t, 1)[0]
	cfg := filepath.Join(dir, "pipeline.yaml")
	os.WriteFile(cfg, fmt.Appendf(nil, `extractor:
  source: {type: gigya-api}
  gigya:
    rate: 100
    sites:
      - {name: e2e, api_key: 3_e2e, secret: "${SIM_SECRET}", base_url: %q, allow_http: true}
transformer:
  mapping: %q
loader:
  sink: {type: auth0-file, options: {dir: %q}}
login:
  plain_http: true
  listen: 127.0.0.1:%d
  mapping: %q
  clients:
    - {name: auth0, secret: "${AUTH0_CLIENT_SECRET}"}
`, base, mappingFile, out, port, mappingFile), 0o600)
	p := harness.NewPipeline(t, srv.ClientURL(), out, "GM_CONFIG="+cfg, "SIM_SECRET="+secret, "AUTH0_CLIENT_SECRET="+clientSecret)
	tr, ld := p.Start("transformer"), p.Start("loader")
	svc := p.Start("extractor", "login-service")
	url := fmt.Sprintf("http://127.0.0.1:%d", port)
	natstest.Eventually(t, 30*time.Second, func() error {
		resp, err := http.Get(url + "/readyz")
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("readyz %d", resp.StatusCode)
		}
		return nil
	})
	loginAs := func(email, password string) (int, map[string]any) {
		t.Helper()
		body, _ := json.Marshal(map[string]string{"identifier": email, "password": password})
		req, _ := http.NewRequest(http.MethodPost, url+"/auth0/login", bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+clientSecret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var got map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&got)
		return resp.StatusCode, got
	}

	// A user logs in before the bulk run reaches them.
	if status, got := loginAs(early.email, early.password); status != 200 {
		t.Fatalf("early login: %d %v", status, got)
	}
	ex := p.Start("extractor")
	if code := harness.ExitCode(t, ex); code != 0 {
		t.Fatalf("extractor exit %d", code)
	}
	waitDrained(t, js)
	// The md5-crypt user, left out of the bulk load, logs in.
	if status, got := loginAs(md5Email, "not "+md5Password); status != 403 || got["error"] != "wrong_credentials" {
		t.Fatalf("md5 user, wrong password: %d %v", status, got)
	}
	status, got := loginAs(md5Email, md5Password)
	if status != 200 || got["profile"].(map[string]any)["user_id"] != md5UID {
		t.Fatalf("md5 user login: %d %v", status, got)
	}
	// The loader marks both users in its versions register before it
	// acks their records.
	versions, err := js.KeyValue(context.Background(), "etl_versions")
	if err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 30*time.Second, func() error {
		for _, uid := range []string{early.uid, md5UID} {
			if _, err := versions.Get(context.Background(), "auth0-file.login."+base64.RawURLEncoding.EncodeToString([]byte(uid))); err != nil {
				return fmt.Errorf("%s is not marked as migrated at login: %w", uid, err)
			}
		}
		return nil
	})
	waitDrained(t, js)

	files := harness.OutputUIDs(t, out)
	for uid, n := range files {
		if n != 1 || !want[uid] {
			t.Fatalf("%s is in the Auth0 files %d times (expected: %t)", uid, n, want[uid])
		}
	}
	if len(files) != len(want) {
		t.Fatalf("the Auth0 files hold %d users, want %d (the early user and the filtered ones left out)", len(files), len(want))
	}

	// status balances the bulk run and the login service's run, from the
	// tallies the stopped instances leave.
	harness.StopGracefully(t, tr, ld, svc)
	st := p.Start("extractor", "status", "-json")
	if code := harness.ExitCode(t, st); code != 0 {
		t.Fatalf("status exit %d:\n%s", code, st.Output())
	}
	var snap struct {
		Balances []struct {
			Run             string `json:"run"`
			Extracted       int64  `json:"extracted"`
			Filtered        int64  `json:"filtered"`
			Loaded          int64  `json:"loaded"`
			MigratedAtLogin int64  `json:"migrated_at_login"`
			InFlight        int64  `json:"in_flight"`
		} `json:"balances"`
	}
	if err := json.Unmarshal([]byte(st.Output()), &snap); err != nil {
		t.Fatalf("status -json: %v\n%s", err, st.Output())
	}
	var bulk, atLogin bool
	for _, b := range snap.Balances {
		t.Logf("balance %+v", b)
		if b.InFlight != 0 {
			t.Errorf("run %s does not balance: %+v", b.Run, b)
		}
		switch {
		case strings.HasPrefix(b.Run, "login-"):
			atLogin = b.Extracted == 2 && b.MigratedAtLogin == 2
		default:
			bulk = b.MigratedAtLogin == 1 && b.Filtered >= int64(filtered) && b.Loaded == int64(len(want))
		}
	}
	if !bulk || !atLogin {
		t.Fatalf("balances %+v: want the bulk run with 1 user migrated at login and %d filtered, and the login run with 2", snap.Balances, filtered)
	}
	var trSum struct {
		FilteredBy map[string]int64 `json:"filtered_by"`
	}
	if err := tr.Summary(&trSum); err != nil || trSum.FilteredBy["login_migration"] != int64(filtered) {
		t.Fatalf("transformer summary %+v (%v): want %d filtered by login_migration", trSum, err, filtered)
	}
	var ldSum struct {
		Loaded          int64
		MigratedAtLogin int64 `json:"migrated_at_login"`
	}
	if err := ld.Summary(&ldSum); err != nil || ldSum.MigratedAtLogin != 3 {
		t.Fatalf("loader summary %+v (%v): want 3 migrated at login (2 logins, 1 bulk version)", ldSum, err)
	}
}
