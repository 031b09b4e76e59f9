package validate

import (
	"encoding"
	"encoding/json"
	"math"
	"reflect"
	"strconv"
)

// Users are Go values that will be JSON-encoded, not decoded JSON: the
// mapping produces strings, booleans, int, int64, float64, map[string]any
// and []any, but an expression can also return []string, a time.Time or a
// json.Number. The helpers here see every value the way the JSON encoder
// will: a named string type is a string, a map with string keys is an
// object, a slice is an array (except []byte, which encodes as a base64
// string), and a value with its own MarshalJSON/MarshalText is opaque.

// opaque reports whether v is encoded by its own method, so its JSON shape
// is not visible without encoding it.
func opaque(v any) bool {
	switch v.(type) {
	case json.Marshaler, encoding.TextMarshaler:
		return true
	}
	return false
}

// normalize returns v as one of nil, string, bool, int64, uint64, float64,
// map[string]any or []any, converting other kinds by reflection (maps and
// slices one level deep; their elements stay as they are). ok is false for
// values JSON encodes some other way (opaque values, []byte, structs) or
// not at all (channels, functions, complex numbers).
func normalize(v any) (n any, ok bool) {
	switch x := v.(type) {
	case nil, string, bool, int64, uint64, float64, map[string]any, []any:
		return v, true
	case int:
		return int64(x), true
	case json.Number:
		return x, false // a number in string form; see asInt
	case RawValue:
		return normalize(x.Value())
	}
	if opaque(v) {
		return v, false
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Pointer, reflect.Interface:
		if rv.IsNil() {
			return nil, true
		}
		return normalize(rv.Elem().Interface())
	case reflect.String:
		return rv.String(), true
	case reflect.Bool:
		return rv.Bool(), true
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return rv.Int(), true
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		return rv.Uint(), true
	case reflect.Float32, reflect.Float64:
		return rv.Float(), true
	case reflect.Map:
		if rv.Type().Key().Kind() != reflect.String {
			return v, false
		}
		if rv.IsNil() {
			return nil, true
		}
		m := make(map[string]any, rv.Len())
		it := rv.MapRange()
		for it.Next() {
			m[it.Key().String()] = it.Value().Interface()
		}
		return m, true
	case reflect.Slice:
		if rv.Type().Elem().Kind() == reflect.Uint8 {
			return v, false // []byte: a base64 string
		}
		if rv.IsNil() {
			return nil, true
		}
		fallthrough
	case reflect.Array:
		s := make([]any, rv.Len())
		for i := range s {
			s[i] = rv.Index(i).Interface()
		}
		return s, true
	}
	return v, false
}

// asString returns v as a string if JSON encodes it as one from a string
// value (not a time.Time or other opaque value: a mapping should format
// those explicitly).
func asString(v any) (string, bool) {
	if s, ok := v.(string); ok {
		return s, true
	}
	if _, ok := v.(json.Number); ok {
		return "", false
	}
	n, ok := normalize(v)
	if !ok {
		return "", false
	}
	s, ok := n.(string)
	return s, ok
}

// asBool returns v as a bool if it is one.
func asBool(v any) (bool, bool) {
	if b, ok := v.(bool); ok {
		return b, true
	}
	n, ok := normalize(v)
	if !ok {
		return false, false
	}
	b, ok := n.(bool)
	return b, ok
}

// asObject returns v as a map[string]any if JSON encodes it as an object
// whose members are visible; other map types are copied.
func asObject(v any) (map[string]any, bool) {
	if m, ok := v.(map[string]any); ok {
		return m, m != nil
	}
	n, ok := normalize(v)
	if !ok {
		return nil, false
	}
	m, ok := n.(map[string]any)
	return m, ok && m != nil
}

// asArray returns v as a []any if JSON encodes it as an array; other
// slice types are copied.
func asArray(v any) ([]any, bool) {
	if s, ok := v.([]any); ok {
		return s, s != nil
	}
	n, ok := normalize(v)
	if !ok {
		return nil, false
	}
	s, ok := n.([]any)
	return s, ok && s != nil
}

// asInt returns v as an int64 if it is a JSON integer: an integer type, an
// integral float, or a json.Number spelled as an integer.
func asInt(v any) (int64, bool) {
	switch x := v.(type) {
	case int:
		return int64(x), true
	case int64:
		return x, true
	case float64:
		return floatInt(x)
	case json.Number:
		i, err := strconv.ParseInt(string(x), 10, 64)
		return i, err == nil
	}
	n, ok := normalize(v)
	if !ok {
		return 0, false
	}
	switch x := n.(type) {
	case int64:
		return x, true
	case uint64:
		if x > math.MaxInt64 {
			return 0, false
		}
		return int64(x), true
	case float64:
		return floatInt(x)
	}
	return 0, false
}

func floatInt(f float64) (int64, bool) {
	if f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 {
		return 0, false
	}
	return int64(f), true
}

// typeName names the JSON type of v for messages ("null", "string",
// "number", "boolean", "object", "array"), or its Go type when JSON's
// encoding of it is not a plain value.
func typeName(v any) string {
	if _, ok := v.(json.Number); ok {
		return "number"
	}
	n, ok := normalize(v)
	if !ok {
		if v == nil {
			return "null"
		}
		return reflect.TypeOf(v).String()
	}
	switch x := n.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case bool:
		return "boolean"
	case int64, uint64, float64:
		return "number"
	case map[string]any:
		if x == nil {
			return "null"
		}
		return "object"
	case []any:
		if x == nil {
			return "null"
		}
		return "array"
	}
	return reflect.TypeOf(v).String()
}
