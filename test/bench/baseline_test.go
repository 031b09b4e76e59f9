package bench

import (
	"archive/tar"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/quickstart"
)

// The baseline of the transformer hop: the transformer as it was before the
// record engine, built from its commit, so that the same `make bench` run
// measures both on the same machine, server and stream.
const (
	// bmBaselineEnv names the commit (or any git revision) whose transformer
	// is the baseline; "none" leaves the baseline runs out.
	bmBaselineEnv = "GM_BENCH_BASELINE"
	// bmBaselineDefault is the commit the record engine's branch started
	// from.
	bmBaselineDefault = "7acc1d6"
)

var bmBaselineBuild struct {
	once sync.Once
	path string
	dir  string
	err  error
}

// bmBaseline returns the path of the baseline transformer binary, building
// it on first use: `git archive` of the commit into a temporary directory
// (the repository is only read: no worktree, no checkout), then `go build`
// there. It returns "" when GM_BENCH_BASELINE is "none". owner's end
// removes the build.
func bmBaseline(b *testing.B, owner testing.TB) string {
	b.Helper()
	rev := bmBaselineRev()
	if rev == "none" {
		return ""
	}
	bb := &bmBaselineBuild
	bb.once.Do(func() {
		bb.dir, bb.path, bb.err = buildBaseline(rev)
		if bb.dir != "" {
			owner.Cleanup(func() { os.RemoveAll(bb.dir) })
		}
	})
	if bb.err != nil {
		b.Fatalf("baseline transformer of %s (set %s=none to leave it out): %v", rev, bmBaselineEnv, bb.err)
	}
	return bb.path
}

// bmBaselineRev is the revision of the baseline (GM_BENCH_BASELINE).
func bmBaselineRev() string {
	if rev := os.Getenv(bmBaselineEnv); rev != "" {
		return rev
	}
	return bmBaselineDefault
}

func buildBaseline(rev string) (dir, bin string, err error) {
	root, err := quickstart.ModuleRoot(context.Background())
	if err != nil {
		return "", "", err
	}
	dir, err = os.MkdirTemp("", "gigya-migrate-baseline-")
	if err != nil {
		return "", "", err
	}
	src := filepath.Join(dir, "src")
	archive := exec.Command("git", "-C", root, "archive", "--format=tar", rev)
	var stderr strings.Builder
	archive.Stderr = &stderr
	out, err := archive.StdoutPipe()
	if err != nil {
		return dir, "", err
	}
	if err := archive.Start(); err != nil {
		return dir, "", fmt.Errorf("git archive: %w", err)
	}
	extractErr := untar(out, src)
	if err := archive.Wait(); err != nil {
		return dir, "", fmt.Errorf("git archive %s (the benchmark needs the git history): %v: %s", rev, err, strings.TrimSpace(stderr.String()))
	}
	if extractErr != nil {
		return dir, "", extractErr
	}
	bin = filepath.Join(dir, "bin", "transformer")
	build := exec.Command("go", "build", "-o", bin, "./transformer")
	build.Dir = src
	if out, err := build.CombinedOutput(); err != nil {
		return dir, "", fmt.Errorf("go build of the baseline: %v\n%s", err, out)
	}
	return dir, bin, nil
}

// untar writes the regular files and directories of a tar stream under dir.
func untar(r io.Reader, dir string) error {
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		path := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(path, filepath.Clean(dir)+string(os.PathSeparator)) {
			return fmt.Errorf("tar entry %q outside the directory", h.Name)
		}
		switch h.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(path, 0o755); err != nil {
				return err
			}
		case tar.TypeReg:
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				return err
			}
			f, err := os.OpenFile(path, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, os.FileMode(h.Mode)&0o755|0o600)
			if err != nil {
				return err
			}
			_, err = io.Copy(f, tr)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
	}
}
