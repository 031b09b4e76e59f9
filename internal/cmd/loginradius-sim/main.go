// Command loginradius-sim serves an in-memory LoginRadius tenant (package
// lrsim) for manual and end-to-end testing of gigya-migrate: the bulk
// migration API, the Account APIs, availability checks and a login that
// checks migrated password hashes. Run it with -h for the routes and flags.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/lrsim"
)

const usage = `Usage: loginradius-sim [flags]

Serves a simulated LoginRadius tenant (see package internal/testkit/lrsim
and docs/apis/loginradius.md) on one host, for both the migration host and
the API host:

  POST /v2/bulk/upsert?apikey=&apisecret=          bulk upsert {PasswordEncryption, Profiles}
  POST /identity/v2/manage/account                 Account Create
  GET  /identity/v2/manage/account?email=|username=|phone=
  GET  /identity/v2/manage/account/{uid}
  PUT  /identity/v2/manage/account/{uid}           Account Update
  PUT  /identity/v2/manage/account/{uid}/password  set a password
  GET  /identity/v2/auth/email|username|phone      availability {"IsExist"}
  POST /identity/v2/auth/login                     {email|username|phone, password}
  POST /identity/v2/auth/password                  forgot password
  PUT  /identity/v2/auth/password/reset            reset with a token

Management calls take X-LoginRadius-ApiKey and X-LoginRadius-ApiSecret (or
apikey and apisecret in the query). Errors are LoginRadius' JSON body
{Description, ErrorCode, Message, IsProviderError, ProviderErrorResponse}.

Flags:
`

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		log.Fatal(err)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("loginradius-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	addr := fs.String("addr", "127.0.0.1:8090", "listen address")
	key := fs.String("api-key", lrsim.DefaultAPIKey, "the tenant's API key")
	secret := fs.String("api-secret", lrsim.DefaultAPISecret, "the tenant's API secret")
	maxBytes := fs.Int("max-request-bytes", 10<<20, "largest bulk upsert body")
	rate := fs.Float64("rate", 1000, "requests per second (token bucket refill)")
	burst := fs.Int("burst", 1000, "bucket size")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	sim := lrsim.New(lrsim.Options{APIKey: *key, APISecret: *secret, MaxRequestBytes: *maxBytes, Rate: *rate, Burst: *burst})
	srv := &http.Server{Addr: *addr, Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "loginradius-sim on http://%s\n", *addr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
