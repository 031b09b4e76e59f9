package e2e

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/configs"
	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/quickstart"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/auth0sim"
	"github.com/gigya-migrate/gigya-migrate/test/internal/harness"
	"github.com/segmentio/encoding/json"
)

// TestEndToEndTwoAccountsOneEmail: Gigya allows two accounts with one email,
// Auth0 one user per email. Through both Auth0 sinks, the account that
// reaches the loader first is loaded and the other dead-lettered as
// email_conflict naming both UIDs, and the summary says so; a second version of a user in the same run is
// superseded, and the summary balances with every term shown.
func TestEndToEndTwoAccountsOneEmail(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end: builds and runs the binaries")
	}
	a, b, c := loadableAccounts(t, 3)
	first, _ := a["UID"].(string)
	second, _ := b["UID"].(string)
	email := strings.ToUpper(emailOf(a)) // the same address, in another case
	b["profile"].(map[string]any)["email"] = email
	b["loginIDs"] = map[string]any{"emails": []any{email}}
	newer := map[string]any{}
	for k, v := range c {
		newer[k] = v
	}
	newer["lastUpdatedTimestamp"] = c["lastUpdatedTimestamp"].(float64) + 1000
	var lines bytes.Buffer
	for _, acc := range []map[string]any{a, b, c, newer} {
		line, err := json.Marshal(acc)
		if err != nil {
			t.Fatal(err)
		}
		lines.Write(append(line, '\n'))
	}
	dir := t.TempDir()
	input := filepath.Join(dir, "accounts.jsonl")
	if err := os.WriteFile(input, lines.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	root, err := quickstart.ModuleRoot(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, api := range []bool{false, true} {
		t.Run(map[bool]string{false: "auth0-file", true: "auth0-api"}[api], func(t *testing.T) {
			out := filepath.Join(dir, fmt.Sprint(api))
			var stdout bytes.Buffer
			var sim *auth0sim.Sim
			rep, err := quickstart.Run(context.Background(), quickstart.Options{
				Root: root, BinDir: harness.BinDir(t), Inputs: []string{input}, OutDir: out, Stdout: &stdout,
				Auth0API: api, Auth0Sim: func(s *auth0sim.Sim) { sim = s },
			})
			if err != nil {
				t.Fatal(err)
			}
			rep.Print(&stdout, out)
			summary := stdout.String()
			if rep.Loaded+rep.Superseded != 3 || rep.DeadLettered["load"] != 1 || rep.Conflicts != 1 || rep.Unaccounted() != 0 {
				t.Fatalf("report %+v: want 3 loaded or superseded, 1 load dead letter (the conflict), a balance\n%s", rep, summary)
			}
			for _, want := range []string{"of which 1 email conflicts", "superseded", "extracted 4 = loaded", ": balances"} {
				if !strings.Contains(summary, want) {
					t.Errorf("the summary lacks %q:\n%s", want, summary)
				}
			}
			// The target holds one of the two accounts: the one that reached
			// the loader first (transformers map in parallel).
			var holders []string
			if api {
				for _, u := range sim.Users() {
					if strings.EqualFold(fmt.Sprint(u["email"]), email) {
						holders = append(holders, fmt.Sprint(u["user_id"]))
					}
				}
			} else {
				for uid := range harness.OutputUIDs(t, out) {
					if uid == first || uid == second {
						holders = append(holders, uid)
					}
				}
			}
			if len(holders) != 1 || (!strings.HasSuffix(holders[0], first) && !strings.HasSuffix(holders[0], second)) {
				t.Fatalf("the target holds %v for the shared email, want one of %s and %s", holders, first, second)
			}
			holder, refused := first, second
			if strings.HasSuffix(holders[0], second) {
				holder, refused = second, first
			}
			// The loader said which account holds the email.
			log, err := os.ReadFile(filepath.Join(out, "logs", "loader.log"))
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, line := range strings.Split(string(log), "\n") {
				if strings.Contains(line, "code=email_conflict") && strings.Contains(line, "uid="+refused) && strings.Contains(line, holder) {
					found = true
				}
			}
			if !found {
				t.Fatalf("no email_conflict dead letter naming %s and %s in the loader's log:\n%s", refused, holder, log)
			}
		})
	}
}

// loadableAccounts returns n generated accounts that the Auth0 mapping
// loads, with distinct emails.
func loadableAccounts(t *testing.T, n int) (a, b, c map[string]any) {
	t.Helper()
	m, err := mapping.Parse("auth0.yaml", configs.Auth0Mapping)
	if err != nil {
		t.Fatal(err)
	}
	ev := m.NewEvaluator()
	g := sample.New(11, sample.Quick())
	var out []map[string]any
	seen := map[string]bool{}
	for len(out) < n {
		acc := g.Next()
		user, skip, err := ev.ApplyJSON(acc.JSON)
		email, _ := user["email"].(string)
		if skip != "" || err != nil || email == "" || seen[strings.ToLower(email)] {
			continue
		}
		var v map[string]any
		if err := json.Unmarshal(acc.JSON, &v); err != nil {
			t.Fatal(err)
		}
		if _, ok := v["profile"].(map[string]any); !ok {
			continue
		}
		seen[strings.ToLower(email)] = true
		out = append(out, v)
	}
	return out[0], out[1], out[2]
}

func emailOf(acc map[string]any) string {
	if ids, ok := acc["loginIDs"].(map[string]any); ok {
		if es, ok := ids["emails"].([]any); ok && len(es) > 0 {
			return fmt.Sprint(es[0])
		}
	}
	return fmt.Sprint(acc["profile"].(map[string]any)["email"])
}
