package transform

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite the golden files from the current output")

// TestGoldenSample runs `transformer check` with the shipped mappings over
// the first accounts of the committed sample and compares the mapped users
// (stdout) and the report (stderr) with reviewed golden files: any change in
// what a mapping produces shows up as a diff to review.
func TestGoldenSample(t *testing.T) {
	input := filepath.Join(t.TempDir(), "head.jsonl")
	writeSampleHead(t, input, 150)
	for _, name := range []string{"auth0", "loginradius"} {
		t.Run(name, func(t *testing.T) {
			mappingFile := filepath.Join("..", "..", "configs", name+".yaml")
			stdout, stderr, _ := runCheckCmd(t, "-mapping", mappingFile, input)
			stderr = string(bytes.ReplaceAll([]byte(stderr), []byte(input), []byte("sample.jsonl")))
			for _, g := range []struct{ file, got string }{
				{name + ".jsonl", stdout},
				{name + ".report.txt", stderr},
			} {
				path := filepath.Join("testdata", "golden", g.file)
				if *updateGolden {
					os.MkdirAll(filepath.Dir(path), 0o755)
					if err := os.WriteFile(path, []byte(g.got), 0o644); err != nil {
						t.Fatal(err)
					}
					continue
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (run go test ./internal/transform -run TestGoldenSample -update, then review the diff)", err)
				}
				if string(want) != g.got {
					t.Errorf("%s differs from the golden file; if the change is intended, run with -update and review the diff.\ngot:\n%s", path, firstLines(g.got, 20))
				}
			}
		})
	}
}

func writeSampleHead(t *testing.T, path string, n int) {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "configs", "sample", "accounts.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	var out bytes.Buffer
	for i := 0; i < n && sc.Scan(); i++ {
		out.Write(sc.Bytes())
		out.WriteByte('\n')
	}
	if err := os.WriteFile(path, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func firstLines(s string, n int) string {
	lines := bytes.SplitN([]byte(s), []byte("\n"), n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return string(bytes.Join(lines, []byte("\n")))
}
