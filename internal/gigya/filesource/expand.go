package filesource

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// Expand resolves files and directories into the ordered list of files Read
// will open. A file named on its own is taken whatever its name, since the
// user chose it. A directory contributes its regular files (symbolic links to
// regular files included) in lexical order, without descending into
// subdirectories, skipping hidden names and names that do not end in .json,
// .jsonl, .ndjson or .gz; a directory with none of those is an error, because
// an empty run would otherwise look like a successful migration of zero users.
func Expand(paths []string) ([]string, error) {
	if len(paths) == 0 {
		return nil, errors.New("filesource: no input paths")
	}
	var files []string
	for _, p := range paths {
		fi, err := os.Stat(p)
		if err != nil {
			return nil, fmt.Errorf("filesource: %w", err)
		}
		if !fi.IsDir() {
			files = append(files, p)
			continue
		}
		found, err := expandDir(p)
		if err != nil {
			return nil, err
		}
		files = append(files, found...)
	}
	return files, nil
}

func expandDir(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir) // sorted by name
	if err != nil {
		return nil, fmt.Errorf("filesource: %w", err)
	}
	var files []string
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, ".") || !acceptedName(name) {
			continue
		}
		path := filepath.Join(dir, name)
		// Stat, not the entry's type, so that a symlink to a file counts.
		fi, err := os.Stat(path)
		if err != nil {
			return nil, fmt.Errorf("filesource: %w", err)
		}
		if fi.Mode().IsRegular() {
			files = append(files, path)
		}
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("filesource: directory %s has no .json, .jsonl, .ndjson or .gz file", dir)
	}
	return files, nil
}

// acceptedName reports whether a directory entry looks like an export. The
// ".gz" suffix alone is enough, as gzip is detected from the content anyway.
func acceptedName(name string) bool {
	switch strings.ToLower(filepath.Ext(name)) {
	case ".json", ".jsonl", ".ndjson", ".gz":
		return true
	}
	return false
}

// linesByName reports whether the name says the file is JSON lines, which
// overrides content sniffing (see detectLines).
func linesByName(name string) bool {
	n := strings.ToLower(name)
	n = strings.TrimSuffix(n, ".gz")
	return strings.HasSuffix(n, ".jsonl") || strings.HasSuffix(n, ".ndjson")
}
