package auth0file

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/pkg/config"
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
	var dir string
	sinktest.Run(t, sinktest.Harness{
		New: func(t *testing.T) sink.Sink {
			dir = t.TempDir()
			return newSink(t, dir, "{}")
		},
		Stored: func(t *testing.T) map[string]int { return readUsers(t, dir, AuthZeroLimit) },
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
	// A second sink in the same directory (a re-run) adds files, replaces none.
	s2 := newSink(t, dir, "max_file_bytes: 2048")
	if err := s2.Write(context.Background(), batch[:10]); err != nil {
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
	for _, opts := range []string{"max_file_bytes: 600000", "prefix: ../x", "unknown: 1"} {
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
