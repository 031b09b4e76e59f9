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
	for _, want := range []string{"GET  /api/v2/users-by-email", "-extra-connection", "-scopes"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage lacks %q", want)
		}
	}
	for _, args := range [][]string{{"-extra-connection", ":samlp"}, {"extra"}, {"-rate", "x"}} {
		if err := run(args, io.Discard); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
	var e extraConnections
	if err := e.Set("corp:samlp"); err != nil || len(e) != 1 || e[0].Name != "corp" || e[0].Strategy != "samlp" {
		t.Fatalf("Set: %v %+v", err, e)
	}
}
