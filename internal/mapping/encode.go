package mapping

import (
	"slices"
	"strconv"

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
		return json.AppendEscape(b, x, json.EscapeHTML), true
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
		b = json.AppendEscape(b, k, json.EscapeHTML)
		b = append(b, ':')
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

// small is object for maps of up to eight members (the objects mapping
// expressions build): keys sorted by insertion on the stack.
func (enc *encoder) small(b []byte, m map[string]any, depth int) ([]byte, bool) {
	var keys smallKeys
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
	b = append(b, '{')
	for i, k := range keys[:n] {
		if i > 0 {
			b = append(b, ',')
		}
		b = json.AppendEscape(b, k, json.EscapeHTML)
		b = append(b, ':')
		var ok bool
		if b, ok = enc.value(b, m[k], depth+1); !ok {
			return b, false
		}
	}
	return append(b, '}'), true
}
