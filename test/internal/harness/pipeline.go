package harness

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/quickstart"
	"github.com/nats-io/nats.go/jetstream"
)

// Pipeline starts the binaries of one test against one server, with one
// environment and one log file for all of them, so a failing test shows
// the interleaved logs of every process it ran.
type Pipeline struct {
	t   *testing.T
	bin string
	env []string
	log *os.File
}

// NewPipeline prepares the processes of a test against the server at url,
// with an auth0-file sink writing into out; extraEnv comes last, so it
// overrides the defaults (a later GM_CONFIG wins).
func NewPipeline(t *testing.T, url, out string, extraEnv ...string) *Pipeline {
	log, err := os.Create(filepath.Join(t.TempDir(), "pipeline.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if t.Failed() {
			b, _ := os.ReadFile(log.Name())
			t.Logf("process logs:\n%s", LastBytes(b, 8000))
		}
		log.Close()
	})
	cfg := filepath.Join(t.TempDir(), "loader.yaml")
	os.WriteFile(cfg, fmt.Appendf(nil, "loader:\n  sink:\n    type: auth0-file\n    options: {dir: %q}\n", out), 0o644)
	env := append([]string{"NATS_URL=" + url, "GM_CONFIG=" + cfg, "GM_TRANSFORMER_CONSUMER_ACK_WAIT=2s"}, extraEnv...)
	return &Pipeline{t: t, bin: BinDir(t), env: env, log: log}
}

// Start runs the binary name with args; it is killed when the test ends,
// so a failed test leaves no process behind.
func (p *Pipeline) Start(name string, args ...string) *quickstart.Proc {
	p.t.Helper()
	proc, err := quickstart.Start(filepath.Join(p.bin, name), args, p.env, p.log)
	if err != nil {
		p.t.Fatal(err)
	}
	p.t.Cleanup(func() { _ = proc.Signal(syscall.SIGKILL) })
	return proc
}

// LogPath is the file the processes log to, for a test that reads their
// logs itself.
func (p *Pipeline) LogPath() string { return p.log.Name() }

// ExitCode waits for p to exit, at most two minutes, and returns its exit
// code.
func ExitCode(t *testing.T, p *quickstart.Proc) int {
	t.Helper()
	code, err := p.Wait(2 * time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	return code
}

// StopGracefully sends SIGTERM to each process and expects exit code 0.
func StopGracefully(t *testing.T, procs ...*quickstart.Proc) {
	t.Helper()
	for _, proc := range procs {
		if err := proc.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		if code := ExitCode(t, proc); code != 0 {
			t.Fatalf("%s exit %d after SIGTERM, want 0", proc.Name, code)
		}
	}
}

// WaitDrainedRefs waits until the transformer and the named loader have
// nothing pending.
func WaitDrainedRefs(ctx context.Context, js jetstream.JetStream, loader string) error {
	return quickstart.WaitDrained(ctx, js,
		quickstart.ConsumerRef{Stream: "GIGYA_ACCOUNTS", Durable: "transformer-auth0"},
		quickstart.ConsumerRef{Stream: "USERS_MAPPED", Durable: loader})
}

// ConsumerInfo returns the consumer's info, or nil while it does not exist
// yet (a process creates it at start-up), for tests that poll it.
func ConsumerInfo(t *testing.T, js jetstream.JetStream, stream, durable string) *jetstream.ConsumerInfo {
	t.Helper()
	c, err := js.Consumer(context.Background(), stream, durable)
	if err != nil {
		return nil
	}
	return c.CachedInfo()
}

// FreePorts picks n distinct free loopback ports. The routes of every node
// name the others' ports, and a restarted node must come back on its own,
// so they are chosen up front; another process could take one in the
// moment between, which would show as a node that does not start.
func FreePorts(t *testing.T, n int) []int {
	t.Helper()
	var ports []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return ports
}
