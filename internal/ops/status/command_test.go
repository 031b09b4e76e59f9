package status

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/nats-io/nats.go/jetstream"
)

func testEnv(url string, stdout, stderr *bytes.Buffer) stage.Env {
	vars := map[string]string{"NATS_URL": url}
	return stage.Env{Getenv: func(k string) string { return vars[k] }, Stdout: stdout, Stderr: stderr}
}

func TestRunJSON(t *testing.T) {
	p := startPipeline(t)
	var stdout, stderr bytes.Buffer
	cmd := Command{DeadLetters: func(ctx context.Context, _ jetstream.JetStream, streams topology.Config) ([]DeadLetterGroup, error) {
		if streams.DeadLetter.Name != "ETL_DEADLETTER" {
			t.Errorf("summarizer got streams %+v", streams)
		}
		return deadLetters(ctx)
	}}
	if err := cmd.Run(testContext(t), testEnv(p.srv.ClientURL(), &stdout, &stderr), []string{"-json", "-interval", "20ms"}); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var s Snapshot
	dec := json.NewDecoder(&stdout)
	if err := dec.Decode(&s); err != nil {
		t.Fatalf("stdout is not one JSON document: %v", err)
	}
	if dec.More() {
		t.Error("stdout holds more than one JSON document")
	}
	if raw := s.stream(RoleRaw); raw.Messages != 10 {
		t.Errorf("raw stream = %+v", raw)
	}
	tr := findConsumer(s, "transformer-auth0")
	if tr.Pending != 4 || tr.AckPending != 2 || tr.Done != 4 || tr.Total != 10 {
		t.Errorf("transformer consumer = %+v", tr)
	}
	// Two samples: the rate is known (0, nothing moved), the ETA is not.
	if tr.RatePerSec == nil || *tr.RatePerSec != 0 || tr.ETASeconds != nil {
		t.Errorf("transformer rate %v ETA %v, want 0 and unknown", tr.RatePerSec, tr.ETASeconds)
	}
	if len(s.Instances) == 0 || !s.Instances[0].Paused || s.Instances[0].PausedReason != pausedReason {
		t.Errorf("instances = %+v", s.Instances)
	}
	if len(s.Checkpoints) != 1 || s.Checkpoints[0].Run != "r1" || len(s.DeadLetters) != 2 {
		t.Errorf("checkpoints %+v, dead letters %+v", s.Checkpoints, s.DeadLetters)
	}
	if strings.Contains(stderr.String(), "connected to NATS") {
		t.Errorf("info logs on stderr: %s", stderr.String())
	}
}

func TestRunText(t *testing.T) {
	p := startPipeline(t)
	var stdout, stderr bytes.Buffer
	// A buffer is not a terminal: plain text, one sample with -interval 0.
	if err := Run(testContext(t), testEnv(p.srv.ClientURL(), &stdout, &stderr), []string{"-interval", "0"}); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	out := stdout.String()
	for _, want := range []string{
		`GIGYA_ACCOUNTS\s+raw\s+10\s`,
		`USERS_MAPPED\s+mapped\s+4\s`,
		`transformer-auth0\s+gigya\.accounts\.>\s+4\s+2\s+0\s+0\s+4/10\s+40\.0%\s+-\s+-`,
		`loader-auth0\s+users\.mapped\.auth0\s+4\s+0\s+0\s+0\s+0/4`,
		`(?m)^PAUSED: consumer loader-x lags 120000 > high water 100000 \(extractor host-1\)$`,
		`DEAD LETTERS \(ETL_DEADLETTER: 0 messages\)\n  no summary by code`,
		`site1\s+file:/data/export\.json\s+r1\s+in progress`,
		`EXTRACTOR RUNS \(1; totals: read 10, published 9, duplicates 1, dead-lettered 0\)`,
	} {
		if !regexp.MustCompile(want).MatchString(out) {
			t.Errorf("text output lacks %s\n%s", want, out)
		}
	}
	if strings.Contains(out, "\x1b[") {
		t.Error("text output has terminal escapes")
	}
}

func TestRunShowsMissingStream(t *testing.T) {
	p := startPipeline(t)
	ctx := testContext(t)
	if err := p.js.DeleteStream(ctx, "USERS_MAPPED"); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	if err := Run(ctx, testEnv(p.srv.ClientURL(), &stdout, &stderr), []string{"-interval", "0"}); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	if !regexp.MustCompile(`USERS_MAPPED\s+mapped\s+MISSING`).MatchString(stdout.String()) {
		t.Errorf("missing stream not shown:\n%s", stdout.String())
	}
	if strings.Contains(stdout.String(), "loader-auth0") {
		t.Errorf("the deleted stream's consumer is still listed:\n%s", stdout.String())
	}
}

func TestRunWithConfigFile(t *testing.T) {
	p := startPipeline(t)
	// The file every binary reads, stage sections included, with the
	// dead-letter stream renamed to one that does not exist.
	cfg := "version: 1\n" +
		"nats:\n  urls: [\"" + p.srv.ClientURL() + "\"]\n" +
		"streams:\n  deadletter:\n    name: OTHER_DL\n" +
		"extractor:\n  site: site1\n" +
		"transformer:\n  workers: 2\n" +
		"loader:\n  name: auth0\n"
	path := filepath.Join(t.TempDir(), "gm.yaml")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	env := stage.Env{Getenv: func(string) string { return "" }, Stdout: &stdout, Stderr: &stderr}
	if err := Run(testContext(t), env, []string{"-config", path, "-json", "-interval", "0"}); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	var s Snapshot
	if err := json.Unmarshal(stdout.Bytes(), &s); err != nil {
		t.Fatal(err)
	}
	if dl := s.stream(RoleDeadLetter); dl.Name != "OTHER_DL" || !dl.Missing {
		t.Errorf("dead-letter stream = %+v, want OTHER_DL missing", dl)
	}
	if findConsumer(s, "transformer-auth0").RatePerSec != nil {
		t.Error("-interval 0 takes one sample: no rate")
	}
}

func TestRunUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"-interval", "-1s"},
		{"-bogus"},
		{"extra"},
		{"-config", filepath.Join(t.TempDir(), "absent.yaml")},
	} {
		var stdout, stderr bytes.Buffer
		err := Run(testContext(t), testEnv("nats://127.0.0.1:1", &stdout, &stderr), args)
		var usage *stage.UsageError
		if !errors.As(err, &usage) {
			t.Errorf("%q: got %v, want a usage error", args, err)
		}
	}
}
