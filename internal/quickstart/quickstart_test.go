package quickstart

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestLastError: the cause of a failure is the error the binary printed
// last, in this run's part of its log.
func TestLastError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "extractor.log")
	earlier := "time=1 level=INFO msg=started\nextractor: an earlier run's error\n"
	now := "time=2 level=INFO msg=started\ntime=3 level=WARN msg=\"unusable record\" err=x\n" +
		"extractor: invalid configuration:\n  c.yaml:2: nats.url: unknown key\n  c.yaml:3: nats.user: want a string, got a list\n"
	if err := os.WriteFile(path, []byte(earlier+now), 0o644); err != nil {
		t.Fatal(err)
	}
	want := "invalid configuration:\n  c.yaml:2: nats.url: unknown key\n  c.yaml:3: nats.user: want a string, got a list"
	if got := LastError(path, "extractor", int64(len(earlier))); got != want {
		t.Errorf("LastError = %q, want %q", got, want)
	}
	// Killed before it could print an error: the last lines of this run.
	if err := os.WriteFile(path, []byte(earlier+"time=2 msg=a\ntime=3 msg=b\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if got := LastError(path, "extractor", int64(len(earlier))); got != "time=2 msg=a\ntime=3 msg=b" {
		t.Errorf("LastError without an error line = %q", got)
	}
	if got := LastError(path, "extractor", int64(len(earlier)+100)); !strings.Contains(got, "printed nothing") {
		t.Errorf("LastError of an empty log = %q", got)
	}
}

// TestInspectCommandIsAMakeTarget: the command the summary prints to read
// the dead letters afterwards exists in the Makefile and reads the store of
// the run that printed it.
func TestInspectCommandIsAMakeTarget(t *testing.T) {
	for _, tt := range []struct {
		o    Options
		want string
	}{
		{Options{OutDir: "out", BinDir: "bin"}, "make deadletters"},
		{Options{OutDir: "out"}, "make deadletters"},
		{Options{OutDir: "/tmp/x", BinDir: "/tmp/b"}, "make deadletters OUT=/tmp/x BIN=/tmp/b"},
	} {
		if got := InspectCommand(tt.o); got != tt.want {
			t.Errorf("InspectCommand(%+v) = %q, want %q", tt.o, got, tt.want)
		}
	}
	mk, err := os.ReadFile(filepath.Join("..", "..", "Makefile"))
	if err != nil {
		t.Fatal(err)
	}
	target := regexp.MustCompile(`(?m)^deadletters:\n\t(.*)$`).FindSubmatch(mk)
	if target == nil {
		t.Fatal("the Makefile has no deadletters target")
	}
	for _, part := range []string{"./internal/cmd/quickstart", "-bin $(BIN)", "-out $(OUT)", "-inspect deadletter"} {
		if !bytes.Contains(target[1], []byte(part)) {
			t.Errorf("make deadletters runs %q, which lacks %q", target[1], part)
		}
	}
}

// TestPrintSaysTheRunFailed: a run whose extractor failed part-way says so,
// with the cause, after the counts of what went through.
func TestPrintSaysTheRunFailed(t *testing.T) {
	var b bytes.Buffer
	r := &Report{Read: 10, Loaded: 9, DeadLettered: map[string]int64{"extract": 1}, Store: "out/nats", Inspect: "make deadletters",
		Failed: "extractor exited with 1: site sample: input cut.jsonl.gz is cut short at line 10"}
	r.Print(&b, "out")
	for _, want := range []string{"gigya-migrate: FAILED after 10 accounts", "JetStream store kept in out/nats/", "dead letters: make deadletters",
		"FAILED: extractor exited with 1: site sample: input cut.jsonl.gz is cut short at line 10"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, b.String())
		}
	}
}
