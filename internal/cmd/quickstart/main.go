// Command quickstart is what `make run` runs: the whole pipeline with a
// local JetStream server, reading a simulated Gigya site through
// accounts.search (or export files given as arguments), leaving Auth0
// import files (or, with -target loginradius, loading a simulated
// LoginRadius tenant). With -inspect it is what `make deadletters` runs: an
// operator command of the transformer on the JetStream store the last run
// kept.
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
	out := flag.String("out", "out", "directory for the Auth0 import files, the logs and the JetStream store (nats/)")
	natsURL := flag.String("nats", os.Getenv("NATS_URL"), "use this NATS server instead of starting one (env NATS_URL)")
	bin := flag.String("bin", "bin", "directory for the built binaries")
	accounts := flag.Int("accounts", 1000, "accounts of the simulated Gigya site (without export files)")
	auth0API := flag.Bool("auth0", false, "load into a simulated Auth0 tenant through the Management API instead of writing import files")
	target := flag.String("target", "auth0", "auth0, or loginradius: map with configs/loginradius.yaml and load into a simulated LoginRadius tenant through the bulk migration API")
	inspect := flag.Bool("inspect", false, "instead of a run, run the transformer's operator command given as arguments (deadletter list) on the store the last run kept")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	root, err := quickstart.ModuleRoot(ctx)
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
	opts := quickstart.Options{
		Root: root, BinDir: *bin, NATSURL: *natsURL, Accounts: *accounts, Auth0API: *auth0API, Target: *target,
		OutDir: strings.TrimSuffix(*out, "/"), Stdout: os.Stdout, Stderr: os.Stderr,
	}
	if *inspect {
		code, err := quickstart.Inspect(ctx, opts, flag.Args())
		if err != nil {
			fmt.Fprintln(os.Stderr, "quickstart:", err)
			os.Exit(1)
		}
		os.Exit(code)
	}
	opts.Inputs = flag.Args() // export files; none: the accounts.search path from a simulated site
	rep, err := quickstart.Run(ctx, opts)
	if errors.Is(err, context.Canceled) {
		fmt.Fprintln(os.Stderr, "quickstart: interrupted; every process it started was stopped (logs in "+*out+"/logs/)")
		os.Exit(130)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		fmt.Fprintf(os.Stderr, "quickstart: the logs are in %s/logs/\n", strings.TrimSuffix(*out, "/"))
		os.Exit(1)
	}
	rep.Print(os.Stdout, *out)
	if rep.Failed != "" {
		os.Exit(1)
	}
}
