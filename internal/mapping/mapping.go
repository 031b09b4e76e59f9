package mapping

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/expr-lang/expr"
	"github.com/expr-lang/expr/ast"
	"github.com/expr-lang/expr/file"
	"github.com/expr-lang/expr/vm"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/mapfunc"
)

// Mapping is a compiled mapping: every expression compiled once, paths split,
// version computed. It is immutable and safe for concurrent use; evaluate it
// through one [Evaluator] per goroutine ([Mapping.NewEvaluator]).
type Mapping struct {
	name     string
	target   string
	version  string
	fields   []field
	filters  []filter
	required []requiredPath
	keys     []string // sorted top-level account keys read; nil with allKeys
	allKeys  bool
	keySet   map[string]struct{} // keys as a set for the decoder; nil with allKeys
	topLevel int                 // distinct first path segments: size hint for the output map

	omitEmpty  bool
	explode    string
	validate   string
	repairs    []string
	byProvider bool // some expression reads identity.<provider>
	merged     bool // some expression reads identities.<name>

	plan *plan // the record engine's form (MapRecord)
}

// field is a compiled Field.
type field struct {
	Field
	segs     []string    // Path split at dots
	hints    []int       // hints[i]: size hint for the object at segs[:i+1]
	prog     *vm.Program // compiled Expr
	def      *vm.Program // compiled Default, nil when none
	flagSegs []string    // Flag split at dots
}

// filter is a compiled Filter.
type filter struct {
	Filter
	prog *vm.Program
}

// requiredPath is a compiled `required:` entry.
type requiredPath struct {
	path string
	segs []string
	expr string // the field's expression when path is a field, else ""
}

// Load reads the mapping file at path and compiles it with [Parse], using the
// file's base name in error messages.
func Load(path string) (*Mapping, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("mapping: %w", err)
	}
	return Parse(filepath.Base(path), data)
}

// Parse decodes a mapping document (see the package documentation for the
// format), validates it and compiles every expression. name is used in error
// messages only. All the problems found are returned together, joined; each
// is a [*ConfigError] and matches [ErrInvalidMapping].
func Parse(name string, data []byte) (*Mapping, error) {
	p := &problems{name: name}
	doc := parseDocument(p, data)
	if doc == nil {
		return nil, p.err()
	}
	m := &Mapping{
		name:      name,
		target:    doc.target,
		fields:    make([]field, 0, len(doc.fields)),
		filters:   make([]filter, 0, len(doc.filters)),
		omitEmpty: doc.omitEmpty,
		explode:   doc.explode,
		validate:  doc.validate,
		repairs:   doc.repairs,
	}
	keys := map[string]struct{}{}

	for _, f := range doc.filters {
		prog, err := compile(f.When, expr.AsBool())
		if err != nil {
			p.addErr(&ConfigError{Section: "filter", Key: f.Name, Line: f.Line, Expr: f.When, Err: err})
			continue
		}
		m.allKeys = inputKeys(prog.Node(), keys) || m.allKeys
		m.filters = append(m.filters, filter{Filter: f, prog: prog})
	}

	// Size hints: how many direct children each output object gets.
	children := map[string]int{} // object path ("" = the root) -> direct children
	counted := map[string]bool{}
	for _, f := range doc.fields {
		segs := strings.Split(f.Path, ".")
		for i := range segs {
			if child := strings.Join(segs[:i+1], "."); !counted[child] {
				counted[child] = true
				children[strings.Join(segs[:i], ".")]++
			}
		}
	}
	m.topLevel = children[""]

	exprByPath := map[string]string{}
	for _, f := range doc.fields {
		prog, err := compile(f.Expr)
		if err != nil {
			p.addErr(&ConfigError{Section: "field", Key: f.Path, Line: f.Line, Expr: f.Expr, Err: err})
			continue
		}
		m.allKeys = inputKeys(prog.Node(), keys) || m.allKeys
		segs := strings.Split(f.Path, ".")
		hints := make([]int, len(segs)-1)
		for i := range hints {
			hints[i] = children[strings.Join(segs[:i+1], ".")]
		}
		cf := field{Field: f, segs: segs, hints: hints, prog: prog}
		if f.Default != "" {
			def, err := compile(f.Default)
			if err != nil {
				p.addErr(&ConfigError{Section: "field", Key: f.Path + " default", Line: f.Line, Expr: f.Default, Err: err})
				continue
			}
			m.allKeys = inputKeys(def.Node(), keys) || m.allKeys
			cf.def = def
		}
		if f.Flag != "" {
			cf.flagSegs = strings.Split(f.Flag, ".")
		}
		m.fields = append(m.fields, cf)
		exprByPath[f.Path] = f.Expr
		if f.Required {
			doc.required = append(doc.required, Field{Path: f.Path, Line: f.Line})
		}
	}
	if len(p.errs) > 0 {
		return nil, p.err()
	}

	m.version = computeVersion(doc)
	// The views are computed per record only when an expression reads them;
	// what they read of the account is the identities array.
	_, m.byProvider = keys[IdentityVar]
	_, m.merged = keys[mergedVar]
	delete(keys, IdentityVar)
	delete(keys, mergedVar)
	delete(keys, EachVar)
	delete(keys, budgetVar)
	if m.byProvider || m.merged || m.explode != "" {
		keys[identitiesKey] = struct{}{}
	}
	if m.explode != "" {
		keys[m.explode] = struct{}{}
	}
	seenReq := map[string]bool{}
	for _, r := range doc.required {
		if seenReq[r.Path] {
			continue
		}
		seenReq[r.Path] = true
		m.required = append(m.required, requiredPath{
			path: r.Path,
			segs: strings.Split(r.Path, "."),
			expr: exprByPath[r.Path],
		})
	}
	if !m.allKeys {
		m.keys = make([]string, 0, len(keys))
		for k := range keys {
			m.keys = append(m.keys, k)
		}
		slices.Sort(m.keys)
		m.keySet = keys
	}
	m.plan = buildPlan(m)
	return m, nil
}

// compile compiles one expression with the options every mapping expression
// shares, the helper library of package mapfunc included.
func compile(src string, extra ...expr.Option) (*vm.Program, error) {
	if len(src) > MaxExprLen { // parseDocument checks too; keep the guard local
		return nil, errors.New("expression too long")
	}
	opts := []expr.Option{
		// A map env: identifiers are account keys, loaded with the fast
		// map path, and calls to unknown functions or wrong arities of
		// builtins are compile errors.
		expr.Env(map[string]any{}),
		// After Env (which turns strict mode on): a top-level key absent
		// from a record is nil, not an error. Records are sparse.
		expr.AllowUndefinedVariables(),
		expr.MaxNodes(MaxExprNodes),
		// date() and now() must not depend on the host's time zone, or two
		// transformer instances could map one record differently. (Not
		// expr.Timezone: see fixedZone for the expr bug it works around.)
		expr.Patch(fixedZone{loc: time.UTC}),
		expr.Patch(identitiesView{}),
		expr.Patch(nilSafe{}),
		expr.Patch(stepLimit{}),
		stepOption(),
	}
	// The helper library (gigya_time, email, phone_e164, ...): typed
	// functions, so a wrong call fails here rather than on every record.
	opts = append(opts, mapfunc.Options()...)
	prog, err := expr.Compile(src, append(opts, extra...)...)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{stepFunc: true}
	for _, n := range mapfunc.Names() {
		known[n] = true
	}
	if err := checkCalls(prog, known); err != nil {
		return nil, err
	}
	return prog, nil
}

// checkCalls rejects calls of unknown functions. AllowUndefinedVariables
// makes expr accept `lowercase(x)` at compile time (the callee could be an
// env value holding a func); a decoded JSON account never holds one, so
// such a call can only be a typo that would fail every record at runtime.
// Builtins are BuiltinNodes, not calls of identifiers; known lists the
// custom functions registered with expr.Function.
func checkCalls(prog *vm.Program, known map[string]bool) error {
	var bad *ast.IdentifierNode
	root := prog.Node()
	ast.Walk(&root, visitFunc(func(n ast.Node) {
		if c, ok := n.(*ast.CallNode); ok && bad == nil {
			if id, ok := c.Callee.(*ast.IdentifierNode); ok && !known[id.Value] {
				bad = id
			}
		}
	}))
	if bad == nil {
		return nil
	}
	e := &file.Error{Location: bad.Location(), Message: fmt.Sprintf("unknown function %s", bad.Value)}
	return e.Bind(prog.Source())
}

// visitFunc adapts a function to ast.Visitor.
type visitFunc func(ast.Node)

func (f visitFunc) Visit(n *ast.Node) { f(*n) }

// Target returns the target name (`target:`), the last token of the
// users.mapped.<target> subject.
func (m *Mapping) Target() string { return m.target }

// Name returns the document name given to [Parse] (the base file name for
// [Load]).
func (m *Mapping) Name() string { return m.name }

// Version returns a short, stable hash of the normalised mapping: 12
// lowercase hex characters of a SHA-256 over the target, the fields in order,
// the filters in order and the set of required paths, with every expression
// stripped of comments and layout. Reformatting or commenting the YAML keeps
// it; changing any path, name or expression token changes it. It is part of
// the MAPPED message id, so a replay after a mapping fix publishes new
// messages instead of being dropped as duplicates of the old ones.
func (m *Mapping) Version() string { return m.version }

// Explode returns the top-level array key whose elements each produce an
// output record (`explode:`), or "".
func (m *Mapping) Explode() string { return m.explode }

// Validator returns the name of the target validator the mapping asks for
// (`validate:`; "" means the target's own, "none" means no validation) and
// the repairs it allows (`repair:`).
func (m *Mapping) Validator() (name string, repairs []string) {
	return m.validate, slices.Clone(m.repairs)
}

// Fields returns the fields in the order the mapping file lists them.
func (m *Mapping) Fields() []Field {
	out := make([]Field, len(m.fields))
	for i, f := range m.fields {
		out[i] = f.Field
	}
	return out
}

// Filters returns the filters in evaluation order (for example to register a
// skip counter per filter name up front).
func (m *Mapping) Filters() []Filter {
	out := make([]Filter, len(m.filters))
	for i, f := range m.filters {
		out[i] = f.Filter
	}
	return out
}

// Required returns the required output paths in file order.
func (m *Mapping) Required() []string {
	out := make([]string, len(m.required))
	for i, r := range m.required {
		out[i] = r.path
	}
	return out
}

// Paths returns the sorted top-level account keys the mapping's expressions
// (fields and filters) can read, so a decoder can skip everything else. When
// all is true the mapping may read any key (it uses `$env` as a whole or with
// a computed key) and keys is nil. The set may contain keys a record does not
// have; it never omits a key that is read.
func (m *Mapping) Paths() (keys []string, all bool) {
	if m.allKeys {
		return nil, true
	}
	return slices.Clone(m.keys), false
}
