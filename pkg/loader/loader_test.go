package loader_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// TestACustomLoaderBinaryLoadsThroughItsOwnSink builds testdata/dirloader,
// a loader binary made of the public packages only (the built-in sinks plus
// a sink of its own), and runs it as a process against a real JetStream
// server: the users published to USERS_MAPPED reach its sink, the one its
// sink refuses is dead-lettered with the sink's code, and a SIGTERM stops it
// cleanly with its summary.
func TestACustomLoaderBinaryLoadsThroughItsOwnSink(t *testing.T) {
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "dirloader")
	build := exec.Command("go", "build", "-o", bin, "./testdata/dirloader")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	imports, err := exec.Command("go", "list", "-f", `{{join .Imports "\n"}}`, "./testdata/dirloader").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, imp := range strings.Fields(string(imports)) {
		if strings.Contains(imp, "/internal/") {
			t.Errorf("the custom loader imports %s: a binary outside the module could not", imp)
		}
	}

	srv := natstest.Start(t)
	users := filepath.Join(tmp, "users")
	cfg := filepath.Join(tmp, "loader.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "nats:\n  urls: [%s]\nloader:\n  sink:\n    type: dir\n    options:\n      dir: %s\n  batch:\n    max_wait: 50ms\n",
		srv.ClientURL(), users), 0o600); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "-config", cfg)
	cmd.Env = append(os.Environ(), "GM_CONFIG=", "NATS_URL=")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		select {
		case <-exited:
		default:
			_ = cmd.Process.Kill()
			<-exited
		}
	})

	nc := srv.Connect()
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// The loader creates the streams and its consumer when it starts.
	natstest.Eventually(t, 20*time.Second, func() error {
		select {
		case <-exited:
			t.Fatalf("the loader exited: %v\n%s", waitErr, stderr.String())
		default:
		}
		_, err := js.Consumer(ctx, "USERS_MAPPED", "loader-dir")
		return err
	})
	for _, uid := range []string{"u1", "u2", "u3", "../escape"} {
		m := nats.NewMsg(message.MappedSubject("auth0"))
		m.Header.Set(message.HdrUID, uid)
		m.Header.Set(message.HdrMsgID, "auth0:"+uid+":1:v1")
		m.Data = fmt.Appendf(nil, `{"user_id":%q}`, uid)
		if _, err := js.PublishMsg(ctx, m); err != nil {
			t.Fatal(err)
		}
	}
	natstest.Eventually(t, 20*time.Second, func() error {
		for _, uid := range []string{"u1", "u2", "u3"} {
			if _, err := os.Stat(filepath.Join(users, uid+".json")); err != nil {
				return err
			}
		}
		return nil
	})
	dl, err := js.Stream(ctx, "ETL_DEADLETTER")
	if err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 20*time.Second, func() error {
		m, err := dl.GetLastMsgForSubject(ctx, message.DeadLetterSubject(message.StageLoad, "auth0"))
		if err != nil {
			return err
		}
		if m.Header.Get(message.HdrUID) != "../escape" || m.Header.Get(message.HdrErrorCode) != "bad_uid" {
			return fmt.Errorf("dead letter %v", m.Header)
		}
		return nil
	})

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if waitErr != nil {
			t.Fatalf("exit: %v\n%s", waitErr, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatalf("no exit 30s after SIGTERM\n%s", stderr.String())
	}
	var sum struct {
		Sink         string `json:"sink"`
		Loaded       int    `json:"loaded"`
		DeadLettered int    `json:"dead_lettered"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &sum); err != nil {
		t.Fatalf("summary %q: %v", stdout.String(), err)
	}
	if sum.Sink != "dir" || sum.Loaded != 3 || sum.DeadLettered != 1 {
		t.Errorf("summary %+v, want sink dir, 3 loaded, 1 dead-lettered", sum)
	}
}

// TestACustomLoaderDocumentsItsSinksOptions: loader -h of the custom binary
// lists its own sink with the option its Spec declares, beside the built-in
// ones.
func TestACustomLoaderDocumentsItsSinksOptions(t *testing.T) {
	out, err := exec.Command("go", "run", "./testdata/dirloader", "-h").CombinedOutput()
	if err != nil {
		t.Fatalf("dirloader -h: %v\n%s", err, out)
	}
	for _, want := range []string{"  dir\n      dir (default \"users\")\n          directory that receives one file per user", "  auth0-api\n", "  jsonl\n"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("loader -h lacks %q:\n%s", want, out)
		}
	}
}
