package natsconn_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/natsconn"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/nats-io/nats-server/v2/server"
)

type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

// The connection outlives a server restart, and says so in the log.
func TestReconnectsAfterServerRestartAndLogsIt(t *testing.T) {
	first := natstest.Start(t)
	port := first.Addr().(*net.TCPAddr).Port
	var logs syncBuf
	cfg := natsconn.Default()
	cfg.URLs = []string{first.ClientURL()}
	cfg.ReconnectWait = 100 * time.Millisecond
	nc, err := natsconn.Connect(context.Background(), cfg, "t", slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	first.Shutdown()
	natstest.Eventually(t, 10*time.Second, func() error {
		if !strings.Contains(logs.String(), "disconnected from NATS") {
			return errors.New("disconnect not logged")
		}
		return nil
	})
	natstest.StartWith(t, func(o *server.Options) { o.Port = port })
	natstest.Eventually(t, 20*time.Second, func() error {
		if !nc.IsConnected() || !strings.Contains(logs.String(), "reconnected to NATS") {
			return errors.New("not reconnected yet")
		}
		return nil
	})
	if err := nc.Publish("x", nil); err != nil {
		t.Fatal(err)
	}
}
