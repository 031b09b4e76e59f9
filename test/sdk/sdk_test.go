package sdk

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// minNode is the oldest Node.js the pinned packages support (auth0 7.1.0
// declares engines ^20.19.0 || ^22.12.0 || >=24).
var minNode = [2]int{20, 19}

var (
	setupOnce sync.Once
	setupErr  error
)

// requirePackages makes sure node and npm are there and node_modules is
// installed from package-lock.json, running `npm ci` when node_modules is
// missing or older than the lock file. It fails the test otherwise: the
// suite is never skipped.
func requirePackages(t *testing.T) {
	t.Helper()
	setupOnce.Do(func() { setupErr = installPackages() })
	if setupErr != nil {
		t.Fatal(setupErr)
	}
}

func installPackages() error {
	if _, err := exec.LookPath("node"); err != nil {
		return fmt.Errorf("test/sdk needs Node.js %d.%d or later and npm, and node is not on PATH (see docs/testing.md): %w", minNode[0], minNode[1], err)
	}
	if _, err := exec.LookPath("npm"); err != nil {
		return fmt.Errorf("test/sdk needs npm to install the pinned SDKs, and npm is not on PATH (see docs/testing.md): %w", err)
	}
	out, err := exec.Command("node", "--version").Output()
	if err != nil {
		return fmt.Errorf("node --version: %w", err)
	}
	if err := checkNodeVersion(strings.TrimSpace(string(out))); err != nil {
		return err
	}
	lock, err := os.Stat("package-lock.json")
	if err != nil {
		return fmt.Errorf("test/sdk: %w", err)
	}
	// npm ci writes node_modules/.package-lock.json last; its age tells
	// whether the installed tree is at least as new as the lock file.
	installed, err := os.Stat(filepath.Join("node_modules", ".package-lock.json"))
	if err == nil && !installed.ModTime().Before(lock.ModTime()) {
		return nil
	}
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("test/sdk: %w", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "npm", "ci", "--no-audit", "--no-fund")
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("test/sdk: npm ci failed: %w\n%s", err, buf.Bytes())
	}
	fmt.Fprintf(os.Stderr, "test/sdk: npm ci installed the pinned SDKs in %s\n", time.Since(start).Round(100*time.Millisecond))
	return nil
}

var nodeVersion = regexp.MustCompile(`^v(\d+)\.(\d+)\.`)

func checkNodeVersion(v string) error {
	m := nodeVersion.FindStringSubmatch(v)
	if m == nil {
		return fmt.Errorf("test/sdk: cannot read the Node.js version %q", v)
	}
	major, _ := strconv.Atoi(m[1])
	minor, _ := strconv.Atoi(m[2])
	if major < minNode[0] || (major == minNode[0] && minor < minNode[1]) {
		return fmt.Errorf("test/sdk needs Node.js %d.%d or later (auth0 7 requires it); node is %s", minNode[0], minNode[1], v)
	}
	return nil
}

// outcome is what a script reports for one scenario: its result, or the
// error it threw, and how long it took.
type outcome struct {
	Result json.RawMessage `json:"result"`
	Thrown *thrown         `json:"thrown"`
	MS     int             `json:"ms"`
}

// thrown is an SDK error as lib/harness.js describes it.
type thrown struct {
	Name          string            `json:"name"`
	Message       string            `json:"message"`
	ErrorCode     int               `json:"errorCode"`
	GigyaResponse map[string]any    `json:"gigyaResponse"`
	StatusCode    int               `json:"statusCode"`
	Body          json.RawMessage   `json:"body"`
	Headers       map[string]string `json:"headers"`
}

// runScript runs one script with node, in input as its argument, and
// returns its scenarios.
func runScript(t *testing.T, script string, input any) map[string]outcome {
	t.Helper()
	in, err := json.Marshal(input)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "node", script, string(in))
	// The simulators listen on loopback; a proxy from the environment must
	// not catch those requests (the request module honours HTTP_PROXY).
	cmd.Env = append(os.Environ(), "NO_PROXY=127.0.0.1,localhost", "no_proxy=127.0.0.1,localhost")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		t.Fatalf("node %s: %v\nstderr:\n%s\nstdout:\n%s", script, err, stderr.Bytes(), stdout.Bytes())
	}
	t.Logf("node %s: %s", script, time.Since(start).Round(time.Millisecond))
	var out map[string]outcome
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("node %s printed no JSON: %v\nstdout:\n%s\nstderr:\n%s", script, err, stdout.Bytes(), stderr.Bytes())
	}
	return out
}

// result decodes the result of a scenario that must have succeeded.
func result[T any](t *testing.T, out map[string]outcome, name string) T {
	t.Helper()
	o, ok := out[name]
	if !ok {
		t.Fatalf("scenario %s did not run", name)
	}
	if o.Thrown != nil {
		t.Fatalf("scenario %s threw %s: %s (errorCode %d, statusCode %d, body %s)", name, o.Thrown.Name, o.Thrown.Message, o.Thrown.ErrorCode, o.Thrown.StatusCode, o.Thrown.Body)
	}
	var v T
	if err := json.Unmarshal(o.Result, &v); err != nil {
		t.Fatalf("scenario %s: %v in %s", name, err, o.Result)
	}
	return v
}

func TestCheckNodeVersion(t *testing.T) {
	for v, ok := range map[string]bool{"v20.19.0": true, "v20.20.2": true, "v22.12.0": true, "v24.1.0": true, "v20.18.3": false, "v18.20.0": false, "20.19.0": false} {
		if err := checkNodeVersion(v); (err == nil) != ok {
			t.Errorf("checkNodeVersion(%s) = %v", v, err)
		}
	}
}
