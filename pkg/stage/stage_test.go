package stage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"
	"testing"
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

// TestTuneGCLeavesTheOperatorsSettings: GOGC and GOMEMLIMIT, when set, win
// over the binary's defaults.
func TestTuneGCLeavesTheOperatorsSettings(t *testing.T) {
	before, limit := debug.SetGCPercent(100), debug.SetMemoryLimit(-1)
	defer func() { debug.SetGCPercent(before); debug.SetMemoryLimit(limit) }()

	set := map[string]string{"GOGC": "100", "GOMEMLIMIT": "1GiB"}
	TuneGC(func(k string) string { return set[k] }, 400, 64<<20)
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC set: percent %d, want 100 (unchanged)", got)
	}
	if got := debug.SetMemoryLimit(-1); got != limit {
		t.Errorf("GOMEMLIMIT set: limit %d, want %d (unchanged)", got, limit)
	}
	TuneGC(func(string) string { return "" }, 400, 64<<20)
	if got := debug.SetGCPercent(100); got != 400 {
		t.Errorf("GOGC unset: percent %d, want 400", got)
	}
	if got := debug.SetMemoryLimit(-1); got != 64<<20 {
		t.Errorf("GOMEMLIMIT unset: limit %d, want %d", got, 64<<20)
	}
}
