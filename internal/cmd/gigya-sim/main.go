// Command gigya-sim serves a simulated Gigya site (accounts.search and
// accounts.login) over plain HTTP, filled with reproducible sample accounts.
//
// It prints one JSON line with the base URL and credentials, e.g.
//
//	{"base_url":"http://127.0.0.1:8080","api_key":"3_gigyasim","secret":"...","accounts":1000,"seed":1}
//
// and serves until SIGINT or SIGTERM. See package gigyasim for what is simulated.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
	"github.com/segmentio/encoding/json"
)

func main() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "gigya-sim:", err)
		os.Exit(2)
	}
}

// banner is the line scripts parse.
type banner struct {
	BaseURL  string `json:"base_url"`
	APIKey   string `json:"api_key"`
	Secret   string `json:"secret"`
	Accounts int    `json:"accounts"`
	Seed     int64  `json:"seed"`
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gigya-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:8080", "address to listen on")
	accounts := fs.Int("accounts", 1000, "number of sample accounts to generate")
	seed := fs.Int64("seed", 1, "sample generator seed")
	apiKey := fs.String("api-key", gigyasim.DefaultAPIKey, "site API key")
	secret := fs.String("secret", gigyasim.DefaultSecret, "partner secret (apiKey+secret auth)")
	rate := fs.Float64("rate", 0, "accounts.search calls per second per API key (0: unlimited); beyond it errorCode 403048")
	ttl := fs.Duration("cursor-ttl", gigyasim.DefaultCursorTTL, "idle time after which a cursorId expires")
	rounds := fs.Int("pbkdf2-rounds", gigyasim.FastSampleOptions.PBKDF2Rounds, "PBKDF2 iterations of generated hashes (10000 is production-like)")
	cost := fs.Int("bcrypt-cost", gigyasim.FastSampleOptions.BcryptCost, "bcrypt cost of generated hashes (10 is production-like)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	start := time.Now()
	sim, err := gigyasim.New(gigyasim.Options{
		Accounts:      *accounts,
		Seed:          *seed,
		SampleOptions: sample.Options{PBKDF2Rounds: *rounds, BcryptCost: *cost},
		APIKey:        *apiKey,
		Secret:        *secret,
		SearchRate:    *rate,
		CursorTTL:     *ttl,
	})
	if err != nil {
		return err
	}
	base, stop, err := sim.Listen(*listen)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintf(stderr, "gigya-sim: %d accounts generated in %s\n", *accounts, time.Since(start).Round(time.Millisecond))
	line, err := json.Marshal(banner{BaseURL: base, APIKey: sim.APIKey(), Secret: sim.Secret(), Accounts: *accounts, Seed: *seed})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}
