// Command auth0-sim serves an in-memory Auth0 tenant (package auth0sim) for
// manual and end-to-end testing of gigya-migrate: the client-credentials
// token, connections, bulk import jobs and their errors, and user lookups
// by id, email and search. Run it with -h for the routes and flags.
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
	"strings"
	"syscall"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/auth0sim"
)

const usage = `Usage: auth0-sim [flags]

Serves a simulated Auth0 tenant with one database connection (see package
internal/testkit/auth0sim and docs/apis/auth0.md):

  POST /oauth/token                  client_credentials (form or JSON); scope may narrow -scopes
  GET  /api/v2/connections           name, strategy; page/per_page/include_totals; from/take
  GET  /api/v2/connections/{id}
  POST /api/v2/jobs/users-imports    multipart users file, connection_id, upsert, ...
  GET  /api/v2/jobs/{id}, /api/v2/jobs/{id}/errors
  GET  /api/v2/users-by-email?email=
  GET  /api/v2/users/{id}
  GET  /api/v2/users?q=...&search_engine=v3

Errors are the Management API's JSON body {statusCode, error, message, errorCode}.

Flags:
`

// extraConnections collects -extra-connection name[:strategy] values.
type extraConnections []auth0sim.Connection

func (e *extraConnections) String() string { return "" }

// Set adds one connection (the flag.Value of -extra-connection).
func (e *extraConnections) Set(v string) error {
	name, strategy, _ := strings.Cut(v, ":")
	if name == "" {
		return errors.New("want name or name:strategy")
	}
	*e = append(*e, auth0sim.Connection{Name: name, Strategy: strategy})
	return nil
}

func main() {
	if err := run(os.Args[1:], os.Stderr); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		log.Fatal(err)
	}
}

func run(args []string, stderr io.Writer) error {
	fs := flag.NewFlagSet("auth0-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fs.PrintDefaults()
	}
	addr := fs.String("addr", "127.0.0.1:8089", "listen address")
	clientID := fs.String("client-id", "sim-client-id", "accepted client_id")
	clientSecret := fs.String("client-secret", "sim-client-secret", "accepted client_secret")
	conn := fs.String("connection", "Username-Password-Authentication", "database connection name")
	connID := fs.String("connection-id", "", "connection id (con_ + 16 alphanumerics; generated if empty)")
	var extra extraConnections
	fs.Var(&extra, "extra-connection", "a further connection to list, name or name:strategy (repeatable; listed only, not importable)")
	scopes := fs.String("scopes", strings.Join(auth0sim.DefaultScopes, " "), "Management API scopes granted to the client, space-separated")
	jobDur := fs.Duration("job-duration", 100*time.Millisecond, "time a job takes to complete")
	tokenTTL := fs.Duration("token-ttl", 24*time.Hour, "access token lifetime")
	rate := fs.Float64("rate", 1000, "Management API requests per second (token bucket refill)")
	burst := fs.Int("burst", 1000, "Management API bucket size")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}

	sim := auth0sim.New(auth0sim.Options{
		ClientID: *clientID, ClientSecret: *clientSecret, Connection: *conn, ConnectionID: *connID,
		ExtraConnections: extra, Scopes: strings.Fields(*scopes),
		JobDuration: *jobDur, TokenTTL: *tokenTTL, Rate: *rate, Burst: *burst,
	})
	srv := &http.Server{Addr: *addr, Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(stderr, "auth0-sim on http://%s connection %s (%s)\n", *addr, *conn, sim.ConnectionID())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	defer sim.Close()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
