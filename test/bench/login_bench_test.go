package bench

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/test/internal/harness"
	"github.com/segmentio/encoding/json"
)

// BenchmarkLoginService measures login-time migration through the
// `extractor login-service` binary (plain HTTP on loopback, debug logs
// off), against a simulated Gigya site (cheap password hashes) and a
// JetStream server: bmLoginWorkers concurrent callers log bmLoginUsers
// users in, bmLoginCount logins in all, each migrated and published. It
// reports logins per second, and per request the latency the caller sees
// (p50, p99), the time of its accounts.login at the simulator, and the
// latency the service adds over that Gigya call (the caller's latency less
// the simulator's handling: mapping, validation, publishing and the two
// loopback hops), p50 and p99.
func BenchmarkLoginService(b *testing.B) {
	if testing.Short() {
		b.Skip("end-to-end benchmark: builds and runs the binaries")
	}
	const bmLoginUsers, bmLoginWorkers, bmLoginCount = 200, 16, 4000
	const clientSecret = "bench-login-client-secret"
	bin, err := harness.Binaries()
	if err != nil {
		b.Fatal(err)
	}
	logw := bmLog(b)
	sim, err := gigyasim.New(gigyasim.Options{Accounts: 2000, Seed: 9, APIKey: "3_bench", Secret: "bench-secret"})
	if err != nil {
		b.Fatal(err)
	}
	// Users that log in, each with its password.
	type user struct{ email, password string }
	var users []user
	for uid, pw := range sim.Passwords() {
		raw, _ := sim.Account(uid)
		var a struct {
			IsActive     *bool                     `json:"isActive"`
			IsRegistered *bool                     `json:"isRegistered"`
			LoginIDs     struct{ Emails []string } `json:"loginIDs"`
			Profile      struct{ Email string }    `json:"profile"`
		}
		_ = json.Unmarshal(raw, &a)
		if len(a.LoginIDs.Emails) == 0 || a.Profile.Email == "" || (a.IsActive != nil && !*a.IsActive) || (a.IsRegistered != nil && !*a.IsRegistered) {
			continue
		}
		users = append(users, user{a.LoginIDs.Emails[0], pw})
		if len(users) == bmLoginUsers {
			break
		}
	}
	// The simulator's handling time of each accounts.login, by loginID: a
	// worker logs a user in at a time, and no two workers share a user.
	var mu sync.Mutex
	gigyaTook := map[string]time.Duration{}
	h := sim.Handler()
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasSuffix(r.URL.Path, "accounts.login") {
			h.ServeHTTP(w, r)
			return
		}
		body, _ := io.ReadAll(r.Body)
		form, _ := url.ParseQuery(string(body))
		r.Body = io.NopCloser(bytes.NewReader(body))
		start := time.Now()
		h.ServeHTTP(w, r)
		mu.Lock()
		gigyaTook[form.Get("loginID")] = time.Since(start)
		mu.Unlock()
	}))
	defer web.Close()

	b.StopTimer()
	for range b.N {
		s := bmStartServer(b, b, logw)
		port := bmFreePort(b)
		cfg := filepath.Join(b.TempDir(), "pipeline.yaml")
		os.WriteFile(cfg, fmt.Appendf(nil, `extractor:
  gigya:
    sites:
      - {name: bench, api_key: 3_bench, secret: "${SIM_SECRET}", base_url: %q, allow_http: true}
login:
  plain_http: true
  listen: 127.0.0.1:%d
  clients:
    - {name: bench, secret: "${LOGIN_SECRET}"}
  rate: {per_client: 100000, client_burst: 100000, per_identifier: 100000, identifier_burst: 100000}
  gigya: {rate: 100000}
`, web.URL, port), 0o600)
		svc := bmStart(b, "login-service", filepath.Join(bin, "extractor"), []string{"login-service", "-config", cfg},
			[]string{"NATS_URL=" + s.url, "SIM_SECRET=bench-secret", "LOGIN_SECRET=" + clientSecret, "GM_TELEMETRY_LOG_LEVEL=warn"}, logw)
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		hc := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: bmLoginWorkers}}
		natstest.Eventually(b, time.Minute, func() error {
			select {
			case <-svc.done:
				b.Fatalf("login-service exited at start-up: %v", svc.err)
			default:
			}
			resp, err := hc.Get(base + "/readyz")
			if err != nil {
				return err
			}
			resp.Body.Close()
			return nil
		})
		login := func(u user) (time.Duration, error) {
			body, _ := json.Marshal(map[string]string{"identifier": u.email, "password": u.password})
			req, _ := http.NewRequest(http.MethodPost, base+"/auth0/login", bytes.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+clientSecret)
			start := time.Now()
			resp, err := hc.Do(req)
			if err != nil {
				return 0, err
			}
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			took := time.Since(start)
			if resp.StatusCode != 200 {
				return 0, fmt.Errorf("login answered %d", resp.StatusCode)
			}
			return took, nil
		}
		// Warm up: connections, the mapping's first evaluations.
		for _, u := range users[:bmLoginWorkers] {
			if _, err := login(u); err != nil {
				b.Fatal(err)
			}
		}
		// Two phases: one caller at a time, for the latency the service
		// adds to a login when it is not queueing; then bmLoginWorkers at
		// once, for the rate it sustains.
		for _, phase := range []struct {
			name           string
			workers, count int
		}{{"sequential", 1, bmLoginCount / 8}, {"concurrent", bmLoginWorkers, bmLoginCount}} {
			total := make([][]time.Duration, phase.workers)
			added := make([][]time.Duration, phase.workers)
			gigya := make([][]time.Duration, phase.workers)
			errs := make(chan error, phase.workers)
			cpu0 := bmLiveCPU(b, svc)
			var wg sync.WaitGroup
			start := time.Now()
			for w := range phase.workers {
				wg.Go(func() {
					for i := w; i < phase.count; i += phase.workers {
						u := users[(i/phase.workers*phase.workers+w)%len(users)]
						took, err := login(u)
						if err != nil {
							errs <- err
							return
						}
						mu.Lock()
						g := gigyaTook[u.email]
						mu.Unlock()
						total[w] = append(total[w], took)
						gigya[w] = append(gigya[w], g)
						added[w] = append(added[w], took-g)
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			select {
			case err := <-errs:
				b.Fatal(err)
			default:
			}
			all := func(ds [][]time.Duration) []time.Duration { return slices.Sorted(slices.Values(slices.Concat(ds...))) }
			tt, aa, gg := all(total), all(added), all(gigya)
			pct := func(ds []time.Duration, p float64) float64 {
				return float64(ds[int(float64(len(ds)-1)*p)]) / float64(time.Millisecond)
			}
			rate := float64(len(tt)) / elapsed.Seconds()
			cpuPer := float64((bmLiveCPU(b, svc)-cpu0)/time.Microsecond) / float64(len(tt))
			b.Logf("%s: %d logins by %d callers in %v: %.0f/s; caller latency p50 %.2f ms p99 %.2f ms; Gigya p50 %.2f ms p99 %.2f ms; added p50 %.2f ms p99 %.2f ms; service CPU %.0f µs/login",
				phase.name, len(tt), phase.workers, elapsed.Round(time.Millisecond), rate, pct(tt, .5), pct(tt, .99), pct(gg, .5), pct(gg, .99), pct(aa, .5), pct(aa, .99), cpuPer)
			b.ReportMetric(rate, phase.name+"-logins/s")
			b.ReportMetric(pct(tt, .5), phase.name+"-p50-ms")
			b.ReportMetric(pct(tt, .99), phase.name+"-p99-ms")
			b.ReportMetric(pct(gg, .5), phase.name+"-gigya-p50-ms")
			b.ReportMetric(pct(gg, .99), phase.name+"-gigya-p99-ms")
			b.ReportMetric(pct(aa, .5), phase.name+"-added-p50-ms")
			b.ReportMetric(pct(aa, .99), phase.name+"-added-p99-ms")
			b.ReportMetric(cpuPer, phase.name+"-service-CPU-us/login")
		}
		svc.stop(b)
		b.ReportMetric(svc.peakMiB(), "login-service-peak-RSS-MiB")
	}
}

// bmFreePort is a TCP port free on loopback now.
func bmFreePort(b *testing.B) int {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// bmLiveCPU is the CPU time a running process has used so far (utime and
// stime of /proc/<pid>/stat, in clock ticks of 10 ms, Linux's USER_HZ).
func bmLiveCPU(b *testing.B, p *bmProc) time.Duration {
	b.Helper()
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", p.cmd.Process.Pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command, which is in parentheses and may hold spaces.
	fields := strings.Fields(string(raw[bytes.LastIndexByte(raw, ')')+1:]))
	utime, _ := strconv.ParseInt(fields[11], 10, 64)
	stime, _ := strconv.ParseInt(fields[12], 10, 64)
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
