package mapping

import (
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"github.com/gigya-migrate/gigya-migrate/internal/swar"
	"github.com/segmentio/encoding/json"
)

// rawWriter copies a JSON value of the record into the output in the form
// the map engine's output takes after json.Marshal: object keys sorted
// (the last of repeated keys kept), strings and numbers re-encoded the way
// the encoder writes the decoded values (HTML characters escaped, "1.0"
// becomes 1, invalid UTF-8 becomes U+FFFD), and, under omit_empty, nulls,
// "" and empty arrays and objects left out at any depth. Nothing is
// decoded: a string without escapes is copied (escaped only where the
// encoder would), and keys are compared in place. On the way it measures
// what the validators need to know (validate.RawValue): the size as their
// walks count it, whether something they would report is inside.
//
// It works on checked JSON (scanner.check) only.
type rawWriter struct {
	e    *fenv // the record and its tape
	omit bool
	// measure is set when a validator will see the value: only then are
	// its size and facts worth computing.
	measure bool
	// stack holds the members of the objects being written, outermost
	// first: each object sorts its own segment.
	stack []rawMember
	// Facts of the value being written (see validate.RawValue).
	clean, meta bool
}

// rawMember is a member of an object being written: its node, and its key
// as offsets in the record (no pointer: writing the members is not slowed
// down by the garbage collector's write barriers).
type rawMember struct {
	kStart, kEnd int32
	node         int32
}

// write appends the value of node i to dst. It returns the extended
// buffer, the value's size as the validators measure it, and whether it is
// empty (then nothing was appended). ok is false when the value cannot be
// copied exactly (an escape the library decodes oddly, an invalid number):
// the record then goes to the map engine.
func (w *rawWriter) write(dst []byte, i int32) (out []byte, size int, empty, ok bool) {
	n := &w.e.tape[i]
	switch w.e.data[n.vStart] {
	case '{':
		return w.object(dst, i)
	case '[':
		return w.array(dst, i)
	case '"':
		return w.str(dst, n)
	case 't':
		return append(dst, "true"...), 4, false, true
	case 'f':
		return append(dst, "false"...), 5, false, true
	case 'n':
		if w.omit {
			return dst, 0, true, true
		}
		return append(dst, "null"...), 4, false, true
	}
	return w.number(dst, n)
}

func (w *rawWriter) object(dst []byte, i int32) ([]byte, int, bool, bool) {
	t := w.e.tape
	base := len(w.stack)
	sorted := true
	prev := ""
	for j, end := i+1, t[i].next; j < end; j = t[j].next {
		if t[j].flags&tKeyEscaped != 0 {
			w.stack = w.stack[:base]
			return w.objectEscaped(dst, i)
		}
		k := w.e.data[t[j].kStart:t[j].kEnd]
		if len(w.stack) > base && sorted && prev >= bstr(k) {
			sorted = false
		}
		prev = bstr(k)
		w.stack = append(w.stack, rawMember{kStart: t[j].kStart, kEnd: t[j].kEnd, node: j})
	}
	ms := w.stack[base:]
	data := w.e.data
	keyOf := func(m rawMember) string { return bstr(data[m.kStart:m.kEnd]) }
	if !sorted {
		// Stable, so that of repeated keys the last one ends each run.
		slices.SortStableFunc(ms, func(a, b rawMember) int { return strings.Compare(keyOf(a), keyOf(b)) })
	}
	start := len(dst)
	dst = append(dst, '{')
	size, n := 0, 0
	for m := range ms {
		if m+1 < len(ms) && keyOf(ms[m+1]) == keyOf(ms[m]) {
			continue // a repeated key: the last one wins
		}
		mark := len(dst)
		if n > 0 {
			dst = append(dst, ',')
		}
		key := keyOf(ms[m])
		var ks, vs int
		var kValid, empty, ok bool
		dst, ks, kValid = appendMeasured(dst, key)
		dst = append(dst, ':')
		dst, vs, empty, ok = w.write(dst, ms[m].node)
		if !ok {
			w.stack = w.stack[:base]
			return dst, 0, false, false
		}
		if empty {
			dst = dst[:mark]
			continue
		}
		if w.measure {
			w.noteKey(key, kValid)
			size += ks + vs
		}
		n++
	}
	w.stack = w.stack[:base]
	if n == 0 {
		if w.omit {
			return dst[:start], 0, true, true
		}
		return append(dst, '}'), 2, false, true
	}
	return append(dst, '}'), size + 2 + 2*n - 1, false, true
}

// objectEscaped is object for the rare object with an escaped key: the
// keys are decoded first, then the same algorithm runs on them.
func (w *rawWriter) objectEscaped(dst []byte, i int32) ([]byte, int, bool, bool) {
	t := w.e.tape
	type member struct {
		key  string
		node int32
	}
	var ms []member
	for j, end := i+1, t[i].next; j < end; j = t[j].next {
		ms = append(ms, member{w.e.key(&t[j]), j})
	}
	slices.SortStableFunc(ms, func(a, b member) int { return strings.Compare(a.key, b.key) })
	start := len(dst)
	dst = append(dst, '{')
	size, n := 0, 0
	for m := range ms {
		if m+1 < len(ms) && ms[m+1].key == ms[m].key {
			continue
		}
		mark := len(dst)
		if n > 0 {
			dst = append(dst, ',')
		}
		key := ms[m].key
		var ks, vs int
		var kValid, empty, ok bool
		dst, ks, kValid = appendMeasured(dst, key)
		dst = append(dst, ':')
		dst, vs, empty, ok = w.write(dst, ms[m].node)
		if !ok {
			return dst, 0, false, false
		}
		if empty {
			dst = dst[:mark]
			continue
		}
		if w.measure {
			w.noteKey(key, kValid)
			size += ks + vs
		}
		n++
	}
	if n == 0 {
		if w.omit {
			return dst[:start], 0, true, true
		}
		return append(dst, '}'), 2, false, true
	}
	return append(dst, '}'), size + 2 + 2*n - 1, false, true
}

func (w *rawWriter) array(dst []byte, i int32) ([]byte, int, bool, bool) {
	t := w.e.tape
	start := len(dst)
	dst = append(dst, '[')
	size, n := 0, 0
	for j, end := i+1, t[i].next; j < end; j = t[j].next {
		mark := len(dst)
		if n > 0 {
			dst = append(dst, ',')
		}
		var vs int
		var empty, ok bool
		dst, vs, empty, ok = w.write(dst, j)
		if !ok {
			return dst, 0, false, false
		}
		if empty {
			dst = dst[:mark]
			continue
		}
		size += vs
		n++
	}
	if n == 0 {
		if w.omit {
			return dst[:start], 0, true, true
		}
		return append(dst, ']'), 2, false, true
	}
	return append(dst, ']'), size + 2 + n - 1, false, true
}

func (w *rawWriter) str(dst []byte, n *tnode) ([]byte, int, bool, bool) {
	var s string
	if n.flags&tEscaped == 0 {
		raw := w.e.data[n.vStart+1 : n.vEnd-1]
		if len(raw) == 0 && w.omit {
			return dst, 0, true, true
		}
		if swar.PlainString(bstr(raw)) {
			// Nothing the encoder would escape or replace: the string as
			// it is, and its size without counting.
			return append(dst, w.e.data[n.vStart:n.vEnd]...), len(raw) + 2, false, true
		}
		s = bstr(raw)
	} else {
		sc := scanner{b: w.e.data[:n.vEnd], i: int(n.vStart)}
		var err error
		if s, err = sc.decodeString(); err != nil {
			return dst, 0, false, false
		}
	}
	if s == "" && w.omit {
		return dst, 0, true, true
	}
	size := 0
	if w.measure {
		var valid bool
		if size, valid = validate.StringSize(s); !valid {
			w.clean = false
		}
	}
	return json.AppendEscape(dst, s, json.EscapeHTML), size, false, true
}

func (w *rawWriter) number(dst []byte, n *tnode) ([]byte, int, bool, bool) {
	text := w.e.data[n.vStart:n.vEnd]
	if n.flags&tSimpleInt != 0 {
		return append(dst, text...), len(text), false, true // written as the int64 it is
	}
	sc := scanner{b: w.e.data[:n.vEnd], i: int(n.vStart)}
	v, err := sc.decodeNumber()
	if err != nil {
		return dst, 0, false, false
	}
	switch x := v.(type) {
	case int64:
		return strconv.AppendInt(dst, x, 10), validate.IntSize(x), false, true
	case float64:
		out, ok := appendFloat(dst, x)
		return out, validate.FloatSize(x), false, ok
	}
	return dst, 0, false, false
}

// appendFloat writes f as the JSON encoder does (ES6 number formatting:
// 'f' between 1e-6 and 1e21, else 'e' with a short exponent); false for
// NaN and infinities, which JSON cannot represent.
func appendFloat(b []byte, f float64) ([]byte, bool) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return b, false
	}
	abs := math.Abs(f)
	format := byte('f')
	if abs != 0 && (abs < 1e-6 || abs >= 1e21) {
		format = 'e'
	}
	b = strconv.AppendFloat(b, f, format, -1, 64)
	if format == 'e' {
		// e-09 becomes e-9
		n := len(b)
		if n >= 4 && b[n-4] == 'e' && b[n-3] == '-' && b[n-2] == '0' {
			b[n-2] = b[n-1]
			b = b[:n-1]
		}
	}
	return b, true
}

// noteKey notes what the validator's walks would report about an object
// key: invalid UTF-8 (valid, from appendMeasured), a '.' or '$'.
func (w *rawWriter) noteKey(key string, valid bool) {
	if !valid {
		w.clean = false
	}
	if strings.IndexByte(key, '.') >= 0 || strings.IndexByte(key, '$') >= 0 {
		w.meta = true
	}
}
