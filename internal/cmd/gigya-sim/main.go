// Command gigya-sim serves a simulated Gigya site (accounts.search and
// accounts.login) over plain HTTP, filled with reproducible sample accounts.
//
// It prints one JSON line with the base URL and credentials, e.g.
//
//	{"base_url":"http://127.0.0.1:8080","api_key":"3_gigyasim","secret":"...","user_keys":["AKey1"],"accounts":1000,"seed":1}
//
// and serves until SIGINT or SIGTERM. See package gigyasim for what is simulated.
//
// User keys (application keys) are registered with -user-key userKey=secret,
// repeatable, or with the environment variable GIGYA_SIM_USER_KEYS holding
// userKey=secret pairs separated by commas or spaces; the environment keeps
// the secrets out of the process list. A user key authenticates with
// userKey+secret or with a signed request (timestamp, nonce, sig), which
// needs a base64 secret, as Gigya issues them. The banner and the log name
// the user keys, never their secrets.
package main

import (
	"context"
	"encoding/base64"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
	"github.com/segmentio/encoding/json"
)

func main() {
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := run(ctx, os.Args[1:], os.Getenv(userKeysEnv), os.Stdout, os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0) // -h printed the usage
		}
		fmt.Fprintln(os.Stderr, "gigya-sim:", err)
		os.Exit(2)
	}
}

// userKeysEnv names the environment variable holding user keys.
const userKeysEnv = "GIGYA_SIM_USER_KEYS"

// banner is the line scripts parse. It names the user keys but carries no
// user-key secret: the caller registered them and knows them.
type banner struct {
	BaseURL  string   `json:"base_url"`
	APIKey   string   `json:"api_key"`
	Secret   string   `json:"secret"`
	UserKeys []string `json:"user_keys,omitempty"`
	Accounts int      `json:"accounts"`
	Seed     int64    `json:"seed"`
}

// userKeys collects userKey=secret pairs from flags and the environment.
type userKeys map[string]gigyasim.App

func (u userKeys) String() string { return "" }

// Set adds one userKey=secret pair (the flag.Value of -user-key).
func (u userKeys) Set(pair string) error {
	key, secret, ok := strings.Cut(pair, "=")
	if !ok || key == "" || secret == "" {
		// The pair is not echoed: it may hold a secret.
		return errors.New("want userKey=secret")
	}
	if _, dup := u[key]; dup {
		return fmt.Errorf("user key %s given twice", key)
	}
	u[key] = gigyasim.App{Secret: secret}
	return nil
}

// addEnv adds the pairs of the environment variable's value.
func (u userKeys) addEnv(v string) error {
	for _, pair := range strings.FieldsFunc(v, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		if err := u.Set(pair); err != nil {
			return fmt.Errorf("%s: %w", userKeysEnv, err)
		}
	}
	return nil
}

func run(ctx context.Context, args []string, envKeys string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gigya-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: gigya-sim [flags]\n\n"+
			"Serves a simulated Gigya site (accounts.search, accounts.login) over HTTP and prints one JSON\n"+
			"line with its base URL and credentials. Requests authenticate with the partner secret\n"+
			"(-secret, sent as is), a user key and its secret (userKey, secret), or a request signed\n"+
			"with a user key's secret (userKey, timestamp, nonce, sig: HMAC-SHA1 over Gigya's base\n"+
			"string; the secret must be base64, as Gigya issues them).\n\n"+
			"User keys: -user-key userKey=secret (repeatable), or %s=\"userKey=secret,...\"\n"+
			"in the environment, which keeps the secrets out of the process list. The banner and the\n"+
			"log name the user keys, never their secrets.\n\nFlags:\n", userKeysEnv)
		fs.PrintDefaults()
	}
	keys := userKeys{}
	fs.Var(keys, "user-key", "register a user key: userKey=secret (repeatable; see also "+userKeysEnv+")")
	dataCenter := fs.String("data-center", gigyasim.DefaultDataCenter, "data-center domain that signed requests are signed for (https://accounts.<domain>/accounts.search)")
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
	if err := keys.addEnv(envKeys); err != nil {
		return err
	}
	names := make([]string, 0, len(keys))
	for k, app := range keys {
		names = append(names, k)
		if _, err := base64.StdEncoding.DecodeString(app.Secret); err != nil {
			fmt.Fprintf(stderr, "gigya-sim: user key %s: the secret is not base64; signed requests with it will be refused (userKey+secret still works)\n", k)
		}
	}
	slices.Sort(names)
	start := time.Now()
	sim, err := gigyasim.New(gigyasim.Options{
		Accounts:      *accounts,
		Seed:          *seed,
		SampleOptions: sample.Options{PBKDF2Rounds: *rounds, BcryptCost: *cost},
		APIKey:        *apiKey,
		Secret:        *secret,
		SearchRate:    *rate,
		CursorTTL:     *ttl,
		Apps:          keys,
		DataCenter:    *dataCenter,
	})
	if err != nil {
		return err
	}
	base, stop, err := sim.Listen(*listen)
	if err != nil {
		return err
	}
	defer stop()
	fmt.Fprintf(stderr, "gigya-sim: %d accounts generated in %s; user keys: %d\n", *accounts, time.Since(start).Round(time.Millisecond), len(names))
	line, err := json.Marshal(banner{BaseURL: base, APIKey: sim.APIKey(), Secret: sim.Secret(), UserKeys: names, Accounts: *accounts, Seed: *seed})
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintf(stdout, "%s\n", line); err != nil {
		return err
	}
	<-ctx.Done()
	return nil
}
