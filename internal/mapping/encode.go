package mapping

import (
	"slices"
	"strconv"
	"strings"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/gigya-migrate/gigya-migrate/internal/swar"
	"github.com/segmentio/encoding/json"
)

// encoder appends Go values as JSON exactly as json.Marshal (segmentio's,
// the one the map engine used) writes them: HTML characters escaped,
// invalid UTF-8 replaced, map keys sorted, floats in ES6 form. The values
// a mapping produces (strings, numbers, booleans, map[string]any, []any and
// the record engine's raw slots) are written here without reflection and
// without allocating; anything else goes to the library itself.
type encoder struct {
	keys [][]string // sorted-key scratch, one per nesting level
}

// value appends v. ok is false when v cannot be encoded (NaN, an infinity,
// a value the library refuses): the caller then leaves the record to the
// map engine, whose error that is.
func (enc *encoder) value(b []byte, v any, depth int) ([]byte, bool) {
	if depth > maxRawDepth {
		return b, false // a cycle, most likely: the library reports it
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), true
	case string:
		return appendString(b, x), true
	case bool:
		if x {
			return append(b, "true"...), true
		}
		return append(b, "false"...), true
	case int:
		return strconv.AppendInt(b, int64(x), 10), true
	case int64:
		return strconv.AppendInt(b, x, 10), true
	case float64:
		return appendFloat(b, x)
	case map[string]any:
		if x == nil {
			return append(b, "null"...), true
		}
		return enc.object(b, x, depth)
	case []any:
		if x == nil {
			return append(b, "null"...), true
		}
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var ok bool
			if b, ok = enc.value(b, e, depth+1); !ok {
				return b, false
			}
		}
		return append(b, ']'), true
	case *rawSlot:
		return append(b, x.json()...), true
	case *fixedObj:
		b = append(b, '{')
		for n, i := range x.keys.order {
			if n > 0 {
				b = append(b, ',')
			}
			b = append(b, x.keys.json[i]...)
			var ok bool
			if b, ok = enc.value(b, x.vals[i], depth+1); !ok {
				return b, false
			}
		}
		return append(b, '}'), true
	case *objSlot:
		return x.st.write(b, x.node, depth)
	}
	out, err := json.Append(b, v, json.EscapeHTML|json.SortMapKeys)
	if err != nil {
		return b, false
	}
	return out, true
}

func (enc *encoder) object(b []byte, m map[string]any, depth int) ([]byte, bool) {
	if len(m) <= len(smallKeys{}) {
		return enc.small(b, m, depth)
	}
	for len(enc.keys) <= depth {
		enc.keys = append(enc.keys, nil)
	}
	keys := enc.keys[depth][:0]
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	enc.keys[depth] = keys
	b = append(b, '{')
	for i, k := range keys {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendString(b, k), ':')
		var ok bool
		if b, ok = enc.value(b, m[k], depth+1); !ok {
			clear(keys)
			return b, false
		}
	}
	clear(keys) // do not keep the record's strings alive
	return append(b, '}'), true
}

// smallKeys holds the keys of a small map on the stack.
type smallKeys [8]string

// sort puts the keys of m, at most eight, in order by insertion and
// returns how many there are.
func (keys *smallKeys) sort(m map[string]any) int {
	n := 0
	for k := range m {
		i := n
		for i > 0 && keys[i-1] > k {
			keys[i] = keys[i-1]
			i--
		}
		keys[i] = k
		n++
	}
	return n
}

// small is object for maps of up to eight members (the objects mapping
// expressions build): keys sorted by insertion on the stack.
func (enc *encoder) small(b []byte, m map[string]any, depth int) ([]byte, bool) {
	var keys smallKeys
	n := keys.sort(m)
	b = append(b, '{')
	for i, k := range keys[:n] {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(appendString(b, k), ':')
		var ok bool
		if b, ok = enc.value(b, m[k], depth+1); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}

// facts are what the validators' walks would learn about a value (see
// validate.RawValue), gathered while it is encoded.
type facts struct {
	clean, meta bool
}

// measured is value that also measures v as the walks of package validate
// do: it returns the size they would compute and records in f what they
// would report (invalid UTF-8, a value they must look into) and whether a
// key holds '.' or '$'. Encoding and measuring in one pass spares the
// validator a second walk over the user's values.
func (enc *encoder) measured(b []byte, v any, depth int, f *facts) ([]byte, int, bool) {
	if depth > maxRawDepth {
		return b, 0, false
	}
	switch x := v.(type) {
	case nil:
		return append(b, "null"...), 4, true
	case string:
		b, n, valid := appendMeasured(b, x)
		if !valid {
			f.clean = false
		}
		return b, n, true
	case bool:
		if x {
			return append(b, "true"...), 4, true
		}
		return append(b, "false"...), 5, true
	case int:
		return strconv.AppendInt(b, int64(x), 10), validate.IntSize(int64(x)), true
	case int64:
		return strconv.AppendInt(b, x, 10), validate.IntSize(x), true
	case float64:
		out, ok := appendFloat(b, x)
		return out, validate.FloatSize(x), ok
	case map[string]any:
		if x == nil {
			return append(b, "null"...), 4, true
		}
		if len(x) == 0 {
			return append(b, "{}"...), 2, true
		}
		var keys smallKeys
		var sorted []string
		if len(x) <= len(keys) {
			sorted = keys[:keys.sort(x)]
		} else {
			sorted = make([]string, 0, len(x))
			for k := range x {
				sorted = append(sorted, k)
			}
			slices.Sort(sorted)
		}
		size := 2 + 2*len(x) - 1
		b = append(b, '{')
		for i, k := range sorted {
			if i > 0 {
				b = append(b, ',')
			}
			var n int
			var valid bool
			b, n, valid = appendMeasured(b, k)
			if !valid {
				f.clean = false
			}
			if strings.IndexByte(k, '.') >= 0 || strings.IndexByte(k, '$') >= 0 {
				f.meta = true
			}
			b = append(b, ':')
			var vs int
			var ok bool
			if b, vs, ok = enc.measured(b, x[k], depth+1, f); !ok {
				return b, 0, false
			}
			size += n + vs
		}
		return append(b, '}'), size, true
	case *fixedObj:
		if len(x.vals) == 0 {
			return append(b, "{}"...), 2, true
		}
		size := 2 + 2*len(x.vals) - 1
		b = append(b, '{')
		for n, i := range x.keys.order {
			if n > 0 {
				b = append(b, ',')
			}
			if !x.keys.valid[i] {
				f.clean = false
			}
			if x.keys.dotted[i] {
				f.meta = true
			}
			b = append(b, x.keys.json[i]...)
			var vs int
			var ok bool
			if b, vs, ok = enc.measured(b, x.vals[i], depth+1, f); !ok {
				return b, 0, false
			}
			size += x.keys.size[i] + vs
		}
		return append(b, '}'), size, true
	case []any:
		if x == nil {
			return append(b, "null"...), 4, true
		}
		if len(x) == 0 {
			return append(b, "[]"...), 2, true
		}
		size := 2 + len(x) - 1
		b = append(b, '[')
		for i, e := range x {
			if i > 0 {
				b = append(b, ',')
			}
			var vs int
			var ok bool
			if b, vs, ok = enc.measured(b, e, depth+1, f); !ok {
				return b, 0, false
			}
			size += vs
		}
		return append(b, ']'), size, true
	}
	// A type the walks treat their own way: they look at the value itself.
	f.clean = false
	out, ok := enc.value(b, v, depth)
	return out, 0, ok
}

// appendString appends s as a JSON string the way the encoder writes it.
// Most strings of an account are plain ASCII, which the encoder writes as
// they are: those are copied without the library's escaping pass.
func appendString(b []byte, s string) []byte {
	if swar.PlainString(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"')
	}
	return json.AppendEscape(b, s, json.EscapeHTML)
}

// appendMeasured is appendString that also returns the string's size as
// the validators' walks measure it (validate.StringSize) and whether it is
// valid UTF-8, in the same pass for a plain string.
func appendMeasured(b []byte, s string) ([]byte, int, bool) {
	if swar.PlainString(s) {
		b = append(b, '"')
		b = append(b, s...)
		return append(b, '"'), len(s) + 2, true
	}
	n, valid := validate.StringSize(s)
	return json.AppendEscape(b, s, json.EscapeHTML), n, valid
}
