package mapping_test

// Mapping expressions come from a config file, but they run inside the
// transformer next to API secrets and the NATS credentials. These tests pin
// down that an expression sees the record and the helper library only: no
// process environment, no files, no network, no reflection, and a bounded
// amount of work per record.

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping"
)

// sandboxProbe is an environment variable set by the tests: its value must
// never come out of a mapping.
const sandboxProbe = "GM_SANDBOX_PROBE"

// sandboxDoc is a one-field mapping document whose field "out" is src.
func sandboxDoc(src string) []byte {
	return []byte("version: 1\ntarget: t\nfields:\n  out: '" + strings.ReplaceAll(src, "'", "''") + "'\n")
}

// sandboxRecord is a small account, fresh for every evaluation.
func sandboxRecord() map[string]any {
	return map[string]any{
		"UID":     "uid-1",
		"profile": map[string]any{"email": "a@example.com", "firstName": "Ada"},
		"data":    map[string]any{"terms": true},
	}
}

// outcome is what one expression did: refused at compile time, failed at
// run time, or produced out.
type outcome struct {
	compileErr error
	runErr     error
	out        map[string]any
}

func (o outcome) String() string {
	switch {
	case o.compileErr != nil:
		return "compile error: " + o.compileErr.Error()
	case o.runErr != nil:
		return "runtime error: " + o.runErr.Error()
	}
	return fmt.Sprintf("value %#v", o.out["out"])
}

func evaluate(src string) outcome {
	m, err := mapping.Parse("sandbox.yaml", sandboxDoc(src))
	if err != nil {
		return outcome{compileErr: err}
	}
	out, _, err := m.NewEvaluator().Apply(sandboxRecord())
	return outcome{runErr: err, out: out}
}

// leaks reports whether anything in o carries a value of the process
// environment or of a file the expression tried to read.
func (o outcome) leaks(secrets ...string) bool {
	s := fmt.Sprint(o.out, o.runErr, o.compileErr)
	for _, v := range secrets {
		if strings.Contains(s, v) {
			return true
		}
	}
	return false
}

// Functions that would reach the environment, files, processes or the
// network do not exist: each is refused when the mapping is loaded, naming
// the function, so a hostile mapping never gets to run.
func TestSandboxNoEnvironmentFileOrNetworkFunctions(t *testing.T) {
	t.Setenv(sandboxProbe, "probe-value-5d1c")
	for _, fn := range []string{
		`env("GM_SANDBOX_PROBE")`, `getenv("GM_SANDBOX_PROBE")`, `Getenv("GM_SANDBOX_PROBE")`, `environ()`,
		`readFile("/etc/hostname")`, `read_file("/etc/hostname")`, `open("/etc/hostname")`, `file("/etc/hostname")`,
		`load("/etc/hostname")`, `include("/etc/hostname")`,
		`exec("id")`, `system("id")`, `shell("id")`, `spawn("id")`, `command("id")`,
		`http("http://127.0.0.1:1/")`, `fetch("http://127.0.0.1:1/")`, `request("GET", "http://127.0.0.1:1/")`,
		`dial("tcp", "127.0.0.1:1")`, `lookup("example.com")`,
		`import("os")`, `require("os")`, `eval("1+1")`, `compile("1+1")`, `run("1+1")`,
		`reflect("x")`, `unsafe("x")`, `panic("x")`, `exit(1)`,
	} {
		o := evaluate(fn)
		name := fn[:strings.IndexByte(fn, '(')]
		if o.compileErr == nil {
			t.Errorf("%s compiled (%s): a mapping must not be able to call %s", fn, o, name)
			continue
		}
		if !errors.Is(o.compileErr, mapping.ErrInvalidMapping) || !strings.Contains(o.compileErr.Error(), "unknown function "+name) {
			t.Errorf("%s: want an invalid-mapping error naming the unknown function, got %v", fn, o.compileErr)
		}
	}
}

// Names that look like packages (os, exec, http, ...) are undefined
// variables, that is nil: calling a method on them fails the record, and no
// value of the environment or of a file ever comes back.
func TestSandboxPackageLikeNamesReachNothing(t *testing.T) {
	const probe = "probe-value-8a2e"
	t.Setenv(sandboxProbe, probe)
	host, _ := os.ReadFile("/etc/hostname")
	secrets := []string{probe}
	if h := strings.TrimSpace(string(host)); len(h) >= 4 {
		secrets = append(secrets, h)
	}
	for _, src := range []string{
		`os.Getenv("GM_SANDBOX_PROBE")`, `os.LookupEnv("GM_SANDBOX_PROBE")`, `os.Environ()`,
		`os.ReadFile("/etc/hostname")`, `ioutil.ReadFile("/etc/hostname")`,
		`exec.Command("id").Output()`, `http.Get("http://127.0.0.1:1/")`, `net.Dial("tcp", "127.0.0.1:1")`,
		`runtime.GOROOT()`, `syscall.Getenv("GM_SANDBOX_PROBE")`,
	} {
		o := evaluate(src)
		if o.leaks(secrets...) {
			t.Errorf("%s leaked the environment or a file: %s", src, o)
		}
		if o.compileErr == nil && o.runErr == nil {
			t.Errorf("%s evaluated (%s): a call through an undefined name must fail", src, o)
		}
	}
	// As plain member accesses they are nil (absent record keys), nothing more.
	for _, src := range []string{`env`, `env.GM_SANDBOX_PROBE`, `os.Args`, `ENV["GM_SANDBOX_PROBE"]`, `process.env.GM_SANDBOX_PROBE`} {
		o := evaluate(src)
		if o.leaks(secrets...) || o.compileErr != nil || o.runErr != nil || o.out["out"] != nil {
			t.Errorf("%s: want nil like any absent key, got %s", src, o)
		}
	}
}

// $env is expr's name for the whole environment of an expression; here that
// environment is the record (plus the identity views), never the process's.
func TestSandboxDollarEnvIsTheRecord(t *testing.T) {
	const probe = "probe-value-c3f7"
	t.Setenv(sandboxProbe, probe)
	for _, src := range []string{`$env["GM_SANDBOX_PROBE"]`, `$env.GM_SANDBOX_PROBE`, `$env.PATH`, `$env["HOME"]`} {
		o := evaluate(src)
		if o.leaks(probe) || o.compileErr != nil || o.runErr != nil || o.out["out"] != nil {
			t.Errorf("%s: want nil (not a record key), got %s", src, o)
		}
	}
	o := evaluate(`toJSON($env)`)
	if o.compileErr != nil || o.runErr != nil {
		t.Fatalf("toJSON($env): %s", o)
	}
	if o.leaks(probe, os.Getenv("PATH")) {
		t.Fatalf("$env holds the process environment: %s", o)
	}
	o = evaluate(`sort(keys($env))`)
	if o.compileErr != nil || o.runErr != nil {
		t.Fatalf("keys($env): %s", o)
	}
	all, _ := o.out["out"].([]any)
	var keys []any
	for _, k := range all {
		if strings.HasPrefix(fmt.Sprint(k), "_gm_") {
			continue // the engine's per-record state (the step budget): no environment in it
		}
		keys = append(keys, k)
		if _, ok := sandboxRecord()[fmt.Sprint(k)]; !ok {
			t.Errorf("$env has key %q, which is not in the record", k)
		}
	}
	if len(keys) != len(sandboxRecord()) {
		t.Errorf("$env keys %v, want the record's %d keys", keys, len(sandboxRecord()))
	}
}

// Record values are plain JSON values (string, number, bool, map, slice):
// they have no methods, so nothing reflective (Type, Elem, Interface,
// MethodByName, ...) can be called on them. Time values from the helpers do
// have methods; they compute on the value and reach nothing else.
func TestSandboxNoReflectionThroughMethods(t *testing.T) {
	for _, src := range []string{
		`UID.Type()`, `UID.Kind()`, `profile.Elem()`, `profile.MapKeys()`, `profile.Interface()`,
		`data.terms.Interface()`, `$env.MethodByName("x")`, `type(profile).PkgPath()`,
		`(1..3).Interface()`, `now().Location().Lookup("x")`, `trim(UID).Call()`,
	} {
		o := evaluate(src)
		if o.compileErr == nil && o.runErr == nil {
			t.Errorf("%s evaluated (%s): want it refused", src, o)
		}
	}
	// The location methods are harmless, and the zone is UTC, not the host's.
	if o := evaluate(`now().Location().String()`); o.compileErr != nil || o.runErr != nil || o.out["out"] != "UTC" {
		t.Errorf("now().Location().String(): %s", o)
	}
}

// The helpers that take a time zone name load only from the time zone
// database: a path is refused, so they cannot be turned into a file reader.
func TestSandboxTimeZoneNamesAreNotPaths(t *testing.T) {
	for _, src := range []string{
		`timezone("../../../../etc/passwd")`, `timezone("/etc/passwd")`,
		`date("2020-01-02", "2006-01-02", "../../../../etc/passwd")`, `date("2020-01-02", "2006-01-02", "/etc/hostname")`,
	} {
		o := evaluate(src)
		if o.compileErr == nil && o.runErr == nil {
			t.Errorf("%s evaluated (%s): want a path refused as a zone name", src, o)
		}
		if o.leaks("root:", "/bin/") {
			t.Errorf("%s leaked a file: %s", src, o)
		}
	}
}

// The AST node budget refuses an expression too big to be reasonable even
// when its source is under the length cap, at load time, naming the field;
// deep nesting is refused the same way instead of exhausting the parser.
func TestSandboxNodeBudget(t *testing.T) {
	for name, src := range map[string]string{
		"long sum":      strings.TrimSuffix(strings.Repeat("x+", mapping.MaxExprNodes/2+50), "+"),
		"deep unary":    strings.Repeat("-", mapping.MaxExprNodes+10) + "1",
		"deep negation": strings.Repeat("!", mapping.MaxExprNodes+10) + "true",
		"wide array":    "[" + strings.TrimSuffix(strings.Repeat("1,", mapping.MaxExprNodes+10), ",") + "]",
	} {
		if len(src) > mapping.MaxExprLen {
			t.Fatalf("%s: the probe is %d bytes, over the length cap: it would not test the node budget", name, len(src))
		}
		start := time.Now()
		_, err := mapping.Parse("sandbox.yaml", sandboxDoc(src))
		if err == nil {
			t.Errorf("%s (%d bytes) compiled: the node budget of %d did not refuse it", name, len(src), mapping.MaxExprNodes)
			continue
		}
		var ce *mapping.ConfigError
		if !errors.As(err, &ce) || ce.Key != "out" || !strings.Contains(err.Error(), "nodes") {
			t.Errorf("%s: want a ConfigError for field out about the node budget, got %v", name, err)
		}
		if d := time.Since(start); d > 2*time.Second {
			t.Errorf("%s: refusing took %v", name, d)
		}
	}
	// Deep parentheses add no nodes: whatever the outcome, it is prompt.
	start := time.Now()
	_, _ = mapping.Parse("sandbox.yaml", sandboxDoc(strings.Repeat("(", 2000)+"1"+strings.Repeat(")", 2000)))
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("2000 nested parentheses took %v to parse", d)
	}
	// And an expression at the source cap is refused before it is parsed.
	if _, err := mapping.Parse("sandbox.yaml", sandboxDoc(strings.Repeat("x", mapping.MaxExprLen+1))); err == nil ||
		!strings.Contains(err.Error(), "limit") {
		t.Errorf("an expression over MaxExprLen: %v", err)
	}
}

// Allocation-heavy expressions are stopped by expr's memory budget, which
// the evaluator keeps: a huge range, a huge string, nested ranges.
func TestSandboxMemoryBudget(t *testing.T) {
	for _, src := range []string{
		`len(1..100000000)`,
		`reduce(1..100000000, #acc + # % 7, 0)`,
		`len(repeat("x", 100000000))`,
		`len(map(1..3000, map(1..3000, #)))`,
		`len(flatten(map(1..2000, 1..2000)))`,
	} {
		start := time.Now()
		o := evaluate(src)
		d := time.Since(start)
		if o.compileErr != nil {
			continue // refused even earlier: fine
		}
		var fe *mapping.FieldError
		if !errors.As(o.runErr, &fe) || fe.Field != "out" || !strings.Contains(o.runErr.Error(), "memory budget") {
			t.Errorf("%s: want a FieldError for out saying the memory budget is exceeded, got %s", src, o)
		}
		if d > 5*time.Second {
			t.Errorf("%s: stopped only after %v", src, d)
		}
	}
}

// sandboxEvalLimit is the longest one record's evaluation may take before
// the engine stops it. The requirement is "bounded per record"; one second
// is far above any real mapping (configs/auth0.yaml takes microseconds, the
// transformer scaling benchmark's deliberately heavy field about 1 ms).
const sandboxEvalLimit = time.Second

// A mapping that loops without allocating (a range bound once with let,
// then nested reduces over it) slips under the memory budget. Unbounded,
// the expression below is a billion VM iterations: tens of seconds per
// record on a laptop, minutes under -race, with the transformer's worker
// stuck and the message redelivered forever. The engine must stop it
// within sandboxEvalLimit and fail the record (a FieldError the
// transformer dead-letters), and the evaluator must stay usable.
func TestSandboxEvaluationIsTimeBounded(t *testing.T) {
	const slow = `let r = 1..1000; reduce(r, reduce(r, reduce(r, #acc + 1, 0), 0), 0)`
	doc := "version: 1\ntarget: t\nfields:\n  id: UID\n  slow: '" + slow + "'\n"
	m, err := mapping.Parse("slow.yaml", []byte(doc))
	if err != nil {
		t.Fatalf("the probe must compile (it is small: the node budget cannot catch it): %v", err)
	}
	ev := m.NewEvaluator()
	type result struct {
		err error
		d   time.Duration
	}
	done := make(chan result, 1)
	start := time.Now()
	go func() {
		_, _, err := ev.Apply(sandboxRecord())
		done <- result{err, time.Since(start)}
	}()
	// Generous slack over the limit for a loaded CI machine and -race.
	wait := 5*sandboxEvalLimit + 5*time.Second
	select {
	case r := <-done:
		var fe *mapping.FieldError
		if r.err == nil {
			t.Fatalf("the expression completed in %v: the probe is too cheap to test the limit", r.d)
		}
		if !errors.As(r.err, &fe) || fe.Field != "slow" {
			t.Fatalf("want a FieldError for field slow, got %T %v", r.err, r.err)
		}
		msg := strings.ToLower(r.err.Error())
		if !strings.Contains(msg, "limit") && !strings.Contains(msg, "budget") && !strings.Contains(msg, "exceeded") {
			t.Errorf("the error does not say a limit stopped the evaluation: %v", r.err)
		}
		t.Logf("stopped after %v: %v", r.d.Round(time.Millisecond), r.err)
		// The next record evaluates normally on the same evaluator.
		cheap, err := mapping.Parse("cheap.yaml", sandboxDoc(`UID`))
		if err != nil {
			t.Fatal(err)
		}
		if out, _, err := cheap.NewEvaluator().Apply(sandboxRecord()); err != nil || out["out"] != "uid-1" {
			t.Fatalf("a plain mapping after the limit: %v %v", out, err)
		}
	case <-time.After(wait):
		// The evaluation goroutine cannot be stopped from here: it spins
		// until the test binary exits.
		t.Fatalf("GAP: mapping evaluation has no per-record time or step limit: %q was still running after %v "+
			"(requirement: stopped within %v with a FieldError saying a limit was exceeded). "+
			"expr's memory budget only counts allocations; a loop over a bound range allocates nothing. "+
			"Fix in internal/mapping: count closure iterations (an expr.Patch wrapping every predicate/closure body "+
			"in a step-counting function, reset per record by the Evaluator) and fail the field past a budget, "+
			"or check a per-record deadline at the same point.", slow, wait, sandboxEvalLimit)
	}
}

// The bound must not cut legitimate heavy work: a 10,000-step reduce (ten
// times the scaling benchmark's burn field) maps fine, every record.
func TestSandboxBoundKeepsLegitimateWork(t *testing.T) {
	m, err := mapping.Parse("heavy.yaml", sandboxDoc(`reduce(1..10000, (#acc * 31 + #) % 1000003, 7)`))
	if err != nil {
		t.Fatal(err)
	}
	ev := m.NewEvaluator()
	for i := range 50 {
		out, _, err := ev.Apply(sandboxRecord())
		if err != nil {
			t.Fatalf("record %d: %v", i, err)
		}
		if out["out"] == nil {
			t.Fatalf("record %d: no value", i)
		}
	}
}
