package jsonl

import (
	"bufio"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink/sinktest"
	"github.com/segmentio/encoding/json"
)

func open(t *testing.T, path string) sink.Sink {
	t.Helper()
	s, err := New(context.Background(), sink.Params{Decode: func(v any) error {
		v.(*Options).Path = path
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// lines reads the file: the user_id of each line, in order.
func lines(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var ids []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var u struct {
			UserID string `json:"user_id"`
		}
		if err := json.Unmarshal(sc.Bytes(), &u); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		ids = append(ids, u.UserID)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return ids
}

func count(t *testing.T, path string) map[string]int {
	got := map[string]int{}
	for _, id := range lines(t, path) {
		got[id]++
	}
	return got
}

func TestConformance(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{
		New: func(t *testing.T) sinktest.Storage {
			path := filepath.Join(t.TempDir(), "users.jsonl")
			return sinktest.Storage{
				Open:   func(t *testing.T) sink.Sink { return open(t, path) },
				Stored: func(t *testing.T) map[string]int { return count(t, path) },
			}
		},
		Refuse: func(r sink.Record) sink.Record {
			r.Data = []byte(`{"user_id":"` + r.UID + `",`)
			return r
		},
	})
}

func write(t *testing.T, s sink.Sink, recs ...sink.Record) {
	t.Helper()
	if err := s.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
}

// A crash after a batch's lines reached the file but before its journal
// entry: the lines are removed on open, and the redelivered batch is
// written once.
func TestCrashBetweenDataAndJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.jsonl")
	s := open(t, path)
	write(t, s, sinktest.Record(1), sinktest.Record(2))
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Fatal(err)
	}
	// The batch that never returned, cut in the middle of a line.
	if _, err := f.WriteString(string(sinktest.Record(3).Data) + "\n" + `{"user_id":"uid-00`); err != nil {
		t.Fatal(err)
	}
	f.Close()

	s2 := open(t, path)
	if got := lines(t, path); strings.Join(got, ",") != "uid-0001,uid-0002" {
		t.Fatalf("after reopening: %v, want the unacknowledged end removed", got)
	}
	write(t, s2, sinktest.Record(2), sinktest.Record(3), sinktest.Record(4))
	if err := s2.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := lines(t, path); strings.Join(got, ",") != "uid-0001,uid-0002,uid-0003,uid-0004" {
		t.Fatalf("lines %v", got)
	}
}

// A file that was there before the sink (no journal) is appended to, not
// cut.
func TestExistingFileIsKept(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.jsonl")
	if err := os.WriteFile(path, append(sinktest.Record(1).Data, '\n'), 0o600); err != nil {
		t.Fatal(err)
	}
	s := open(t, path)
	write(t, s, sinktest.Record(2))
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	open(t, path).Close(context.Background())
	if got := lines(t, path); strings.Join(got, ",") != "uid-0001,uid-0002" {
		t.Fatalf("lines %v", got)
	}
}

// A file shorter than its journal says was changed by someone else: the
// sink refuses to guess.
func TestTruncatedFileIsAnError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.jsonl")
	s := open(t, path)
	write(t, s, sinktest.Record(1))
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(path, 0); err != nil {
		t.Fatal(err)
	}
	_, err := New(context.Background(), sink.Params{Decode: func(v any) error {
		v.(*Options).Path = path
		return nil
	}})
	if err == nil || !strings.Contains(err.Error(), "journal") {
		t.Fatalf("got %v, want an error that names the journal", err)
	}
}

// Updates are appended: the last line of a user_id is its current state.
func TestUpdateIsAppended(t *testing.T) {
	path := filepath.Join(t.TempDir(), "users.jsonl")
	s := open(t, path)
	write(t, s, sinktest.Record(1))
	u := sinktest.Record(1)
	u.MsgID, u.Update = "t:uid-0001:2:v", true
	u.Data = []byte("{\n  \"user_id\": \"uid-0001\",\n  \"name\": \"New\"\n}")
	write(t, s, u)
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := string(sinktest.Record(1).Data) + "\n" + `{"user_id":"uid-0001","name":"New"}` + "\n"
	if string(b) != want {
		t.Fatalf("file:\n%s\nwant (a pretty-printed user compacted onto its line):\n%s", b, want)
	}
}

func TestStdout(t *testing.T) {
	s, err := New(context.Background(), sink.Params{Decode: func(any) error { return nil }})
	if err != nil {
		t.Fatal(err)
	}
	if js := s.(*jsonlSink); !js.stdout || js.j != nil {
		t.Fatal("the default path is standard output, without a journal")
	}
	if err := s.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
}
