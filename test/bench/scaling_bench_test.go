package bench

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/configs"
	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
	"github.com/gigya-migrate/gigya-migrate/internal/quickstart"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/natstest"
	"github.com/gigya-migrate/gigya-migrate/test/internal/harness"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
	"go.yaml.in/yaml/v3"
)

const (
	// scalingAccounts is the input size: several seconds of mapping for one
	// single-core instance with the burn field below.
	scalingAccounts = 8000
	// burnRounds is the length of the burn field's reduce: with it, mapping
	// one account costs about 0.5-1 ms of CPU instead of tens of µs.
	burnRounds  = 6000
	burnModulus = 1000003
	// burnField is the output path of the CPU-heavy field.
	burnField = "app_metadata.bench_burn"
)

// burnExpr is a deterministic loop over the record's lastUpdatedTimestamp: a
// handful of AST nodes (far under mapping.MaxExprNodes) and burnRounds VM
// iterations per record, whose result depends on the record so that it is
// neither constant-folded nor skipped.
var burnExpr = fmt.Sprintf("reduce(1..%d, (#acc * 31 + #) %% %d, int(lastUpdatedTimestamp ?? 0) %% %d)",
	burnRounds, burnModulus, burnModulus)

// burnValue is burnExpr computed in Go, to check the mapped output.
func burnValue(lastUpdated int64) int64 {
	acc := lastUpdated % burnModulus
	for i := int64(1); i <= burnRounds; i++ {
		acc = (acc*31 + i) % burnModulus
	}
	return acc
}

// burnMapping is configs/auth0.yaml with the burn field appended to its fields.
func burnMapping(b *testing.B) []byte {
	b.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(configs.Auth0Mapping, &doc); err != nil {
		b.Fatal(err)
	}
	root := doc.Content[0]
	var fields *yaml.Node
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value == "fields" {
			fields = root.Content[i+1]
		}
	}
	if fields == nil || fields.Kind != yaml.MappingNode {
		b.Fatal("configs/auth0.yaml has no fields mapping")
	}
	fields.Content = append(fields.Content,
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: burnField},
		&yaml.Node{Kind: yaml.ScalarNode, Tag: "!!str", Value: burnExpr, Style: yaml.SingleQuotedStyle})
	out, err := yaml.Marshal(&doc)
	if err != nil {
		b.Fatal(err)
	}
	return out
}

// mappingCost is the mean wall time of mapping each account in-process
// with one evaluator (one goroutine), in µs.
func mappingCost(b *testing.B, name string, src []byte, accounts [][]byte) float64 {
	b.Helper()
	m, err := mapping.Parse(name, src)
	if err != nil {
		b.Fatalf("%s: %v", name, err)
	}
	ev := m.NewEvaluator()
	start := time.Now()
	for _, a := range accounts {
		_, _, _ = ev.ApplyJSON(a) // refusals (no email) cost the same work
	}
	return float64(time.Since(start).Microseconds()) / float64(len(accounts))
}

// BenchmarkTransformerScaling measures the throughput of 1, 2 and 3
// transformer processes sharing the durable consumer, each limited to one
// core (GOMAXPROCS=1, one worker), with a mapping made CPU-heavy on purpose
// so that mapping, not NATS, is the bottleneck: on a 2-core machine two
// instances should map about twice as fast as one, and a third instance only
// competes for the same cores.
//
// Setup (binaries, server, input, extraction into GIGYA_ACCOUNTS) runs once;
// each iteration maps the same accounts again from a fresh consumer.
//
//	go test -run '^$' -bench BenchmarkTransformerScaling -benchtime 1x ./test/bench
func BenchmarkTransformerScaling(b *testing.B) {
	if testing.Short() {
		b.Skip("end-to-end benchmark: builds and runs the binaries")
	}
	bin, err := harness.Binaries()
	if err != nil {
		b.Fatal(err)
	}
	srv := natstest.Start(b)
	js := srv.JetStream()
	dir := b.TempDir()

	logf, err := os.Create(filepath.Join(dir, "processes.log"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if b.Failed() {
			out, _ := os.ReadFile(logf.Name())
			b.Logf("process logs:\n%s", harness.LastBytes(out, 8000))
		}
		logf.Close()
	})

	src := burnMapping(b)
	mappingPath := filepath.Join(dir, "auth0-burn.yaml")
	if err := os.WriteFile(mappingPath, src, 0o644); err != nil {
		b.Fatal(err)
	}

	// The input: generated accounts, all valid JSON with a UID (the
	// extractor publishes every one).
	var raw bytes.Buffer
	zw := gzip.NewWriter(&raw)
	g := sample.New(7, sample.Options{PBKDF2Rounds: 10, BcryptCost: 4})
	accounts := make([][]byte, 0, scalingAccounts)
	lastUpdated := make(map[string]int64, scalingAccounts)
	for range scalingAccounts {
		a := g.Next()
		var ts struct {
			LastUpdatedTimestamp int64 `json:"lastUpdatedTimestamp"`
		}
		if err := json.Unmarshal(a.JSON, &ts); err != nil {
			b.Fatal(err)
		}
		lastUpdated[a.UID] = ts.LastUpdatedTimestamp
		accounts = append(accounts, a.JSON)
		zw.Write(a.JSON)
		zw.Write([]byte("\n"))
	}
	if err := zw.Close(); err != nil {
		b.Fatal(err)
	}
	input := filepath.Join(dir, "accounts.jsonl.gz")
	if err := os.WriteFile(input, raw.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}

	// What the burn field costs, measured in-process on a sample.
	probe := accounts[:min(len(accounts), 500)]
	base := mappingCost(b, "auth0.yaml", configs.Auth0Mapping, probe)
	heavy := mappingCost(b, "auth0-burn.yaml", src, probe)
	// Logged by the first sub-benchmark: a parent's log shows only with -v.
	costNote := fmt.Sprintf("mapping cost per account (in-process, mean of %d accounts, the ~10%% lite ones are filtered before the fields): auth0.yaml %.1f µs, with %s %.1f µs",
		len(probe), base, burnField, heavy)

	env := []string{"NATS_URL=" + srv.ClientURL(), "GM_TRANSFORMER_MAPPING=" + mappingPath}
	start := func(b *testing.B, env []string, name string, args ...string) *quickstart.Proc {
		b.Helper()
		p, err := quickstart.Start(filepath.Join(bin, name), args, env, logf)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { _ = p.Signal(syscall.SIGKILL) })
		return p
	}
	ex := start(b, env, "extractor", "-site", "bench", input)
	code, err := ex.Wait(5 * time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	if code != 0 && code != 3 { // 3: finished with dead letters
		b.Fatalf("extractor exit %d, want 0 (or 3)", code)
	}
	ctx := context.Background()
	rawStream, err := js.Stream(ctx, "GIGYA_ACCOUNTS")
	if err != nil {
		b.Fatal(err)
	}
	rawInfo, err := rawStream.Info(ctx)
	if err != nil {
		b.Fatal(err)
	}
	records := int64(rawInfo.State.Msgs)
	if records != int64(len(lastUpdated)) {
		b.Fatalf("GIGYA_ACCOUNTS holds %d accounts, want %d", records, len(lastUpdated))
	}

	// One core per instance.
	trEnv := append(env[:len(env):len(env)], "GOMAXPROCS=1", "GM_TRANSFORMER_WORKERS=1")
	var single []float64 // records/s of instances=1 in this run, for the ratios
	for _, k := range []int{1, 2, 3} {
		b.Run(fmt.Sprintf("instances=%d", k), func(b *testing.B) {
			b.StopTimer()
			if costNote != "" {
				b.Log(costNote)
				costNote = ""
			}
			for range b.N {
				resetTransformerRun(b, js)
				elapsedBefore := b.Elapsed()
				b.StartTimer()
				procs := make([]*quickstart.Proc, k)
				for i := range procs {
					procs[i] = start(b, trEnv, "transformer")
				}
				wctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
				err := quickstart.WaitDrained(wctx, js, quickstart.ConsumerRef{Stream: "GIGYA_ACCOUNTS", Durable: "transformer-auth0"})
				cancel()
				if err != nil {
					b.Fatalf("transformers did not drain GIGYA_ACCOUNTS: %v", err)
				}
				// Drained: every record is mapped, published and acked. The
				// stop below is outside the timer: a graceful stop waits for
				// the pull request in progress to expire (up to 2 s, the
				// same whatever the instance count), which is not mapping
				// throughput.
				b.StopTimer()
				cpu := make([]time.Duration, len(procs))
				for i, p := range procs {
					cpu[i] = cpuTime(b, p.Pid())
				}
				stopStart := time.Now()
				for _, p := range procs {
					if err := p.Signal(syscall.SIGTERM); err != nil {
						b.Fatal(err)
					}
				}
				for _, p := range procs {
					code, err := p.Wait(2 * time.Minute)
					if err != nil {
						b.Fatal(err)
					}
					if code != 0 {
						b.Fatalf("transformer exit %d after SIGTERM, want 0", code)
					}
				}
				b.Logf("%d instances: drained after %v, stopped (SIGTERM, exit 0) in %v more",
					k, (b.Elapsed() - elapsedBefore).Round(time.Millisecond), time.Since(stopStart).Round(time.Millisecond))
				checkScalingRun(b, js, procs, cpu, records, lastUpdated)
			}
			rate := float64(records) * float64(b.N) / b.Elapsed().Seconds()
			b.ReportMetric(rate, "records/s")
			if k == 1 {
				single = append(single, rate)
			} else if len(single) > 0 {
				var sum float64
				for _, r := range single {
					sum += r
				}
				ref := sum / float64(len(single))
				b.Logf("%d instances: %.0f records/s = %.2f× instances=1 (%.0f records/s, mean of %d in this run)",
					k, rate, rate/ref, ref, len(single))
			} else {
				b.Logf("%d instances: %.0f records/s (instances=1 not run: no ratio)", k, rate)
			}
		})
	}
}

// resetTransformerRun makes GIGYA_ACCOUNTS new to the transformers again:
// the durable consumer is deleted (the instances create it again at
// start-up), and USERS_MAPPED and ETL_DEADLETTER are recreated empty with
// the same config. Purging them would not do: a purge keeps the stream's
// duplicate window, so the same mapped users published again within it
// would be dropped as duplicates.
func resetTransformerRun(b *testing.B, js jetstream.JetStream) {
	b.Helper()
	ctx := context.Background()
	if err := js.DeleteConsumer(ctx, "GIGYA_ACCOUNTS", "transformer-auth0"); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		b.Fatal(err)
	}
	// The dead letters too: a dead letter another run left within the
	// duplicate window would be acknowledged as a duplicate, and the run
	// would count it as one instead of as a dead letter.
	for _, name := range []string{"USERS_MAPPED", "ETL_DEADLETTER"} {
		s, err := js.Stream(ctx, name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			continue // the first run: the transformers create it
		}
		if err != nil {
			b.Fatal(err)
		}
		cfg := s.CachedInfo().Config
		if err := js.DeleteStream(ctx, cfg.Name); err != nil {
			b.Fatal(err)
		}
		if _, err := js.CreateStream(ctx, cfg); err != nil {
			b.Fatal(err)
		}
	}
}

// checkScalingRun logs what each instance consumed and checks that the run
// mapped every account once and that a mapped user carries the burn field's
// value computed independently.
func checkScalingRun(b *testing.B, js jetstream.JetStream, procs []*quickstart.Proc, cpu []time.Duration, records int64, lastUpdated map[string]int64) {
	b.Helper()
	var sum harness.TransformerTotals
	var cpuSum time.Duration
	parts := make([]string, len(procs))
	for i, p := range procs {
		var tot harness.TransformerTotals
		if err := p.Summary(&tot); err != nil {
			b.Fatal(err)
		}
		parts[i] = fmt.Sprintf("#%d consumed %d mapped %d (CPU %.2fs)", i+1, tot.Consumed, tot.Mapped, cpu[i].Seconds())
		cpuSum += cpu[i]
		sum.Consumed += tot.Consumed
		sum.Mapped += tot.Mapped
		sum.Duplicates += tot.Duplicates
		sum.Filtered += tot.Filtered
		sum.DeadLettered += tot.DeadLettered
	}
	b.Logf("%d instances: %s; %.0f µs of transformer CPU per record", len(procs), strings.Join(parts, ", "),
		float64(cpuSum.Microseconds())/float64(records))
	if sum.Consumed < records {
		b.Fatalf("instances consumed %d in all, want at least %d", sum.Consumed, records)
	}
	if sum.Mapped+sum.Filtered+sum.DeadLettered+sum.Duplicates < records {
		b.Fatalf("instances accounted for %+v, want %d records", sum, records)
	}
	ctx := context.Background()
	s, err := js.Stream(ctx, "USERS_MAPPED")
	if err != nil {
		b.Fatal(err)
	}
	info, err := s.Info(ctx)
	if err != nil {
		b.Fatal(err)
	}
	if int64(info.State.Msgs) != sum.Mapped || sum.Mapped == 0 {
		b.Fatalf("USERS_MAPPED holds %d users, the instances mapped %d", info.State.Msgs, sum.Mapped)
	}
	msg, err := s.GetMsg(ctx, info.State.LastSeq)
	if err != nil {
		b.Fatal(err)
	}
	uid := msg.Header.Get("Gigya-UID")
	var user struct {
		AppMetadata struct {
			BenchBurn *int64 `json:"bench_burn"`
		} `json:"app_metadata"`
	}
	if err := json.Unmarshal(msg.Data, &user); err != nil {
		b.Fatal(err)
	}
	ts, ok := lastUpdated[uid]
	if !ok {
		b.Fatalf("mapped user %q is not in the input", uid)
	}
	if want := burnValue(ts); user.AppMetadata.BenchBurn == nil || *user.AppMetadata.BenchBurn != want {
		b.Fatalf("user %s: %s = %v, want %d", uid, burnField, user.AppMetadata.BenchBurn, want)
	}
}

// cpuTime is the user+system CPU time a running process has used so far,
// from /proc/<pid>/stat (in clock ticks of 10 ms, Linux's USER_HZ).
func cpuTime(b *testing.B, pid int) time.Duration {
	b.Helper()
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// Fields after the command name, which is in parentheses and may
	// contain spaces: state is field 3, utime 14, stime 15.
	i := bytes.LastIndexByte(stat, ')')
	f := strings.Fields(string(stat[i+1:]))
	if i < 0 || len(f) < 13 {
		b.Fatalf("unexpected /proc/%d/stat: %q", pid, stat)
	}
	var utime, stime int64
	if _, err := fmt.Sscan(f[11]+" "+f[12], &utime, &stime); err != nil {
		b.Fatalf("/proc/%d/stat: %v", pid, err)
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond
}
