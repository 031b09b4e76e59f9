package mapfunc

import (
	stdjson "encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/builtin"
)

func TestNamesAndDocs(t *testing.T) {
	names, docs := Names(), Docs()
	if len(names) != len(docs) || len(names) == 0 {
		t.Fatalf("%d names, %d docs", len(names), len(docs))
	}
	snake := regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)
	seen := map[string]bool{}
	for i, name := range names {
		d := docs[i]
		if d.Name != name {
			t.Errorf("Names()[%d] = %s, Docs()[%d].Name = %s", i, name, i, d.Name)
		}
		if seen[name] {
			t.Errorf("%s: duplicate", name)
		}
		seen[name] = true
		if !snake.MatchString(name) {
			t.Errorf("%s: not snake_case", name)
		}
		// Shadowing a builtin would change the meaning of expressions
		// written against expr's documentation (first, join, ...).
		if _, ok := builtin.Index[name]; ok {
			t.Errorf("%s: shadows an expr builtin", name)
		}
		if !strings.HasPrefix(d.Signature, name+"(") {
			t.Errorf("%s: signature %q does not start with the name", name, d.Signature)
		}
		if d.Description == "" || d.Example == "" || d.Result == "" {
			t.Errorf("%s: incomplete doc %+v", name, d)
		}
		if !strings.Contains(d.Example, name+"(") {
			t.Errorf("%s: example %q does not call it", name, d.Example)
		}
		if strings.Contains(d.Description, "\n") {
			t.Errorf("%s: description is not one line", name)
		}
	}
	// Stable: two calls agree.
	if !slices.Equal(names, Names()) {
		t.Error("Names() is not stable")
	}
}

// Every example evaluates, with only the helpers' options and the engine's
// env settings, to its documented result.
func TestDocExamples(t *testing.T) {
	for _, d := range Docs() {
		t.Run(d.Name, func(t *testing.T) {
			got, err := run(t, d.Example, nil)
			if err != nil {
				t.Fatalf("%s: %v", d.Example, err)
			}
			b, err := stdjson.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != d.Result {
				t.Errorf("%s = %s, documented as %s", d.Example, b, d.Result)
			}
		})
	}
}

// Options defines exactly the documented names: each one compiles as a call
// of a known function, and the options compile in either order relative to
// the engine's Env option.
func TestOptionsDefineNames(t *testing.T) {
	for _, d := range Docs() {
		for _, opts := range [][]expr.Option{
			append(Options(), expr.Env(map[string]any{})),
			append([]expr.Option{expr.Env(map[string]any{})}, Options()...),
		} {
			prog, err := expr.Compile(d.Example, opts...)
			if err != nil {
				t.Fatalf("%s: %v", d.Name, err)
			}
			if !strings.Contains(prog.Disassemble(), d.Name) {
				t.Errorf("%s: not called as a function:\n%s", d.Name, prog.Disassemble())
			}
		}
	}
	if len(Options()) != len(Names()) {
		t.Errorf("%d options for %d names", len(Options()), len(Names()))
	}
}

// A helper name shadows a top-level account key of the same name (no Gigya
// key is named like a helper); $env reads the key anyway. This pins down
// what the package documentation says.
func TestHelperNameShadowsKey(t *testing.T) {
	env := map[string]any{"email": "key value"}
	got, err := run(t, `$env["email"]`, env)
	if err != nil || got != "key value" {
		t.Fatalf("$env: %v, %v", got, err)
	}
	got, err = run(t, `email("A@B.CO")`, env)
	if err != nil || got != "a@b.co" {
		t.Fatalf("call: %v, %v", got, err)
	}
}
