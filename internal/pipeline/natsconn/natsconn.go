// Package natsconn connects to NATS with the options every binary shares:
// several servers, every authentication method, TLS, and reconnection with
// backoff that never gives up once connected.
package natsconn

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strings"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/nats-io/jwt/v2"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Config says how to reach NATS.
type Config struct {
	URLs           []string      `yaml:"urls" doc:"NATS server URLs; NATS_URL (comma-separated) also sets them"`
	User           string        `yaml:"user" doc:"user name for user/password authentication"`
	Password       string        `yaml:"password" doc:"password for user/password authentication"`
	Token          string        `yaml:"token" doc:"authentication token"`
	CredsFile      string        `yaml:"creds_file" doc:"path of a .creds file (JWT + NKey seed)"`
	NKeySeedFile   string        `yaml:"nkey_seed_file" doc:"path of an NKey seed file"`
	TLS            TLSConfig     `yaml:"tls"`
	ConnectTimeout time.Duration `yaml:"connect_timeout" doc:"timeout of one connection attempt"`
	ConnectRetry   time.Duration `yaml:"connect_retry" doc:"how long to keep retrying the first connection before giving up (0: try once)"`
	ReconnectWait  time.Duration `yaml:"reconnect_wait" doc:"longest pause between reconnection attempts (exponential backoff up to it); reconnection never gives up"`
}

// TLSConfig enables TLS towards the servers.
type TLSConfig struct {
	CAFile   string `yaml:"ca_file" doc:"PEM file of the CA that signed the server certificate"`
	CertFile string `yaml:"cert_file" doc:"PEM client certificate (mutual TLS)"`
	KeyFile  string `yaml:"key_file" doc:"PEM key of the client certificate"`
}

// Default returns the defaults: a local server, no authentication.
func Default() Config {
	return Config{
		URLs:           []string{nats.DefaultURL},
		ConnectTimeout: 5 * time.Second,
		ConnectRetry:   20 * time.Second,
		ReconnectWait:  5 * time.Second,
	}
}

// ApplyNATSURL honours the conventional NATS_URL variable, which wins over the file.
func (c *Config) ApplyNATSURL(getenv func(string) string) {
	if u := getenv("NATS_URL"); u != "" {
		c.URLs = strings.Split(u, ",")
	}
}

// Validate reports every problem, each naming its key relative to the section.
func (c Config) Validate() error {
	var p config.Problems
	p.Check(len(c.URLs) > 0, "urls", "at least one server URL is required")
	for i, u := range c.URLs {
		p.Check(strings.TrimSpace(u) != "", fmt.Sprintf("urls[%d]", i), "must not be empty")
	}
	methods := 0
	for _, set := range []bool{c.User != "", c.Token != "", c.CredsFile != "", c.NKeySeedFile != ""} {
		if set {
			methods++
		}
	}
	p.Check(methods <= 1, "user/token/creds_file/nkey_seed_file", "set only one authentication method")
	p.Check(c.Password == "" || c.User != "", "password", "needs user")
	p.Check((c.TLS.CertFile == "") == (c.TLS.KeyFile == ""), "tls.cert_file", "cert_file and key_file go together")
	p.Check(c.ConnectTimeout > 0, "connect_timeout", "must be positive")
	p.Check(c.ReconnectWait > 0, "reconnect_wait", "must be positive")
	p.Check(c.ConnectRetry >= 0, "connect_retry", "must not be negative")
	return p.Err()
}

// Connect dials NATS, retrying the first connection for c.ConnectRetry, and
// logs every later change of connection state. name identifies the client in
// the server's monitoring.
func Connect(ctx context.Context, c Config, name string, log *slog.Logger) (*nats.Conn, error) {
	opts, err := c.options(name, log)
	if err != nil {
		return nil, err
	}
	url := strings.Join(c.URLs, ",")
	deadline := time.Now().Add(c.ConnectRetry)
	for attempt := 1; ; attempt++ {
		nc, err := nats.Connect(url, opts...)
		if err == nil {
			log.Info("connected to NATS", "server", nc.ConnectedUrlRedacted(), "server_id", nc.ConnectedServerId())
			return nc, nil
		}
		if !retryableConnect(err) || time.Now().After(deadline) {
			return nil, fmt.Errorf("connect to NATS at %s: %w (is the server running? set nats.urls or NATS_URL)", redact(c.URLs), err)
		}
		wait := backoff(attempt, 2*time.Second)
		log.Warn("NATS not reachable yet, retrying", "attempt", attempt, "in", wait, "err", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait):
		}
	}
}

func retryableConnect(err error) bool {
	return !errors.Is(err, nats.ErrAuthorization) && !errors.Is(err, nats.ErrAuthExpired) &&
		!errors.Is(err, nats.ErrSecureConnWanted) && // TLS configured, server without: a config mismatch
		!strings.Contains(err.Error(), "tls:") && !strings.Contains(err.Error(), "x509")
}

func (c Config) options(name string, log *slog.Logger) ([]nats.Option, error) {
	opts := []nats.Option{
		nats.Name(name),
		nats.Timeout(c.ConnectTimeout),
		nats.MaxReconnects(-1),
		nats.CustomReconnectDelay(func(attempts int) time.Duration { return backoff(attempts, c.ReconnectWait) }),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Warn("disconnected from NATS, reconnecting", "err", err)
			}
		}),
		nats.ReconnectHandler(func(nc *nats.Conn) {
			log.Info("reconnected to NATS", "server", nc.ConnectedUrlRedacted())
		}),
		nats.ClosedHandler(func(*nats.Conn) { log.Debug("NATS connection closed") }),
		nats.ErrorHandler(func(_ *nats.Conn, sub *nats.Subscription, err error) {
			subject := ""
			if sub != nil {
				subject = sub.Subject
			}
			log.Error("NATS async error", "subject", subject, "err", err)
		}),
	}
	switch {
	case c.User != "":
		opts = append(opts, nats.UserInfo(c.User, c.Password))
	case c.Token != "":
		opts = append(opts, nats.Token(c.Token))
	case c.CredsFile != "":
		// Read it now: the client would only read it when connecting and
		// retry a missing or broken file for the whole connect_retry.
		if err := checkCreds(c.CredsFile); err != nil {
			return nil, fmt.Errorf("nats.creds_file: %w", err)
		}
		opts = append(opts, nats.UserCredentials(c.CredsFile))
	case c.NKeySeedFile != "":
		o, err := nats.NkeyOptionFromSeed(c.NKeySeedFile)
		if err != nil {
			return nil, fmt.Errorf("nats.nkey_seed_file: %w", err)
		}
		opts = append(opts, o)
	}
	if c.TLS.CAFile != "" || c.TLS.CertFile != "" {
		tc, err := c.TLS.build()
		if err != nil {
			return nil, err
		}
		opts = append(opts, nats.Secure(tc))
	}
	return opts, nil
}

func (t TLSConfig) build() (*tls.Config, error) {
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if t.CAFile != "" {
		pem, err := os.ReadFile(t.CAFile)
		if err != nil {
			return nil, fmt.Errorf("nats.tls.ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("nats.tls.ca_file: no PEM certificate in %s", t.CAFile)
		}
		tc.RootCAs = pool
	}
	if t.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("nats.tls.cert_file: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	return tc, nil
}

// backoff doubles from 100ms up to max, with jitter so that many clients
// restarting together do not reconnect in lockstep.
func backoff(attempt int, max time.Duration) time.Duration {
	d := 100 * time.Millisecond << min(attempt, 16)
	if d > max || d <= 0 {
		d = max
	}
	return d/2 + rand.N(d/2+1)
}

// redact hides credentials embedded in URLs (nats://user:pass@host).
func redact(urls []string) string {
	out := make([]string, len(urls))
	for i, u := range urls {
		if at := strings.LastIndex(u, "@"); at >= 0 {
			if scheme := strings.Index(u, "://"); scheme >= 0 && scheme < at {
				u = u[:scheme+3] + "***@" + u[at+1:]
			}
		}
		out[i] = u
	}
	return strings.Join(out, ",")
}

// JetStream returns the JetStream API on nc, after checking that the server
// has JetStream enabled for this account, so a misconfigured server fails at
// start-up with a message that says what to do.
func JetStream(ctx context.Context, nc *nats.Conn, opts ...jetstream.JetStreamOpt) (jetstream.JetStream, error) {
	js, err := jetstream.New(nc, opts...)
	if err != nil {
		return nil, fmt.Errorf("jetstream: %w", err)
	}
	if _, err := js.AccountInfo(ctx); err != nil {
		if errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount) {
			return nil, fmt.Errorf("the NATS server at %s has no JetStream for this account: start it with -js (or jetstream {} in its config), or enable JetStream for the account: %w", nc.ConnectedUrlRedacted(), err)
		}
		return nil, fmt.Errorf("jetstream account info: %w", err)
	}
	return js, nil
}

// checkCreds reads a .creds file and checks it holds a user JWT and an NKey
// seed, so that a wrong path or a truncated file fails at start-up.
func checkCreds(path string) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if _, err := jwt.ParseDecoratedJWT(data); err != nil {
		return fmt.Errorf("%s holds no user JWT: %w", path, err)
	}
	kp, err := jwt.ParseDecoratedNKey(data)
	if err != nil {
		return fmt.Errorf("%s holds no NKey seed: %w", path, err)
	}
	kp.Wipe()
	return nil
}
