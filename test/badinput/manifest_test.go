package badinput

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/segmentio/encoding/json"
	"go.yaml.in/yaml/v3"
)

// testCase is one entry of testdata/cases.yaml.
type testCase struct {
	Name        string `yaml:"name"`
	File        string `yaml:"file"`     // under testdata/
	Generate    string `yaml:"generate"` // or: a generator of generate_test.go
	Description string `yaml:"description"`
	// Binaries: also run through the built binaries (TestCorpusThroughBinaries).
	Binaries bool `yaml:"binaries"`
	// RunFails: the extractor run is documented to fail after emitting its
	// records (an I/O failure such as a corrupt gzip checksum stops Read).
	RunFails bool `yaml:"run_fails"`
	// Bug: the case expects what the product should do; it fails today.
	Bug string `yaml:"bug"`
	// Secrets must appear in no error text, log line or check report.
	Secrets []string `yaml:"secrets"`
	// Note is what the product does today when that is worth recording
	// next to the expectation (not checked).
	Note    string         `yaml:"note"`
	Records []expectRecord `yaml:"records"`
}

// expectRecord is the expected outcome of one record, in input order.
type expectRecord struct {
	// Outcome: mapped, filtered:<f>, dead_letter:<stage>:<code> or
	// duplicate; alternatives separated by '|'.
	Outcome string `yaml:"outcome"`
	// UID is the Gigya-UID the pipeline identified ("" for none).
	UID *string `yaml:"uid"`
	// Fields are values of the mapped user by dotted path, compared as JSON.
	Fields map[string]any `yaml:"fields"`
	// Absent paths must not be in the mapped user.
	Absent []string `yaml:"absent"`
	// Lengths of arrays or objects in the mapped user, by dotted path.
	Lengths map[string]int `yaml:"lengths"`
	// Depth of nested objects at a dotted path of the mapped user.
	Depth map[string]int `yaml:"depth"`
	// Flagged fields (dropped by on_error: omit); exact set.
	Flagged []string `yaml:"flagged"`
	// Warnings: substrings of the user's validation warnings, or of the
	// reason a flagged field was dropped.
	Warnings []string `yaml:"warnings"`
	// Error: substrings the dead letter's error text must contain (each
	// may list alternatives separated by '|').
	Error []string `yaml:"error"`
	// Bug: this record's expectation fails today.
	Bug string `yaml:"bug"`
	// BugIn "binaries": the bug shows only through the binaries (the
	// in-process path meets the expectation).
	BugIn string `yaml:"bug_in"`
}

func (e expectRecord) alternatives() []string { return strings.Split(e.Outcome, "|") }

// stableCodes are the Etl-Error-Code values the extract and transform
// stages document, with where each comes from. A dead letter with any other
// code fails the test: codes are a contract (alerts, redrive selectors).
var stableCodes = map[string]string{
	// extract stage (internal/extract: fileErrorCode and message)
	"invalid_json": "internal/extract/source.go fileErrorCode; internal/transform/record.go mappingErrorCode",
	"not_object":   "internal/extract/source.go fileErrorCode",
	"truncated":    "internal/extract/source.go fileErrorCode",
	"no_uid":       "internal/extract/extract.go message; internal/transform/transform.go handle",
	// transform stage
	"required_missing":          "internal/transform/record.go mappingErrorCode",
	"mapping_failed":            "internal/transform/record.go mappingErrorCode",
	"schema_violation":          "internal/mapping/validate ErrorCode",
	"unsupported_password_hash": "internal/mapping/passhash CodeUnsupported",
	"invalid_password_hash":     "internal/mapping/passhash CodeMalformed",
	"encode_failed":             "internal/transform/record.go mapRecord",
	"max_deliver_exceeded":      "internal/pipeline/consume DeadLetterExhausted",
	// Proposed by this corpus for bugs it reports (see cases.yaml): a record
	// larger than the server accepts, and an input that cannot be read.
	"record_too_large": "proposed: extract stage, a record over the server's max_payload or the reader's 32 MiB",
	"read_error":       "proposed: extract stage, an I/O failure such as a corrupt gzip stream",
}

func loadManifest(t *testing.T) []testCase {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "cases.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Cases []testCase `yaml:"cases"`
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("testdata/cases.yaml: %v", err)
	}
	seen := map[string]bool{}
	files := map[string]bool{}
	for _, c := range doc.Cases {
		switch {
		case c.Name == "" || strings.ContainsAny(c.Name, ".*> \t"):
			t.Fatalf("case %q: name must be a subject token (it is the extractor's site)", c.Name)
		case seen[c.Name]:
			t.Fatalf("case %q listed twice", c.Name)
		case (c.File == "") == (c.Generate == ""):
			t.Fatalf("case %s: give exactly one of file and generate", c.Name)
		case c.Description == "":
			t.Fatalf("case %s: no description", c.Name)
		case c.Generate != "" && generators[c.Generate] == nil:
			t.Fatalf("case %s: unknown generator %q", c.Name, c.Generate)
		}
		if c.File != "" {
			if _, err := os.Stat(filepath.Join("testdata", c.File)); err != nil {
				t.Fatalf("case %s: %v", c.Name, err)
			}
			files[c.File] = true
		}
		for i, r := range c.Records {
			if r.BugIn != "" && (r.BugIn != "binaries" || r.Bug == "") {
				t.Fatalf("case %s record %d: bug_in must be binaries, with a bug note", c.Name, i+1)
			}
			for _, o := range r.alternatives() {
				if err := checkOutcomeSyntax(o); err != nil {
					t.Fatalf("case %s record %d: %v", c.Name, i+1, err)
				}
				if strings.HasPrefix(o, "dead_letter:") && len(r.Error) == 0 {
					t.Fatalf("case %s record %d: a dead letter must say what its error text names (error: [...])", c.Name, i+1)
				}
			}
		}
		seen[c.Name] = true
	}
	// Every committed input belongs to a case.
	entries, _ := os.ReadDir("testdata")
	for _, e := range entries {
		if e.Name() != "cases.yaml" && !files[e.Name()] {
			t.Errorf("testdata/%s is not used by any case", e.Name())
		}
	}
	return doc.Cases
}

func checkOutcomeSyntax(o string) error {
	parts := strings.Split(o, ":")
	switch {
	case o == "mapped" || o == "duplicate":
		return nil
	case parts[0] == "filtered" && len(parts) == 2 && parts[1] != "":
		return nil
	case parts[0] == "dead_letter" && len(parts) == 3 && (parts[1] == "extract" || parts[1] == "transform"):
		if _, ok := stableCodes[parts[2]]; !ok {
			return fmt.Errorf("outcome %q: code %q is not a stable code", o, parts[2])
		}
		return nil
	}
	return fmt.Errorf("outcome %q: want mapped, duplicate, filtered:<filter> or dead_letter:<extract|transform>:<code>", o)
}

// inProcess is the case as TestCorpus sees it: without the bugs that show
// only through the binaries.
func (c testCase) inProcess() testCase {
	c.Records = slices.Clone(c.Records)
	for i := range c.Records {
		if c.Records[i].BugIn == "binaries" {
			c.Records[i].Bug = ""
		}
	}
	return c
}

// hasBug reports whether the case, or one of its records, expects a fix.
func (c testCase) hasBug() bool {
	if c.Bug != "" {
		return true
	}
	for _, r := range c.Records {
		if r.Bug != "" {
			return true
		}
	}
	return false
}

func (c testCase) bugText() string {
	var notes []string
	if c.Bug != "" {
		notes = append(notes, c.Bug)
	}
	for i, r := range c.Records {
		if r.Bug != "" {
			notes = append(notes, fmt.Sprintf("record %d: %s", i+1, r.Bug))
		}
	}
	return strings.Join(notes, "; ")
}

// observed is what the pipeline did with one record.
type observed struct {
	Outcome  string // as expectRecord.Outcome, or "missing"
	UID      string // Gigya-UID (header, or gigya.Identify)
	Err      string // dead letter: Etl-Error
	User     map[string]any
	Flagged  []string
	Warnings []string
	rawSeq   uint64 // GIGYA_ACCOUNTS sequence when published
	where    string // file:line@offset
}

// verify compares what happened to every record with the manifest.
func verify(t *testing.T, c testCase, obs []observed) {
	t.Helper()
	bugNote := func(r expectRecord) string {
		switch {
		case r.Bug != "":
			return " [KNOWN BUG: " + r.Bug + "]"
		case c.Bug != "":
			return " [KNOWN BUG: " + c.Bug + "]"
		}
		return ""
	}
	if len(obs) != len(c.Records) {
		t.Errorf("the file source read %d records, the manifest lists %d%s", len(obs), len(c.Records), bugNote(expectRecord{}))
	}
	for i := range max(len(obs), len(c.Records)) {
		if i >= len(obs) || i >= len(c.Records) {
			break
		}
		o, e := obs[i], c.Records[i]
		label := fmt.Sprintf("record %d (%s)", i+1, o.where)
		if o.Outcome == "missing" {
			t.Errorf("%s DISAPPEARED: neither mapped, filtered, dead-lettered nor dropped as a duplicate; want %s%s", label, e.Outcome, bugNote(e))
			continue
		}
		if !slices.Contains(e.alternatives(), o.Outcome) {
			t.Errorf("%s: outcome %s, want %s (error: %q)%s", label, o.Outcome, e.Outcome, o.Err, bugNote(e))
			continue
		}
		if e.UID != nil && o.UID != *e.UID {
			t.Errorf("%s: Gigya-UID %q, want %q%s", label, o.UID, *e.UID, bugNote(e))
		}
		if strings.HasPrefix(o.Outcome, "dead_letter:") {
			code := o.Outcome[strings.LastIndexByte(o.Outcome, ':')+1:]
			if _, ok := stableCodes[code]; !ok {
				t.Errorf("%s: dead-letter code %q is not a documented stable code", label, code)
			}
			if strings.TrimSpace(o.Err) == "" {
				t.Errorf("%s: dead letter without an error text", label)
			}
			for _, want := range e.Error {
				if !slices.ContainsFunc(strings.Split(want, "|"), func(w string) bool { return strings.Contains(o.Err, w) }) {
					t.Errorf("%s: error %q does not name the problem (want it to contain %q)%s", label, o.Err, want, bugNote(e))
				}
			}
		}
		if o.Outcome != "mapped" {
			if !slices.Contains(e.alternatives(), "mapped") && len(e.Fields)+len(e.Absent)+len(e.Lengths)+len(e.Depth)+len(e.Flagged)+len(e.Warnings) > 0 {
				t.Errorf("%s: manifest checks fields of a record that is not mapped", label)
			}
			continue
		}
		// The user id must be the record's identity: the loader, the
		// dead-letter tools and reconciliation all go by Gigya-UID.
		if id, ok := o.User["user_id"]; ok && id != o.UID {
			t.Errorf("%s: user_id %q differs from the Gigya-UID %q the pipeline identified it by%s", label, id, o.UID, bugNote(e))
		}
		for path, want := range e.Fields {
			got, ok := lookup(o.User, path)
			if !ok {
				t.Errorf("%s: field %s missing, want %s%s", label, path, jsonText(want), bugNote(e))
				continue
			}
			if jsonText(got) != jsonText(want) {
				t.Errorf("%s: field %s = %s, want %s%s", label, path, jsonText(got), jsonText(want), bugNote(e))
			}
		}
		for _, path := range e.Absent {
			if got, ok := lookup(o.User, path); ok {
				t.Errorf("%s: field %s = %s, want it absent%s", label, path, jsonText(got), bugNote(e))
			}
		}
		for path, want := range e.Lengths {
			got, _ := lookup(o.User, path)
			n := -1
			switch v := got.(type) {
			case []any:
				n = len(v)
			case map[string]any:
				n = len(v)
			}
			if n != want {
				t.Errorf("%s: %s has %d elements, want %d", label, path, n, want)
			}
		}
		for path, want := range e.Depth {
			got, _ := lookup(o.User, path)
			if d := depth(got); d != want {
				t.Errorf("%s: %s is nested %d levels deep, want %d", label, path, d, want)
			}
		}
		gotFlags, wantFlags := slices.Sorted(slices.Values(o.Flagged)), slices.Sorted(slices.Values(e.Flagged))
		if !slices.Equal(gotFlags, wantFlags) {
			t.Errorf("%s: flagged fields %v, want %v%s", label, gotFlags, wantFlags, bugNote(e))
		}
		for _, w := range e.Warnings {
			if !slices.ContainsFunc(o.Warnings, func(s string) bool { return strings.Contains(s, w) }) {
				t.Errorf("%s: no warning containing %q in %q", label, w, o.Warnings)
			}
		}
	}
}

// lookup follows a dotted path through nested objects.
func lookup(v map[string]any, path string) (any, bool) {
	var cur any = v
	for seg := range strings.SplitSeq(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[seg]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// depth counts nested objects along the only key of each level.
func depth(v any) int {
	n := 0
	for {
		m, ok := v.(map[string]any)
		if !ok || len(m) == 0 {
			return n
		}
		n++
		for _, child := range m {
			v = child
		}
	}
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprintf("%v", v)
	}
	return string(b)
}
