package extract

import (
	"compress/gzip"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
)

// runSample writes generated Gigya accounts as JSON lines (gzipped when the
// file name ends in .gz), for trying the pipeline without a Gigya tenant.
func runSample(env stage.Env) error {
	fs := flag.NewFlagSet("extractor sample", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	n := fs.Int("n", 1000, "number of accounts")
	seed := fs.Int64("seed", 1, "generator seed: the same seed writes the same accounts")
	out := fs.String("o", "-", "output file (- for stdout; .gz suffix compresses)")
	rounds := fs.Int("pbkdf2-rounds", 0, "PBKDF2 rounds of generated hashes (0: Gigya's 10000)")
	bcryptCost := fs.Int("bcrypt-cost", 0, "bcrypt cost of generated hashes (0: 10)")
	if err := stage.ParseFlags(fs, env.Args[1:], false); err != nil {
		return err
	}
	if *n < 0 {
		return stage.Usage(errors.New("-n must not be negative"))
	}
	opts := sample.Options{PBKDF2Rounds: *rounds, BcryptCost: *bcryptCost}
	if *out == "-" {
		return sample.WriteJSONL(env.Stdout, *seed, *n, opts)
	}
	return writeSampleFile(*out, *seed, *n, opts)
}

func writeSampleFile(path string, seed int64, n int, opts sample.Options) (err error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	var w io.Writer = f
	if strings.HasSuffix(path, ".gz") {
		zw := gzip.NewWriter(f)
		defer func() {
			if cerr := zw.Close(); err == nil {
				err = cerr
			}
		}()
		w = zw
	}
	if err := sample.WriteJSONL(w, seed, n, opts); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
