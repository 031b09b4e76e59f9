package deadletter_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/ops/deadletter"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
)

// run runs the command in-process against p's server, with env on top of
// NATS_URL.
func (p *pipeline) run(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := stage.Env{
		Getenv: func(k string) string {
			if k == "NATS_URL" {
				return p.srv.ClientURL()
			}
			return env[k]
		},
		Stdout: &out, Stderr: &errOut,
	}
	err = deadletter.Run(context.Background(), e, args)
	return out.String(), errOut.String(), err
}

func TestRunCommands(t *testing.T) {
	p := newPipeline(t)
	seqs := p.publish(t,
		transformDL("u1", "site1", "invalid_email", 1, nil),
		transformDL("u2", "site1", "invalid_email", 2, nil),
		loadDL("u3", "user_exists", 1),
		extractDL("site1", 4),
		transformDL("u5", "site2", "missing_field", 3, nil),
	)

	t.Run("list", func(t *testing.T) {
		out, _, err := p.run(t, nil, "list")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if len(lines) != 6 || !strings.HasPrefix(lines[0], "STAGE") {
			t.Fatalf("want a header, 4 groups and a total:\n%s", out)
		}
		if f := strings.Fields(lines[1]); f[0] != "transform" || f[1] != "auth0" || f[2] != "invalid_email" || f[3] != "2" {
			t.Errorf("largest group first, got %q", lines[1])
		}
		if !strings.Contains(lines[5], "5 dead letters in 4 groups in ETL_DEADLETTER") {
			t.Errorf("total line %q", lines[5])
		}
	})

	t.Run("list json filtered", func(t *testing.T) {
		out, _, err := p.run(t, nil, "list", "--stage", "transform", "--code", "missing_field", "--json")
		if err != nil {
			t.Fatal(err)
		}
		var got struct {
			Stream string
			Total  int
			Groups []deadletter.Group
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		if got.Total != 1 || len(got.Groups) != 1 || got.Groups[0].Code != "missing_field" || got.Groups[0].SampleUIDs[0] != "u5" {
			t.Errorf("got %+v", got)
		}
	})

	t.Run("show", func(t *testing.T) {
		out, _, err := p.run(t, nil, "show", fmt.Sprint(seqs[0]))
		if err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"dead letter 1 of ETL_DEADLETTER", "Etl-Source-Subject: gigya.accounts.site1", `"hash": "[redacted]"`, "u1@example.com"} {
			if !strings.Contains(out, want) {
				t.Errorf("%q missing:\n%s", want, out)
			}
		}
		if strings.Contains(out, "HASH-u1") || strings.Contains(out, "SALT-u1") {
			t.Errorf("secret shown:\n%s", out)
		}
		out, _, err = p.run(t, nil, "show", fmt.Sprint(seqs[2]), "--json") // flags after the sequence
		if err != nil {
			t.Fatal(err)
		}
		var l deadletter.Letter
		if err := json.Unmarshal([]byte(out), &l); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		if l.Stage != "load" || strings.Contains(string(l.Payload), "$2b$10$secret") || l.RedactedValues != 1 {
			t.Errorf("letter %+v", l)
		}
	})

	t.Run("redrive without selector", func(t *testing.T) {
		_, _, err := p.run(t, nil, "redrive", "--dry-run")
		var usage *stage.UsageError
		if !errors.As(err, &usage) || !strings.Contains(err.Error(), "--all") {
			t.Fatalf("err = %v, want a usage error asking for --all", err)
		}
		if code := stage.ExitCode("deadletter", err, &bytes.Buffer{}); code != stage.ExitUsage {
			t.Errorf("exit code %d", code)
		}
	})

	t.Run("redrive dry run json", func(t *testing.T) {
		out, _, err := p.run(t, nil, "redrive", "--all", "--dry-run", "--json")
		if err != nil {
			t.Fatal(err)
		}
		var res deadletter.Result
		if err := json.Unmarshal([]byte(out), &res); err != nil {
			t.Fatalf("%v:\n%s", err, out)
		}
		if !res.DryRun || res.Selected != 5 || res.Redriven != 4 || res.Skipped[deadletter.SkipExtractStage] != 1 {
			t.Errorf("result %+v", res)
		}
		for _, seq := range seqs {
			if !p.dlExists(t, seq) {
				t.Errorf("dry run removed %d", seq)
			}
		}
	})

	t.Run("redrive uids file", func(t *testing.T) {
		file := filepath.Join(t.TempDir(), "uids.txt")
		if err := os.WriteFile(file, []byte("# to retry\nu2\n\n  u3  \n"), 0o600); err != nil {
			t.Fatal(err)
		}
		out, _, err := p.run(t, nil, "redrive", "--uids", file)
		if err != nil {
			t.Fatal(err)
		}
		if value(out, "redriven") != "2" || p.dlExists(t, seqs[1]) || p.dlExists(t, seqs[2]) || !p.dlExists(t, seqs[0]) {
			t.Errorf("want u2 and u3 redriven:\n%s", out)
		}
	})

	t.Run("redrive seq keeps extract stage", func(t *testing.T) {
		out, _, err := p.run(t, nil, "redrive", "--seq", fmt.Sprintf("%d,%d-%d", seqs[0], seqs[3], seqs[4]))
		if err != nil {
			t.Fatal(err)
		}
		if value(out, "redriven") != "2" || value(out, "extract_stage") != "1" || !strings.Contains(out, "extract_stage") || !strings.Contains(out, "run the extractor") {
			t.Errorf("output:\n%s", out)
		}
		if !p.dlExists(t, seqs[3]) || p.dlExists(t, seqs[0]) || p.dlExists(t, seqs[4]) {
			t.Error("want everything but the extract-stage dead letter redriven")
		}
	})

	t.Run("config names a missing stream", func(t *testing.T) {
		cfg := filepath.Join(t.TempDir(), "gm.yaml")
		yaml := "version: 1\nstreams:\n  deadletter:\n    name: OTHER_DL\ntransformer:\n  workers: 2\nloader:\n  sink: {type: jsonl}\n"
		if err := os.WriteFile(cfg, []byte(yaml), 0o600); err != nil {
			t.Fatal(err)
		}
		_, _, err := p.run(t, map[string]string{"GM_CONFIG": cfg}, "list")
		if err == nil || !strings.Contains(err.Error(), "OTHER_DL not found") {
			t.Fatalf("err = %v, want the missing stream named", err)
		}
		if _, err := p.js.Stream(context.Background(), "OTHER_DL"); err == nil {
			t.Error("list created the stream")
		}
	})

	t.Run("usage errors", func(t *testing.T) {
		for _, args := range [][]string{
			{}, {"purge"}, {"show"}, {"show", "x"}, {"list", "--stage", "a.b"}, {"redrive", "--seq", "9-3"}, {"redrive", "--all", "--limit", "-1"},
		} {
			_, _, err := p.run(t, nil, args...)
			var usage *stage.UsageError
			if !errors.As(err, &usage) {
				t.Errorf("%q: err = %v, want a usage error", args, err)
			}
		}
		_, stderr, err := p.run(t, nil, "redrive", "-h")
		if !errors.Is(err, stage.ErrHelp) || !strings.Contains(stderr, "--all selects everything") {
			t.Errorf("-h: %v\n%s", err, stderr)
		}
	})
}

// value returns the value of the first "name  value" line of a text result.
func value(out, name string) string {
	for line := range strings.SplitSeq(out, "\n") {
		if f := strings.Fields(line); len(f) == 2 && f[0] == name {
			return f[1]
		}
	}
	return ""
}
