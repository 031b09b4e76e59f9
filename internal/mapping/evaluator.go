package mapping

import (
	"reflect"

	"github.com/expr-lang/expr/vm"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/mapfunc"
	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
)

// Evaluator applies one [Mapping] to records. It owns an expr virtual machine
// whose stack and scopes are reused from record to record, so it is NOT safe
// for concurrent use: give each worker goroutine its own.
type Evaluator struct {
	m      *Mapping
	vm     vm.VM
	budget stepBudget // loop iterations of the record being mapped

	validator validate.Validator // checks MapRecord's users; nil: none
	rec       *recState          // the record engine's buffers, made on first use
}

// NewEvaluator returns an Evaluator for m. Create one per goroutine; they
// are cheap (a few small slices, grown on first use).
func (m *Mapping) NewEvaluator() *Evaluator {
	return &Evaluator{m: m}
}

// Mapping returns the mapping e evaluates.
func (e *Evaluator) Mapping() *Mapping { return e.m }

// Result is what one record maps to.
type Result struct {
	// Outputs holds one user, or with `explode:` one per element of the
	// exploded array. It is nil when the record is skipped.
	Outputs []map[string]any
	// Skip names why the record produced nothing: the first matching
	// filter, or SkipExplodeEmpty. "" otherwise.
	Skip string
	// Notes lists the fields an `on_error: omit` policy dropped.
	Notes []Note
}

// SkipExplodeEmpty is the skip reason of a record whose exploded array is
// empty or absent: it has nothing to produce, and is counted, not lost.
const SkipExplodeEmpty = "explode_empty"

// Note records a field left out because its expression failed and its
// policy is `on_error: omit` (for example a password hash the target cannot
// verify: the user is imported without it and flagged for a reset).
type Note struct {
	Field string // output path of the dropped field
	Flag  string // output path set to true, "" when none
	Err   error  // why the expression failed
}

// Map evaluates the mapping against one decoded account, whose top-level
// keys are the expressions' variables.
//
// Filters run first, in order; when one is true Map returns its name as
// Skip and evaluates no field. Otherwise the fields are evaluated, once, or
// once per element of the exploded array (bound to `each`). A nil result is
// omitted — and with omit_empty (the default) so are empty strings, arrays
// and objects, at any depth — then a field with a default takes the
// default's value, and any other value is stored at its path, creating
// nested objects as needed. Then every required path must hold a non-empty
// value. The first failure is returned as a [*FieldError].
//
// Map adds the identity views it needs to account (under [IdentityVar] and
// a private key) and [EachVar] while exploding. Outputs may share arrays
// and objects with account (`data` is stored as is, unless omit_empty had to
// drop something inside it, in which case it is a copy): do not modify
// account while the outputs are in use.
func (e *Evaluator) Map(account map[string]any) (Result, error) {
	if account == nil {
		account = map[string]any{} // expr's fast path needs a map value
	}
	if e.m.byProvider || e.m.merged {
		addViews(account, e.m.byProvider, e.m.merged)
	}
	e.budget.used = 0
	account[budgetVar] = &e.budget
	for i := range e.m.filters {
		f := &e.m.filters[i]
		v, err := e.vm.Run(f.prog, account)
		if err != nil {
			return Result{}, &FieldError{Field: f.Name, Filter: true, Expr: f.When, Err: err}
		}
		// AsBool makes the program end in a cast: v is a bool (nil is false).
		if b, ok := v.(bool); ok && b {
			return Result{Skip: f.Name}, nil
		}
	}
	if e.m.explode == "" {
		var r Result
		out, err := e.one(account, &r.Notes)
		if err != nil {
			return Result{}, err
		}
		r.Outputs = []map[string]any{out}
		return r, nil
	}
	items, _ := account[e.m.explode].([]any)
	var r Result
	for _, item := range items {
		account[EachVar] = item
		out, err := e.one(account, &r.Notes)
		if err != nil {
			return Result{}, err
		}
		r.Outputs = append(r.Outputs, out)
	}
	delete(account, EachVar)
	if len(r.Outputs) == 0 {
		return Result{Skip: SkipExplodeEmpty}, nil
	}
	return r, nil
}

// one evaluates the fields once.
func (e *Evaluator) one(account map[string]any, notes *[]Note) (map[string]any, error) {
	out := make(map[string]any, e.m.topLevel)
	for i := range e.m.fields {
		f := &e.m.fields[i]
		v, err := e.vm.Run(f.prog, account)
		if err != nil {
			if f.OnError == OnErrorOmit {
				*notes = append(*notes, Note{Field: f.Path, Flag: f.Flag, Err: err})
				if f.flagSegs != nil {
					var flag any = true
					if f.FlagValue != nil {
						flag = f.FlagValue
					}
					setPath(out, f.flagSegs, nil, flag)
				}
				continue
			}
			return nil, &FieldError{Field: f.Path, Expr: f.Expr, Err: err}
		}
		if e.m.omitEmpty {
			v = omitEmpty(v)
		}
		if isNil(v) && f.def != nil {
			if v, err = e.vm.Run(f.def, account); err != nil {
				return nil, &FieldError{Field: f.Path, Expr: f.Default, Err: err}
			}
			if e.m.omitEmpty {
				v = omitEmpty(v)
			}
		}
		if isNil(v) {
			continue
		}
		setPath(out, f.segs, f.hints, v)
	}
	for i := range e.m.required {
		r := &e.m.required[i]
		if isEmpty(lookup(out, r.segs)) {
			return nil, &FieldError{Field: r.path, Expr: r.expr, Err: ErrRequired}
		}
	}
	return out, nil
}

// MapJSON decodes one account (a JSON object) and calls [Evaluator.Map].
// Integers that fit are decoded as int64, so large ids and millisecond
// timestamps keep every digit; other numbers are float64. A document that is
// not a JSON object returns an error wrapping [ErrDecode].
func (e *Evaluator) MapJSON(data []byte) (Result, error) {
	account, err := decodeKeys(data, e.m.keySet)
	if err != nil {
		return Result{}, err
	}
	return e.Map(account)
}

// Apply is [Evaluator.Map] for mappings that produce one user per record
// (no `explode:`): it returns that user, or the skip reason.
func (e *Evaluator) Apply(account map[string]any) (out map[string]any, skip string, err error) {
	r, err := e.Map(account)
	if err != nil || r.Skip != "" {
		return nil, r.Skip, err
	}
	return r.Outputs[0], "", nil
}

// ApplyJSON decodes one account and calls [Evaluator.Apply].
func (e *Evaluator) ApplyJSON(data []byte) (out map[string]any, skip string, err error) {
	account, err := decodeKeys(data, e.m.keySet)
	if err != nil {
		return nil, "", err
	}
	return e.Apply(account)
}

// omitEmpty drops nil, empty strings and empty arrays and objects from v, at
// any depth, and returns nil when nothing is left. It copies only the
// containers it changes: v may be shared with the account.
func omitEmpty(v any) any {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		if x == "" {
			return nil
		}
		return x
	case map[string]any:
		var out map[string]any // allocated on the first change
		for k, child := range x {
			c := omitEmpty(child)
			if c == nil || !sameValue(c, child) {
				if out == nil {
					out = make(map[string]any, len(x))
					for k2, v2 := range x {
						out[k2] = v2
					}
				}
				if c == nil {
					delete(out, k)
				} else {
					out[k] = c
				}
			}
		}
		if out == nil {
			out = x
		}
		if len(out) == 0 {
			return nil
		}
		return out
	case *fixedObj:
		return omitEmpty(x.toMap())
	case []any:
		var out []any
		for i, child := range x {
			c := omitEmpty(child)
			changed := c == nil || !sameValue(c, child)
			if changed && out == nil {
				out = make([]any, i, len(x))
				copy(out, x[:i])
			}
			if out != nil && c != nil {
				out = append(out, c)
			}
		}
		if out == nil {
			out = x
		}
		if len(out) == 0 {
			return nil
		}
		return out
	}
	if isNil(v) {
		return nil
	}
	return v
}

// sameValue reports whether omitEmpty returned its input unchanged: the same
// container (compared by identity) or the same scalar.
func sameValue(a, b any) bool {
	switch x := a.(type) {
	case map[string]any:
		y, ok := b.(map[string]any)
		return ok && reflect.ValueOf(x).UnsafePointer() == reflect.ValueOf(y).UnsafePointer()
	case []any:
		y, ok := b.([]any)
		return ok && len(x) == len(y) && (len(x) == 0 || &x[0] == &y[0])
	}
	return true
}

// setPath stores v at segs in out. Intermediate values are always objects
// created here: Parse rejects a path that is both a value and a parent.
// hints, when given, size the objects created.
func setPath(out map[string]any, segs []string, hints []int, v any) {
	obj := out
	last := len(segs) - 1
	for i, seg := range segs[:last] {
		child, ok := obj[seg].(map[string]any)
		if !ok {
			n := 0
			if hints != nil {
				n = hints[i]
			}
			child = make(map[string]any, n)
			obj[seg] = child
		}
		obj = child
	}
	obj[segs[last]] = v
}

// lookup returns the value at segs in out, nil when absent.
func lookup(out map[string]any, segs []string) any {
	var v any = out
	for _, seg := range segs {
		obj, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		if v, ok = obj[seg]; !ok {
			return nil
		}
	}
	return v
}

// isNil reports whether v is nil, including a typed nil (a nil slice, map or
// pointer in an interface), which JSON would render as null too.
func isNil(v any) bool {
	switch v.(type) {
	case nil:
		return true
	case string, bool, int, int64, float64:
		return false
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Slice, reflect.Interface, reflect.Func, reflect.Chan:
		return rv.IsNil()
	}
	return false
}

// isEmpty is the `required:` test, shared with the helper library so that
// required, coalesce and the merged view agree on what "empty" means.
func isEmpty(v any) bool { return mapfunc.IsEmpty(v) }

// Step is one field's evaluation, for explaining a mapping to its author.
type Step struct {
	Field string // output path
	Expr  string // the expression evaluated (the default's when it was used)
	Value any    // its value before omission
	Err   error  // its runtime error, if any
	// Outcome says what happened to the value: "set", "omitted" (nil or
	// empty), "default", "dropped" (on_error: omit) or "failed".
	Outcome string
}

// Explain evaluates every field like [Evaluator.Map] and reports each step,
// per output (one list per exploded element), without stopping at the first
// failure. A skipped record returns its skip reason and no steps.
func (e *Evaluator) Explain(account map[string]any) (steps [][]Step, skip string, err error) {
	r, mapErr := e.Map(account) // views, filters, skip
	if r.Skip != "" {
		return nil, r.Skip, nil
	}
	contexts := []any{nil}
	if e.m.explode != "" {
		items, _ := account[e.m.explode].([]any)
		contexts = items
	}
	for _, item := range contexts {
		if e.m.explode != "" {
			account[EachVar] = item
		}
		var out []Step
		for i := range e.m.fields {
			f := &e.m.fields[i]
			v, ferr := e.vm.Run(f.prog, account)
			st := Step{Field: f.Path, Expr: f.Expr, Value: v, Err: ferr, Outcome: "set"}
			switch {
			case ferr != nil && f.OnError == OnErrorOmit:
				st.Outcome = "dropped"
			case ferr != nil:
				st.Outcome = "failed"
			default:
				if e.m.omitEmpty {
					v = omitEmpty(v)
				}
				if isNil(v) && f.def != nil {
					st.Expr, st.Outcome = f.Default, "default"
					st.Value, st.Err = e.vm.Run(f.def, account)
					if e.m.omitEmpty {
						v = omitEmpty(st.Value)
					} else {
						v = st.Value
					}
				}
				if isNil(v) && st.Err == nil {
					st.Outcome = "omitted"
				}
			}
			out = append(out, st)
		}
		steps = append(steps, out)
	}
	delete(account, EachVar)
	return steps, "", mapErr
}

// ExplainJSON decodes one account as [Evaluator.MapJSON] does and calls
// [Evaluator.Explain].
func (e *Evaluator) ExplainJSON(data []byte) (steps [][]Step, skip string, err error) {
	account, err := decodeKeys(data, e.m.keySet)
	if err != nil {
		return nil, "", err
	}
	return e.Explain(account)
}
