package transform

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/segmentio/encoding/json"
)

func runCheckCmd(t *testing.T, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errb bytes.Buffer
	env := stage.Env{Args: append([]string{"check"}, args...), Stdout: &out, Stderr: &errb, Getenv: func(string) string { return "" }}
	err = Run(context.Background(), env)
	return out.String(), errb.String(), err
}

func TestCheckReportsEveryOutcome(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "in.jsonl")
	lines := []string{
		`{"UID":"ok","profile":{"email":" OK@Example.com "},"isVerified":true}`,
		`{"UID":"noemail"}`,
		`{"UID":"lite","hasLiteAccount":true,"profile":{"email":"l@example.com"}}`,
		`{not json`,
		`{"profile":{"email":"nouid@example.com"}}`,
	}
	os.WriteFile(input, []byte(strings.Join(lines, "\n")+"\n"), 0o644)

	stdout, stderr, err := runCheckCmd(t, input)
	if !errors.Is(err, stage.ErrDeadLetters) || stage.ExitCode("t", err, &bytes.Buffer{}) != stage.ExitDeadLetters {
		t.Fatalf("rejections must exit 3, got %v", err)
	}
	var user map[string]any
	if n := strings.Count(stdout, "\n"); n != 1 {
		t.Fatalf("stdout must hold exactly the one mapped user, got:\n%s", stdout)
	}
	if err := json.Unmarshal([]byte(stdout), &user); err != nil || user["email"] != "ok@example.com" || user["email_verified"] != true {
		t.Fatalf("mapped user %v %v", user, err)
	}
	for _, want := range []string{
		"REJECTED " + input + ":2@", "uid=noemail code=required_missing",
		"SKIPPED  " + input + ":3@", "filter=lite_account",
		"REJECTED " + input + ":4@", "code=invalid_json",
		"code=no_uid",
		"read 5, mapped 1 (1 users), rejected 3, skipped 1",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr lacks %q:\n%s", want, stderr)
		}
	}
}

func TestCheckExplainAndCleanRun(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "in.jsonl")
	os.WriteFile(input, []byte(`{"UID":"ok","profile":{"email":"a@example.com"}}`+"\n"), 0o644)
	mappingFile := filepath.Join(dir, "m.yaml")
	os.WriteFile(mappingFile, []byte("version: 1\ntarget: x\nfields:\n  id: UID\n  mail: profile.email\n  none: profile.nope\n"), 0o644)
	stdout, stderr, err := runCheckCmd(t, "--mapping", mappingFile, "--explain", "--input", input)
	if err != nil {
		t.Fatalf("a clean run exits 0: %v\n%s", err, stderr)
	}
	if strings.TrimSpace(stdout) != `{"id":"ok","mail":"a@example.com"}` {
		t.Fatalf("stdout %q", stdout)
	}
	for _, want := range []string{"EXPLAIN", "mail", `"a@example.com"`, "<- profile.email", "none", "omitted"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("explain output lacks %q:\n%s", want, stderr)
		}
	}
}

func TestCheckUsageErrors(t *testing.T) {
	if _, _, err := runCheckCmd(t); !strings.Contains(fmtErr(err), "no input") {
		t.Fatalf("got %v", err)
	}
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	os.WriteFile(bad, []byte("version: 1\ntarget: x\nfields:\n  a: lower(\n"), 0o644)
	_, _, err := runCheckCmd(t, "-mapping", bad, "x.json")
	var usage *stage.UsageError
	if !errors.As(err, &usage) || !strings.Contains(err.Error(), `field "a"`) {
		t.Fatalf("a mapping compile error is a usage error naming the field: %v", err)
	}
}

func fmtErr(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

// A mapping whose output breaks the target's import schema is caught before
// anything is published: the record is rejected with the path and the rule,
// and an allowed repair is applied instead.
func TestCheckValidatesAgainstTheTarget(t *testing.T) {
	dir := t.TempDir()
	input := filepath.Join(dir, "in.jsonl")
	os.WriteFile(input, []byte(`{"UID":"u1","profile":{"email":"a@example.com"},"data":{"a.b":1}}`+"\n"), 0o644)
	write := func(body string) string {
		p := filepath.Join(dir, "m.yaml")
		os.WriteFile(p, []byte("version: 1\ntarget: auth0\nfields:\n  user_id: UID\n  email: profile.email\n"+body), 0o644)
		return p
	}
	_, stderr, err := runCheckCmd(t, "-mapping", write("  app_metadata.email: profile.email\n"), input)
	if err == nil || !strings.Contains(stderr, "code=schema_violation") || !strings.Contains(stderr, "app_metadata.email") ||
		!strings.Contains(stderr, "reserved_app_metadata_key") {
		t.Fatalf("reserved key not rejected: %v\n%s", err, stderr)
	}
	_, stderr, err = runCheckCmd(t, "-mapping", write("  user_metadata.d: data\n"), input)
	if err == nil || !strings.Contains(stderr, "metadata_key_chars") {
		t.Fatalf("a '.' in a metadata key must be rejected without the repair: %v\n%s", err, stderr)
	}
	stdout, stderr, err := runCheckCmd(t, "-mapping", write("  user_metadata.d: data\nrepair: [sanitize_metadata_keys]\n"), input)
	if err != nil || !strings.Contains(stdout, `"a_b":1`) || !strings.Contains(stderr, "repaired") {
		t.Fatalf("repair not applied: %v\n%s\n%s", err, stdout, stderr)
	}
	_, _, err = runCheckCmd(t, "-mapping", write("validate: nosuch\n"), input)
	if err == nil || !strings.Contains(err.Error(), `unknown validator "nosuch"`) {
		t.Fatalf("unknown validator: %v", err)
	}
}
