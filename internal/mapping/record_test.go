package mapping

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/segmentio/encoding/json"
)

// The differential tests of the record engine: MapRecord must produce what
// the map engine, validation and json.Marshal produced before it (the
// transformer's per-record work at 7acc1d6, reproduced by refMapRecord from
// the untouched map engine), byte for byte, with the same skips, notes,
// warnings and errors, on every record of the sample, of the fuzz corpora
// and of mutations of the sample that exercise the JSON corners (escapes,
// repeated keys, numbers, empty values, metadata keys).

// outcome is everything a record maps to, comparable.
type outcome struct {
	Outputs  []string
	Skip     string
	Notes    []string
	Warnings []string
	Err      string
	Code     string
}

// refMapRecord is the reference: the transformer's mapRecord before the
// record engine (decode to maps, evaluate, validate the map, json.Marshal).
func refMapRecord(ev *Evaluator, v validate.Validator, data []byte) outcome {
	r, err := ev.MapJSON(data)
	if err != nil {
		return errOutcome(fault.Permanent(refErrorCode(err), err))
	}
	o := outcome{Skip: r.Skip, Notes: noteStrings(r.Notes)}
	for i, out := range r.Outputs {
		if v != nil {
			res := v.Validate(out)
			if err := res.Err(); err != nil {
				if len(r.Outputs) > 1 {
					err = fmt.Errorf("output %d of %d: %w", i+1, len(r.Outputs), err)
				}
				return errOutcome(err)
			}
			for _, w := range res.Warnings {
				o.Warnings = append(o.Warnings, fmt.Sprintf("%s: %s: %s", w.Path, w.Rule, w.Message))
			}
			for _, w := range res.Repaired {
				o.Warnings = append(o.Warnings, fmt.Sprintf("repaired %s: %s: %s", w.Path, w.Rule, w.Message))
			}
		}
		b, err := json.Marshal(out)
		if err != nil {
			return errOutcome(fault.Permanent("encode_failed", err))
		}
		o.Outputs = append(o.Outputs, string(b))
	}
	return o
}

// refErrorCode is the transformer's mappingErrorCode at 7acc1d6.
func refErrorCode(err error) string {
	var fe *fault.Error
	switch {
	case asFault(err, &fe):
		return fe.Code
	case isErr(err, ErrDecode):
		return "invalid_json"
	case isErr(err, ErrRequired):
		return "required_missing"
	}
	return "mapping_failed"
}

func errOutcome(err error) outcome {
	_, code := fault.Classify(err)
	return outcome{Err: err.Error(), Code: code}
}

func noteStrings(notes []Note) []string {
	var out []string
	for _, n := range notes {
		out = append(out, fmt.Sprintf("%s|%s|%v", n.Field, n.Flag, n.Err))
	}
	return out
}

// recordOutcome is MapRecord's outcome.
func recordOutcome(ev *Evaluator, data []byte) outcome {
	r, err := ev.MapRecord(data)
	if err != nil {
		return errOutcome(err)
	}
	o := outcome{Skip: r.Skip, Notes: noteStrings(r.Notes), Warnings: r.Warnings}
	for _, u := range r.Outputs {
		o.Outputs = append(o.Outputs, string(u))
	}
	return o
}

// differ compares the two engines on each record; it returns how many
// records were compared.
type differ struct {
	t    *testing.T
	name string
	ref  *Evaluator
	rec  *Evaluator
	v    validate.Validator
}

func newDiffer(t *testing.T, path string) *differ {
	t.Helper()
	m, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	return newDifferFor(t, m)
}

func newDifferFor(t *testing.T, m *Mapping) *differ {
	t.Helper()
	var v validate.Validator
	name, repairs := m.Validator()
	if name == "" {
		name = m.Target()
	}
	if factory, ok := validate.Builtin()[name]; ok {
		opts, err := validate.ParseRepairs(repairs)
		if err != nil {
			t.Fatal(err)
		}
		v = factory(opts)
	}
	return &differ{t: t, name: m.Name(), ref: m.NewEvaluator(), rec: m.NewEvaluator().WithValidator(v), v: v}
}

func (d *differ) check(what string, data []byte) {
	d.t.Helper()
	want := refMapRecord(d.ref, d.v, data)
	got := recordOutcome(d.rec, data)
	if !equalOutcome(want, got) {
		d.t.Fatalf("%s, %s: the record engine differs from the map engine\ninput: %.2000s\nwant %+v\n got %+v", d.name, what, data, want, got)
	}
}

func equalOutcome(a, b outcome) bool {
	return fmt.Sprintf("%q", a) == fmt.Sprintf("%q", b)
}

// sampleRecords reads the committed sample.
func sampleRecords(t testing.TB) [][]byte {
	t.Helper()
	f, err := os.Open(filepath.Join("..", "..", "configs", "sample", "accounts.jsonl.gz"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(zr)
	sc.Buffer(nil, 1<<20)
	var out [][]byte
	for sc.Scan() {
		out = append(out, bytes.Clone(sc.Bytes()))
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// fuzzCorpus reads the committed corpus entries ([]byte values) of a fuzz
// target directory.
func fuzzCorpus(t testing.TB, dir string) [][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return nil // a fuzz test with no committed finding has no corpus folder
	}
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		for _, line := range strings.Split(string(b), "\n") {
			if q, ok := strings.CutPrefix(line, "[]byte("); ok {
				s, err := strconv.Unquote(strings.TrimSuffix(q, ")"))
				if err != nil {
					t.Fatalf("%s: %v", e.Name(), err)
				}
				out = append(out, []byte(s))
			}
		}
	}
	return out
}

var shippedMappings = []string{"../../configs/auth0.yaml", "../../configs/loginradius.yaml"}

func TestRecordEngineMatchesMapEngineOnSample(t *testing.T) {
	recs := sampleRecords(t)
	for _, path := range shippedMappings {
		d := newDiffer(t, path)
		for i, r := range recs {
			d.check(fmt.Sprintf("sample line %d", i+1), r)
		}
		if n := d.rec.Fallbacks(); n != 0 {
			t.Errorf("%s: %d of %d sample records went to the map engine, want 0", path, n, len(recs))
		}
		t.Logf("%s: %d sample records identical", path, len(recs))
	}
}

func TestRecordEngineMatchesMapEngineOnFuzzCorpora(t *testing.T) {
	var recs [][]byte
	recs = append(recs, fuzzCorpus(t, filepath.Join("testdata", "fuzz", "FuzzDecode"))...)
	recs = append(recs, fuzzCorpus(t, filepath.Join("..", "transform", "testdata", "fuzz", "FuzzMapRecord"))...)
	recs = append(recs, fuzzCorpus(t, filepath.Join("testdata", "fuzz", "FuzzRecordEngine"))...)
	for _, path := range shippedMappings {
		d := newDiffer(t, path)
		for i, r := range recs {
			d.check(fmt.Sprintf("corpus entry %d", i), r)
		}
		t.Logf("%s: %d corpus entries identical (%d through the map engine)", path, len(recs), d.rec.Fallbacks())
	}
}

func asFault(err error, fe **fault.Error) bool { return errors.As(err, fe) }

func isErr(err, target error) bool { return errors.Is(err, target) }

// FuzzRecordEngine feeds arbitrary bytes, and the sample's accounts as
// seeds, to both engines with each shipped mapping: the record engine must
// produce what the map engine does, outcome for outcome.
func FuzzRecordEngine(f *testing.F) {
	for i, r := range sampleRecords(f) {
		if i%10 == 0 {
			f.Add(r)
		}
	}
	for _, mu := range mutations {
		f.Add(mu.fn(sampleRecords(f)[3]))
	}
	var ds []*differ
	for _, path := range shippedMappings {
		m, err := Load(path)
		if err != nil {
			f.Fatal(err)
		}
		ds = append(ds, &differ{name: m.Name(), ref: m.NewEvaluator(), rec: m.NewEvaluator()})
	}
	for _, d := range ds {
		name, repairs := d.ref.Mapping().Validator()
		if name == "" {
			name = d.ref.Mapping().Target()
		}
		opts, _ := validate.ParseRepairs(repairs)
		d.v = validate.Builtin()[name](opts)
		d.rec.WithValidator(d.v)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, d := range ds {
			d.t = t
			d.check("fuzz input", data)
		}
	})
}
