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
)

// startServer starts the run's server on dir, logging to logDir; stop ends
// it and closes its log.
func startServer(ctx context.Context, root, dir, logDir string) (*Server, func(), error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, nil, err
	}
	srvLog, err := os.OpenFile(filepath.Join(logDir, "nats-server.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, nil, err
	}
	srv, err := StartServer(ctx, root, dir, srvLog)
	if err != nil {
		srvLog.Close()
		return nil, nil, err
	}
	return srv, func() { srv.Stop(); srvLog.Close() }, nil
}

// InspectCommand is the command that lists the dead letters of a run made
// with o, from the store it kept: `make deadletters`, with the directories
// the run used when they are not make's.
func InspectCommand(o Options) string {
	cmd := "make deadletters"
	if o.OutDir != "out" {
		cmd += " OUT=" + o.OutDir
	}
	if o.BinDir != "" && o.BinDir != "bin" {
		cmd += " BIN=" + o.BinDir
	}
	return cmd
}

// ErrNoStore is returned by [Inspect] when no run has kept a store.
var ErrNoStore = errors.New("no JetStream store kept by a run")

// Inspect runs an operator command of the transformer (deadletter list,
// deadletter show SEQ, status -once) on the store a run kept (see
// Options.StoreDir), with a server started on it for the time of the
// command. It returns the command's exit code. The binaries are built into
// o.BinDir if they are not there (a run with a temporary BinDir).
func Inspect(ctx context.Context, o Options, args []string) (int, error) {
	store := o.storeDir()
	if _, err := os.Stat(filepath.Join(store, "store")); err != nil {
		return 0, fmt.Errorf("%w in %s/: run make run first (%v)", ErrNoStore, store, err)
	}
	if o.BinDir == "" {
		o.BinDir = "bin"
	}
	bin := filepath.Join(o.BinDir, "transformer")
	if _, err := os.Stat(bin); err != nil {
		if err := Build(ctx, o.Root, o.BinDir); err != nil {
			return 0, err
		}
	}
	logDir := filepath.Join(o.OutDir, "logs")
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return 0, err
	}
	srv, stop, err := startServer(ctx, o.Root, store, logDir)
	if err != nil {
		return 0, err
	}
	defer stop()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = append(os.Environ(), "NATS_URL="+srv.URL)
	cmd.Stdout, cmd.Stderr = o.Stdout, o.Stderr
	if cmd.Stderr == nil {
		cmd.Stderr = os.Stderr
	}
	err = cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), nil
	}
	return 0, err
}

// LastError returns the error a binary printed last in its log, written
// from offset from on (the log of earlier runs comes before): from the last
// line that starts with "name: " (stage.ExitCode prints the error so, after
// every log line) to the end; without one, the last lines of the log.
func LastError(path, name string, from int64) string {
	f, err := os.Open(path)
	if err != nil {
		return "see " + path
	}
	defer f.Close()
	// The error is at the end; a long run's log need not be read whole.
	const tail = 64 << 10
	if fi, err := f.Stat(); err == nil {
		_, _ = f.Seek(max(from, fi.Size()-tail), io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if strings.HasPrefix(lines[i], name+": ") {
			return strings.TrimPrefix(strings.Join(lines[i:], "\n"), name+": ")
		}
	}
	var last []string
	for i := len(lines) - 1; i >= 0 && len(last) < 3; i-- {
		if l := string(bytes.TrimSpace([]byte(lines[i]))); l != "" {
			last = append([]string{l}, last...)
		}
	}
	if len(last) == 0 {
		return "it printed nothing; see " + path
	}
	return strings.Join(last, "\n")
}
