package login

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"time"
)

// Listen opens the listener of the login endpoints: TLS 1.2 or later with
// login.tls.cert_file and key_file, requiring a client certificate signed
// by login.tls.client_ca_file when it is set, or plain TCP with
// login.plain_http (TLS terminated by a proxy in front).
func Listen(s Settings) (net.Listener, error) {
	ln, err := net.Listen("tcp", s.Listen)
	if err != nil {
		return nil, fmt.Errorf("login.listen %s: %w", s.Listen, err)
	}
	if s.PlainHTTP {
		return ln, nil
	}
	cfg, err := TLSConfig(s)
	if err != nil {
		ln.Close()
		return nil, err
	}
	return tls.NewListener(ln, cfg), nil
}

// TLSConfig is the TLS configuration of the login endpoints.
func TLSConfig(s Settings) (*tls.Config, error) {
	cert, err := tls.LoadX509KeyPair(s.TLS.CertFile, s.TLS.KeyFile)
	if err != nil {
		return nil, fmt.Errorf("login.tls.cert_file, login.tls.key_file: %w", err)
	}
	cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
	if s.TLS.ClientCAFile != "" {
		pem, err := os.ReadFile(s.TLS.ClientCAFile)
		if err != nil {
			return nil, fmt.Errorf("login.tls.client_ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("login.tls.client_ca_file: no PEM certificate in %s", s.TLS.ClientCAFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// Serve serves the endpoints on ln until ctx is done, then stops taking
// requests and lets those in flight finish (each is bounded by
// login.timeout).
func (s *Service) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      s.settings.Timeout + 5*time.Second,
		IdleTimeout:       time.Minute,
		MaxHeaderBytes:    16 << 10,
		// A caller's TLS handshake errors (a scanner, a client without
		// certificate) are not worth a log line each.
		ErrorLog: slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return fmt.Errorf("login service: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.settings.Timeout+5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return fmt.Errorf("login service: stopping: %w", err)
	}
	if err := <-done; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("login service: %w", err)
	}
	return nil
}
