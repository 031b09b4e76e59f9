package natsconn_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/natsconn"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/nats-io/nats-server/v2/server"
)

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

func TestConnectWithUserPassword(t *testing.T) {
	s := natstest.StartWith(t, func(o *server.Options) { o.Username, o.Password = "etl", "s3cret" })
	cfg := natsconn.Default()
	cfg.URLs = []string{s.ClientURL()}
	cfg.ConnectRetry = 0
	if _, err := natsconn.Connect(context.Background(), cfg, "t", discard); err == nil {
		t.Fatal("connect without credentials must fail")
	}
	cfg.User, cfg.Password = "etl", "s3cret"
	nc, err := natsconn.Connect(context.Background(), cfg, "t", discard)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	if _, err := natsconn.JetStream(context.Background(), nc); err != nil {
		t.Fatal(err)
	}
}

func TestJetStreamDisabledIsExplained(t *testing.T) {
	s := natstest.StartWith(t, func(o *server.Options) { o.JetStream = false })
	cfg := natsconn.Default()
	cfg.URLs = []string{s.ClientURL()}
	nc, err := natsconn.Connect(context.Background(), cfg, "t", discard)
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err = natsconn.JetStream(ctx, nc)
	if err == nil || !strings.Contains(err.Error(), "has no JetStream") {
		t.Fatalf("want a clear no-JetStream error, got %v", err)
	}
}

func TestConnectFailureSaysWhatToDo(t *testing.T) {
	cfg := natsconn.Default()
	cfg.URLs = []string{"nats://user:pw@127.0.0.1:1"}
	cfg.ConnectRetry = 0
	_, err := natsconn.Connect(context.Background(), cfg, "t", discard)
	if err == nil || !strings.Contains(err.Error(), "NATS_URL") || strings.Contains(err.Error(), "pw") {
		t.Fatalf("want an actionable error without the password, got %v", err)
	}
}

func TestValidate(t *testing.T) {
	c := natsconn.Default()
	c.Token, c.User = "t", "u"
	c.TLS.CertFile = "c.pem"
	err := c.Validate()
	if err == nil || !strings.Contains(err.Error(), "one authentication method") || !strings.Contains(err.Error(), "tls.cert_file") {
		t.Fatalf("got %v", err)
	}
	c = natsconn.Default()
	c.ApplyNATSURL(func(string) string { return "nats://a:1,nats://b:2" })
	if len(c.URLs) != 2 {
		t.Fatalf("NATS_URL not applied: %v", c.URLs)
	}
}
