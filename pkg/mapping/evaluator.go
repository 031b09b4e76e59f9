package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"

	"github.com/expr-lang/expr/vm"
	"github.com/segmentio/encoding/json"
)

// Evaluator applies one [Mapping] to records. It owns an expr virtual machine
// whose stack and scopes are reused from record to record, so it is NOT safe
// for concurrent use: give each worker goroutine its own.
type Evaluator struct {
	m  *Mapping
	vm vm.VM
}

// NewEvaluator returns an Evaluator for m. Create one per goroutine; they
// are cheap (a few small slices, grown on first use).
func (m *Mapping) NewEvaluator() *Evaluator {
	return &Evaluator{m: m}
}

// Mapping returns the mapping e evaluates.
func (e *Evaluator) Mapping() *Mapping { return e.m }

// Apply evaluates the mapping against one decoded account, whose top-level
// keys are the expressions' variables.
//
// Filters run first, in order; when one is true Apply returns its name as
// skip, with out and err nil, and evaluates no field. Otherwise every field
// is evaluated; a nil result is omitted, any other value is stored at its
// path, creating nested objects as needed (no empty object is created for
// fields that were all nil). Then every required path must hold a non-empty
// value. The first failure is returned as a [*FieldError].
//
// out may share arrays and objects with account (a field like `data` is
// stored as is): do not modify account while out is in use.
func (e *Evaluator) Apply(account map[string]any) (out map[string]any, skip string, err error) {
	if account == nil {
		account = map[string]any{} // expr's fast path needs a map value
	}
	for i := range e.m.filters {
		f := &e.m.filters[i]
		v, err := e.vm.Run(f.prog, account)
		if err != nil {
			return nil, "", &FieldError{Field: f.Name, Filter: true, Expr: f.When, Err: err}
		}
		// AsBool makes the program end in a cast: v is a bool (nil is false).
		if b, ok := v.(bool); ok && b {
			return nil, f.Name, nil
		}
	}

	out = make(map[string]any, e.m.topLevel)
	for i := range e.m.fields {
		f := &e.m.fields[i]
		v, err := e.vm.Run(f.prog, account)
		if err != nil {
			return nil, "", &FieldError{Field: f.Path, Expr: f.Expr, Err: err}
		}
		if isNil(v) {
			continue
		}
		set(out, f, v)
	}
	for i := range e.m.required {
		r := &e.m.required[i]
		if isEmpty(lookup(out, r.segs)) {
			return nil, "", &FieldError{Field: r.path, Expr: r.expr, Err: ErrRequired}
		}
	}
	return out, "", nil
}

// ApplyJSON decodes one account (a JSON object) and calls [Evaluator.Apply].
// Integers that fit are decoded as int64, so large ids and millisecond
// timestamps keep every digit; other numbers are float64. A document that is
// not a JSON object returns an error wrapping [ErrDecode].
func (e *Evaluator) ApplyJSON(data []byte) (out map[string]any, skip string, err error) {
	var account map[string]any
	rest, err := json.Parse(data, &account, json.UseInt64)
	if err == nil && len(bytes.TrimSpace(rest)) > 0 { // trailing whitespace is fine
		err = fmt.Errorf("unexpected data after the JSON object at offset %d", len(data)-len(rest))
	}
	if err == nil && account == nil {
		err = errors.New("the account is null, not an object")
	}
	if err != nil {
		return nil, "", fmt.Errorf("%w: %w", ErrDecode, err)
	}
	return e.Apply(account)
}

// set stores v at f's path in out. Intermediate values are always objects
// created here: Parse rejects a path that is both a value and a parent.
func set(out map[string]any, f *field, v any) {
	obj := out
	last := len(f.segs) - 1
	for i, seg := range f.segs[:last] {
		child, ok := obj[seg].(map[string]any)
		if !ok {
			child = make(map[string]any, f.hints[i])
			obj[seg] = child
		}
		obj = child
	}
	obj[f.segs[last]] = v
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

// isEmpty is the `required:` test: nil, a blank string, an empty array or an
// empty object. false and 0 are values, not empty.
func isEmpty(v any) bool {
	if isNil(v) {
		return true
	}
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x) == ""
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map, reflect.Slice, reflect.Array:
		return rv.Len() == 0
	}
	return false
}
