package mapfunc

import (
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
)

// maxDepth bounds the recursion of omit_empty and sanitize_keys. Decoded
// accounts are far shallower; the bound turns a pathological input into an
// error instead of a very deep stack.
const maxDepth = 200

func omitEmpty(params ...any) (any, error) {
	v, keep, err := compact(arg(params, 0), 0)
	if !keep || err != nil {
		return nil, err
	}
	return v, nil
}

// compact returns a copy of v without empty values (see isEmpty), judged
// after their own contents were compacted; keep is false when v itself is
// empty.
func compact(v any, depth int) (out any, keep bool, err error) {
	if depth > maxDepth {
		return nil, false, fmt.Errorf("omit_empty: nested deeper than %d levels", maxDepth)
	}
	switch x := v.(type) {
	case nil:
		return nil, false, nil
	case string:
		return x, !blank(x), nil
	case bool, int, int64, float64:
		return x, true, nil
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			c, keep, err := compact(e, depth+1)
			if err != nil {
				return nil, false, err
			}
			if keep {
				m[k] = c
			}
		}
		return m, len(m) > 0, nil
	case []any:
		return compactList(len(x), func(i int) any { return x[i] }, depth)
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return v, !IsEmpty(v), nil
		}
		m := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			c, keep, err := compact(it.Value().Interface(), depth+1)
			if err != nil {
				return nil, false, err
			}
			if keep {
				m[it.Key().String()] = c
			}
		}
		return m, len(m) > 0, nil
	case reflect.Slice, reflect.Array:
		return compactList(rv.Len(), func(i int) any { return rv.Index(i).Interface() }, depth)
	}
	return v, !IsEmpty(v), nil
}

func compactList(n int, at func(int) any, depth int) (any, bool, error) {
	list := make([]any, 0, n)
	for i := range n {
		c, keep, err := compact(at(i), depth+1)
		if err != nil {
			return nil, false, err
		}
		if keep {
			list = append(list, c)
		}
	}
	return list, len(list) > 0, nil
}

// object reads a helper's object argument: nil stays nil, anything that is
// not an object with string keys is an error.
func object(name string, v any) (map[string]any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return x, nil
	}
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Map && rv.Type().Key().Kind() == reflect.String {
		m := make(map[string]any, rv.Len())
		for it := rv.MapRange(); it.Next(); {
			m[it.Key().String()] = it.Value().Interface()
		}
		return m, nil
	}
	return nil, typeError(name, "an object", v)
}

func pick(params ...any) (any, error) {
	obj, err := object("pick", arg(params, 0))
	if obj == nil || err != nil {
		return nil, err
	}
	var out map[string]any
	for i, k := range params[1:] {
		key, ok := k.(string)
		if !ok {
			if k == nil {
				continue // a key computed from a record may be nil
			}
			return nil, fmt.Errorf("pick: key %d is %s, not a string", i+1, kindOf(k))
		}
		// A nil value would become JSON null, which the engine never
		// writes for a missing value.
		if v, ok := obj[key]; ok && v != nil {
			if out == nil {
				out = make(map[string]any, len(params)-1)
			}
			out[key] = v
		}
	}
	if out == nil {
		return nil, nil
	}
	return out, nil
}

func renameKeys(params ...any) (any, error) {
	const name = "rename_keys"
	obj, err := object(name, arg(params, 0))
	if err != nil {
		return nil, err
	}
	renames, err := object(name+": renames", arg(params, 1))
	if err != nil {
		return nil, err
	}
	// Check every rename, not only those a record happens to use, so a
	// mapping mistake fails on the first record.
	for _, k := range sortedKeys(renames) {
		if s, ok := renames[k].(string); !ok || s == "" {
			return nil, fmt.Errorf("%s: the new name for %s must be a non-empty string, got %s", name, quote(k), kindOf(renames[k]))
		}
	}
	if obj == nil {
		return nil, nil
	}
	rename := func(k string) string {
		if s, ok := renames[k].(string); ok {
			return s
		}
		return k
	}
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		out[rename(k)] = v
	}
	// Fewer keys out than in: two keys collided (a renamed key onto a kept
	// one, or two keys renamed to one name). Overwriting would silently
	// drop one value, chosen by map iteration order.
	if len(out) != len(obj) {
		return nil, collision(name, obj, rename)
	}
	return out, nil
}

// collision reports two keys of obj that rename maps to one name. Keys are
// visited in sorted order so the message is the same on every run.
func collision(name string, obj map[string]any, rename func(string) string) error {
	seen := make(map[string]string, len(obj))
	for _, k := range sortedKeys(obj) {
		to := rename(k)
		if other, dup := seen[to]; dup {
			return fmt.Errorf("%s: keys %s and %s would both become %s", name, quote(other), quote(k), quote(to))
		}
		seen[to] = k
	}
	return fmt.Errorf("%s: two keys would become one", name) // not reached
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func sanitizeKeys(params ...any) (any, error) {
	return sanitize(arg(params, 0), 0)
}

// sanitize copies v with '.' and '$' in object keys replaced by '_' (Auth0
// rejects metadata field names containing them). Arrays are walked, scalars
// returned as they are.
func sanitize(v any, depth int) (any, error) {
	const name = "sanitize_keys"
	if depth > maxDepth {
		return nil, fmt.Errorf("%s: nested deeper than %d levels", name, maxDepth)
	}
	switch x := v.(type) {
	case nil, string, bool, int, int64, float64:
		return v, nil
	case []any:
		out := make([]any, len(x))
		for i, e := range x {
			c, err := sanitize(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map:
		obj, err := object(name, v)
		if err != nil {
			return nil, err
		}
		out := make(map[string]any, len(obj))
		for k, e := range obj {
			c, err := sanitize(e, depth+1)
			if err != nil {
				return nil, err
			}
			out[safeKey(k)] = c
		}
		if len(out) != len(obj) {
			return nil, collision(name, obj, safeKey)
		}
		return out, nil
	case reflect.Slice, reflect.Array:
		out := make([]any, rv.Len())
		for i := range out {
			c, err := sanitize(rv.Index(i).Interface(), depth+1)
			if err != nil {
				return nil, err
			}
			out[i] = c
		}
		return out, nil
	}
	return v, nil
}

// safeKey replaces '.' and '$' in k by '_'.
func safeKey(k string) string {
	if !strings.ContainsAny(k, ".$") {
		return k
	}
	b := []byte(k)
	for i, c := range b {
		if c == '.' || c == '$' {
			b[i] = '_'
		}
	}
	return string(b)
}

// customFields makes every top-level value of obj a string, for targets
// whose custom fields are strings (LoginRadius' SDKs type CustomFields as a
// map of strings): text as it is, true/false and numbers as JSON writes
// them, arrays and objects as compact JSON (keys sorted), so nothing is
// lost and a non-scalar value cannot reject the user. nil values are left
// out. renames, like rename_keys', renames keys first.
func customFields(params ...any) (any, error) {
	const name = "custom_fields"
	obj, err := object(name, arg(params, 0))
	if err != nil {
		return nil, err
	}
	if renames := arg(params, 1); renames != nil {
		r, err := renameKeys(obj, renames)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		obj, _ = r.(map[string]any)
	}
	if obj == nil {
		return nil, nil
	}
	out := make(map[string]any, len(obj))
	for _, k := range sortedKeys(obj) {
		s, ok, err := fieldText(obj[k])
		if err != nil {
			return nil, fmt.Errorf("%s: %s: %w", name, quote(k), err)
		}
		if ok {
			out[k] = s
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	return out, nil
}

// fieldText renders one custom field value as text; ok is false for nil.
func fieldText(v any) (string, bool, error) {
	switch x := v.(type) {
	case nil:
		return "", false, nil
	case string:
		return x, true, nil
	case bool:
		return strconv.FormatBool(x), true, nil
	case json.Number:
		return x.String(), true, nil
	case float64:
		if n, ok := floatToInt(x); ok {
			return strconv.FormatInt(n, 10), true, nil
		}
		return strconv.FormatFloat(x, 'g', -1, 64), true, nil
	}
	if n, ok := intValue(v); ok {
		return strconv.FormatInt(n, 10), true, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return "", false, fmt.Errorf("not representable as JSON text: %v", err)
	}
	return string(b), true, nil
}
