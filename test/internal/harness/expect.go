package harness

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/configs"
	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

// Expectation is what the pipeline must do with a generated input file,
// computed independently of the pipeline: every account through the mapping.
type Expectation struct {
	Lines       int             // lines in the input
	Loaded      map[string]bool // UIDs that must appear once in the output
	TransformDL map[string]bool // UIDs the mapping refuses
	Filtered    int
	ExtractDL   int // unusable lines
}

// WriteInput writes n generated accounts plus unusable lines (broken JSON,
// an account without UID) as gzipped JSON lines, and what should become of them.
func WriteInput(t *testing.T, path string, n int) Expectation {
	t.Helper()
	m, err := mapping.Parse("auth0.yaml", configs.Auth0Mapping)
	if err != nil {
		t.Fatal(err)
	}
	ev := m.NewEvaluator()
	exp := Expectation{Loaded: map[string]bool{}, TransformDL: map[string]bool{}}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	g := sample.New(7, sample.Options{PBKDF2Rounds: 10, BcryptCost: 4})
	for i := range n {
		a := g.Next()
		zw.Write(a.JSON)
		zw.Write([]byte("\n"))
		exp.Lines++
		_, skip, err := ev.ApplyJSON(a.JSON)
		switch {
		case skip != "":
			exp.Filtered++
		case err != nil:
			exp.TransformDL[a.UID] = true
		default:
			exp.Loaded[a.UID] = true
		}
		if i == n/3 {
			zw.Write([]byte("{\"UID\": broken json\n"))
			zw.Write([]byte("{\"profile\":{\"email\":\"no-uid@example.com\"}}\n"))
			exp.Lines += 2
			exp.ExtractDL += 2
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	if len(exp.Loaded) == 0 || len(exp.TransformDL) == 0 || exp.Filtered == 0 {
		t.Fatalf("generated input does not exercise every outcome: %+v", exp)
	}
	return exp
}

// ReadImportFiles decodes the Auth0 import files of dir in name order, each
// an array of users within Auth0's 500 KB limit, and hands each to each.
func ReadImportFiles[U any](t *testing.T, dir string, each func(file string, users []U)) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "*.json"))
	sort.Strings(files)
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if len(b) > 500_000 {
			t.Fatalf("%s is %d bytes, over Auth0's 500 KB", f, len(b))
		}
		var users []U
		if err := json.Unmarshal(b, &users); err != nil {
			t.Fatalf("%s is not an Auth0 import file: %v", f, err)
		}
		each(f, users)
	}
}

// OutputUIDs counts every user_id in the Auth0 import files of dir.
func OutputUIDs(t *testing.T, dir string) map[string]int {
	t.Helper()
	got := map[string]int{}
	type user struct {
		UserID string `json:"user_id"`
		Email  string `json:"email"`
	}
	ReadImportFiles(t, dir, func(f string, users []user) {
		for _, u := range users {
			if u.Email == "" {
				t.Fatalf("%s: user %s has no email", f, u.UserID)
			}
			got[u.UserID]++
		}
	})
	return got
}

// DeadLetters counts the dead letters by stage subject and collects UIDs.
func DeadLetters(t *testing.T, js jetstream.JetStream) (map[string]int, map[string]bool) {
	t.Helper()
	ctx := context.Background()
	s, err := js.Stream(ctx, "ETL_DEADLETTER")
	if err != nil {
		t.Fatal(err)
	}
	info, err := s.Info(ctx, jetstream.WithSubjectFilter("etl.deadletter.>"))
	if err != nil {
		t.Fatal(err)
	}
	bySubject := map[string]int{}
	for subj, n := range info.State.Subjects {
		bySubject[subj] = int(n)
	}
	uids := map[string]bool{}
	for seq := info.State.FirstSeq; seq <= info.State.LastSeq && seq > 0; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // deleted by a redrive
		}
		if err != nil {
			t.Fatal(err)
		}
		if u := m.Header.Get("Gigya-UID"); u != "" {
			uids[u] = true
		}
	}
	return bySubject, uids
}

// CheckExactlyOnce asserts the invariant: every account that maps is loaded
// exactly once; extracted = loaded + dead-lettered + filtered. A negative
// filtered skips the check of the filtered count, for a run whose
// processes did not all report one (a killed instance).
func CheckExactlyOnce(t *testing.T, js jetstream.JetStream, out string, exp Expectation, filtered int64) {
	t.Helper()
	got := OutputUIDs(t, out)
	for uid := range exp.Loaded {
		if got[uid] != 1 {
			t.Fatalf("user %s loaded %d times, want exactly once", uid, got[uid])
		}
	}
	if len(got) != len(exp.Loaded) {
		t.Fatalf("output has %d users, want %d", len(got), len(exp.Loaded))
	}
	bySubject, dlUIDs := DeadLetters(t, js)
	if bySubject["etl.deadletter.extract.e2e"] != exp.ExtractDL || bySubject["etl.deadletter.transform.auth0"] != len(exp.TransformDL) {
		t.Fatalf("dead letters %v, want extract %d transform %d", bySubject, exp.ExtractDL, len(exp.TransformDL))
	}
	for uid := range exp.TransformDL {
		if !dlUIDs[uid] {
			t.Fatalf("refused user %s is not in the dead-letter stream", uid)
		}
	}
	dl := 0
	for _, n := range bySubject {
		dl += n
	}
	if filtered >= 0 && int64(exp.Filtered) != filtered {
		t.Fatalf("filtered %d, want %d", filtered, exp.Filtered)
	}
	if extracted := exp.Lines; extracted != len(got)+dl+exp.Filtered {
		t.Fatalf("extracted %d != loaded %d + dead-lettered %d + filtered %d", extracted, len(got), dl, exp.Filtered)
	}
}
