package stage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

func TestExitCode(t *testing.T) {
	tests := []struct {
		name string
		give error
		want int
	}{
		{"success", nil, ExitOK},
		{"stopped by a signal", fmt.Errorf("run: %w", context.Canceled), ExitOK},
		{"help", ErrHelp, ExitOK},
		{"dead letters", fmt.Errorf("%w: 3", ErrDeadLetters), ExitDeadLetters},
		{"bad config", Usage(errors.New("extractor.site: bad")), ExitUsage},
		{"failure", errors.New("nats down"), ExitFailure},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stderr bytes.Buffer
			if got := ExitCode("x", tt.give, &stderr); got != tt.want {
				t.Fatalf("ExitCode = %d, want %d", got, tt.want)
			}
			if tt.want != ExitOK && !strings.Contains(stderr.String(), tt.give.Error()) {
				t.Fatalf("the error must be printed, got %q", stderr.String())
			}
		})
	}
}

func TestParseFlags(t *testing.T) {
	env := Env{Getenv: func(k string) string { return map[string]string{"GM_CONFIG": "from-env.yaml"}[k] }, Stderr: &bytes.Buffer{}}
	fs, cfg := Flags("x", "usage\n", env)
	if err := ParseFlags(fs, nil, false); err != nil || *cfg != "from-env.yaml" {
		t.Fatalf("GM_CONFIG must be the -config default: %v %q", err, *cfg)
	}
	fs, _ = Flags("x", "usage\n", env)
	var usage *UsageError
	if err := ParseFlags(fs, []string{"extra"}, false); !errors.As(err, &usage) {
		t.Fatalf("unexpected argument must be a usage error, got %v", err)
	}
	fs, _ = Flags("x", "usage\n", env)
	if err := ParseFlags(fs, []string{"-nope"}, true); !errors.As(err, &usage) {
		t.Fatalf("unknown flag must be a usage error, got %v", err)
	}
	fs, _ = Flags("x", "usage\n", env)
	if err := ParseFlags(fs, []string{"-h"}, true); !errors.Is(err, ErrHelp) {
		t.Fatalf("-h must return ErrHelp, got %v", err)
	}
}

func TestRetryWaitsOutTransientErrorsOnly(t *testing.T) {
	rt := &Runtime{Log: slog.New(slog.DiscardHandler), common: DefaultCommon()}
	unavailable := fmt.Errorf("stream X: %w", &jetstream.APIError{Code: 503, ErrorCode: 10008, Description: "JetStream system temporarily unavailable"})

	calls := 0
	err := rt.Retry(context.Background(), "streams", func(context.Context) error {
		calls++
		if calls < 3 {
			return unavailable
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("transient twice then fine: err %v after %d calls; want nil after 3", err, calls)
	}

	calls = 0
	bad := errors.New("stream X: subjects overlap")
	if err := rt.Retry(context.Background(), "streams", func(context.Context) error { calls++; return bad }); !errors.Is(err, bad) || calls != 1 {
		t.Fatalf("permanent: err %v after %d calls; want it at once", err, calls)
	}

	rt.common.NATS.ConnectRetry = 0
	calls = 0
	if err := rt.Retry(context.Background(), "streams", func(context.Context) error { calls++; return unavailable }); !errors.Is(err, unavailable) || calls != 1 {
		t.Fatalf("no retry budget: err %v after %d calls; want the error at once", err, calls)
	}

	ctx, cancel := context.WithCancel(context.Background())
	rt.common.NATS.ConnectRetry = time.Hour
	calls = 0
	err = rt.Retry(ctx, "streams", func(context.Context) error {
		calls++
		cancel()
		return unavailable
	})
	if err == nil || calls != 1 {
		t.Fatalf("cancelled: err %v after %d calls; want an error after 1", err, calls)
	}
}

// TestLoadConfigNamesKeysAndOrigins: a configuration problem names the key
// and where its value came from, in every section of the shared file.
func TestLoadConfigNamesKeysAndOrigins(t *testing.T) {
	dir := t.TempDir()
	write := func(body string) string {
		path := filepath.Join(dir, "c.yaml")
		if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	noEnv := func(string) string { return "" }
	tests := []struct {
		name, file string
		env        map[string]string
		want       string
	}{
		{"shared section", "nats:\n  url: x\n", nil, "c.yaml:2: nats.url: unknown key; did you mean nats.urls?"},
		{"the extractor's section", "extractor:\n  gigya:\n    sites:\n      - name: a\n        apikey: k\n", nil,
			"c.yaml:5: extractor.gigya.sites[0].apikey: unknown key; did you mean extractor.gigya.sites[0].api_key?"},
		{"the transformer's section", "transformer:\n  consumer:\n    ack_wait: 30\n", nil,
			"c.yaml:3: transformer.consumer.ack_wait: 30 has no unit"},
		{"the loader's section", "loader:\n  batch:\n    max_records: lots\n", nil,
			`c.yaml:3: loader.batch.max_records: want a whole number, got "lots"`},
		{"validation names the line", "version: 1\nbackpressure:\n  high_water: -5\n", nil, "c.yaml:3: backpressure.high_water:"},
		{"validation names the variable", "", map[string]string{"GM_BACKPRESSURE_HIGH_WATER": "-5"}, "backpressure.high_water (from GM_BACKPRESSURE_HIGH_WATER):"},
		{"validation names NATS_URL", "nats:\n  urls: [nats://a]\n", map[string]string{"NATS_URL": ","}, "nats.urls[0] (from NATS_URL): must not be empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			getenv := noEnv
			if tt.env != nil {
				getenv = func(k string) string { return tt.env[k] }
			}
			_, err := LoadOpsConfig(write(tt.file), getenv)
			var usage *UsageError
			if !errors.As(err, &usage) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error\n%v\nwant a usage error containing\n%s", err, tt.want)
			}
			for _, bad := range []string{"natsconn", "struct", "yaml:\"", "!!", "time.Duration"} {
				if strings.Contains(err.Error(), bad) {
					t.Errorf("error shows Go's names (%q): %v", bad, err)
				}
			}
		})
	}
}
