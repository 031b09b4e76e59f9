package bench

import (
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/quickstart"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/lrsim"
	"github.com/gigya-migrate/gigya-migrate/test/internal/harness"
)

const (
	// bmLRAccountsEnv sets the input of BenchmarkLoginRadiusBulk (default
	// bmLRAccountsDefault).
	bmLRAccountsEnv     = "GM_BENCH_LR_ACCOUNTS"
	bmLRAccountsDefault = 50_000
	// bmLRLimit is LoginRadius' documented request size, as the sink reads
	// it by default (10,000,000 bytes): the fill is measured against it.
	bmLRLimit = 10_000_000
)

// BenchmarkLoginRadiusBulk: users/s through the three binaries into the
// LoginRadius simulator with configs/loginradius.yaml and the
// loginradius-bulk sink (file source; the loader's batches raised to
// 10,000 users and 10,000,000 bytes, two concurrent writes; the sink's rate
// limit off, as the simulator has none), and how full the bulk requests
// are: bytes per request against LoginRadius' 10 MB, and profiles per
// request. Each batch is split into one request per distinct
// PasswordEncryption, so the fill depends on the mix of hash parameters.
//
//	go test -run '^$' -bench BenchmarkLoginRadiusBulk -benchtime 1x ./test/bench
func BenchmarkLoginRadiusBulk(b *testing.B) {
	if testing.Short() {
		b.Skip("end-to-end benchmark: builds and runs the binaries")
	}
	bin, err := harness.Binaries()
	if err != nil {
		b.Fatal(err)
	}
	root, err := quickstart.ModuleRoot(b.Context())
	if err != nil {
		b.Fatal(err)
	}
	logw := bmLog(b)
	accounts := bmEnvInt(bmLRAccountsEnv, bmLRAccountsDefault)
	input := bmInput(b, b.TempDir(), accounts)
	b.Run(fmt.Sprintf("accounts=%d", accounts), func(b *testing.B) {
		b.StopTimer()
		for range b.N {
			bmLoginRadiusRun(b, bin, filepath.Join(root, "configs", "loginradius.yaml"), input, accounts, logw)
		}
	})
}

func bmLoginRadiusRun(b *testing.B, bin, mapping, input string, accounts int, logw *os.File) {
	b.Helper()
	sim := lrsim.New(lrsim.Options{BcryptCost: 4})
	web := httptest.NewServer(sim.Handler())
	defer web.Close()
	s := bmStartServer(b, b, logw)
	dir := b.TempDir()
	cfg := filepath.Join(dir, "pipeline.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, `transformer:
  mapping: %q
loader:
  target: loginradius
  unique: [Email.Value, PhoneId]
  batch: {max_records: 10000, max_bytes: %d, max_wait: 2s}
  sink:
    type: loginradius-bulk
    options: {api_key: sim-api-key, api_secret: "${LR_SECRET}", migration_url: %q, api_url: %q, allow_http: true, rate: 0}
  consumer: {max_ack_pending: 30000}
`, mapping, bmLRLimit, web.URL, web.URL), 0o600); err != nil {
		b.Fatal(err)
	}
	env := append([]string{"NATS_URL=" + s.url, "GM_CONFIG=" + cfg, "LR_SECRET=sim-api-secret"}, strings.Fields(os.Getenv(bmExtraEnv))...)
	tr := bmStart(b, "transformer", filepath.Join(bin, "transformer"), nil, env, logw)
	ld := bmStart(b, "loader", filepath.Join(bin, "loader"), nil, env, logw)
	refs := []quickstart.ConsumerRef{{Stream: "GIGYA_ACCOUNTS", Durable: "transformer-loginradius"}, {Stream: "USERS_MAPPED", Durable: "loader-loginradius-bulk"}}
	s.waitConsumers(b, refs, tr, ld)

	start := time.Now()
	ex := bmStart(b, "extractor", filepath.Join(bin, "extractor"), []string{"-site", bmSite, input}, env, logw)
	if code := ex.wait(b, 30*time.Minute); code != 0 {
		b.Fatalf("extractor exit %d, want 0", code)
	}
	s.drained(b, 30*time.Minute, refs...)
	elapsed := time.Since(start)
	tr.stop(b)
	ld.stop(b)
	var ts harness.TransformerTotals
	var ls struct{ Loaded, DeadLettered int64 }
	tr.summary(b, &ts)
	ld.summary(b, &ls)
	st := sim.Stats()
	users := len(sim.Users())
	if ls.Loaded != ts.Mapped || int64(users) != ts.Mapped || ls.DeadLettered != 0 || st.Failed != 0 || st.BulkRequests == 0 {
		b.Fatalf("counts: transformer %+v, loader %+v, simulator %d users %+v", ts, ls, users, st)
	}
	perRequest := float64(st.BulkBytes) / float64(st.BulkRequests)
	b.Logf("loginradius-bulk, %d accounts: %v, %.0f users/s (%d users loaded, %d filtered, %d dead-lettered by the mapping); %d requests, %.0f bytes and %.0f profiles per request (%.1f%% of 10 MB), largest %d bytes (%.1f%%); loader CPU %.1f µs/user",
		accounts, elapsed.Round(time.Millisecond), float64(users)/elapsed.Seconds(), users, ts.Filtered, ts.DeadLettered,
		st.BulkRequests, perRequest, float64(st.BulkProfiles)/float64(st.BulkRequests), 100*perRequest/bmLRLimit, st.MaxBulkBytes, 100*float64(st.MaxBulkBytes)/bmLRLimit,
		bmMicros(ld.cpu(), users))
	b.ReportMetric(float64(users)/elapsed.Seconds(), "users/s")
	b.ReportMetric(float64(st.BulkRequests), "requests")
	b.ReportMetric(perRequest, "bytes/request")
	b.ReportMetric(100*perRequest/bmLRLimit, "fill-%")
	b.ReportMetric(float64(st.MaxBulkBytes), "max-bytes/request")
	b.ReportMetric(float64(st.BulkProfiles)/float64(st.BulkRequests), "profiles/request")
	b.ReportMetric(bmMicros(ld.cpu(), users), "loader-CPU-us/user")
}
