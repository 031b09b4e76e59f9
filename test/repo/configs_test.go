package repo

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/extract"
	"github.com/gigya-migrate/gigya-migrate/internal/load"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/targets"
	"github.com/gigya-migrate/gigya-migrate/internal/targets/auth0file"
	"github.com/gigya-migrate/gigya-migrate/internal/transform"
)

// TestPipelineYAMLIsTheDefaults keeps configs/pipeline.yaml true: every
// binary accepts it, and it sets every key to the binary's default (compared
// key by key as the reference formats them, so nil and empty lists agree).
func TestPipelineYAMLIsTheDefaults(t *testing.T) {
	path := filepath.Join("..", "..", "configs", "pipeline.yaml")
	noEnv := func(string) string { return "" }

	ex, exDef := extract.Default(), extract.Default()
	if err := config.Load(path, &ex, noEnv); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(config.Describe(&ex), config.Describe(&exDef)) {
		t.Fatalf("extractor:\n%+v\ndefaults:\n%+v", ex, exDef)
	}
	if err := ex.Validate(extract.Sources()); err != nil {
		t.Fatal(err)
	}

	tr, trDef := transform.Default(), transform.Default()
	if err := config.Load(path, &tr, noEnv); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(config.Describe(&tr), config.Describe(&trDef)) {
		t.Fatalf("transformer:\n%+v\ndefaults:\n%+v", tr, trDef)
	}

	ld, ldDef := load.Default(), load.Default()
	if err := config.Load(path, &ld, noEnv); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(config.Describe(&ld), config.Describe(&ldDef)) {
		t.Fatalf("loader:\n%+v\ndefaults:\n%+v", ld, ldDef)
	}
	if err := ld.Validate(targets.Builtin()); err != nil {
		t.Fatal(err)
	}
	lg, lgDef := extract.DefaultLogin(), extract.DefaultLogin()
	if err := config.Load(path, &lg, noEnv); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(config.Describe(&lg), config.Describe(&lgDef)) {
		t.Fatalf("login service:\n%+v\ndefaults:\n%+v", lg.Login, lgDef.Login)
	}

	var opts auth0file.Options
	if err := config.DecodeNode("loader.sink.options", &ld.Loader.Sink.Options, &opts); err != nil {
		t.Fatal(err)
	}
	if want := auth0file.DefaultOptions(); opts != want {
		t.Fatalf("auth0-file options %+v, defaults %+v", opts, want)
	}
}

// TestEveryBinaryChecksEverySection: one file serves the three binaries and
// their operator commands, so each of them decodes every section of it
// strictly: a typo or a wrong type in any section stops whichever binary
// reads the file first, with the file, the line and the key's dotted path,
// and without Go's names for the types behind them.
func TestEveryBinaryChecksEverySection(t *testing.T) {
	binaries := map[string]func(context.Context, stage.Env) error{
		"extractor":   extract.Run,
		"transformer": transform.Run,
		"loader":      func(ctx context.Context, env stage.Env) error { return load.Run(ctx, env, targets.Builtin()) },
	}
	cases := []struct{ name, file, want string }{
		{"shared", "nats:\n  url: nats://x:4222\n", "c.yaml:2: nats.url: unknown key; did you mean nats.urls?"},
		{"extractor", "extractor:\n  source:\n    typ: file\n", "c.yaml:3: extractor.source.typ: unknown key; did you mean extractor.source.type?"},
		{"transformer", "transformer:\n  workers: many\n", `c.yaml:2: transformer.workers: want a whole number, got "many"`},
		{"loader", "loader:\n  batch:\n    max_recods: 10\n", "c.yaml:3: loader.batch.max_recods: unknown key; did you mean loader.batch.max_records?"},
		{"loader duration", "loader:\n  batch:\n    max_wait: 30\n", "c.yaml:3: loader.batch.max_wait: 30 has no unit: write a duration such as 30s or 2m"},
		{"login service", "login:\n  tiemout: 15s\n", "c.yaml:2: login.tiemout: unknown key; did you mean login.timeout?"},
		{"syntax", "version: 1\nnats:\n  urls: [nats://a:4222\n  user: bob\n", "c.yaml:3: nats.urls: YAML syntax error"},
	}
	dir := t.TempDir()
	for _, c := range cases {
		path := filepath.Join(dir, c.name, "c.yaml")
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(c.file), 0o644); err != nil {
			t.Fatal(err)
		}
		for name, run := range binaries {
			for _, cmd := range [][]string{nil, {"status", "-once"}} {
				args := append(slices.Clone(cmd), "-config", path)
				var stderr bytes.Buffer
				env := stage.Env{Args: args, Getenv: func(string) string { return "" }, Stdout: io.Discard, Stderr: &stderr}
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				code := stage.ExitCode(name, run(ctx, env), &stderr)
				cancel()
				if code != stage.ExitUsage || !strings.Contains(stderr.String(), c.want) {
					t.Errorf("%s %q, %s section: exit %d, %q; want exit %d with\n%s", name, args, c.name, code, stderr.String(), stage.ExitUsage, c.want)
				}
				for _, bad := range []string{"natsconn.", "struct {", "yaml:\"", "!!", "time.Duration", "unmarshal"} {
					if strings.Contains(stderr.String(), bad) {
						t.Errorf("%s, %s section: the error shows Go's names (%q): %s", name, c.name, bad, stderr.String())
					}
				}
			}
		}
	}
}
