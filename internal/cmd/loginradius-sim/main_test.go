package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"
)

func TestRunFlags(t *testing.T) {
	var out strings.Builder
	if err := run([]string{"-h"}, &out); !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("-h: %v", err)
	}
	for _, want := range []string{"POST /v2/bulk/upsert", "-max-request-bytes", "-api-secret"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q", want)
		}
	}
	for _, args := range [][]string{{"extra"}, {"-rate", "x"}} {
		if err := run(args, io.Discard); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
}
