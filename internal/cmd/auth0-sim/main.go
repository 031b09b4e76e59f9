// Command auth0-sim serves an in-memory Auth0 tenant (package auth0sim) for
// manual and end-to-end testing of gigya-migrate.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/auth0sim"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8089", "listen address")
	clientID := flag.String("client-id", "sim-client-id", "accepted client_id")
	clientSecret := flag.String("client-secret", "sim-client-secret", "accepted client_secret")
	conn := flag.String("connection", "Username-Password-Authentication", "database connection name")
	connID := flag.String("connection-id", "", "connection id (con_ + 16 alphanumerics; generated if empty)")
	jobDur := flag.Duration("job-duration", 100*time.Millisecond, "time a job takes to complete")
	tokenTTL := flag.Duration("token-ttl", 24*time.Hour, "access token lifetime")
	rate := flag.Float64("rate", 1000, "Management API requests per second (token bucket refill)")
	burst := flag.Int("burst", 1000, "Management API bucket size")
	flag.Parse()

	sim := auth0sim.New(auth0sim.Options{
		ClientID: *clientID, ClientSecret: *clientSecret, Connection: *conn, ConnectionID: *connID,
		JobDuration: *jobDur, TokenTTL: *tokenTTL, Rate: *rate, Burst: *burst,
	})
	srv := &http.Server{Addr: *addr, Handler: sim.Handler(), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(os.Stderr, "auth0-sim on http://%s connection %s (%s)\n", *addr, *conn, sim.ConnectionID())

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
	sim.Close()
}
