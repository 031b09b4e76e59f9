package config

import (
	"fmt"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// decoder overlays a YAML tree onto a struct that holds the defaults. It does
// the work of yaml.v3's strict decoding itself because yaml.v3 reports a
// problem with the Go type it decodes into ("field url not found in type
// natsconn.Config", "cannot unmarshal !!str `lots` into int") and without
// the key, while a person needs the key's dotted path, the line, and what to
// write instead. It keeps yaml.v3's meaning of every value: the same
// scalars resolve to the same numbers and booleans, a list replaces the
// default list, and a null leaves a scalar at its default.
type decoder struct {
	file    string   // names the file in errors; "" for a node without one
	origins *Origins // records the line of every key; nil: not recorded
	errs    []error
}

var (
	nodeType = reflect.TypeFor[yaml.Node]()
	// unreadType is implemented by [Unread] sections.
	unreadType = reflect.TypeFor[unreadSection]()
)

// Unread is a section of the shared configuration file that the binary
// reading it does not use: another binary's section. One file serves all
// three binaries, so each decodes the others' sections strictly all the
// same, into T, and drops the values: a typo or a wrong type anywhere in
// the file stops whichever binary reads it first, instead of waiting for the
// one it belongs to. The environment variables of an unread section are not
// read.
type Unread[T any] struct{}

type unreadSection interface{ schema() any }

func (Unread[T]) schema() any { return new(T) }

func (d *decoder) fail(n *yaml.Node, key, format string, args ...any) {
	d.errs = append(d.errs, keyError(d.file, n.Line, key, format, args...))
}

func (d *decoder) record(key string, line int) {
	if d.origins != nil && key != "" {
		d.origins.lines[key] = line
	}
}

// recordTree records the lines of the keys and elements under n.
func (d *decoder) recordTree(key string, n *yaml.Node) {
	switch n = resolve(n); {
	case n == nil || d.origins == nil:
	case n.Kind == yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			sub := joinKey(key, n.Content[i].Value)
			d.record(sub, n.Content[i].Line)
			d.recordTree(sub, n.Content[i+1])
		}
	case n.Kind == yaml.SequenceNode:
		for i, c := range n.Content {
			sub := key + "[" + strconv.Itoa(i) + "]"
			d.record(sub, c.Line)
			d.recordTree(sub, c)
		}
	}
}

// decode overlays n onto v, the value of key.
func (d *decoder) decode(key string, n *yaml.Node, v reflect.Value) {
	n = resolve(n)
	if n == nil {
		return
	}
	switch {
	case v.Type() == nodeType:
		// A free-form section (sink options): kept for its owner to decode,
		// its lines recorded for the owner's problems to point at.
		v.Set(reflect.ValueOf(*n))
		d.recordTree(key, n)
		return
	case v.Type().Implements(unreadType):
		d.decode(key, n, reflect.ValueOf(v.Interface().(unreadSection).schema()).Elem())
		return
	}
	if isNull(n) {
		// As yaml.v3 does: a null empties a list or a map and leaves any
		// other value at its default (a key written without a value).
		switch v.Kind() {
		case reflect.Slice, reflect.Map, reflect.Pointer, reflect.Interface:
			v.SetZero()
		}
		return
	}
	switch {
	case v.Type() == durationType:
		if d.scalarNode(key, n, v.Type()) {
			dur, err := parseDuration(n.Value, n.ShortTag() != "!!str")
			if err != nil {
				d.fail(n, key, "%v", err)
				return
			}
			v.SetInt(int64(dur))
		}
	case v.Kind() == reflect.Struct:
		d.section(key, n, v)
	case v.Kind() == reflect.Slice:
		d.list(key, n, v)
	case v.Kind() == reflect.Map:
		d.mapping(key, n, v)
	case v.Kind() == reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.decode(key, n, v.Elem())
	case v.Kind() == reflect.Interface:
		var x any
		if err := n.Decode(&x); err != nil {
			d.fail(n, key, "%v", err)
			return
		}
		if x != nil {
			v.Set(reflect.ValueOf(x))
		}
	default:
		if d.scalarNode(key, n, v.Type()) {
			d.scalar(key, n, v)
		}
	}
}

// resolve follows aliases and documents to the node that holds the value;
// nil for an empty document.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil {
		switch {
		case n.Kind == yaml.AliasNode:
			n = n.Alias
		case n.Kind == yaml.DocumentNode && len(n.Content) > 0:
			n = n.Content[0]
		case n.Kind == yaml.DocumentNode || n.Kind == 0:
			return nil
		default:
			return n
		}
	}
	return nil
}

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null" }

// scalarNode reports whether n is a scalar, recording the problem if not.
func (d *decoder) scalarNode(key string, n *yaml.Node, t reflect.Type) bool {
	if n.Kind == yaml.ScalarNode {
		return true
	}
	d.fail(n, key, "want %s, got %s", want(t), describe(n))
	return false
}

func (d *decoder) scalar(key string, n *yaml.Node, v reflect.Value) {
	if v.Kind() == reflect.String {
		// As yaml.v3 does: any scalar is a string (a port, a version).
		v.SetString(n.Value)
		return
	}
	// yaml.v3 resolves the scalar (0x1F, 1_000, .5, true) as it always
	// does; only its error is replaced.
	p := reflect.New(v.Type())
	if err := n.Decode(p.Interface()); err != nil {
		d.fail(n, key, "want %s, got %s", want(v.Type()), describe(n))
		return
	}
	v.Set(p.Elem())
}

// field is a key of a section: the index path of its struct field.
type field struct{ index []int }

// fields lists the keys of a section type, inline sections included, and
// their names in declaration order.
func fields(t reflect.Type) (map[string]field, []string) {
	m := map[string]field{}
	var names []string
	var add func(t reflect.Type, prefix []int)
	add = func(t reflect.Type, prefix []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			index := append(slices.Clone(prefix), i)
			switch {
			case !f.IsExported() || name == "-":
			case name == "" && opts == "inline" && f.Type.Kind() == reflect.Struct:
				add(f.Type, index)
			case name == "":
				// yaml.v3 would use the lower-cased field name; every key
				// here is tagged, so an untagged field is not a key.
			default:
				m[name] = field{index: index}
				names = append(names, name)
			}
		}
	}
	add(t, nil)
	return m, names
}

func (d *decoder) section(key string, n *yaml.Node, v reflect.Value) {
	known, names := fields(v.Type())
	if n.Kind != yaml.MappingNode {
		d.fail(n, key, "want a section of keys (%s), got %s", strings.Join(names, ", "), describe(n))
		return
	}
	seen := map[string]int{}
	d.pairs(key, n, seen, func(k, val *yaml.Node) {
		sub := joinKey(key, k.Value)
		f, ok := known[k.Value]
		if !ok {
			d.fail(k, sub, "unknown key%s", suggest(key, k.Value, names))
			return
		}
		d.record(sub, k.Line)
		d.decode(sub, val, v.FieldByIndex(f.index))
	})
}

func (d *decoder) mapping(key string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.MappingNode {
		d.fail(n, key, "want %s, got %s", want(v.Type()), describe(n))
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		d.fail(n, key, "cannot be set in a file")
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMap(v.Type()))
	}
	d.pairs(key, n, map[string]int{}, func(k, val *yaml.Node) {
		sub := joinKey(key, k.Value)
		e := reflect.New(v.Type().Elem()).Elem()
		if old := v.MapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key())); old.IsValid() {
			e.Set(old)
		}
		d.record(sub, k.Line)
		d.decode(sub, val, e)
		v.SetMapIndex(reflect.ValueOf(k.Value).Convert(v.Type().Key()), e)
	})
}

// pairs calls fn for every key of the mapping n, those of merged mappings
// (<<: *anchor) first so that the mapping's own keys win, as in YAML. A key
// written twice is an error: yaml.v3 would keep either silently.
func (d *decoder) pairs(key string, n *yaml.Node, seen map[string]int, fn func(k, v *yaml.Node)) {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			for _, m := range mergeSources(val) {
				d.pairs(key, m, map[string]int{}, fn)
			}
		}
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := resolve(n.Content[i]), n.Content[i+1]
		if k.Kind == yaml.ScalarNode && k.ShortTag() == "!!merge" {
			continue
		}
		if k.Kind != yaml.ScalarNode {
			d.fail(k, key, "a key must be a name, got %s", describe(k))
			continue
		}
		if first, dup := seen[k.Value]; dup {
			d.fail(k, joinKey(key, k.Value), "set twice (first on line %d): remove one", first)
			continue
		}
		seen[k.Value] = k.Line
		fn(k, val)
	}
}

func mergeSources(n *yaml.Node) []*yaml.Node {
	n = resolve(n)
	switch {
	case n == nil:
		return nil
	case n.Kind == yaml.MappingNode:
		return []*yaml.Node{n}
	case n.Kind == yaml.SequenceNode:
		var out []*yaml.Node
		for _, c := range n.Content {
			out = append(out, mergeSources(c)...)
		}
		return out
	}
	return nil
}

func (d *decoder) list(key string, n *yaml.Node, v reflect.Value) {
	if n.Kind != yaml.SequenceNode {
		hint := ""
		if n.Kind == yaml.ScalarNode && v.Type().Elem().Kind() != reflect.Struct {
			hint = fmt.Sprintf(" (for one element, write [%s])", n.Value)
		}
		d.fail(n, key, "want %s, got %s%s", want(v.Type()), describe(n), hint)
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, c := range n.Content {
		sub := key + "[" + strconv.Itoa(i) + "]"
		d.record(sub, c.Line)
		d.decode(sub, c, s.Index(i))
	}
	v.Set(s)
}

// want says what a value of type t is written as, without Go's names.
func want(t reflect.Type) string {
	if t == durationType {
		return "a duration such as 30s or 2m"
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		return "a whole number"
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number, 0 or more"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice:
		return "a list of " + plural(want(t.Elem()))
	case reflect.Map:
		return "a section of keys and values"
	case reflect.Struct:
		return "a section of keys"
	}
	return "a value"
}

func plural(s string) string {
	switch {
	case s == "true or false":
		return "true or false values"
	case strings.HasPrefix(s, "a section"):
		return "sections of keys"
	case strings.HasPrefix(s, "a duration"):
		return "durations such as 30s or 2m"
	case strings.HasPrefix(s, "a "):
		return strings.TrimPrefix(s, "a ") + "s"
	}
	return s
}

// describe names what n holds, for "want X, got Y".
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a section (key: value lines)"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!str" {
			return strconv.Quote(n.Value)
		}
		return n.Value
	}
	return "nothing"
}

// parseDuration reads a duration as time.ParseDuration does, with a bare 0
// accepted (0 means "off" or "forever" for several keys). number says the
// YAML value was a number, not a string: the common mistake of leaving out
// the unit gets its own message.
func parseDuration(raw string, number bool) (time.Duration, error) {
	raw = strings.TrimSpace(raw)
	if d, err := time.ParseDuration(raw); err == nil {
		return d, nil
	}
	if f, err := strconv.ParseFloat(raw, 64); err == nil {
		if f == 0 {
			return 0, nil
		}
		return 0, fmt.Errorf("%s has no unit: write a duration such as %ss or 2m (units: ms, s, m, h)", raw, raw)
	}
	if number {
		return 0, fmt.Errorf("want a duration such as 30s or 2m, got %s", raw)
	}
	return 0, fmt.Errorf("want a duration such as 30s, 2m or 1h30m, got %q", raw)
}

// suggest names the known key of section a typo most likely meant, or
// lists them all.
func suggest(section, got string, known []string) string {
	got = strings.ToLower(got)
	best, bestDist := "", -1
	for _, k := range known {
		d := distance(got, k)
		close := d <= max(2, len(got)/3) ||
			min(len(got), len(k)) >= 3 && (strings.HasPrefix(k, got) || strings.HasPrefix(got, k))
		if close && (bestDist < 0 || d < bestDist) {
			best, bestDist = k, d
		}
	}
	if best != "" {
		return "; did you mean " + joinKey(section, best) + "?"
	}
	return " (known: " + strings.Join(known, ", ") + ")"
}

// distance is the Levenshtein distance of a and b.
func distance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
