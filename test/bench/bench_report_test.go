package bench

// The benchmarks behind BENCHMARKS.md (`make bench`, which also states the targets): the whole
// pipeline against its transport ceiling, the transformer hop against a
// pass-through hop, peak memory at 100,000 and 1,000,000 accounts, and the
// extractor against a rate-limited simulated Gigya site. Each reports its
// figures with b.ReportMetric; internal/cmd/benchreport turns the
// `go test -bench` output into BENCHMARKS.md.
//
// The pass-through hops (the transport ceiling) are not product code: they
// are this test binary run again as a helper process (TestBenchPassThroughHelper)
// that moves the raw payloads with nats.go's jetstream package and the
// binaries' ack discipline (PubAck, then ack) without decoding or mapping.
//
//	go test -run '^$' -bench BenchmarkPipeline -benchtime 1x -count 3 ./test/bench

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya/sample"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/consume"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/topology"
	"github.com/gigya-migrate/gigya-migrate/internal/quickstart"
	"github.com/gigya-migrate/gigya-migrate/internal/testkit/gigyasim"
	"github.com/gigya-migrate/gigya-migrate/test/internal/harness"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/segmentio/encoding/json"
)

const (
	// bmAccountsEnv sets the input of the throughput runs (default
	// bmAccountsDefault).
	bmAccountsEnv     = "GM_BENCH_ACCOUNTS"
	bmAccountsDefault = 100_000
	// bmLargeEnv sets the size of the second memory run (default
	// bmLargeDefault; 0 skips it), bmLargeRunsEnv how many of the -count
	// repetitions run it (default 1: the first only, as one 1M run takes
	// minutes on two cores).
	bmLargeEnv     = "GM_BENCH_LARGE_ACCOUNTS"
	bmLargeDefault = 1_000_000
	bmLargeRunsEnv = "GM_BENCH_LARGE_RUNS"
	// bmExtraEnv adds space-separated KEY=VALUE settings to the binaries'
	// environment, for experiments (e.g. GOGC=400, or
	// GM_TRANSFORMER_MAPPING=other.yaml); make bench leaves it unset.
	bmExtraEnv  = "GM_BENCH_ENV"
	bmSeed      = 11
	bmSite      = "bench"
	bmHelperEnv = "GM_BENCH_HELPER" // the pass-through role of a helper process
	// bmServerProfileEnv, when set to a port, starts the servers with
	// nats-server's pprof endpoint on it (experiments only).
	bmServerProfileEnv = "GM_BENCH_SERVER_PROFILE"
	// bmCachegrindEnv, when set to a directory, runs the transformers of
	// the hop (the product's and the baseline's) under valgrind's
	// cachegrind, which counts the instructions they execute: a measure
	// the machine's noise does not move, for comparing two builds
	// (experiments only: the runs are about fifty times slower, so pair it
	// with a small GM_BENCH_ACCOUNTS).
	bmCachegrindEnv = "GM_BENCH_CACHEGRIND"
	bmTransformer   = "transformer-auth0"
	bmRealLoader    = "loader-auth0-file"
	bmPassLoader    = "loader-passthrough"
	bmMappedSubject = "users.mapped.auth0"
)

// ---------------------------------------------------------------------------
// Processes: the binaries and the helper, with their peak RSS.

// bmProc is a child process whose peak resident set (VmHWM in
// /proc/<pid>/status) is sampled while it runs. Not quickstart.Proc: the
// sampler must run until the very end of a process that exits on its own.
type bmProc struct {
	name string
	cmd  *exec.Cmd
	out  bytes.Buffer // stdout; read only after exit
	done chan struct{}
	err  error
	hwm  atomic.Int64 // KiB
}

func bmStart(b *testing.B, name, path string, args, env []string, logw io.Writer) *bmProc {
	b.Helper()
	p := &bmProc{name: name, done: make(chan struct{})}
	p.cmd = exec.Command(path, args...)
	p.cmd.Env = append(os.Environ(), env...)
	p.cmd.Stdout = &p.out
	p.cmd.Stderr = logw
	p.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := p.cmd.Start(); err != nil {
		b.Fatalf("start %s: %v", name, err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	go func() {
		t := time.NewTicker(25 * time.Millisecond)
		defer t.Stop()
		for {
			p.sample()
			select {
			case <-p.done:
				return
			case <-t.C:
			}
		}
	}()
	b.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// sample records the process's VmHWM so far.
func (p *bmProc) sample() {
	kb, err := harness.ProcStatusKiB(p.cmd.Process.Pid, "VmHWM")
	if err == nil && int64(kb) > p.hwm.Load() {
		p.hwm.Store(int64(kb))
	}
}

// cpu is the user+system CPU time of a process that exited.
func (p *bmProc) cpu() time.Duration {
	return p.cmd.ProcessState.UserTime() + p.cmd.ProcessState.SystemTime()
}

// peakMiB is the peak RSS seen, in MiB.
func (p *bmProc) peakMiB() float64 { return float64(p.hwm.Load()) / 1024 }

func (p *bmProc) wait(b *testing.B, d time.Duration) int {
	b.Helper()
	select {
	case <-p.done:
	case <-time.After(d):
		_ = p.cmd.Process.Kill()
		<-p.done
		b.Fatalf("%s did not exit within %v", p.name, d)
	}
	var exit *exec.ExitError
	if errors.As(p.err, &exit) {
		return exit.ExitCode()
	}
	if p.err != nil {
		b.Fatalf("%s: %v", p.name, p.err)
	}
	return 0
}

// stop sends SIGTERM after a last sample and expects exit code 0.
func (p *bmProc) stop(b *testing.B) {
	b.Helper()
	p.sample()
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		b.Fatal(err)
	}
	if code := p.wait(b, 2*time.Minute); code != 0 {
		b.Fatalf("%s exit %d after SIGTERM, want 0", p.name, code)
	}
}

// summary decodes the last line of stdout (every binary and helper ends with one).
func (p *bmProc) summary(b *testing.B, v any) {
	b.Helper()
	lines := strings.Split(strings.TrimSpace(p.out.String()), "\n")
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), v); err != nil {
		b.Fatalf("%s printed no summary (%q): %v", p.name, p.out.String(), err)
	}
}

// helper starts this test binary as a pass-through process.
func bmHelper(b *testing.B, role string, env []string, logw io.Writer, args ...string) *bmProc {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	env = append(env, bmHelperEnv+"="+role)
	return bmStart(b, "passthrough-"+role, exe, append([]string{"-test.run=^TestBenchPassThroughHelper$"}, args...), env, logw)
}

// ---------------------------------------------------------------------------
// A server per run: `go tool nats-server` with its file store.

type bmServer struct {
	cmd   *exec.Cmd // the nats-server process: its CPU time is read per run
	nc    *nats.Conn
	js    jetstream.JetStream
	url   string
	close func()
}

// bmStartServer starts a server that owner's end stops (close stops it earlier).
// It runs `go tool nats-server` itself rather than through quickstart, so
// that the benchmark can read the server's CPU time (/proc/<pid>/stat).
func bmStartServer(b *testing.B, owner testing.TB, logw io.Writer) *bmServer {
	b.Helper()
	root, err := quickstart.ModuleRoot(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	path, err := quickstart.ServerBinary(context.Background(), root)
	if err != nil {
		b.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "gigya-migrate-bench-nats-")
	if err != nil {
		b.Fatal(err)
	}
	args := []string{"-a", "127.0.0.1", "-p", "-1", "-js", "-sd", filepath.Join(dir, "store"), "--ports_file_dir", dir}
	if port := os.Getenv(bmServerProfileEnv); port != "" {
		args = append(args, "--profile", port) // pprof over HTTP, for experiments
	}
	cmd := exec.Command(path, args...)
	cmd.Stdout, cmd.Stderr = logw, logw
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		os.RemoveAll(dir)
		b.Fatalf("start nats-server: %v", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	s := &bmServer{cmd: cmd}
	var once sync.Once
	s.close = func() {
		once.Do(func() {
			if s.nc != nil {
				s.nc.Close()
			}
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(15 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
			os.RemoveAll(dir)
		})
	}
	owner.Cleanup(s.close)
	portsFile := filepath.Join(dir, fmt.Sprintf("nats-server_%d.ports", cmd.Process.Pid))
	deadline := time.Now().Add(30 * time.Second)
	for s.url == "" {
		var ports struct {
			Nats []string `json:"nats"`
		}
		if data, err := os.ReadFile(portsFile); err == nil && json.Unmarshal(data, &ports) == nil && len(ports.Nats) > 0 {
			s.url = ports.Nats[0]
			break
		}
		if time.Now().After(deadline) {
			b.Fatal("nats-server did not report its port within 30s")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if s.nc, err = nats.Connect(s.url); err != nil {
		b.Fatal(err)
	}
	if s.js, err = jetstream.New(s.nc); err != nil {
		b.Fatal(err)
	}
	return s
}

// cpu is the server's user+system CPU time so far.
func (s *bmServer) cpu(b *testing.B) time.Duration {
	b.Helper()
	d, err := bmProcCPU(s.cmd.Process.Pid)
	if err != nil {
		b.Fatal(err)
	}
	return d
}

// bmProcCPU reads the user+system CPU time of a running process from
// /proc/<pid>/stat (fields 14 and 15, in clock ticks of 1/100 s on Linux).
func bmProcCPU(pid int) (time.Duration, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) is in parentheses and may hold spaces.
	rest := data[bytes.LastIndexByte(data, ')')+2:]
	f := strings.Fields(string(rest))
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%d/stat: too few fields", pid)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(utime+stime) * 10 * time.Millisecond, nil
}

// bmIdleShare is the host's idle time over its cores and elapsed.
func bmIdleShare(idle, elapsed time.Duration) float64 {
	return idle.Seconds() / (elapsed.Seconds() * float64(runtime.NumCPU()))
}

// bmHostIdle reads the time all CPUs of the host have spent idle (idle and
// iowait of the cpu line of /proc/stat), summed over the CPUs.
func bmHostIdle() time.Duration {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 6 || f[0] != "cpu" {
		return 0
	}
	idle, _ := strconv.ParseInt(f[4], 10, 64)
	iowait, _ := strconv.ParseInt(f[5], 10, 64)
	return time.Duration(idle+iowait) * 10 * time.Millisecond
}

// waitConsumers waits until the durable consumers exist (the processes
// create them at start-up), failing if a process exited.
func (s *bmServer) waitConsumers(b *testing.B, refs []quickstart.ConsumerRef, procs ...*bmProc) {
	b.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		ok := true
		for _, r := range refs {
			if _, err := s.js.Consumer(context.Background(), r.Stream, r.Durable); err != nil {
				ok = false
			}
		}
		if ok {
			return
		}
		for _, p := range procs {
			select {
			case <-p.done:
				b.Fatalf("%s exited at start-up: %v", p.name, p.err)
			default:
			}
		}
		if time.Now().After(deadline) {
			b.Fatalf("consumers %v not created within a minute", refs)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (s *bmServer) drained(b *testing.B, within time.Duration, refs ...quickstart.ConsumerRef) {
	b.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	if err := quickstart.WaitDrained(ctx, s.js, refs...); err != nil {
		b.Fatalf("not drained within %v: %v", within, err)
	}
}

func bmLog(b *testing.B) *os.File {
	b.Helper()
	f, err := os.CreateTemp("", "gigya-migrate-bench-*.log")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if b.Failed() {
			out, _ := os.ReadFile(f.Name())
			b.Logf("process logs:\n%s", harness.LastBytes(out, 8000))
		}
		f.Close()
		os.Remove(f.Name())
	})
	return f
}

// ---------------------------------------------------------------------------
// Input: generated accounts (cheap password hashes), gzipped JSON lines,
// made by one generator per core (seeds bmSeed+i, so UIDs stay unique) into
// concatenated gzip members.

func bmInput(b *testing.B, dir string, n int) string {
	b.Helper()
	path := filepath.Join(dir, fmt.Sprintf("accounts-%d.jsonl.gz", n))
	start := time.Now()
	if err := bmGenerate(path, n); err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	b.Logf("generated %d accounts in %v (%d MiB gzipped)", n, time.Since(start).Round(time.Millisecond), st.Size()>>20)
	return path
}

func bmGenerate(path string, n int) error {
	workers := min(runtime.NumCPU(), 8)
	parts := make([]string, workers)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for i := range workers {
		count := n / workers
		if i == 0 {
			count += n % workers
		}
		parts[i] = fmt.Sprintf("%s.part%d", path, i)
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = bmGeneratePart(parts[i], bmSeed+int64(i), count)
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	out, err := os.Create(path)
	if err != nil {
		return err
	}
	defer out.Close()
	for _, p := range parts {
		f, err := os.Open(p)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, f)
		f.Close()
		os.Remove(p)
		if err != nil {
			return err
		}
	}
	return out.Close()
}

func bmGeneratePart(path string, seed int64, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	defer f.Close()
	zw, _ := gzip.NewWriterLevel(f, gzip.BestSpeed)
	bw := bufio.NewWriterSize(zw, 256<<10)
	g := sample.New(seed, sample.Options{PBKDF2Rounds: 10, BcryptCost: 4})
	for range n {
		bw.Write(g.Next().JSON)
		bw.WriteByte('\n')
	}
	if err := bw.Flush(); err != nil {
		return err
	}
	if err := zw.Close(); err != nil {
		return err
	}
	return f.Close()
}

// ---------------------------------------------------------------------------
// The pipeline runs.

type bmRun struct {
	records  int
	elapsed  time.Duration
	trCPU    time.Duration      // the transformer's CPU time (real runs)
	peakMiB  map[string]float64 // by binary
	rawFull  *bmServer          // the server of a real run, RAW filled
	rawCount int
}

func (r bmRun) rate() float64 { return float64(r.records) / r.elapsed.Seconds() }

// bmMicros is CPU time per record in µs: on a shared machine it moves less
// than the rates do.
func bmMicros(d time.Duration, records int) float64 {
	return float64(d.Microseconds()) / float64(records)
}

// bmRealPipeline runs extractor, transformer and loader (default auth0
// mapping, auth0-file sink) over input on a fresh server; the clock runs
// from the extractor's start until both consumers are drained.
// The server is left to owner, for a transformer-hop run on its RAW stream.
func bmRealPipeline(b *testing.B, owner testing.TB, input string, records int, logw io.Writer) bmRun {
	b.Helper()
	bin, err := harness.Binaries()
	if err != nil {
		b.Fatal(err)
	}
	s := bmStartServer(b, owner, logw)
	out, err := os.MkdirTemp("", "gigya-migrate-bench-out-")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { os.RemoveAll(out) })
	cfg := filepath.Join(out, "loader.yaml")
	if err := os.WriteFile(cfg, fmt.Appendf(nil, "loader:\n  sink:\n    type: auth0-file\n    options: {dir: %q}\n", filepath.Join(out, "files")), 0o644); err != nil {
		b.Fatal(err)
	}
	env := append([]string{"NATS_URL=" + s.url, "GM_CONFIG=" + cfg}, strings.Fields(os.Getenv(bmExtraEnv))...)
	tr := bmStart(b, "transformer", filepath.Join(bin, "transformer"), nil, env, logw)
	ld := bmStart(b, "loader", filepath.Join(bin, "loader"), nil, env, logw)
	refs := []quickstart.ConsumerRef{{Stream: "GIGYA_ACCOUNTS", Durable: bmTransformer}, {Stream: "USERS_MAPPED", Durable: bmRealLoader}}
	s.waitConsumers(b, refs, tr, ld)

	start, server0, idle0 := time.Now(), s.cpu(b), bmHostIdle()
	ex := bmStart(b, "extractor", filepath.Join(bin, "extractor"), []string{"-site", bmSite, input}, env, logw)
	if code := ex.wait(b, 30*time.Minute); code != 0 {
		b.Fatalf("extractor exit %d, want 0", code)
	}
	s.drained(b, 30*time.Minute, refs...)
	elapsed := time.Since(start)
	serverCPU, idle := s.cpu(b)-server0, bmHostIdle()-idle0
	tr.stop(b)
	ld.stop(b)

	var es struct{ Read, Published, Duplicates int64 }
	var ts harness.TransformerTotals
	var ls struct{ Loaded, DeadLettered int64 }
	ex.summary(b, &es)
	tr.summary(b, &ts)
	ld.summary(b, &ls)
	if es.Published != int64(records) || ts.Consumed != es.Published ||
		ts.Mapped+ts.Filtered+ts.DeadLettered != ts.Consumed || ls.Loaded != ts.Mapped || ts.Mapped == 0 {
		b.Fatalf("counts do not add up: extractor %+v, transformer %+v, loader %+v, want %d records", es, ts, ls, records)
	}
	b.Logf("real pipeline, %d accounts: %v, %.0f records/s (mapped %d, filtered %d, dead-lettered %d; peak RSS extractor %.0f, transformer %.0f, loader %.0f MiB; CPU per record extractor %.1f, transformer %.1f, loader %.1f, nats-server %.1f µs; host idle %.0f%%)",
		records, elapsed.Round(time.Millisecond), float64(records)/elapsed.Seconds(), ts.Mapped, ts.Filtered, ts.DeadLettered,
		ex.peakMiB(), tr.peakMiB(), ld.peakMiB(), bmMicros(ex.cpu(), records), bmMicros(tr.cpu(), records), bmMicros(ld.cpu(), records),
		bmMicros(serverCPU, records), 100*bmIdleShare(idle, elapsed))
	return bmRun{records: records, elapsed: elapsed, trCPU: tr.cpu(), rawFull: s, rawCount: records,
		peakMiB: map[string]float64{"extractor": ex.peakMiB(), "transformer": tr.peakMiB(), "loader": ld.peakMiB()}}
}

// bmPassThroughPipeline is the same three hops without decoding or mapping.
func bmPassThroughPipeline(b *testing.B, input string, records int, logw io.Writer) bmRun {
	b.Helper()
	s := bmStartServer(b, b, logw)
	if _, err := topology.Ensure(context.Background(), s.js, topology.Default()); err != nil {
		b.Fatal(err)
	}
	env := []string{"NATS_URL=" + s.url}
	tr := bmHelper(b, "transform", env, logw)
	ld := bmHelper(b, "load", env, logw)
	refs := []quickstart.ConsumerRef{{Stream: "GIGYA_ACCOUNTS", Durable: bmTransformer}, {Stream: "USERS_MAPPED", Durable: bmPassLoader}}
	s.waitConsumers(b, refs, tr, ld)

	start, server0, idle0 := time.Now(), s.cpu(b), bmHostIdle()
	ex := bmHelper(b, "extract", append(env, "GM_BENCH_INPUT="+input), logw)
	if code := ex.wait(b, 30*time.Minute); code != 0 {
		b.Fatalf("pass-through extractor exit %d", code)
	}
	s.drained(b, 30*time.Minute, refs...)
	elapsed := time.Since(start)
	serverCPU, idle := s.cpu(b)-server0, bmHostIdle()-idle0
	tr.stop(b)
	ld.stop(b)
	var es, ts, ls bmPassSummary
	ex.summary(b, &es)
	tr.summary(b, &ts)
	ld.summary(b, &ls)
	if es.Count != int64(records) || ts.Count != es.Count || ls.Count != es.Count {
		b.Fatalf("pass-through counts: extract %d, transform %d, load %d, want %d", es.Count, ts.Count, ls.Count, records)
	}
	b.Logf("pass-through pipeline, %d accounts: %v, %.0f records/s (CPU per record extractor %.1f, transformer %.1f, loader %.1f, nats-server %.1f µs; host idle %.0f%%)",
		records, elapsed.Round(time.Millisecond), float64(records)/elapsed.Seconds(),
		bmMicros(ex.cpu(), records), bmMicros(tr.cpu(), records), bmMicros(ld.cpu(), records), bmMicros(serverCPU, records), 100*bmIdleShare(idle, elapsed))
	return bmRun{records: records, elapsed: elapsed}
}

// hopRun is what one transformer-hop run measured.
type hopRun struct {
	elapsed, cpu, serverCPU, idle time.Duration
	logLines                      int64 // lines the transformer wrote to stderr (its log)
	instructions                  int64 // counted by cachegrind (GM_BENCH_CACHEGRIND), else 0
}

// bmTransformerHop drains the filled RAW stream of s into a fresh
// USERS_MAPPED with one transformer process (bin: the transformer binary,
// the baseline's, or "" for the pass-through helper), from its start until
// its consumer is drained.
func bmTransformerHop(b *testing.B, s *bmServer, records int, bin string, logw io.Writer) hopRun {
	b.Helper()
	resetTransformerRun(b, s.js)
	env := []string{"NATS_URL=" + s.url}
	lines := &lineCounter{w: logw}
	server0, idle0 := s.cpu(b), bmHostIdle()
	start := time.Now()
	var tr *bmProc
	counts := "" // the cachegrind output, if any
	if bin == "" {
		tr = bmHelper(b, "transform", env, logw)
	} else {
		path, args := bin, []string(nil)
		if dir := os.Getenv(bmCachegrindEnv); dir != "" {
			f, err := os.CreateTemp(dir, "cachegrind-*.out")
			if err != nil {
				b.Fatal(err)
			}
			f.Close()
			path, args, counts = "valgrind", []string{"--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=" + f.Name(), bin}, f.Name()
		}
		tr = bmStart(b, "transformer", path, args, append(env, strings.Fields(os.Getenv(bmExtraEnv))...), lines)
	}
	s.waitConsumers(b, []quickstart.ConsumerRef{{Stream: "GIGYA_ACCOUNTS", Durable: bmTransformer}}, tr)
	s.drained(b, 30*time.Minute, quickstart.ConsumerRef{Stream: "GIGYA_ACCOUNTS", Durable: bmTransformer})
	run := hopRun{elapsed: time.Since(start)}
	run.serverCPU, run.idle = s.cpu(b)-server0, bmHostIdle()-idle0
	tr.stop(b)
	run.cpu, run.logLines = tr.cpu(), lines.n.Load()
	if counts != "" {
		run.instructions = bmInstructions(b, counts)
	}
	if bin == "" {
		var sum bmPassSummary
		tr.summary(b, &sum)
		if sum.Count != int64(records) {
			b.Fatalf("pass-through transformer moved %d, want %d", sum.Count, records)
		}
	} else {
		var ts harness.TransformerTotals
		tr.summary(b, &ts)
		if ts.Consumed != int64(records) || ts.Mapped+ts.Filtered+ts.DeadLettered != ts.Consumed {
			b.Fatalf("transformer %+v, want %d records", ts, records)
		}
	}
	return run
}

// bmInstructions reads the instruction count of a cachegrind output file
// (its "summary:" line).
func bmInstructions(b *testing.B, path string) int64 {
	b.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(string(data)) {
		if v, ok := strings.CutPrefix(line, "summary:"); ok {
			n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			if err != nil {
				b.Fatalf("%s: %q: %v", path, line, err)
			}
			return n
		}
	}
	b.Fatalf("%s has no summary line", path)
	return 0
}

// lineCounter counts the lines written through it.
type lineCounter struct {
	w io.Writer
	n atomic.Int64
}

func (c *lineCounter) Write(p []byte) (int, error) {
	c.n.Add(int64(bytes.Count(p, []byte{'\n'})))
	return c.w.Write(p)
}

var bmOrder atomic.Int64 // alternates which of a pair runs first

// BenchmarkPipeline: the pipeline's throughput figures on this machine, each sub-benchmark
// once per -count repetition (run with -benchtime 1x).
//
//   - e2e/accounts=100000: records/s through the three binaries (file
//     source, the default auth0 mapping, auth0-file sink, `go tool
//     nats-server` with its file store), the same through the three
//     pass-through hops (passthrough-records/s, the transport ceiling), their
//     ratio, and the peak RSS of each binary;
//   - transformer-hop/accounts=100000: the RAW stream of that run drained by
//     the transformer alone, against the pass-through transformer;
//   - e2e/accounts=1000000 (GM_BENCH_LARGE_ACCOUNTS, GM_BENCH_LARGE_RUNS):
//     the peak RSS of each binary on a ten times larger input.
func BenchmarkPipeline(b *testing.B) {
	if testing.Short() {
		b.Skip("end-to-end benchmark: builds and runs the binaries")
	}
	if _, err := harness.Binaries(); err != nil {
		b.Fatal(err)
	}
	logw := bmLog(b)
	// The parent runs once; go test runs each sub-benchmark -count times
	// within it, so the input and the servers' store stay on disk between
	// repetitions.
	inputs := b.TempDir()
	accounts := bmEnvInt(bmAccountsEnv, bmAccountsDefault)
	input := bmInput(b, inputs, accounts)

	var filled *bmServer
	parent := b
	defer func() {
		if filled != nil {
			filled.close()
		}
	}()
	b.Run(fmt.Sprintf("e2e/accounts=%d", accounts), func(b *testing.B) {
		b.StopTimer()
		for range b.N {
			var real, pass bmRun
			if bmOrder.Add(1)%2 == 1 {
				real = bmRealPipeline(b, parent, input, accounts, logw)
				pass = bmPassThroughPipeline(b, input, accounts, logw)
			} else {
				pass = bmPassThroughPipeline(b, input, accounts, logw)
				real = bmRealPipeline(b, parent, input, accounts, logw)
			}
			if filled != nil {
				filled.close()
			}
			filled = real.rawFull
			b.ReportMetric(real.rate(), "records/s")
			b.ReportMetric(pass.rate(), "passthrough-records/s")
			b.ReportMetric(real.rate()/pass.rate(), "ratio")
			b.ReportMetric(bmMicros(real.trCPU, accounts), "transformer-CPU-us/record")
			for _, name := range []string{"extractor", "transformer", "loader"} {
				b.ReportMetric(real.peakMiB[name], name+"-peak-RSS-MiB")
			}
		}
	})
	if filled == nil {
		return
	}
	baseline := bmBaseline(b, parent)
	b.Run(fmt.Sprintf("transformer-hop/accounts=%d", accounts), func(b *testing.B) {
		b.StopTimer()
		bin, err := harness.Binaries()
		if err != nil {
			b.Fatal(err)
		}
		kinds := []string{filepath.Join(bin, "transformer"), "", baseline} // the transformer, the pass-through, the baseline
		if baseline == "" {
			kinds = kinds[:2]
		}
		for range b.N {
			// Rotate the order from one repetition to the next.
			runs := make([]hopRun, len(kinds))
			first := int(bmOrder.Add(1)) % len(kinds)
			for i := range kinds {
				k := (first + i) % len(kinds)
				runs[k] = bmTransformerHop(b, filled, accounts, kinds[k], logw)
			}
			real, pass := runs[0], runs[1]
			rate := func(r hopRun) float64 { return float64(accounts) / r.elapsed.Seconds() }
			idle := func(r hopRun) float64 { return bmIdleShare(r.idle, r.elapsed) }
			b.Logf("transformer hop: %.0f records/s, pass-through %.0f records/s; CPU per record: transformer %.1f µs, pass-through %.1f µs; nats-server CPU per record: %.1f µs, pass-through %.1f µs; host idle %.0f%% of the cores, pass-through %.0f%%; %d log lines",
				rate(real), rate(pass), bmMicros(real.cpu, accounts), bmMicros(pass.cpu, accounts), bmMicros(real.serverCPU, accounts), bmMicros(pass.serverCPU, accounts),
				100*idle(real), 100*idle(pass), real.logLines)
			b.ReportMetric(rate(real), "records/s")
			b.ReportMetric(rate(pass), "passthrough-records/s")
			b.ReportMetric(rate(real)/rate(pass), "ratio")
			b.ReportMetric(bmMicros(real.cpu, accounts), "transformer-CPU-us/record")
			b.ReportMetric(bmMicros(pass.cpu, accounts), "passthrough-CPU-us/record")
			b.ReportMetric(bmMicros(real.serverCPU, accounts), "server-CPU-us/record")
			b.ReportMetric(bmMicros(pass.serverCPU, accounts), "passthrough-server-CPU-us/record")
			b.ReportMetric(real.serverCPU.Seconds()/pass.serverCPU.Seconds(), "server-CPU-ratio")
			b.ReportMetric(idle(real), "idle-share")
			b.ReportMetric(idle(pass), "passthrough-idle-share")
			b.ReportMetric(float64(real.logLines)*100_000/float64(accounts), "log-lines-per-100k")
			if real.instructions > 0 {
				b.ReportMetric(float64(real.instructions)/float64(accounts), "transformer-instructions/record")
			}
			if len(runs) > 2 {
				base := runs[2]
				b.Logf("baseline transformer (%s): %.0f records/s, CPU per record %.1f µs, nats-server CPU per record %.1f µs, host idle %.0f%%; %d log lines",
					bmBaselineRev(), rate(base), bmMicros(base.cpu, accounts), bmMicros(base.serverCPU, accounts), 100*idle(base), base.logLines)
				b.ReportMetric(rate(base), "baseline-records/s")
				b.ReportMetric(rate(base)/rate(pass), "baseline-ratio")
				b.ReportMetric(bmMicros(base.cpu, accounts), "baseline-CPU-us/record")
				b.ReportMetric(real.cpu.Seconds()/base.cpu.Seconds(), "CPU-vs-baseline")
				b.ReportMetric(bmMicros(base.serverCPU, accounts), "baseline-server-CPU-us/record")
				b.ReportMetric(base.serverCPU.Seconds()/pass.serverCPU.Seconds(), "baseline-server-CPU-ratio")
				b.ReportMetric(idle(base), "baseline-idle-share")
				b.ReportMetric(float64(base.logLines)*100_000/float64(accounts), "baseline-log-lines-per-100k")
				if base.instructions > 0 {
					b.ReportMetric(float64(base.instructions)/float64(accounts), "baseline-instructions/record")
					b.ReportMetric(float64(real.instructions)/float64(base.instructions), "instructions-vs-baseline")
				}
			}
		}
	})

	large := bmEnvInt(bmLargeEnv, bmLargeDefault)
	runs := bmEnvInt(bmLargeRunsEnv, 1)
	if large <= 0 || runs <= 0 {
		return
	}
	var largeInput string
	done := 0
	b.Run(fmt.Sprintf("e2e/accounts=%d", large), func(b *testing.B) {
		b.StopTimer()
		if done >= runs {
			b.Skipf("measured %d time(s) in this go test (%s=%d)", done, bmLargeRunsEnv, runs)
		}
		if largeInput == "" {
			largeInput = bmInput(b, inputs, large)
		}
		for range b.N {
			real := bmRealPipeline(b, b, largeInput, large, logw)
			real.rawFull.close() // the store is large: free it now
			b.ReportMetric(real.rate(), "records/s")
			for _, name := range []string{"extractor", "transformer", "loader"} {
				b.ReportMetric(real.peakMiB[name], name+"-peak-RSS-MiB")
			}
		}
		if done++; done >= runs {
			os.Remove(largeInput) // its last run: free the disk now
		}
	})
}

func bmEnvInt(name string, def int) int {
	if v := os.Getenv(name); v != "" {
		n, err := strconv.Atoi(v)
		if err == nil {
			return n
		}
	}
	return def
}

// ---------------------------------------------------------------------------
// The extractor against a rate-limited simulated Gigya site.

// BenchmarkExtractorGigyaRate extracts a simulated site that allows R
// accounts.search calls per second (token bucket, burst R) with the
// extractor binary set to extractor.gigya.rate R: pages of 100, 200 pages,
// about 10 s. It reports the achieved search rate over R — (searches - 1)
// divided by the time between the first and the last search, as the
// simulator saw them — and the number of 403048 answers.
func BenchmarkExtractorGigyaRate(b *testing.B) {
	if testing.Short() {
		b.Skip("end-to-end benchmark: builds and runs the binaries")
	}
	const rate, pageSize, pages = 20, 100, 200
	bin, err := harness.Binaries()
	if err != nil {
		b.Fatal(err)
	}
	logw := bmLog(b)
	sim, err := gigyasim.New(gigyasim.Options{Accounts: pageSize * pages, Seed: 5, APIKey: "3_bench", Secret: "bench-secret", SearchRate: rate})
	if err != nil {
		b.Fatal(err)
	}
	var mu sync.Mutex
	var arrivals []time.Time
	h := sim.Handler()
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "accounts.search") {
			mu.Lock()
			arrivals = append(arrivals, time.Now())
			mu.Unlock()
		}
		h.ServeHTTP(w, r)
	}))
	defer web.Close()
	b.StopTimer()
	for range b.N {
		mu.Lock()
		arrivals = arrivals[:0]
		mu.Unlock()
		before := sim.Stats()
		s := bmStartServer(b, b, logw)
		cfg := filepath.Join(b.TempDir(), "extractor.yaml")
		os.WriteFile(cfg, fmt.Appendf(nil, `extractor:
  source: {type: gigya-api}
  gigya:
    rate: %d
    page_size: %d
    lite_accounts: true
    sites:
      - {name: bench, api_key: 3_bench, secret: "${SIM_SECRET}", base_url: %q, allow_http: true}
`, rate, pageSize, web.URL), 0o600)
		ex := bmStart(b, "extractor", filepath.Join(bin, "extractor"), []string{"-config", cfg},
			[]string{"NATS_URL=" + s.url, "SIM_SECRET=bench-secret"}, logw)
		if code := ex.wait(b, 5*time.Minute); code != 0 {
			b.Fatalf("extractor exit %d", code)
		}
		var sum struct{ Published int64 }
		ex.summary(b, &sum)
		if sum.Published != pageSize*pages {
			b.Fatalf("extractor published %d accounts, want %d", sum.Published, pageSize*pages)
		}
		after := sim.Stats()
		mu.Lock()
		n := len(arrivals)
		span := arrivals[n-1].Sub(arrivals[0])
		mu.Unlock()
		limited := after.RateLimited - before.RateLimited
		achieved := float64(n-1) / span.Seconds()
		b.Logf("%d searches in %v: %.2f/s at R=%d, %d rate-limited", n, span.Round(time.Millisecond), achieved, rate, limited)
		b.ReportMetric(achieved, "searches/s")
		b.ReportMetric(achieved/rate, "achieved/R")
		b.ReportMetric(float64(limited), "rate-limit-errors")
	}
}

// ---------------------------------------------------------------------------
// The pass-through hops, run as helper processes.

type bmPassSummary struct {
	Role  string `json:"role"`
	Count int64  `json:"count"`
}

// TestBenchPassThroughHelper is not a test: it is the pass-through process
// of the benchmarks above when GM_BENCH_HELPER names its role (extract,
// transform or load).
func TestBenchPassThroughHelper(t *testing.T) {
	role := os.Getenv(bmHelperEnv)
	if role == "" {
		t.Skip("the pass-through helper process of the benchmarks")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	n, err := bmPassThrough(ctx, role)
	if err != nil {
		fmt.Fprintf(os.Stderr, "passthrough-%s: %v\n", role, err)
		os.Exit(1)
	}
	line, _ := json.Marshal(bmPassSummary{Role: role, Count: n})
	fmt.Println(string(line))
	os.Exit(0)
}

func bmPassThrough(ctx context.Context, role string) (int64, error) {
	nc, err := nats.Connect(os.Getenv("NATS_URL"))
	if err != nil {
		return 0, err
	}
	defer nc.Drain()
	// The binaries' default bound on pending PubAcks (max_pending 512).
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(512))
	if err != nil {
		return 0, err
	}
	switch role {
	case "extract":
		return bmPassExtract(js, os.Getenv("GM_BENCH_INPUT"))
	case "transform":
		return bmPassTransform(ctx, js)
	case "load":
		return bmPassLoad(ctx, js)
	}
	return 0, fmt.Errorf("unknown role %q", role)
}

// bmPublish is PublishMsgAsync waiting while too many PubAcks are pending,
// as the binaries do.
func bmPublish(js jetstream.JetStream, m *nats.Msg) (jetstream.PubAckFuture, error) {
	for {
		fut, err := js.PublishMsgAsync(m)
		if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
			return fut, err
		}
	}
}

// bmPassExtract publishes every line of the gzipped input as it is, with a
// Nats-Msg-Id made from the line number (no decoding), and awaits the
// PubAcks in order.
func bmPassExtract(js jetstream.JetStream, input string) (int64, error) {
	f, err := os.Open(input)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return 0, err
	}
	br := bufio.NewReaderSize(zr, 1<<20)
	queue := make(chan jetstream.PubAckFuture, 512)
	var ackErr error
	var acked int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for fut := range queue {
			select {
			case <-fut.Ok():
				acked++
			case err := <-fut.Err():
				if ackErr == nil {
					ackErr = err
				}
			}
		}
	}()
	subject := "gigya.accounts." + bmSite
	var n int64
	var readErr error
	for {
		line, err := br.ReadBytes('\n')
		if l := bytes.TrimSpace(line); len(l) > 0 {
			n++
			m := nats.NewMsg(subject)
			m.Data = l
			m.Header.Set(jetstream.MsgIDHeader, bmSite+":"+strconv.FormatInt(n, 10))
			fut, perr := bmPublish(js, m)
			if perr != nil {
				readErr = perr
				break
			}
			queue <- fut
		}
		if err != nil {
			if !errors.Is(err, io.EOF) {
				readErr = err
			}
			break
		}
	}
	close(queue)
	<-done
	return acked, errors.Join(readErr, ackErr)
}

// bmPassTransform consumes GIGYA_ACCOUNTS with the transformer's consumer
// settings and its consumption (consume.PullChunks with the transformer's
// window, batch and chunk size), publishes each payload unchanged to
// users.mapped.auth0 with a message id, a chunk at a time, and acks each
// chunk's inputs after their PubAcks — the transformer's structure (puller,
// workers, acker) and I/O pattern without the mapping.
func bmPassTransform(ctx context.Context, js jetstream.JetStream) (int64, error) {
	stream, err := js.Stream(ctx, "GIGYA_ACCOUNTS")
	if err != nil {
		return 0, err
	}
	const maxAckPending = 1024
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: bmTransformer, AckPolicy: jetstream.AckExplicitPolicy, AckWait: 30 * time.Second,
		MaxDeliver: 5, MaxAckPending: maxAckPending, DeliverPolicy: jetstream.DeliverAllPolicy, FilterSubject: topology.RawSubjects,
	})
	if err != nil {
		return 0, err
	}
	// The transformer's window (half of max_ack_pending), batch (a quarter
	// of the window) and chunk (32).
	window, batch, chunk := maxAckPending/2, maxAckPending/8, 32
	win := consume.NewWindow(window)
	workers := runtime.GOMAXPROCS(0)
	chunks := make(chan []jetstream.Msg, workers)
	go func() {
		_ = consume.PullChunks(ctx, cons, consume.ChunkOptions{Conn: js.Conn(), Batch: batch, Chunk: chunk, Window: win}, chunks, nil, bmQuiet)
	}()
	type pending struct {
		in  jetstream.Msg
		fut jetstream.PubAckFuture
	}
	outs := make(chan []pending, window/chunk)
	var pubErr atomic.Pointer[error]
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for c := range chunks {
				ps := make([]pending, 0, len(c))
				for _, in := range c {
					m := nats.NewMsg(bmMappedSubject)
					m.Data = in.Data()
					m.Header.Set(jetstream.MsgIDHeader, "pt:"+in.Headers().Get(jetstream.MsgIDHeader))
					fut, err := bmPublish(js, m)
					if err != nil {
						pubErr.CompareAndSwap(nil, &err)
						_ = in.Nak()
						continue
					}
					ps = append(ps, pending{in, fut})
				}
				outs <- ps
				if missing := len(c) - len(ps); missing > 0 {
					win.Release(missing)
				}
			}
		}()
	}
	go func() { wg.Wait(); close(outs) }()
	var n int64
	for ps := range outs {
		ok := make([]bool, len(ps))
		for i, p := range ps {
			select {
			case <-p.fut.Ok():
				ok[i] = true
			case err := <-p.fut.Err():
				pubErr.CompareAndSwap(nil, &err)
			}
		}
		for i, p := range ps {
			if ok[i] {
				_ = p.in.Ack()
				n++
			} else {
				_ = p.in.Nak()
			}
		}
		win.Release(len(ps))
	}
	if e := pubErr.Load(); e != nil {
		return n, *e
	}
	return n, nil
}

// bmPassLoad consumes USERS_MAPPED with the loader's consumer settings,
// batches like the loader (1000 records, 4 MiB or 1 s) and acks every
// message of a batch without writing it anywhere.
func bmPassLoad(ctx context.Context, js jetstream.JetStream) (int64, error) {
	stream, err := js.Stream(ctx, "USERS_MAPPED")
	if err != nil {
		return 0, err
	}
	cons, err := stream.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: bmPassLoader, AckPolicy: jetstream.AckExplicitPolicy, AckWait: time.Minute,
		MaxDeliver: 20, MaxAckPending: 2000, DeliverPolicy: jetstream.DeliverAllPolicy, FilterSubject: topology.MappedSubjects,
	})
	if err != nil {
		return 0, err
	}
	// The loader's batching defaults: a batch is written when full, at
	// max_wait, or once caught up and quiet.
	const maxRecords, maxBytes, maxWait, quietFor = 1000, 4 << 20, time.Second, 100 * time.Millisecond
	msgs := make(chan jetstream.Msg, maxRecords)
	go func() { _ = consume.Pull(ctx, js.Conn(), cons, maxRecords, msgs, bmQuiet) }()
	var n int64
	var batch []jetstream.Msg
	size := 0
	timer, quiet := time.NewTimer(time.Hour), time.NewTimer(time.Hour)
	timer.Stop()
	quiet.Stop()
	var lastAt time.Time
	flush := func() {
		timer.Stop()
		quiet.Stop()
		for _, m := range batch {
			_ = m.Ack()
			n++
		}
		batch, size = batch[:0], 0
	}
	for {
		select {
		case m, ok := <-msgs:
			if !ok {
				flush()
				return n, nil
			}
			if len(batch) > 0 && size+len(m.Data()) > maxBytes {
				flush()
			}
			if len(batch) == 0 {
				timer.Reset(maxWait)
				quiet.Reset(quietFor)
			}
			lastAt = time.Now()
			batch = append(batch, m)
			size += len(m.Data())
			if len(batch) >= maxRecords {
				flush()
			}
		case <-timer.C:
			flush()
		case <-quiet.C:
			if len(batch) == 0 {
				continue
			}
			if rest := quietFor - time.Since(lastAt); rest > 0 {
				quiet.Reset(rest)
				continue
			}
			if meta, err := batch[len(batch)-1].Metadata(); err == nil && meta.NumPending == 0 {
				flush()
			}
		}
	}
}

var bmQuiet = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
