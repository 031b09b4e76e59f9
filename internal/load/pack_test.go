package load

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/internal/targets/auth0file"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/nats-io/nats.go"
	"github.com/segmentio/encoding/json"
	"go.yaml.in/yaml/v3"
)

// The loader's batches fill Auth0 import files: no file could have taken
// the next user, so no user spills into a file of its own (a file is an
// import job, and a tenant runs two at a time).
func TestImportFilesAreFilled(t *testing.T) {
	f := setup(t, 5000, nil)
	dir := t.TempDir()
	snk, err := auth0file.New(context.Background(), sink.Params{Decode: func(v any) error {
		return yaml.Unmarshal(fmt.Appendf(nil, "dir: %s", dir), v)
	}})
	if err != nil {
		t.Fatal(err)
	}
	f.l.sink = snk
	f.l.maxRecords = 5000
	_, f.l.maxBytes = snk.(sink.BatchLimiter).BatchLimits()
	f.l.maxWait = time.Minute // only the byte limit closes a batch, but the last

	// Users of 2,008 bytes: 249 of them are 499,992 bytes of data, but a
	// file of them, with its commas and brackets, is 500,242.
	const n, userBytes = 1200, 2008
	for i := range n {
		m := nats.NewMsg("users.mapped.auth0")
		uid := fmt.Sprintf("u%04d", i)
		m.Data = fmt.Appendf(nil, `{"user_id":%q,"user_metadata":{"pad":%q}}`, uid, "")
		m.Data = fmt.Appendf(nil, `{"user_id":%q,"user_metadata":{"pad":%q}}`, uid, strings.Repeat("x", userBytes-len(m.Data)))
		m.Header.Set(message.HdrUID, uid)
		m.Header.Set(message.HdrMsgID, "auth0:"+uid)
		if _, err := f.js.PublishMsg(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	stop := f.start(t)
	natstest.Eventually(t, 30*time.Second, func() error {
		if got := f.l.batches.Load(); got < 5 {
			return fmt.Errorf("%d batches written", got)
		}
		return nil
	})
	stop() // writes the last, partial batch
	if err := snk.Close(context.Background()); err != nil {
		t.Fatal(err)
	}
	names, err := filepath.Glob(filepath.Join(dir, "users-*.json"))
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(names)
	var files [][]json.RawMessage
	total := 0
	for _, name := range names {
		data, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		if len(data) > auth0file.AuthZeroLimit {
			t.Fatalf("%s is %d bytes, over Auth0's limit", name, len(data))
		}
		var users []json.RawMessage
		if err := json.Unmarshal(data, &users); err != nil {
			t.Fatal(err)
		}
		files, total = append(files, users), total+len(users)
	}
	if total != n {
		t.Fatalf("%d users in %d files, want %d", total, len(files), n)
	}
	t.Logf("%d users in %d files", total, len(files))
	for k := 0; k+1 < len(files); k++ {
		size := 1 // ']'
		for _, u := range files[k] {
			size += len(u) + 1 // '[' or ',' before each
		}
		if next := len(files[k+1][0]); size+next+1 <= auth0file.AuthZeroLimit {
			t.Errorf("file %d (%d users, %d bytes) had room for the next user (%d bytes)", k, len(files[k]), size, next)
		}
	}
}
