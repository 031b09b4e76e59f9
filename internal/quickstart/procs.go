// Package quickstart runs the whole pipeline on one machine: it builds the
// three binaries, starts a JetStream server (go tool nats-server, free port,
// its store in OutDir/nats, emptied when a run starts and kept after it)
// unless one is given, runs extractor, transformer and loader as processes,
// waits until every record has gone through, stops everything it started,
// and summarises, with the cause when a stage failed. [Inspect] reads the
// kept store afterwards (its dead letters). `make run` and `make
// deadletters` use it, and so do the end-to-end tests under test/, which is
// how `make run` stays tested.
package quickstart

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

// binaries are the pipeline's commands.
func binaries() []string { return []string{"extractor", "transformer", "loader"} }

// ModuleRoot returns the directory of the go.mod of the working directory.
func ModuleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("not inside the gigya-migrate module: run from the repository")
	}
	return filepath.Dir(mod), nil
}

// Build compiles the three binaries from the module at root into dir.
func Build(ctx context.Context, root, dir string) error {
	args := []string{"build", "-o", dir + string(filepath.Separator)}
	for _, b := range binaries() {
		args = append(args, "./"+b)
	}
	cmd := exec.CommandContext(ctx, "go", args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %w\n%s", err, out)
	}
	return nil
}

// Server is a nats-server child process.
type Server struct {
	URL string
	cmd *exec.Cmd
}

// StartServer runs `go tool nats-server` (pinned in go.mod) with JetStream,
// on a free loopback port, storing into dir.
func StartServer(ctx context.Context, root, dir string, log io.Writer) (*Server, error) {
	path, err := ServerBinary(ctx, root)
	if err != nil {
		return nil, err
	}
	// Not CommandContext: the server must outlive a cancelled ctx long enough
	// for the binaries to drain; Stop ends it.
	cmd := exec.Command(path, "-a", "127.0.0.1", "-p", "-1", "-js",
		"-sd", filepath.Join(dir, "store"), "--ports_file_dir", dir)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = ownGroup()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start nats-server: %w", err)
	}
	s := &Server{cmd: cmd}
	portsFile := filepath.Join(dir, fmt.Sprintf("nats-server_%d.ports", cmd.Process.Pid))
	deadline := time.Now().Add(30 * time.Second)
	for {
		var ports struct {
			Nats []string `json:"nats"`
		}
		if b, err := os.ReadFile(portsFile); err == nil && json.Unmarshal(b, &ports) == nil && len(ports.Nats) > 0 {
			s.URL = ports.Nats[0]
			return s, nil
		}
		if time.Now().After(deadline) {
			s.Stop()
			return nil, errors.New("nats-server did not report its port within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// ServerBinary returns the path of the nats-server pinned in go.mod as a Go
// tool, building it if needed, so that tests and `make run` use the version
// the module was tested with rather than whatever is installed.
func ServerBinary(ctx context.Context, root string) (string, error) {
	tool := exec.CommandContext(ctx, "go", "tool", "-n", "nats-server")
	tool.Dir = root
	path, err := tool.Output()
	if err != nil {
		return "", fmt.Errorf("go tool -n nats-server: %w", err)
	}
	return strings.TrimSpace(string(path)), nil
}

// Stop terminates the server and waits for it.
func (s *Server) Stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() { _ = s.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(15 * time.Second):
		_ = s.cmd.Process.Kill()
		<-done
	}
}

// ownGroup puts a child in its own process group: a Ctrl-C in the terminal
// then reaches only the quickstart, which stops the binaries first (so they
// drain) and the server last, instead of everything dying at once.
func ownGroup() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

// Proc is one pipeline binary running as a child process.
type Proc struct {
	Name string
	cmd  *exec.Cmd
	out  syncBuffer
	done chan struct{}
	err  error
}

// Start runs bin with args and extra environment variables; its stdout (the
// summary line) is captured, its stderr (logs) goes to logw.
func Start(bin string, args, env []string, logw io.Writer) (*Proc, error) {
	p := &Proc{Name: filepath.Base(bin), done: make(chan struct{})}
	p.cmd = exec.Command(bin, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = &p.out
	p.cmd.Stderr = logw
	p.cmd.SysProcAttr = ownGroup()
	if err := p.cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", bin, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	return p, nil
}

// Signal sends sig to the process.
func (p *Proc) Signal(sig os.Signal) error { return p.cmd.Process.Signal(sig) }

// Done is closed when the process has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Wait waits for the process to exit, at most d, and returns its exit code.
func (p *Proc) Wait(d time.Duration) (int, error) {
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-p.done:
	default:
		select {
		case <-p.done:
		case <-timer.C:
			_ = p.cmd.Process.Kill()
			<-p.done
			return -1, fmt.Errorf("%s did not exit within %v; killed", p.Name, d)
		}
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		return exit.ExitCode(), nil
	}
	return 0, p.err
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// Output is what the process printed on stdout so far.
func (p *Proc) Output() string { return p.out.String() }

// Summary decodes the JSON summary line the process printed when it ended.
func (p *Proc) Summary(v any) error {
	lines := strings.Split(strings.TrimSpace(p.out.String()), "\n")
	last := lines[len(lines)-1]
	if err := json.Unmarshal([]byte(last), v); err != nil {
		return fmt.Errorf("%s printed no summary (%q): %w", p.Name, last, err)
	}
	return nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// ConsumerRef names a durable consumer on a stream.
type ConsumerRef struct{ Stream, Durable string }

// WaitDrained polls until every consumer exists and has nothing pending or
// unacknowledged, checking them in order: list upstream consumers first, so
// that when a downstream one is seen drained, nothing more can reach it.
func WaitDrained(ctx context.Context, js jetstream.JetStream, refs ...ConsumerRef) error {
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		drained := true
		for _, r := range refs {
			// Each request has its own deadline: one lost with a server
			// that died (a cluster node) would otherwise wait out ctx.
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			c, err := js.Consumer(rctx, r.Stream, r.Durable)
			cancel()
			if err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				drained = false
				break
			}
			info := c.CachedInfo()
			if info.NumPending > 0 || info.NumAckPending > 0 {
				drained = false
				break
			}
		}
		if drained {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
		}
	}
}
