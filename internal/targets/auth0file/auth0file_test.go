package auth0file

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/gigya-migrate/gigya-migrate/internal/targets/journal"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink/sinktest"
	"github.com/segmentio/encoding/json"
	"go.yaml.in/yaml/v3"
)

func newSink(t *testing.T, dir string, opts string) sink.Sink {
	t.Helper()
	var node yaml.Node
	if err := yaml.Unmarshal([]byte(opts), &node); err != nil {
		t.Fatal(err)
	}
	var n *yaml.Node
	if len(node.Content) > 0 {
		n = node.Content[0]
	}
	s, err := New(context.Background(), sink.Params{Name: "t", Target: "auth0",
		Decode: func(v any) error {
			if err := config.DecodeNode("options", n, v); err != nil {
				return err
			}
			v.(*Options).Dir = dir
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// readUsers parses every import file in dir, checking each is a JSON array
// under the limit, and counts users by user_id.
func readUsers(t *testing.T, dir string, limit int) map[string]int {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(dir, "*.json"))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > limit {
			t.Fatalf("%s is %d bytes, over %d", f, len(b), limit)
		}
		var users []map[string]any
		if err := json.Unmarshal(b, &users); err != nil {
			t.Fatalf("%s is not a JSON array of users: %v", f, err)
		}
		for _, u := range users {
			got[u["user_id"].(string)]++
		}
	}
	return got
}

func TestConformance(t *testing.T) {
	sinktest.Run(t, sinktest.Harness{
		New: func(t *testing.T) sinktest.Storage {
			dir := t.TempDir()
			return sinktest.Storage{
				Open:   func(t *testing.T) sink.Sink { return newSink(t, dir, "{}") },
				Stored: func(t *testing.T) map[string]int { return readUsers(t, dir, AuthZeroLimit) },
			}
		},
		Refuse: func(r sink.Record) sink.Record {
			r.Data = []byte(`{"user_id":"` + r.UID + `","user_metadata":{"x":"` + strings.Repeat("a", AuthZeroLimit) + `"}}`)
			return r
		},
	})
}

func TestFilesStayUnderTheLimitAndNeverOverwrite(t *testing.T) {
	dir := t.TempDir()
	s := newSink(t, dir, "max_file_bytes: 2048")
	batch := make([]sink.Record, 100)
	for i := range batch {
		batch[i] = sinktest.Record(i)
	}
	if err := s.Write(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	if len(files) < 2 {
		t.Fatalf("100 users in 2 KB files must split into several files, got %d", len(files))
	}
	// A second sink in the same directory (a re-run that extracted the
	// first ten users again, so with new MsgIDs) adds files, replaces none.
	s2 := newSink(t, dir, "max_file_bytes: 2048")
	again := slices.Clone(batch[:10])
	for i := range again {
		again[i].MsgID += ":rerun"
	}
	if err := s2.Write(context.Background(), again); err != nil {
		t.Fatal(err)
	}
	got := readUsers(t, dir, 2048)
	if len(got) != 100 || got["uid-0000"] != 2 || got["uid-0050"] != 1 {
		t.Fatalf("after re-run: %d users, uid-0000 x%d", len(got), got["uid-0000"])
	}
	tmps, _ := filepath.Glob(filepath.Join(dir, ".*"))
	if len(tmps) != 0 {
		t.Fatalf("temporary files left: %v", tmps)
	}
}

// Updates go to their own files, named for an import with upsert.
func TestUpdatesGoToUpsertFiles(t *testing.T) {
	dir := t.TempDir()
	s := newSink(t, dir, "{}")
	first, update := sinktest.Record(1), sinktest.Record(2)
	update.Update = true
	if err := s.Write(context.Background(), []sink.Record{update, first}); err != nil {
		t.Fatal(err)
	}
	inserts, _ := filepath.Glob(filepath.Join(dir, "users-[0-9]*.json"))
	upserts, _ := filepath.Glob(filepath.Join(dir, "users-upsert-*.json"))
	if len(inserts) != 1 || len(upserts) != 1 {
		t.Fatalf("first imports %v, updates %v: want one file each", inserts, upserts)
	}
	for file, want := range map[string]string{inserts[0]: "uid-0001", upserts[0]: "uid-0002"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		var users []map[string]any
		if err := json.Unmarshal(b, &users); err != nil || len(users) != 1 || users[0]["user_id"] != want {
			t.Fatalf("%s holds %s, want only %s", file, b, want)
		}
	}
	// Redelivered after a lost ack: nothing new.
	if err := s.Write(context.Background(), []sink.Record{update, first}); err != nil {
		t.Fatal(err)
	}
	if all, _ := filepath.Glob(filepath.Join(dir, "*.json")); len(all) != 2 {
		t.Fatalf("files after a redelivery: %v", all)
	}
}

// A write that died after its journal entry but before the file got its
// name: the entry is ignored on open and the users are written again. One
// that died before its link also leaves a temporary file, removed on open.
func TestCrashBeforeTheLinkWritesAgain(t *testing.T) {
	dir := t.TempDir()
	recs := []sink.Record{sinktest.Record(1), sinktest.Record(2)}
	j, err := journal.Open(filepath.Join(dir, "users.journal"), 0, true, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.Append(journal.Entry{Name: "users-20000101T000000Z-000000-000001.json", Length: 100,
		IDs: []uint64{journal.ID(recs[0].MsgID), journal.ID(recs[1].MsgID)}}); err != nil {
		t.Fatal(err)
	}
	if err := j.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, ".users-123.tmp"), []byte("[{"), 0o600); err != nil {
		t.Fatal(err)
	}
	s := newSink(t, dir, "{}")
	if tmps, _ := filepath.Glob(filepath.Join(dir, ".*")); len(tmps) != 0 {
		t.Fatalf("temporary files left after open: %v", tmps)
	}
	if err := s.Write(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	if got := readUsers(t, dir, AuthZeroLimit); len(got) != 2 || got["uid-0001"] != 1 || got["uid-0002"] != 1 {
		t.Fatalf("stored %v", got)
	}
}

func TestOversizedUserIsRejectedOthersStored(t *testing.T) {
	dir := t.TempDir()
	s := newSink(t, dir, "max_file_bytes: 1024")
	big := sink.Record{UID: "big", Data: []byte(`{"user_id":"big","x":"` + strings.Repeat("a", 2000) + `"}`)}
	err := s.Write(context.Background(), []sink.Record{sinktest.Record(1), big, sinktest.Record(2)})
	var rej *sink.RejectedError
	if !errors.As(err, &rej) || len(rej.Rejections) != 1 || rej.Rejections[0].Index != 1 || rej.Rejections[0].Code != "user_too_large" {
		t.Fatalf("want one rejection of index 1, got %v", err)
	}
	if got := readUsers(t, dir, 1024); len(got) != 2 {
		t.Fatalf("the others must be stored: %v", got)
	}
}

func TestOptionsValidated(t *testing.T) {
	for _, opts := range []string{"max_file_bytes: 600000", "prefix: ../x", "prefix: .x", "dedup_window: -1", "unknown: 1"} {
		var node yaml.Node
		_ = yaml.Unmarshal([]byte(opts), &node)
		_, err := New(context.Background(), sink.Params{Decode: func(v any) error {
			return config.DecodeNode("loader.sink.options", node.Content[0], v)
		}})
		if err == nil {
			t.Errorf("options %q accepted", opts)
		}
	}
}
