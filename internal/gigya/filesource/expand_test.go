package filesource

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// writeFiles creates files (and their directories) under dir; a name ending
// in "/" is an empty directory.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(path, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func TestExpand(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"export/b.json":          "",
		"export/a.jsonl.gz":      "",
		"export/c.ndjson":        "",
		"export/D.JSON":          "",
		"export/e.jsonl":         "",
		"export/f.gz":            "",
		"export/.hidden.json":    "",
		"export/notes.txt":       "",
		"export/README":          "",
		"export/sub.json/x.json": "",
		"empty/":                 "",
		"other/notes.txt":        "",
		"single.txt":             "",
	})
	if err := os.Symlink(filepath.Join(dir, "single.txt"), filepath.Join(dir, "export", "g.json")); err != nil {
		t.Fatal(err)
	}
	p := func(name string) string { return filepath.Join(dir, name) }
	tests := []struct {
		name    string
		give    []string
		want    []string
		wantErr string
	}{
		{
			name: "directory in lexical order without hidden, unknown or non-regular entries",
			give: []string{p("export")},
			want: []string{p("export/D.JSON"), p("export/a.jsonl.gz"), p("export/b.json"), p("export/c.ndjson"),
				p("export/e.jsonl"), p("export/f.gz"), p("export/g.json")},
		},
		{
			name: "files keep the given order and any name",
			give: []string{p("single.txt"), p("export/b.json"), p("export/.hidden.json")},
			want: []string{p("single.txt"), p("export/b.json"), p("export/.hidden.json")},
		},
		{
			name: "files and directories mixed",
			give: []string{p("export/f.gz"), p("export/sub.json")},
			want: []string{p("export/f.gz"), p("export/sub.json/x.json")},
		},
		{name: "empty directory", give: []string{p("empty")}, wantErr: "has no .json, .jsonl, .ndjson or .gz file"},
		{name: "directory without exports", give: []string{p("other")}, wantErr: "has no .json"},
		{name: "missing path", give: []string{p("export/b.json"), p("nope.json")}, wantErr: "no such file"},
		{name: "no paths", give: nil, wantErr: "no input paths"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Expand(tt.give)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Expand error %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Expand\n got  %q\n want %q", got, tt.want)
			}
		})
	}
}

// TestReadFiles reads several files and a directory in one call: records
// come in path order, carry the path as given, and a file abandoned after a
// syntax error does not stop the files after it.
func TestReadFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"first.jsonl":       `{"UID":"1"}` + "\n" + `{"UID":"2"}` + "\n",
		"dir/b.json":        `[{"UID":"4"}, {"UID" "broken"}, {"UID":"lost"}]`,
		"dir/a.json.gz":     string(gzipped([]byte(indent(`{"results":[{"UID":"3"}]}`)))),
		"dir/c.ndjson.gz":   string(gzipped([]byte(`{"UID":"5"}` + "\n" + `{"UID":"6"`))),
		"dir/d.txt":         `{"UID":"ignored"}`,
		"last.json":         `[{"UID":"7"}]`,
		"dir/.e.json":       `{"UID":"hidden"}`,
		"dir/z/nested.json": `{"UID":"nested"}`,
	})
	paths := []string{filepath.Join(dir, "first.jsonl"), filepath.Join(dir, "dir"), filepath.Join(dir, "last.json")}
	type rec struct{ file, data, err string }
	var got []rec
	err := Read(context.Background(), paths, func(r Record) error {
		e := ""
		switch {
		case errors.Is(r.Err, ErrInvalidJSON):
			e = "invalid"
		case errors.Is(r.Err, ErrTruncated):
			e = "truncated"
		case r.Err != nil:
			e = r.Err.Error()
		}
		rel, _ := filepath.Rel(dir, r.Origin.File)
		got = append(got, rec{rel, string(r.Data), e})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []rec{
		{"first.jsonl", `{"UID":"1"}`, ""},
		{"first.jsonl", `{"UID":"2"}`, ""},
		{"dir/a.json.gz", "{\n      \"UID\": \"3\"\n    }", ""},
		{"dir/b.json", `{"UID":"4"}`, ""},
		{"dir/b.json", `{"UID" "broken"}, {"UID":"lost"}]`, "invalid"},
		{"dir/c.ndjson.gz", `{"UID":"5"}`, ""},
		{"dir/c.ndjson.gz", `{"UID":"6"`, "truncated"},
		{"last.json", `{"UID":"7"}`, ""},
	}
	if !slices.Equal(got, want) {
		t.Errorf("records\n got  %q\n want %q", got, want)
	}
}

func TestReadExpandError(t *testing.T) {
	err := Read(context.Background(), []string{filepath.Join(t.TempDir(), "missing.json")}, func(Record) error {
		t.Fatal("emit called")
		return nil
	})
	if !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Read returned %v, want a not-exist error", err)
	}
}

// TestReadFileOpenError covers a file that disappears between Expand and
// reading: the failure is a record and the error.
func TestReadFileOpenError(t *testing.T) {
	path := filepath.Join(t.TempDir(), "gone.json")
	var recs []Record
	err := readFile(context.Background(), path, func(r Record) error {
		recs = append(recs, r)
		return nil
	})
	if !errors.Is(err, os.ErrNotExist) || len(recs) != 1 || !errors.Is(recs[0].Err, os.ErrNotExist) || recs[0].Origin.File != path {
		t.Fatalf("got %v and records %v", err, recs)
	}
}

func TestReadCancelledBetweenFiles(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.json": `[{"UID":"1"}]`, "b.json": `[{"UID":"2"}]`})
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	err := Read(ctx, []string{dir}, func(Record) error {
		n++
		cancel()
		return nil
	})
	if !errors.Is(err, context.Canceled) || n != 1 {
		t.Fatalf("got %v after %d records", err, n)
	}
}
