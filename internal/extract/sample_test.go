package extract

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
)

// TestSampleIsQuickByDefault: `extractor sample` hashes with cheap costs
// unless asked for a real export's, and the choice changes the hashes only:
// the same seed writes the same users with the same passwords.
func TestSampleIsQuickByDefault(t *testing.T) {
	dir := t.TempDir()
	gen := func(args ...string) []byte {
		t.Helper()
		path := filepath.Join(dir, "s.jsonl.gz")
		env := stage.Env{Args: append([]string{"sample", "-o", path}, args...), Getenv: func(string) string { return "" }, Stdout: io.Discard, Stderr: io.Discard}
		if err := Run(t.Context(), env); err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		zr, err := gzip.NewReader(f)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(zr)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	want := func(n int, o sample.Options) []byte {
		var b bytes.Buffer
		if err := sample.WriteJSONL(&b, 3, n, o); err != nil {
			t.Fatal(err)
		}
		return b.Bytes()
	}
	quick := gen("-n", "200", "-seed", "3")
	if !bytes.Equal(quick, want(200, sample.Quick())) {
		t.Fatal("extractor sample does not write sample.Quick's accounts by default")
	}
	if !bytes.Contains(quick, []byte(`"rounds":10,`)) || !bytes.Contains(quick, []byte(`"$2a$04$`)) && !bytes.Contains(quick, []byte(`"$2b$04$`)) {
		t.Fatal("the default sample does not use the cheap costs")
	}
	production := gen("-n", "8", "-seed", "3", "-production-costs")
	if !bytes.Equal(production, want(8, sample.Options{})) || !bytes.Contains(production, []byte(`"rounds":10000`)) {
		t.Fatal("-production-costs does not write a real export's costs")
	}
	// The same users either way: only the hashes differ.
	uid := func(line string) string { return line[:strings.Index(line, `","`)] }
	q, p := strings.Split(string(quick), "\n"), strings.Split(string(production), "\n")
	for i := range 8 {
		if uid(q[i]) != uid(p[i]) {
			t.Fatalf("account %d differs with the costs: %s / %s", i, uid(q[i]), uid(p[i]))
		}
	}
	if got := gen("-n", "3", "-seed", "3", "-production-costs", "-pbkdf2-rounds", "20", "-bcrypt-cost", "5"); !bytes.Equal(got, want(3, sample.Options{PBKDF2Rounds: 20, BcryptCost: 5})) {
		t.Fatal("-pbkdf2-rounds and -bcrypt-cost must override the costs")
	}
}
