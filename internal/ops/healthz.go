package ops

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
)

const healthzUsage = `Usage: <binary> healthz [-addr HOST:PORT] [-path /healthz|/readyz] [-config FILE]

Asks a running binary's telemetry endpoint whether it is alive (/healthz) or
ready (/readyz, connected to NATS), and exits 0 if it answers 200, 1 if not.
It is the health check of a container without a shell or curl (the images
are distroless): HEALTHCHECK CMD ["/extractor", "healthz"]. The address is
telemetry.listen from the config (GM_TELEMETRY_LISTEN) unless -addr is given;
a listen address without a host (":9102") is asked on 127.0.0.1.

Flags:
`

// healthz runs the healthz command.
func healthz(ctx context.Context, env stage.Env, args []string) error {
	fs, cfgPath := stage.Flags("healthz", healthzUsage, env)
	addr := fs.String("addr", "", "HOST:PORT of the telemetry endpoint (default: telemetry.listen)")
	path := fs.String("path", "/healthz", "endpoint to ask: /healthz (alive) or /readyz (connected to NATS)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if err := stage.ParseFlags(fs, args, false); err != nil {
		return err
	}
	if *addr == "" {
		cfg, err := stage.LoadOpsConfig(*cfgPath, env.Getenv)
		if err != nil {
			return err
		}
		*addr = cfg.Telemetry.Listen
	}
	if *addr == "" {
		return stage.Usage(errors.New("no address: set telemetry.listen (GM_TELEMETRY_LISTEN) or -addr"))
	}
	if !strings.HasPrefix(*path, "/") {
		return stage.Usage(fmt.Errorf("-path %q must start with /", *path))
	}
	host, port, err := net.SplitHostPort(*addr)
	if err != nil {
		return stage.Usage(fmt.Errorf("-addr %q: %w", *addr, err))
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1" // a wildcard listen address is reached on loopback
	}
	url := "http://" + net.JoinHostPort(host, port) + *path
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return fmt.Errorf("healthz: %w", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("healthz %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz %s: HTTP %d: %s", url, resp.StatusCode, strings.TrimSpace(string(body)))
	}
	fmt.Fprintf(env.Stdout, "%s: %s\n", url, strings.TrimSpace(string(body)))
	return nil
}
