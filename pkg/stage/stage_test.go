package stage

import (
	"bytes"
	"context"
	"errors"
	"fmt"
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
