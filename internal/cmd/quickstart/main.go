// Command quickstart is what `make run` runs: the whole pipeline with a
// local JetStream server, reading a simulated Gigya site through
// accounts.search (or export files given as arguments), leaving Auth0
// import files.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/gigya-migrate/gigya-migrate/internal/quickstart"
)

func main() {
	out := flag.String("out", "out", "directory for the Auth0 import files and the logs")
	natsURL := flag.String("nats", os.Getenv("NATS_URL"), "use this NATS server instead of starting one (env NATS_URL)")
	bin := flag.String("bin", "bin", "directory for the built binaries")
	accounts := flag.Int("accounts", 1000, "accounts of the simulated Gigya site (without export files)")
	auth0API := flag.Bool("auth0", false, "load into a simulated Auth0 tenant through the Management API instead of writing import files")
	flag.Parse()
	inputs := flag.Args() // export files; none: the accounts.search path from a simulated site
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	root, err := quickstart.ModuleRoot(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
	rep, err := quickstart.Run(ctx, quickstart.Options{
		Root: root, BinDir: *bin, NATSURL: *natsURL, Inputs: inputs, Accounts: *accounts, Auth0API: *auth0API, OutDir: strings.TrimSuffix(*out, "/"), Stdout: os.Stdout,
	})
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "quickstart: interrupted; every process it started was stopped (logs in "+*out+"/logs/)")
		os.Exit(130)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
	rep.Print(os.Stdout, *out)
}
