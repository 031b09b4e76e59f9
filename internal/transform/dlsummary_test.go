package transform

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

// TestDeadLettersAreSummedUpPerCode checks the log of dead letters: a
// warning per error code and interval with the count and the first user,
// none when nothing failed, counts from concurrent workers all kept.
func TestDeadLettersAreSummedUpPerCode(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelWarn}))
	var d dlSummary
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 250 {
				if w == 0 && i == 0 {
					continue
				}
				d.add("invalid_email", "u-other", errors.New("email: not an address"))
			}
		}()
	}
	d.add("invalid_email", "u-first", errors.New("email: not an address"))
	wg.Wait()
	d.add("no_uid", "", errors.New("no UID"))
	d.flush(log)

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want one per code:\n%s", len(lines), buf.String())
	}
	if !strings.Contains(lines[0], "code=invalid_email count=1000 ") || !strings.Contains(lines[0], "list_them=") {
		t.Errorf("first line %q: want invalid_email with count 1000 and how to list them", lines[0])
	}
	if !strings.Contains(lines[1], "code=no_uid count=1 ") {
		t.Errorf("second line %q: want no_uid with count 1", lines[1])
	}

	buf.Reset()
	d.flush(log)
	if buf.Len() != 0 {
		t.Errorf("a flush with nothing new logged %q", buf.String())
	}
}
