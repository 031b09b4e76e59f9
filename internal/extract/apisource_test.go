package extract

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/stage"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

const knownSecret = "s3cr3t-KNOWN-value-7e1f"

type apiFixture struct {
	t    *testing.T
	sim  *gigyasim.Sim
	srv  *natstest.Server
	js   jetstream.JetStream
	cfg  string
	logs bytes.Buffer
}

func newAPIFixture(t *testing.T, accounts, pageSize int, extra string) *apiFixture {
	t.Helper()
	sim, err := gigyasim.New(gigyasim.Options{Accounts: accounts, Seed: 3, APIKey: "3_testkey", Secret: knownSecret})
	if err != nil {
		t.Fatal(err)
	}
	base, stop, err := sim.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	f := &apiFixture{t: t, sim: sim, srv: natstest.Start(t)}
	f.js = f.srv.JetStream()
	f.cfg = filepath.Join(t.TempDir(), "extractor.yaml")
	body := fmt.Sprintf(`
extractor:
  source: {type: gigya-api}
  checkpoint_every: 1
  gigya:
    page_size: %d
    rate: 1000
    timeout: 5s
    lite_accounts: true
%s
    sites:
      - name: s1
        api_key: 3_testkey
        secret: ${TEST_GIGYA_SECRET}
        base_url: %s
        allow_http: true
`, pageSize, extra, base)
	if err := os.WriteFile(f.cfg, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return f
}

// run runs the extractor in-process; it returns the summary.
func (f *apiFixture) run(ctx context.Context, args ...string) (Summary, error) {
	f.t.Helper()
	var out bytes.Buffer
	env := stage.Env{Args: append([]string{"-config", f.cfg}, args...), Stdout: &out, Stderr: &f.logs,
		Getenv: func(k string) string {
			switch k {
			case "NATS_URL":
				return f.srv.ClientURL()
			case "TEST_GIGYA_SECRET":
				return knownSecret
			}
			return ""
		}}
	err := Run(ctx, env)
	var sum Summary
	if jerr := json.Unmarshal(out.Bytes(), &sum); jerr != nil {
		f.t.Fatalf("no summary (%v): %q\nlogs:\n%s", err, out.String(), f.logs.String())
	}
	return sum, err
}

// rawUIDs counts the GIGYA_ACCOUNTS messages per UID (none before the
// extractor created the stream).
func (f *apiFixture) rawUIDs() map[string]int {
	ctx := context.Background()
	got := map[string]int{}
	s, err := f.js.Stream(ctx, "GIGYA_ACCOUNTS")
	if err != nil {
		return got
	}
	info, _ := s.Info(ctx)
	for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
		if m, err := s.GetMsg(ctx, seq); err == nil {
			got[m.Header.Get("Gigya-UID")]++
		}
	}
	return got
}

func (f *apiFixture) exactlyTheSimAccounts() {
	f.t.Helper()
	got := f.rawUIDs()
	uids := f.sim.UIDs()
	if len(got) != len(uids) {
		f.t.Fatalf("extracted %d accounts, the simulator has %d", len(got), len(uids))
	}
	for _, u := range uids {
		if got[u] != 1 {
			f.t.Fatalf("%s extracted %d times", u, got[u])
		}
	}
}

func TestAPIPageBoundaries(t *testing.T) {
	const page = 7
	for _, n := range []int{0, 1, page - 1, page, page + 1, 10*page + 3} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			f := newAPIFixture(t, n, page, "")
			sum, err := f.run(context.Background())
			if err != nil {
				t.Fatalf("%v\n%s", err, f.logs.String())
			}
			if sum.Published != int64(n) || sum.Read != int64(n) || sum.Status != "completed" || sum.Site != "s1" {
				t.Fatalf("summary %+v", sum)
			}
			f.exactlyTheSimAccounts()
		})
	}
}

func TestAPIFaultsStillExtractEverything(t *testing.T) {
	for _, fault := range []gigyasim.Fault{gigyasim.HTTP500, gigyasim.GigyaGeneral500001, gigyasim.Timeout504001,
		gigyasim.Truncated, gigyasim.ExpireCursor, gigyasim.SpuriousCursor, gigyasim.RateLimited, gigyasim.Slow} {
		t.Run(fmt.Sprint(fault), func(t *testing.T) {
			f := newAPIFixture(t, 95, 10, "")
			opts := []gigyasim.FaultOption{}
			if fault == gigyasim.Slow {
				opts = append(opts, gigyasim.WithDelay(50*time.Millisecond))
			}
			f.sim.Inject(fault, 3, opts...)
			if _, err := f.run(context.Background()); err != nil {
				t.Fatalf("%v\n%s", err, f.logs.String())
			}
			f.exactlyTheSimAccounts()
			if fault != gigyasim.SpuriousCursor && f.sim.PendingFaults() == 3 {
				t.Fatal("the fault was never triggered")
			}
		})
	}
}

// An extraction stopped mid-run resumes from its checkpoint: nothing is
// published twice, nothing is missing.
func TestAPIInterruptedRunResumes(t *testing.T) {
	f := newAPIFixture(t, 200, 10, "")
	ctx, cancel := context.WithCancel(context.Background())
	f.sim.Inject(gigyasim.Slow, 1000, gigyasim.WithDelay(60*time.Millisecond))
	go func() {
		natstest.Eventually(t, 20*time.Second, func() error {
			if n := len(f.rawUIDs()); n < 60 {
				return fmt.Errorf("%d extracted", n)
			}
			return nil
		})
		cancel()
	}()
	first, err := f.run(ctx)
	if err != nil || first.Status != "interrupted" {
		t.Fatalf("first run %+v %v", first, err)
	}
	f.sim.ClearFaults()
	second, err := f.run(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if second.Duplicates != 0 || first.Published+second.Published != 200 {
		t.Fatalf("resume re-published or lost: first %+v second %+v", first, second)
	}
	f.exactlyTheSimAccounts()
}

// After a completed run, -incremental publishes exactly the accounts that
// changed since, with their new content; unchanged ones in the overlap
// window are skipped.
func TestAPIIncremental(t *testing.T) {
	f := newAPIFixture(t, 120, 25, "    overlap: 24h\n")
	if _, err := f.run(context.Background()); err != nil {
		t.Fatal(err)
	}
	changed := f.sim.UIDs()[10:15]
	for _, uid := range changed {
		if err := f.sim.Update(uid, func(a map[string]any) { a["data"] = map[string]any{"changed": true} }); err != nil {
			t.Fatal(err)
		}
	}
	sum, err := f.run(context.Background(), "-incremental")
	if err != nil {
		t.Fatal(err)
	}
	if sum.Published != int64(len(changed)) || sum.Duplicates != 0 {
		t.Fatalf("incremental run %+v, want exactly %d published", sum, len(changed))
	}
	got := f.rawUIDs()
	for _, uid := range changed {
		if got[uid] != 2 {
			t.Fatalf("changed %s has %d versions, want 2", uid, got[uid])
		}
	}
	s, _ := f.js.Stream(context.Background(), "GIGYA_ACCOUNTS")
	last, _ := s.GetLastMsgForSubject(context.Background(), "gigya.accounts.s1")
	if !strings.Contains(string(last.Data), `"changed":true`) || !slices.Contains(changed, last.Header.Get("Gigya-UID")) {
		t.Fatalf("the new content did not arrive: %s", last.Data)
	}
	// Nothing changed: nothing published.
	sum, err = f.run(context.Background(), "-incremental")
	if err != nil || sum.Published != 0 {
		t.Fatalf("idle incremental run %+v %v", sum, err)
	}
}

// The secret never appears in logs, stream contents or the state bucket,
// even when calls fail and are retried.
func TestAPISecretsNeverLeak(t *testing.T) {
	f := newAPIFixture(t, 30, 10, "")
	f.sim.Inject(gigyasim.GigyaGeneral500001, 2)
	f.sim.Inject(gigyasim.Truncated, 1)
	if _, err := f.run(context.Background(), "-run", "leakcheck"); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(f.logs.String(), knownSecret) {
		t.Fatal("the secret is in the logs")
	}
	ctx := context.Background()
	for _, name := range []string{"GIGYA_ACCOUNTS", "ETL_DEADLETTER", "KV_etl_state"} {
		s, err := f.js.Stream(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		info, _ := s.Info(ctx)
		for seq := info.State.FirstSeq; info.State.Msgs > 0 && seq <= info.State.LastSeq; seq++ {
			m, err := s.GetMsg(ctx, seq)
			if err != nil {
				continue // deleted (KV history)
			}
			if bytes.Contains(m.Data, []byte(knownSecret)) || strings.Contains(fmt.Sprint(m.Header), knownSecret) {
				t.Fatalf("the secret is in %s seq %d", name, seq)
			}
		}
	}
	// A failing configuration does not print it either.
	f.sim.Inject(gigyasim.GigyaGeneral500001, 1000)
	var out, errb bytes.Buffer
	cctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	err := Run(cctx, stage.Env{Args: []string{"-config", f.cfg}, Stdout: &out, Stderr: &errb, Getenv: func(k string) string {
		return map[string]string{"NATS_URL": f.srv.ClientURL(), "TEST_GIGYA_SECRET": knownSecret}[k]
	}})
	if strings.Contains(fmt.Sprint(err), knownSecret) || strings.Contains(errb.String(), knownSecret) {
		t.Fatal("the secret is in an error")
	}
}

// -follow keeps searching after catching up: an account changed while it
// runs arrives with its new content, until the extractor is stopped.
func TestAPIFollow(t *testing.T) {
	f := newAPIFixture(t, 40, 10, "    follow_every: 50ms\n    overlap: 1h\n")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Summary, 1)
	go func() {
		sum, _ := f.run(ctx, "-follow")
		done <- sum
	}()
	natstest.Eventually(t, 20*time.Second, func() error {
		if n := len(f.rawUIDs()); n != 40 {
			return fmt.Errorf("%d of 40 extracted", n)
		}
		return nil
	})
	uid := f.sim.UIDs()[7]
	if err := f.sim.Update(uid, func(a map[string]any) { a["data"] = map[string]any{"followed": true} }); err != nil {
		t.Fatal(err)
	}
	natstest.Eventually(t, 20*time.Second, func() error {
		if n := f.rawUIDs()[uid]; n != 2 {
			return fmt.Errorf("%s has %d versions", uid, n)
		}
		return nil
	})
	cancel()
	sum := <-done
	if sum.Status != "interrupted" || sum.Published != 41 || sum.Duplicates != 0 {
		t.Fatalf("follow run %+v: want 40 accounts plus 1 change, nothing twice", sum)
	}
}

// BenchmarkAPIRateAdherence extracts from a simulated site that enforces R
// searches per second, with the extractor configured at R: it reports the
// achieved searches/s (the goal is at least 95% of R) and the number of
// 403048 answers (the goal is none).
func BenchmarkAPIRateAdherence(b *testing.B) {
	const rate, pages = 10, 30
	for range b.N {
		sim, err := gigyasim.New(gigyasim.Options{Accounts: pages * 100, Seed: 1, APIKey: "3_testkey", Secret: knownSecret, SearchRate: rate})
		if err != nil {
			b.Fatal(err)
		}
		base, stop, _ := sim.Start()
		srv := natstest.Start(b)
		cfg := filepath.Join(b.TempDir(), "x.yaml")
		os.WriteFile(cfg, fmt.Appendf(nil, "extractor:\n  source: {type: gigya-api}\n  gigya:\n    page_size: 100\n    rate: %d\n    lite_accounts: true\n    sites:\n      - {name: s1, api_key: 3_testkey, secret: %q, base_url: %q, allow_http: true}\n", rate, knownSecret, base), 0o600)
		var out, logs bytes.Buffer
		start := time.Now()
		err = Run(context.Background(), stage.Env{Args: []string{"-config", cfg}, Stdout: &out, Stderr: &logs,
			Getenv: func(k string) string { return map[string]string{"NATS_URL": srv.ClientURL()}[k] }})
		elapsed := time.Since(start)
		stop()
		if err != nil {
			b.Fatalf("%v\n%s", err, logs.String())
		}
		st := sim.Stats()
		searches := st.Requests["accounts.search"]
		b.ReportMetric(float64(searches)/elapsed.Seconds(), "searches/s")
		b.ReportMetric(100*float64(searches)/elapsed.Seconds()/rate, "%ofR")
		b.ReportMetric(float64(st.RateLimited), "403048s")
	}
}

// Two sites in one config: each is extracted to its own subject with its
// own checkpoint.
func TestAPISeveralSites(t *testing.T) {
	f := newAPIFixture(t, 30, 10, "")
	other, err := gigyasim.New(gigyasim.Options{Accounts: 17, Seed: 99, APIKey: "3_otherkey", Secret: "other-secret"})
	if err != nil {
		t.Fatal(err)
	}
	base2, stop2, err := other.Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stop2()
	cfg, _ := os.ReadFile(f.cfg)
	cfg = append(cfg, fmt.Appendf(nil, "      - {name: s2, api_key: 3_otherkey, secret: other-secret, base_url: %q, allow_http: true}\n", base2)...)
	os.WriteFile(f.cfg, cfg, 0o600)
	var out bytes.Buffer
	err = Run(context.Background(), stage.Env{Args: []string{"-config", f.cfg}, Stdout: &out, Stderr: &f.logs,
		Getenv: func(k string) string {
			return map[string]string{"NATS_URL": f.srv.ClientURL(), "TEST_GIGYA_SECRET": knownSecret}[k]
		}})
	if err != nil {
		t.Fatalf("%v\n%s", err, f.logs.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one summary per site, got %q", out.String())
	}
	s, _ := f.js.Stream(context.Background(), "GIGYA_ACCOUNTS")
	info, _ := s.Info(context.Background(), jetstream.WithSubjectFilter("gigya.accounts.>"))
	if info.State.Subjects["gigya.accounts.s1"] != 30 || info.State.Subjects["gigya.accounts.s2"] != 17 {
		t.Fatalf("per-site counts %v", info.State.Subjects)
	}
}

// fakeSearcher serves pages of a fixed list and records the queries.
type fakeSearcher struct {
	accounts [][]byte
	page     int
	queries  []string
	nextCall int
}

func (f *fakeSearcher) Search(_ context.Context, query, _ string) (gigya.Page, error) {
	f.queries = append(f.queries, query)
	// Honour the watermark the way Gigya would.
	from := 0
	if i := strings.Index(query, "lastUpdatedTimestamp >= "); i >= 0 {
		var lower int64
		fmt.Sscan(query[i+len("lastUpdatedTimestamp >= "):], &lower)
		for from < len(f.accounts) && int64(from+1) < lower {
			from++
		}
	}
	return f.pageAt(from), nil
}

func (f *fakeSearcher) SearchNext(_ context.Context, cursor string) (gigya.Page, error) {
	var at int
	fmt.Sscan(cursor, &at)
	return f.pageAt(at), nil
}

func (f *fakeSearcher) pageAt(at int) gigya.Page {
	end := min(at+f.page, len(f.accounts))
	p := gigya.Page{}
	for _, a := range f.accounts[at:end] {
		p.Results = append(p.Results, a)
	}
	if end < len(f.accounts) {
		p.NextCursorID = fmt.Sprint(end)
	}
	return p
}

// A cursor idle longer than cursor_idle (a long back-pressure pause) is not
// reused: the search restarts from the watermark, and every account is
// still emitted exactly once.
func TestAPIIdleCursorRestartsFromTheWatermark(t *testing.T) {
	fs := &fakeSearcher{page: 5}
	for i := 1; i <= 23; i++ {
		fs.accounts = append(fs.accounts, fmt.Appendf(nil, `{"UID":"u%02d","lastUpdatedTimestamp":%d}`, i, i))
	}
	clock := time.Unix(0, 0)
	src := &apiSource{site: SiteSettings{Name: "s"}, cfg: defaultGigya(), client: fs,
		log: slog.New(slog.NewTextHandler(io.Discard, nil)),
		now: func() time.Time { clock = clock.Add(5 * time.Minute); return clock }}
	seen := map[string]int{}
	err := src.Read(context.Background(), Checkpoint{}, func(it Item) error {
		if !it.Resumed {
			var a struct{ UID string }
			json.Unmarshal(it.Data, &a)
			seen[a.UID]++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(seen) != 23 {
		t.Fatalf("%d accounts", len(seen))
	}
	for uid, n := range seen {
		if n != 1 {
			t.Fatalf("%s emitted %d times", uid, n)
		}
	}
	if len(fs.queries) < 2 || !strings.Contains(fs.queries[1], "lastUpdatedTimestamp >= ") {
		t.Fatalf("the search was not restarted from the watermark: %q", fs.queries)
	}
}

// TestAPIErrorsNameTheSiteOnce: an error of one site's run says which site,
// once, however deep it comes from.
func TestAPIErrorsNameTheSiteOnce(t *testing.T) {
	f := newAPIFixture(t, 10, 5, "")
	_, err := f.run(context.Background(), "-incremental")
	if err == nil || !strings.Contains(err.Error(), "site s1: -incremental needs the checkpoint") || strings.Count(err.Error(), "site s1") != 1 {
		t.Fatalf("error %v: want the site named once", err)
	}
}

// TestPlainHTTPRefusedNamingTheKeys: a plain http:// base URL without
// allow_http is a configuration error that names the keys to change, as
// they are written in the file, and the line.
func TestPlainHTTPRefusedNamingTheKeys(t *testing.T) {
	cfg := writeFile(t, "c.yaml", `extractor:
  source: {type: gigya-api}
  gigya:
    sites:
      - name: a
        api_key: 3_x
        secret: s
        base_url: http://127.0.0.1:9
`)
	env, _ := testEnv("nats://127.0.0.1:1", nil, "-config", cfg)
	err := Run(context.Background(), env)
	var usage *stage.UsageError
	if !errors.As(err, &usage) || !strings.Contains(err.Error(), cfg+":8: extractor.gigya.sites[0].base_url: is plain http://") ||
		!strings.Contains(err.Error(), "set extractor.gigya.sites[0].allow_http: true only for a local simulator") {
		t.Fatalf("want a usage error naming base_url and allow_http, got %v", err)
	}
	if strings.Contains(err.Error(), "BaseURL") || strings.Contains(err.Error(), "AllowHTTP") {
		t.Fatalf("the error names Go fields: %v", err)
	}
}
