package repo

import (
	"path/filepath"
	"reflect"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/extract"
	"github.com/gigya-migrate/gigya-migrate/internal/load"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
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
	var opts auth0file.Options
	if err := config.DecodeNode("loader.sink.options", &ld.Loader.Sink.Options, &opts); err != nil {
		t.Fatal(err)
	}
	if want := auth0file.DefaultOptions(); opts != want {
		t.Fatalf("auth0-file options %+v, defaults %+v", opts, want)
	}
}
