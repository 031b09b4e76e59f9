// Command benchreport turns the output of `go test -bench` (the benchmarks
// `make bench` runs) into BENCHMARKS.md: the machine, then for each figure
// the median of the runs (-count), the min and max, the target and whether
// the median meets it, and how it was measured; then profiles.md (beside
// this file, written by hand: what the profiles of missed targets showed and
// what was changed), so that regenerating the report keeps it. The raw
// output is kept at the end of the file.
//
//	go run ./internal/cmd/benchreport -o BENCHMARKS.md bench.txt...
//
// It writes nothing and exits 1 when the output shows a failed benchmark,
// so that `make bench` fails instead of recording a partial run.
package main

import (
	"bufio"
	"bytes"
	_ "embed"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"os/exec"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// baselineRev is the commit the benchmarks measure as "before": the one the
// record engine's branch started from (GM_BENCH_BASELINE in test/bench).
const baselineRev = "7acc1d6"

// profiles is the hand-written section on profiles and fixes.
//
//go:embed profiles.md
var profiles string

func main() {
	out := flag.String("o", "BENCHMARKS.md", "report file to write (- for stdout)")
	elapsed := flag.Duration("elapsed", 0, "total time of the benchmark run, recorded in the report (0: not recorded)")
	flag.Usage = func() {
		fmt.Fprintf(flag.CommandLine.Output(), "usage: benchreport [-o BENCHMARKS.md] [-elapsed D] [go-test-bench-output...]\n(no file: standard input)\n")
		flag.PrintDefaults()
	}
	flag.Parse()
	var raw bytes.Buffer
	if flag.NArg() == 0 {
		if _, err := io.Copy(&raw, os.Stdin); err != nil {
			fatal(err)
		}
	}
	for _, f := range flag.Args() {
		b, err := os.ReadFile(f)
		if err != nil {
			fatal(err)
		}
		raw.Write(b)
	}
	res, err := parse(raw.Bytes())
	if err != nil {
		fatal(err)
	}
	doc := render(res, machineInfo(res), *elapsed, raw.String())
	if *out == "-" {
		os.Stdout.WriteString(doc)
		return
	}
	if err := os.WriteFile(*out, []byte(doc), 0o644); err != nil {
		fatal(err)
	}
	fmt.Printf("benchreport: wrote %s\n", *out)
	for _, s := range res.summary {
		fmt.Printf("  %-58s %-14s target %-10s %s\n", s.figure, s.median, s.target, s.verdict)
	}
}

func fatal(err error) {
	fmt.Fprintf(os.Stderr, "benchreport: %v\n", err)
	os.Exit(1)
}

// ---------------------------------------------------------------------------
// Parsing.

// run is one result line: its metrics by unit.
type run map[string]float64

type results struct {
	cpu     string
	runs    map[string][]run // by benchmark name, without the -GOMAXPROCS suffix
	order   []string         // names in first-seen order
	used    map[string]bool  // names a section reported
	summary []summaryRow
}

var (
	benchLine = regexp.MustCompile(`^(Benchmark\S+?)(?:-\d+)?\s+(\d+)\s+(.*)$`)
	failLine  = regexp.MustCompile(`^(--- FAIL|FAIL\s|FAIL$|panic:)`)
)

func parse(b []byte) (*results, error) {
	r := &results{runs: map[string][]run{}, used: map[string]bool{}}
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	var failures []string
	for sc.Scan() {
		line := sc.Text()
		if failLine.MatchString(line) {
			failures = append(failures, line)
			continue
		}
		if cpu, ok := strings.CutPrefix(line, "cpu: "); ok {
			r.cpu = strings.TrimSpace(cpu)
			continue
		}
		m := benchLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		f := strings.Fields(m[3])
		if len(f)%2 != 0 {
			continue
		}
		rn := run{}
		for i := 0; i < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				rn = nil
				break
			}
			rn[f[i+1]] = v
		}
		if rn == nil {
			continue
		}
		if _, seen := r.runs[m[1]]; !seen {
			r.order = append(r.order, m[1])
		}
		r.runs[m[1]] = append(r.runs[m[1]], rn)
	}
	if len(failures) > 0 {
		return nil, fmt.Errorf("the benchmark run failed; BENCHMARKS.md not written:\n  %s", strings.Join(failures, "\n  "))
	}
	if len(r.runs) == 0 {
		return nil, fmt.Errorf("no benchmark results in the input")
	}
	return r, nil
}

// values collects one metric over the runs of a benchmark.
func (r *results) values(name, unit string) []float64 {
	var out []float64
	for _, rn := range r.runs[name] {
		if v, ok := rn[unit]; ok {
			out = append(out, v)
		}
	}
	if len(out) > 0 {
		r.used[name] = true
	}
	return out
}

// pairRatio divides the i-th value of a by the i-th of b (runs of one
// repetition pair up, since -count repeats each benchmark in order).
func pairRatio(a, b []float64) []float64 {
	var out []float64
	for i := range min(len(a), len(b)) {
		if b[i] != 0 {
			out = append(out, a[i]/b[i])
		}
	}
	return out
}

// names lists the benchmarks whose name starts with prefix, by the number
// that follows it (accounts=100000 before accounts=1000000).
func (r *results) names(prefix string) []string {
	var out []string
	for _, n := range r.order {
		if strings.HasPrefix(n, prefix) {
			out = append(out, n)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return trailingNumber(out[i]) < trailingNumber(out[j]) })
	return out
}

func trailingNumber(s string) int {
	i := strings.LastIndexByte(s, '=')
	n, _ := strconv.Atoi(s[i+1:])
	return n
}

// ---------------------------------------------------------------------------
// Statistics and formatting.

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func num(v float64) string {
	switch a := math.Abs(v); {
	case v == 0:
		return "0"
	case a >= 1000:
		return group(strconv.FormatFloat(v, 'f', 0, 64))
	case a >= 100:
		return strconv.FormatFloat(v, 'f', 0, 64)
	case a >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// group puts thousands separators in an integer string.
func group(s string) string {
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

// target is a goal on the median: at least or at most a value.
type target struct {
	op    string // ">=" or "<=" or "=="
	value float64
	unit  string // shown after the value ("×", "")
	note  string // shown instead of the comparison, e.g. "informational"
}

func (t *target) String() string {
	if t == nil {
		return "—"
	}
	if t.note != "" && t.op == "" {
		return t.note
	}
	op := map[string]string{">=": "≥", "<=": "≤", "==": "="}[t.op]
	s := op + " " + strconv.FormatFloat(t.value, 'f', -1, 64) + t.unit
	if t.note != "" {
		s += " (" + t.note + ")"
	}
	return s
}

func (t *target) met(v float64) string {
	if t == nil || t.op == "" {
		return "—"
	}
	ok := false
	switch t.op {
	case ">=":
		ok = v >= t.value
	case "<=":
		ok = v <= t.value
	case "==":
		ok = v == t.value
	}
	if ok {
		return "yes"
	}
	return "**no**"
}

type row struct {
	figure string
	vals   []float64
	unit   string
	target *target
	// worst is used instead of the median for the verdict (e.g. errors:
	// the largest count over the runs must meet the target).
	worst bool
	count bool // whole numbers
}

type summaryRow struct{ figure, median, target, verdict string }

type section struct {
	title, how string
	rows       []row
	missing    string // why the section has no data
	notes      []string
}

func (r *results) table(w *strings.Builder, s section) {
	fmt.Fprintf(w, "## %s\n\n", s.title)
	if len(s.rows) == 0 {
		fmt.Fprintf(w, "Not measured in this run: %s.\n\n", s.missing)
		fmt.Fprintf(w, "How measured: %s\n\n", s.how)
		return
	}
	fmt.Fprintf(w, "| figure | median | min | max | runs | target | met |\n|---|---:|---:|---:|---:|---|---|\n")
	for _, rw := range s.rows {
		if len(rw.vals) == 0 {
			fmt.Fprintf(w, "| %s | not measured | | | 0 | %s | — |\n", rw.figure, rw.target)
			r.summary = append(r.summary, summaryRow{rw.figure, "not measured", rw.target.String(), "—"})
			continue
		}
		med := median(rw.vals)
		lo, hi := slices.Min(rw.vals), slices.Max(rw.vals)
		verdictOn := med
		if rw.worst {
			verdictOn = hi
			if rw.target != nil && rw.target.op == ">=" {
				verdictOn = lo
			}
		}
		unit := rw.unit
		if unit != "" {
			unit = " " + unit
		}
		verdict := rw.target.met(verdictOn)
		f := num
		if rw.target != nil && rw.target.op != "" {
			// Near a threshold two decimals can hide which side a value is on.
			f = func(v float64) string {
				if a := math.Abs(v); a > 0 && a < 10 {
					return strconv.FormatFloat(v, 'f', 3, 64)
				}
				return num(v)
			}
		}
		if rw.count {
			f = func(v float64) string { return group(strconv.FormatFloat(v, 'f', 0, 64)) }
		}
		fmt.Fprintf(w, "| %s | %s%s | %s | %s | %d | %s | %s |\n", rw.figure, f(med), unit, f(lo), f(hi), len(rw.vals), rw.target, verdict)
		if rw.target != nil && rw.target.op != "" {
			r.summary = append(r.summary, summaryRow{s.title + ": " + rw.figure, f(med) + unit, rw.target.String(), verdict})
		}
	}
	fmt.Fprintf(w, "\nHow measured: %s\n\n", s.how)
	for _, n := range s.notes {
		fmt.Fprintf(w, "%s\n\n", n)
	}
}

// ---------------------------------------------------------------------------
// The sections: what `make bench` measures and the targets of the issue
// ("Proof under faults, bad input and load", item 5) and of the benchmark
// tier in docs/testing.md.

func (r *results) sections() []section {
	var out []section

	// 1. End to end against the transport ceiling.
	e2e := r.names("BenchmarkPipeline/e2e/accounts=")
	var e2eSmall string
	for _, n := range e2e {
		if len(r.values(n, "passthrough-records/s")) > 0 {
			e2eSmall = n
			break
		}
	}
	s1 := section{
		title: "1. End to end: the three binaries against the transport ceiling",
		how: "`BenchmarkPipeline/e2e` (test/bench). Generated accounts (internal/gigya/sample, cheap password hashes) in one gzipped JSON-lines file; " +
			"a fresh `go tool nats-server` with its file store per run; the extractor (file source), the transformer (the default auth0 mapping) and the loader " +
			"(auth0-file sink) as processes with their defaults. The clock runs from the extractor's start (transformer and loader already waiting) until both " +
			"durable consumers have nothing pending or unacknowledged. The ceiling is the same three hops in pass-through processes (this test binary run as a helper; " +
			"not product code): the extractor publishes each line as it is, the transformer republishes each payload unchanged to USERS_MAPPED, the loader batches and " +
			"acks without writing — no decoding or mapping, with the binaries' consumer settings, fetch sizes, 512 pending PubAcks, and ack discipline (PubAck, then ack; the transformer's " +
			"windowed, chunked consumption: consume.PullChunks, outputs published and inputs acked a chunk at a time). The real loader also claims each user's email in the etl_claims " +
			"KV bucket (two KV writes per user; loader.unique), which the pass-through loader does not. " +
			"Records/s counts input accounts. The two pipelines run back to back in each repetition (order alternating) and the ratio is taken per pair.",
		missing: "BenchmarkPipeline was not run",
	}
	if e2eSmall != "" {
		acc := strings.TrimPrefix(e2eSmall, "BenchmarkPipeline/e2e/accounts=")
		s1.title += fmt.Sprintf(" (%s accounts)", group(acc))
		s1.rows = []row{
			{figure: "pipeline records/s", vals: r.values(e2eSmall, "records/s"), unit: "records/s"},
			{figure: "pass-through records/s (transport ceiling)", vals: r.values(e2eSmall, "passthrough-records/s"), unit: "records/s"},
			{figure: "ratio pipeline / pass-through", vals: r.values(e2eSmall, "ratio"), target: &target{op: ">=", value: 0.5}},
		}
		if cpu := r.values(e2eSmall, "transformer-CPU-us/record"); len(cpu) > 0 {
			s1.rows = append(s1.rows, row{figure: "transformer CPU per record in the pipeline (user+system)", vals: cpu, unit: "µs"})
		}
	}
	out = append(out, s1)

	// 2. The transformer hop.
	s2 := section{
		title: "2. The transformer hop against a pass-through hop",
		how: "`BenchmarkPipeline/transformer-hop` (test/bench), on the server of the run above, whose GIGYA_ACCOUNTS holds the accounts as the extractor " +
			"published them. Each run deletes the durable consumer and recreates USERS_MAPPED empty, starts one transformer process (defaults: GOMAXPROCS workers, " +
			"auth0 mapping with its target validation) and stops the clock when its consumer has nothing pending or unacknowledged. Three runs per repetition, " +
			"in an order that rotates: this transformer; the pass-through transformer (republishes each payload unchanged with the transformer's consumption: " +
			"the same window, pull batch and chunks, PubAck then ack); and the baseline, the transformer of commit " + baselineRev + " (before the record engine), " +
			"built by the benchmark from `git archive` of that commit (GM_BENCH_BASELINE). Process start-up is inside every timing. CPU per record is the " +
			"process's user+system time over the run; nats-server CPU per record is the server's (/proc/<pid>/stat) over the same run; idle share is the " +
			"host's idle time over the cores and the run (the machine is shared: other work counts as busy). Log lines are what the transformer wrote to " +
			"stderr at its default level. Ratios pair the runs of one repetition.",
		missing: "BenchmarkPipeline was not run",
	}
	if hop := r.names("BenchmarkPipeline/transformer-hop/accounts="); len(hop) > 0 {
		n := hop[0]
		s2.title += fmt.Sprintf(" (%s accounts)", group(strings.TrimPrefix(n, "BenchmarkPipeline/transformer-hop/accounts=")))
		s2.rows = []row{
			{figure: "transformer records/s", vals: r.values(n, "records/s"), unit: "records/s"},
			{figure: "pass-through records/s", vals: r.values(n, "passthrough-records/s"), unit: "records/s"},
			{figure: "ratio transformer / pass-through", vals: r.values(n, "ratio"), target: &target{op: ">=", value: 0.5}},
			{figure: "transformer CPU per record (user+system)", vals: r.values(n, "transformer-CPU-us/record"), unit: "µs"},
			{figure: "pass-through CPU per record", vals: r.values(n, "passthrough-CPU-us/record"), unit: "µs"},
			{figure: "baseline (" + baselineRev + ") records/s", vals: r.values(n, "baseline-records/s"), unit: "records/s"},
			{figure: "baseline ratio to the pass-through", vals: r.values(n, "baseline-ratio")},
			{figure: "baseline CPU per record", vals: r.values(n, "baseline-CPU-us/record"), unit: "µs"},
			{figure: "ratio transformer CPU / baseline CPU per record", vals: r.values(n, "CPU-vs-baseline"), unit: "×", target: &target{op: "<=", value: 0.333, unit: "×", note: "a third"}},
			{figure: "nats-server CPU per record, transformer hop", vals: r.values(n, "server-CPU-us/record"), unit: "µs"},
			{figure: "nats-server CPU per record, pass-through hop", vals: r.values(n, "passthrough-server-CPU-us/record"), unit: "µs"},
			{figure: "nats-server CPU per record, baseline hop", vals: r.values(n, "baseline-server-CPU-us/record"), unit: "µs"},
			{figure: "ratio nats-server CPU, transformer / pass-through", vals: r.values(n, "server-CPU-ratio"), unit: "×", target: &target{op: "<=", value: 1.2, unit: "×"}},
			{figure: "ratio nats-server CPU, baseline / pass-through", vals: r.values(n, "baseline-server-CPU-ratio"), unit: "×"},
			{figure: "host idle share, transformer hop", vals: r.values(n, "idle-share")},
			{figure: "host idle share, pass-through hop", vals: r.values(n, "passthrough-idle-share")},
			{figure: "host idle share, baseline hop", vals: r.values(n, "baseline-idle-share")},
			{figure: "transformer log lines per 100,000 accounts", vals: r.values(n, "log-lines-per-100k"), count: true},
			{figure: "baseline log lines per 100,000 accounts", vals: r.values(n, "baseline-log-lines-per-100k"), count: true},
		}
	}
	out = append(out, s2)

	// 3. Mapping cost against hand-written Go.
	s3 := section{
		title: "3. Mapping cost: expr mapping against a hand-written floor",
		how: "`BenchmarkMapAuth0` (internal/transform): per generated record (1,000 cycled). `expr` is configs/auth0.yaml by the mapping engine " +
			"(mapping.Evaluator.MapRecord: the account's JSON in, the user's JSON out), `expr+validate` adds the Auth0 target validation the transformer " +
			"runs, `expr-maps+validate` is what the transformer did per record before the record engine (" + baselineRev + ": decode to maps, evaluate, " +
			"validate the maps, json.Marshal), and `handwritten` is the floor: the same mapping written by hand as the fastest plain Go we could (one " +
			"pass that checks the JSON and decodes only the needed fields into a typed struct, strings viewed in the input, the subtrees copied from the raw " +
			"JSON, the user appended in its final key order; TestHandWrittenReferenceMatches checks it writes the engine's bytes). The ratios use CPU time " +
			"per record (cpu-ns/op: the process's user+system time over the loop), which waiting for a shared core does not inflate; ns/op is wall " +
			"clock. The judged ratio is `expr-vs-handwritten`, which measures the two in one loop, taking turns of 2,000 records (each turn " +
			"after a collection, so that each side's garbage is collected in its own turns) and summing each side's CPU time: the speed of a " +
			"shared machine drifts between separate one-second runs, hardly within tens of milliseconds. The ratio of the separate runs (paired " +
			"per repetition) is shown beside it; its spread within one `make bench` is that drift.",
		missing: "BenchmarkMapAuth0 was not run",
	}
	const mb = "BenchmarkMapAuth0/"
	cpu := func(name string) []float64 {
		if v := r.values(mb+name, "cpu-ns/op"); len(v) > 0 {
			return v
		}
		return r.values(mb+name, "ns/op")
	}
	ex, exv, maps, hw := cpu("expr"), cpu("expr+validate"), cpu("expr-maps+validate"), cpu("handwritten")
	if len(ex)+len(hw) > 0 {
		s3.rows = []row{
			{figure: "expr CPU ns/record", vals: ex, unit: "ns"},
			{figure: "expr+validate CPU ns/record", vals: exv, unit: "ns"},
			{figure: "before the record engine (" + baselineRev + "), expr+validate CPU ns/record", vals: maps, unit: "ns"},
			{figure: "hand-written floor CPU ns/record", vals: hw, unit: "ns"},
			{figure: "ratio expr / hand-written, alternating turns (expr-vs-handwritten)", vals: r.values(mb+"expr-vs-handwritten", "ratio"), unit: "×", target: &target{op: "<=", value: 1.5, unit: "×"}},
			{figure: "ratio expr / hand-written, separate runs", vals: pairRatio(ex, hw), unit: "×", target: &target{note: "informational (the same ratio, between runs the machine's speed drifts)"}},
			{figure: "ratio expr+validate / hand-written", vals: pairRatio(exv, hw), unit: "×", target: &target{note: "informational (the floor does not validate)"}},
			{figure: "ratio expr+validate / before", vals: pairRatio(exv, maps), unit: "×", target: &target{note: "informational"}},
			{figure: "expr wall-clock ns/record", vals: r.values(mb+"expr", "ns/op"), unit: "ns"},
			{figure: "hand-written wall-clock ns/record", vals: r.values(mb+"handwritten", "ns/op"), unit: "ns"},
		}
		for _, b := range []struct{ name, figure string }{
			{"expr", "expr"}, {"expr+validate", "expr+validate"}, {"expr-maps+validate", "before (" + baselineRev + ")"}, {"handwritten", "hand-written"},
		} {
			if a := r.values(mb+b.name, "allocs/op"); len(a) > 0 {
				s3.rows = append(s3.rows, row{figure: b.figure + " allocations/record", vals: a, count: true})
			}
			if a := r.values(mb+b.name, "B/op"); len(a) > 0 {
				s3.rows = append(s3.rows, row{figure: b.figure + " allocated bytes/record", vals: a, unit: "B"})
			}
		}
	}
	out = append(out, s3)

	// 4. Peak RSS at two sizes.
	s4 := section{
		title: "4. Peak memory of each binary (VmHWM)",
		how: "The peak resident set (VmHWM in /proc/<pid>/status, sampled every 25 ms and once more before SIGTERM) of each binary in the end-to-end runs of " +
			"`BenchmarkPipeline/e2e` at each input size (the large one: GM_BENCH_LARGE_ACCOUNTS, default 1,000,000, 0 skips it; by default it runs in the " +
			"first repetition only — GM_BENCH_LARGE_RUNS raises that — as one run takes minutes on two cores). Back-pressure is at its defaults " +
			"(high water 100,000), so on the large input the extractor pauses while the transformer lags.",
		missing: "BenchmarkPipeline was not run",
	}
	if len(e2e) > 0 {
		small, large := e2e[0], e2e[len(e2e)-1]
		sa, la := group(strings.TrimPrefix(small, "BenchmarkPipeline/e2e/accounts=")), group(strings.TrimPrefix(large, "BenchmarkPipeline/e2e/accounts="))
		for _, bin := range []string{"extractor", "transformer", "loader"} {
			sv := r.values(small, bin+"-peak-RSS-MiB")
			s4.rows = append(s4.rows, row{figure: fmt.Sprintf("%s, %s accounts", bin, sa), vals: sv, unit: "MiB"})
			if large == small {
				continue
			}
			lv := r.values(large, bin+"-peak-RSS-MiB")
			s4.rows = append(s4.rows, row{figure: fmt.Sprintf("%s, %s accounts", bin, la), vals: lv, unit: "MiB"})
			var ratio []float64
			if len(sv) > 0 && len(lv) > 0 {
				// Few large runs: the ratio of each large run to the median small one.
				for _, v := range lv {
					ratio = append(ratio, v/median(sv))
				}
			}
			s4.rows = append(s4.rows, row{figure: fmt.Sprintf("%s: %s / %s accounts", bin, la, sa), vals: ratio, unit: "×", target: &target{op: "<=", value: 1.2, unit: "×"}})
		}
		if large == small {
			s4.notes = append(s4.notes, "The large input was not run (GM_BENCH_LARGE_ACCOUNTS=0): no ratio.")
		} else if lr := r.values(large, "records/s"); len(lr) > 0 {
			s4.notes = append(s4.notes, fmt.Sprintf("Throughput of the %s-account run(s): %s records/s (median of %d).", la, num(median(lr)), len(lr)))
		}
	}
	out = append(out, s4)

	// 5. Transformer scaling.
	s5 := section{
		title: "5. Transformer scaling: 1, 2 and 3 instances",
		how: "`BenchmarkTransformerScaling` (test/bench): 8,000 accounts in GIGYA_ACCOUNTS (in-process server), the auth0 mapping made CPU-heavy on purpose " +
			"(a ~1 ms expression per record), each instance a process limited to one core (GOMAXPROCS=1, one worker), from the instances' start until their shared " +
			"consumer is drained. Speed-up pairs each run with the instances=1 run of the same repetition.",
		missing: "BenchmarkTransformerScaling was not run",
	}
	one := r.values("BenchmarkTransformerScaling/instances=1", "records/s")
	if len(one) > 0 {
		cores := runtime.NumCPU()
		s5.rows = append(s5.rows, row{figure: "1 instance records/s", vals: one, unit: "records/s"})
		for _, k := range []int{2, 3} {
			v := r.values(fmt.Sprintf("BenchmarkTransformerScaling/instances=%d", k), "records/s")
			s5.rows = append(s5.rows, row{figure: fmt.Sprintf("%d instances records/s", k), vals: v, unit: "records/s"})
			s5.rows = append(s5.rows, row{figure: fmt.Sprintf("speed-up %d instances / 1", k), vals: pairRatio(v, one), unit: "×",
				target: &target{note: fmt.Sprintf("none set; ideal ≈ %d× (min(instances, %d cores))", min(k, cores), cores)}})
		}
		s5.notes = append(s5.notes, "The issue sets no number for scaling; the benchmark's own expectation is that \"on a 2-core machine two instances "+
			"should map about twice as fast as one, and a third instance only competes for the same cores\".")
	}
	out = append(out, s5)

	// 6. The extractor against a rate-limited Gigya.
	s6 := section{
		title: "6. Extractor against a rate-limited Gigya site",
		how: "`BenchmarkExtractorGigyaRate` (test/bench): the extractor binary reads a simulated site (internal/testkit/gigyasim, 20,000 accounts, pages of 100: 200 " +
			"accounts.search calls, about 10 s) that allows R = 20 searches/s (token bucket, burst R; beyond it 403048), with extractor.gigya.rate = R. " +
			"Achieved rate = (searches − 1) / (time between the first and the last search, as the simulator received them); errors = 403048 answers.",
		missing: "BenchmarkExtractorGigyaRate was not run",
	}
	if v := r.values("BenchmarkExtractorGigyaRate", "achieved/R"); len(v) > 0 {
		s6.rows = []row{
			{figure: "searches/s at R = 20", vals: r.values("BenchmarkExtractorGigyaRate", "searches/s"), unit: "/s"},
			{figure: "achieved / R", vals: v, target: &target{op: ">=", value: 0.95}},
			{figure: "rate-limit errors (403048) per run", vals: r.values("BenchmarkExtractorGigyaRate", "rate-limit-errors"), target: &target{op: "<=", value: 0, note: "in every run"}, worst: true, count: true},
		}
	}
	out = append(out, s6)

	// 7. LoginRadius: users/s and request fill through loginradius-bulk.
	s7 := section{
		title: "7. LoginRadius bulk migration: users/s and request fill",
		how: "`BenchmarkLoginRadiusBulk` (test/bench): generated accounts (as in 1) through the three binaries into the LoginRadius simulator " +
			"(internal/testkit/lrsim, in the benchmark's process) with configs/loginradius.yaml and the loginradius-bulk sink: loader batches of up to 10,000 users " +
			"and 10,000,000 bytes, two concurrent writes, the sink's rate limit off (the simulator has none; a real tenant's migration endpoint limit is " +
			"unconfirmed). The clock runs from the extractor's start until both consumers are drained; users/s counts the users LoginRadius holds at the end. " +
			"Request fill is the mean body size of the bulk upsert requests against LoginRadius' 10 MB (10,000,000 bytes): a batch is split into one request per " +
			"distinct PasswordEncryption (hash algorithm, salt placement, iterations, key and salt lengths: 16 in the sample), so the fill is bounded by the " +
			"mix of hash parameters and by the batch size, which the arrival rate limits within loader.batch.max_wait (2 s here); the largest request carries " +
			"a batch's native pbkdf2_sha512 users.",
		missing: "BenchmarkLoginRadiusBulk was not run",
	}
	if lr := r.names("BenchmarkLoginRadiusBulk/accounts="); len(lr) > 0 {
		n := lr[0]
		s7.title += fmt.Sprintf(" (%s accounts)", group(strings.TrimPrefix(n, "BenchmarkLoginRadiusBulk/accounts=")))
		s7.rows = []row{
			{figure: "users/s into LoginRadius", vals: r.values(n, "users/s"), unit: "users/s"},
			{figure: "bulk requests", vals: r.values(n, "requests"), count: true},
			{figure: "profiles per request (mean)", vals: r.values(n, "profiles/request")},
			{figure: "bytes per request (mean)", vals: r.values(n, "bytes/request"), unit: "B"},
			{figure: "request fill (mean bytes / 10 MB)", vals: r.values(n, "fill-%"), unit: "%", target: &target{note: "informational: one request per PasswordEncryption"}},
			{figure: "largest request", vals: r.values(n, "max-bytes/request"), unit: "B", target: &target{op: "<=", value: 10_000_000, note: "LoginRadius' 10 MB"}, worst: true, count: true},
			{figure: "loader CPU per user (user+system)", vals: r.values(n, "loader-CPU-us/user"), unit: "µs"},
		}
	}
	out = append(out, s7)

	// 8. The login-time migration service.
	s8 := section{
		title: "8. Login-time migration service",
		how: "`BenchmarkLoginService` (test/bench): the `extractor login-service` binary (plain HTTP on loopback, log level warn) in front of a simulated Gigya " +
			"site (internal/testkit/gigyasim, cheap password hashes) and a JetStream server; 200 users log in through `/auth0/login`, each login checked at Gigya, " +
			"mapped with configs/auth0.yaml and published to GIGYA_ACCOUNTS before the answer. First one caller at a time (500 logins: the latency the service " +
			"adds when nothing queues), then 16 callers at once (4,000 logins: the rate it sustains; everything, the benchmark's callers and the simulator included, " +
			"shares the machine's cores). Latency is what the caller sees; the Gigya call is the simulator's handling time of that login's accounts.login; " +
			"added = the caller's latency less the Gigya call (mapping, validation, publishing and the two loopback hops). Service CPU is the process's user + " +
			"system time over the logins.",
		missing: "BenchmarkLoginService was not run",
	}
	if v := r.values("BenchmarkLoginService", "concurrent-logins/s"); len(v) > 0 {
		ms := func(m string) []float64 { return r.values("BenchmarkLoginService", m) }
		s8.rows = []row{
			{figure: "logins/s, 16 callers", vals: v, unit: "/s", target: &target{op: ">=", value: 120, note: "Gigya's smallest tier: 120 calls/s"}},
			{figure: "latency added over the Gigya call p50, one caller", vals: ms("sequential-added-p50-ms"), unit: "ms", target: &target{op: "<=", value: 10}},
			{figure: "latency added over the Gigya call p99, one caller", vals: ms("sequential-added-p99-ms"), unit: "ms", target: &target{op: "<=", value: 50}},
			{figure: "caller's latency p50, one caller", vals: ms("sequential-p50-ms"), unit: "ms"},
			{figure: "caller's latency p99, one caller", vals: ms("sequential-p99-ms"), unit: "ms"},
			{figure: "Gigya call p50, one caller (simulator)", vals: ms("sequential-gigya-p50-ms"), unit: "ms"},
			{figure: "Gigya call p99, one caller (simulator)", vals: ms("sequential-gigya-p99-ms"), unit: "ms"},
			{figure: "latency added over the Gigya call p50, 16 callers", vals: ms("concurrent-added-p50-ms"), unit: "ms"},
			{figure: "latency added over the Gigya call p99, 16 callers", vals: ms("concurrent-added-p99-ms"), unit: "ms", target: &target{op: "<=", value: 1000, note: "Auth0's script has 20 s"}},
			{figure: "caller's latency p99, 16 callers", vals: ms("concurrent-p99-ms"), unit: "ms"},
			{figure: "service CPU per login, 16 callers", vals: ms("concurrent-service-CPU-us/login"), unit: "µs"},
			{figure: "login service peak RSS", vals: ms("login-service-peak-RSS-MiB"), unit: "MiB"},
		}
		s8.notes = append(s8.notes, "The issue sets no number for the login service. The targets here are the benchmark's own: the service must not be "+
			"what limits logins below Gigya's smallest fair-use tier (120 non-search calls a second), and what it adds to a login must stay small beside "+
			"Gigya's own latency and far below the 20 s an Auth0 script gets.")
	}
	out = append(out, s8)
	return out
}

// ---------------------------------------------------------------------------
// The machine.

type machine struct {
	cpu, cores, goVersion, nats, natsGo, os, kernel, memory, load string
}

func machineInfo(r *results) machine {
	m := machine{cpu: r.cpu, cores: strconv.Itoa(runtime.NumCPU()), goVersion: runtime.Version(), os: runtime.GOOS + "/" + runtime.GOARCH}
	if m.cpu == "" {
		m.cpu = procField("/proc/cpuinfo", "model name")
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	if kb := procField("/proc/meminfo", "MemTotal"); kb != "" {
		if n, err := strconv.Atoi(strings.TrimSuffix(kb, " kB")); err == nil {
			m.memory = fmt.Sprintf("%.1f GiB", float64(n)/(1<<20))
		}
	}
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		f := strings.Fields(string(b))
		if len(f) >= 3 {
			m.load = strings.Join(f[:3], " ")
		}
	}
	if out, err := exec.Command("go", "tool", "nats-server", "--version").Output(); err == nil {
		m.nats = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(string(out)), "nats-server:"))
	}
	mods := goModVersions()
	if m.nats == "" {
		m.nats = mods["github.com/nats-io/nats-server/v2"] + " (go.mod)"
	}
	m.natsGo = mods["github.com/nats-io/nats.go"]
	return m
}

func procField(path, key string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	for _, line := range strings.Split(string(b), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(k) == key {
			return strings.TrimSpace(v)
		}
	}
	return ""
}

func goModVersions() map[string]string {
	out := map[string]string{}
	path := "go.mod"
	if b, err := exec.Command("go", "env", "GOMOD").Output(); err == nil && strings.TrimSpace(string(b)) != "" {
		path = strings.TrimSpace(string(b))
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return out
	}
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(strings.TrimPrefix(strings.TrimSpace(line), "require "))
		if len(f) >= 2 && strings.HasPrefix(f[1], "v") {
			out[f[0]] = f[1]
		}
	}
	return out
}

// ---------------------------------------------------------------------------
// The document.

func render(r *results, m machine, elapsed time.Duration, raw string) string {
	var body strings.Builder
	for _, s := range r.sections() {
		r.table(&body, s)
	}
	var other []string
	for _, n := range r.order {
		if !r.used[n] {
			other = append(other, n)
		}
	}
	if len(other) > 0 {
		body.WriteString("## Other benchmarks in the run\n\n| benchmark | metric | median | min | max | runs |\n|---|---|---:|---:|---:|---:|\n")
		for _, n := range other {
			units := map[string]bool{}
			for _, rn := range r.runs[n] {
				for u := range rn {
					units[u] = true
				}
			}
			for _, u := range slices.Sorted(maps.Keys(units)) {
				v := r.values(n, u)
				fmt.Fprintf(&body, "| %s | %s | %s | %s | %s | %d |\n", n, u, num(median(v)), num(slices.Min(v)), num(slices.Max(v)), len(v))
			}
		}
		body.WriteString("\n")
	}

	var w strings.Builder
	w.WriteString("# Benchmarks\n\n")
	w.WriteString("Generated by `make bench` (internal/cmd/benchreport from the `go test -bench` output); do not edit by hand. ")
	w.WriteString("Each figure is the median of the runs of one `make bench` (`-count`, BENCH_COUNT), with the min and max; a target is judged on the median. ")
	w.WriteString("The machine may be shared: compare the ratios, which are measured within one repetition, more than the absolute rates.\n\n")
	w.WriteString("## Machine\n\n| | |\n|---|---|\n")
	fmt.Fprintf(&w, "| CPU | %s |\n| cores | %s |\n| memory | %s |\n| OS | %s, kernel %s |\n| Go | %s |\n| nats-server | %s (`go tool nats-server`) |\n| nats.go | %s |\n",
		m.cpu, m.cores, m.memory, m.os, m.kernel, m.goVersion, m.nats, m.natsGo)
	if m.load != "" {
		fmt.Fprintf(&w, "| load average at the end (1, 5, 15 min) | %s |\n", m.load)
	}
	fmt.Fprintf(&w, "| date | %s |\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	if elapsed > 0 {
		fmt.Fprintf(&w, "| total `make bench` time | %s |\n", elapsed.Round(time.Second))
	}
	w.WriteString("\n## Summary\n\n| figure | median | target | met |\n|---|---:|---|---|\n")
	for _, s := range r.summary {
		fmt.Fprintf(&w, "| %s | %s | %s | %s |\n", s.figure, s.median, s.target, s.verdict)
	}
	w.WriteString("\n")
	w.WriteString(body.String())
	if p := strings.TrimSpace(profiles); p != "" {
		w.WriteString(p + "\n\n")
	}
	w.WriteString("## Raw output\n\n<details><summary>go test -bench output</summary>\n\n```\n")
	for _, line := range strings.Split(strings.TrimRight(raw, "\n"), "\n") {
		if benchLine.MatchString(line) || strings.HasPrefix(line, "goos:") || strings.HasPrefix(line, "goarch:") ||
			strings.HasPrefix(line, "pkg:") || strings.HasPrefix(line, "cpu:") || strings.HasPrefix(line, "ok ") || strings.HasPrefix(line, "    ") {
			w.WriteString(line + "\n")
		}
	}
	w.WriteString("```\n\n</details>\n")
	return w.String()
}
