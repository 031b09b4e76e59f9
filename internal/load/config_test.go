package load

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
)

// TestSinkOptionProblemsPointAtTheirLine: the sink decodes and checks its
// own options; what it finds wrong names the file and line of the key.
func TestSinkOptionProblemsPointAtTheirLine(t *testing.T) {
	type options struct {
		Dir  string `yaml:"dir"`
		Size int    `yaml:"size"`
	}
	registry := sink.Registry{"fake": {New: func(_ context.Context, p sink.Params) (sink.Sink, error) {
		var o options
		if err := p.Decode(&o); err != nil {
			return nil, err
		}
		var pr config.Problems
		pr.Check(o.Size > 0, "loader.sink.options.size", "must be positive")
		return nil, pr.Err()
	}}}
	path := filepath.Join(t.TempDir(), "c.yaml")
	for body, want := range map[string]string{
		"loader:\n  sink:\n    type: fake\n    options:\n      dri: x\n":   path + ":5: loader.sink.options.dri: unknown key; did you mean loader.sink.options.dir?",
		"loader:\n  sink:\n    type: fake\n    options:\n      size: -1\n": path + ":5: loader.sink.options.size: must be positive",
	} {
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		env := stage.Env{Args: []string{"-config", path}, Getenv: func(string) string { return "" }, Stdout: io.Discard, Stderr: &bytes.Buffer{}}
		err := Run(context.Background(), env, registry)
		var usage *stage.UsageError
		if !errors.As(err, &usage) || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v\nwant a usage error containing\n%s", err, want)
		}
	}
}
