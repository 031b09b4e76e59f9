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
//
// Its hashes are made with cheap work factors unless -production-costs asks
// for a real export's: at Gigya's costs, hashing dominates (about 10 minutes
// for 100,000 accounts on one core), while no stage of the pipeline ever
// verifies a hash, so the sample exercises it all the same in seconds.
func runSample(env stage.Env) error {
	fs := flag.NewFlagSet("extractor sample", flag.ContinueOnError)
	fs.SetOutput(env.Stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), `extractor sample writes generated Gigya accounts (JSON lines), deterministic for a seed, with
real password hashes of known passwords. The hashes use cheap work factors (PBKDF2 10 rounds,
bcrypt cost 4), which verify the same way and are made about fifty times faster; the users
and passwords do not depend on the costs. -production-costs uses a real export's (PBKDF2 10000
rounds, bcrypt cost 10): about 10 minutes per 100,000 accounts.

Usage:
  extractor sample [-n N] [-seed S] [-o FILE] [-production-costs]

Flags:
`)
		fs.PrintDefaults()
	}
	n := fs.Int("n", 1000, "number of accounts")
	seed := fs.Int64("seed", 1, "generator seed: the same seed writes the same accounts")
	out := fs.String("o", "-", "output file (- for stdout; .gz suffix compresses)")
	production := fs.Bool("production-costs", false, "hash with a real export's work factors (PBKDF2 10000 rounds, bcrypt cost 10): minutes instead of seconds")
	rounds := fs.Int("pbkdf2-rounds", 0, "PBKDF2 rounds of generated hashes (0: 10, or Gigya's 10000 with -production-costs)")
	bcryptCost := fs.Int("bcrypt-cost", 0, "bcrypt cost of generated hashes (0: 4, or 10 with -production-costs)")
	if err := stage.ParseFlags(fs, env.Args[1:], false); err != nil {
		return err
	}
	if *n < 0 {
		return stage.Usage(errors.New("-n must not be negative"))
	}
	opts := sample.Quick()
	if *production {
		opts = sample.Options{} // the zero Options are the production costs
	}
	if *rounds != 0 {
		opts.PBKDF2Rounds = *rounds
	}
	if *bcryptCost != 0 {
		opts.BcryptCost = *bcryptCost
	}
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
