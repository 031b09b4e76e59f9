package validate

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/segmentio/encoding/json"
)

// maxDepth bounds the nesting the walks follow. Decoded JSON is far
// shallower; a deeper value is most likely a cycle, which would otherwise
// recurse until the stack overflows (the JSON encoder cannot encode it
// either).
const maxDepth = 1000

// checker collects the findings of one Validate call.
type checker struct {
	res Result
	// stack is the path from the base node of a running walk or sanitize
	// to the value being visited (see pathSeg). A walk maintains it only
	// when tracking is set.
	stack []pathSeg
	// tracking is set while a walk keeps the stack and reports; when it is
	// not, a walk only notes in found that it has something to report.
	// Paths are needed only for findings, which are rare, so walkValue
	// walks a value once without paths (no allocation, no write barriers)
	// and a second time, tracking, only when the first walk found something.
	tracking, found bool
}

func (c *checker) violation(p *pathNode, rule, msg string) {
	c.res.Violations = append(c.res.Violations, Violation{Path: p.String(), Rule: rule, Message: msg})
}

func (c *checker) warning(p *pathNode, rule, msg string) {
	c.res.Warnings = append(c.res.Warnings, Violation{Path: p.String(), Rule: rule, Message: msg})
}

func (c *checker) repaired(p *pathNode, rule, msg string) {
	c.res.Repaired = append(c.res.Repaired, Violation{Path: p.String(), Rule: rule, Message: msg})
}

// here renders the path of the value a walk is visiting: base, then the
// stack.
func (c *checker) here(base *pathNode) string {
	var b strings.Builder
	if base != nil {
		base.render(&b)
	}
	for _, s := range c.stack {
		renderStep(&b, s)
	}
	return b.String()
}

// walkViolation reports a violation at the value a walk is visiting, or
// only notes that there is one when the walk is not tracking its path.
func (c *checker) walkViolation(base *pathNode, rule, msg string) {
	if !c.tracking {
		c.found = true
		return
	}
	c.res.Violations = append(c.res.Violations, Violation{Path: c.here(base), Rule: rule, Message: msg})
}

func (c *checker) push(s pathSeg) {
	if c.stack == nil {
		c.stack = make([]pathSeg, 0, 8) // one allocation covers usual nesting
	}
	c.stack = append(c.stack, s)
}

func (c *checker) pop() { c.stack = c.stack[:len(c.stack)-1] }

// typeViolation reports v at p as not of the wanted JSON type.
func (c *checker) typeViolation(p *pathNode, want string, v any) {
	c.violation(p, RuleType, "must be "+want+", not "+typeName(v))
}

// result sorts and returns the findings.
func (c *checker) result() Result {
	sortResult(&c.res)
	return c.res
}

// walkValue walks v, which is at base, and returns its JSON size (see
// walk). It walks twice only when there is something to report.
func (c *checker) walkValue(v any, base *pathNode, metaKeys bool) int {
	c.found = false
	n := c.walk(v, base, metaKeys, 1)
	if c.found {
		c.tracking = true
		c.walk(v, base, metaKeys, 1)
		c.tracking = false
	}
	return n
}

// walk visits v and everything under it. It reports strings and keys that
// are not valid UTF-8 (the encoder would replace the bad bytes with U+FFFD,
// silently changing the data), values JSON cannot represent (NaN,
// infinities, channels, functions, cycles) and, when metaKeys is set,
// object keys containing '.' or '$' (Auth0 metadata). It returns the
// approximate length of v as compact JSON (see scanString). v is at base
// plus c.stack.
func (c *checker) walk(v any, base *pathNode, metaKeys bool, depth int) int {
	switch x := v.(type) {
	case nil:
		return 4
	case string:
		n, ok := scanString(x)
		if !ok {
			c.walkViolation(base, RuleInvalidUTF8, "is not valid UTF-8: JSON encoding would replace the bad bytes, so fix the source encoding or the mapping")
		}
		return n
	case bool:
		if x {
			return 4
		}
		return 5
	case int:
		return intLen(int64(x))
	case int64:
		return intLen(x)
	case float64:
		return c.floatLen(x, base)
	case map[string]any:
		return c.walkObject(x, base, metaKeys, depth)
	case []any:
		return c.walkArray(x, base, metaKeys, depth)
	case RawValue:
		return c.walkRaw(x, base, metaKeys, depth)
	}
	return c.walkOther(v, base, metaKeys, depth)
}

func (c *checker) walkObject(m map[string]any, base *pathNode, metaKeys bool, depth int) int {
	if m == nil {
		return 4
	}
	if len(m) == 0 {
		return 2
	}
	if depth >= maxDepth {
		c.walkViolation(base, RuleJSONValue, fmt.Sprintf("is nested more than %d levels deep (or contains itself)", maxDepth))
		return 2
	}
	size := 2 + 2*len(m) - 1 // braces, colons, commas
	for k, v := range m {
		if c.tracking {
			c.push(pathSeg{key: k})
		}
		n, ok := scanString(k)
		if !ok {
			c.walkViolation(base, RuleInvalidUTF8, "this key is not valid UTF-8: JSON encoding would alter it")
		}
		if metaKeys && strings.ContainsAny(k, ".$") {
			c.walkViolation(base, RuleMetadataKeyChars, "metadata keys must not contain '.' or '$' (Auth0): rename the key in the mapping, or enable the sanitize_metadata_keys repair")
		}
		size += n + c.walk(v, base, metaKeys, depth+1)
		if c.tracking {
			c.pop()
		}
	}
	return size
}

func (c *checker) walkArray(s []any, base *pathNode, metaKeys bool, depth int) int {
	if s == nil {
		return 4
	}
	if len(s) == 0 {
		return 2
	}
	if depth >= maxDepth {
		c.walkViolation(base, RuleJSONValue, fmt.Sprintf("is nested more than %d levels deep (or contains itself)", maxDepth))
		return 2
	}
	size := 2 + len(s) - 1 // brackets, commas
	for i, v := range s {
		if c.tracking {
			c.push(pathSeg{index: i, isIdx: true})
		}
		size += c.walk(v, base, metaKeys, depth+1)
		if c.tracking {
			c.pop()
		}
	}
	return size
}

// walkOther handles the rare values that are not what decoded JSON or the
// mapping's expressions usually produce.
func (c *checker) walkOther(v any, base *pathNode, metaKeys bool, depth int) int {
	if n, ok := normalize(v); ok {
		switch x := n.(type) {
		case uint64:
			return len(strconv.FormatUint(x, 10))
		case map[string]any:
			return c.walkObject(x, base, metaKeys, depth)
		case []any:
			return c.walkArray(x, base, metaKeys, depth)
		}
		return c.walk(n, base, metaKeys, depth)
	}
	// Encoded by its own method, as bytes, or not at all: ask the encoder.
	// Members of such values are not visible to the key checks.
	b, err := json.Marshal(v)
	if err != nil {
		c.walkViolation(base, RuleJSONValue, "cannot be encoded as JSON ("+typeName(v)+"): convert it in the mapping")
		return 0
	}
	return len(b)
}

// floatLen returns the encoded length of f and reports NaN and infinities,
// which JSON has no way to write.
func (c *checker) floatLen(f float64, base *pathNode) int {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		c.walkViolation(base, RuleJSONValue, "is NaN or infinite, which JSON cannot represent: fix the expression that computes it")
		return 0
	}
	var buf [32]byte
	return len(strconv.AppendFloat(buf[:0], f, 'g', -1, 64))
}

func intLen(i int64) int {
	var buf [24]byte
	return len(strconv.AppendInt(buf[:0], i, 10))
}

// scanString returns the length of s as a JSON string (quotes and escapes
// included, HTML characters not escaped) and whether s is valid UTF-8, in
// one pass. Sizes are approximate in the way the encoder's options differ
// (HTML escaping adds 5 bytes per <, > or &); the limits they are compared
// with are not measured on our bytes anyway.
func scanString(s string) (int, bool) {
	n := 2 + len(s)
	valid := true
	for i := 0; i < len(s); {
		b := s[i]
		if b < utf8.RuneSelf {
			n += int(escapeExtra[b])
			i++
			continue
		}
		r, w := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && w == 1 {
			valid = false
			n += 5 // becomes \ufffd
		}
		i += w
	}
	return n, valid
}

// escapeExtra is how many bytes JSON adds to each ASCII byte: 1 for the
// two-character escapes, 5 for other control characters (\u00XX).
var escapeExtra = func() (t [utf8.RuneSelf]uint8) {
	for b := range 0x20 {
		t[b] = 5
	}
	for _, b := range []byte{'"', '\\', '\n', '\r', '\t'} {
		t[b] = 1
	}
	return t
}()

// sanitize returns v with '.' and '$' replaced by '_' in every object key
// at any depth, reporting each rename as a repair and each key it cannot
// rename (the new name is taken) as a violation. It always tracks its path
// in c.stack; call it only when hasMetaKeyChars says there is work. It never modifies v: a
// changed object or array is a new one (copy on write), so values shared
// with the account are left alone. changed reports whether the result
// differs from v. v is at base plus c.stack.
func (c *checker) sanitize(v any, base *pathNode, depth int) (out any, changed bool) {
	if depth >= maxDepth {
		return v, false // walk reports it
	}
	switch x := v.(type) {
	case nil, string, bool, int, int64, float64:
		return v, false
	case map[string]any:
		return c.sanitizeObject(x, base, depth)
	case []any:
		return c.sanitizeArray(x, base, depth)
	case RawValue:
		if _, clean, meta := x.RawFacts(); clean && !meta {
			return v, false // nothing to rename: keep the raw JSON
		}
		if out, changed := c.sanitize(x.Value(), base, depth); changed {
			return out, true
		}
		return v, false
	}
	n, ok := normalize(v)
	if !ok {
		return v, false // opaque: its keys are not visible
	}
	switch x := n.(type) {
	case map[string]any:
		if out, changed := c.sanitizeObject(x, base, depth); changed {
			return out, true
		}
	case []any:
		if out, changed := c.sanitizeArray(x, base, depth); changed {
			return out, true
		}
	}
	return v, false
}

// hasMetaKeyChars reports whether any object key under v contains '.' or
// '$', so that sanitize, which tracks paths, runs only when there is
// something to rename.
func hasMetaKeyChars(v any, depth int) bool {
	if depth >= maxDepth {
		return false
	}
	switch x := v.(type) {
	case nil, string, bool, int, int64, float64:
		return false
	case map[string]any:
		for k, mv := range x {
			if strings.ContainsAny(k, ".$") || hasMetaKeyChars(mv, depth+1) {
				return true
			}
		}
		return false
	case []any:
		for _, e := range x {
			if hasMetaKeyChars(e, depth+1) {
				return true
			}
		}
		return false
	case RawValue:
		if _, clean, meta := x.RawFacts(); clean {
			return meta
		}
		return hasMetaKeyChars(x.Value(), depth)
	}
	n, ok := normalize(v)
	if !ok {
		return false
	}
	switch n.(type) {
	case map[string]any, []any:
		return hasMetaKeyChars(n, depth)
	}
	return false
}

// keyUpdate is a changed member value found by sanitizeObject.
type keyUpdate struct {
	key string
	val any
}

func (c *checker) sanitizeObject(m map[string]any, base *pathNode, depth int) (any, bool) {
	var updates []keyUpdate
	var bad []string
	for k, v := range m {
		if strings.ContainsAny(k, ".$") {
			bad = append(bad, k)
		}
		c.push(pathSeg{key: k})
		if nv, changed := c.sanitize(v, base, depth+1); changed {
			updates = append(updates, keyUpdate{k, nv})
		}
		c.pop()
	}
	if len(updates) == 0 && len(bad) == 0 {
		return m, false
	}
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	for _, u := range updates {
		out[u.key] = u.val
	}
	// A new name collides when it is an existing key or the new name of
	// another bad key. Neither key is then renamed: which one should win is
	// a decision for the mapping's author, not for a repair.
	targets := make(map[string]int, len(bad))
	for _, k := range bad {
		targets[metaKeyReplacer.Replace(k)]++
	}
	renamed := false
	for _, k := range bad {
		nk := metaKeyReplacer.Replace(k)
		c.push(pathSeg{key: k})
		if _, taken := m[nk]; taken || targets[nk] > 1 {
			c.res.Violations = append(c.res.Violations, Violation{Path: c.here(base), Rule: RuleMetadataKeyCollision,
				Message: fmt.Sprintf("contains '.' or '$', and the sanitized name %q is already taken by another key: rename one of them in the mapping", nk)})
		} else {
			out[nk] = out[k]
			delete(out, k)
			renamed = true
			c.res.Repaired = append(c.res.Repaired, Violation{Path: c.here(base), Rule: RuleMetadataKeyChars,
				Message: fmt.Sprintf("renamed to %q: metadata keys must not contain '.' or '$'", nk)})
		}
		c.pop()
	}
	if !renamed && len(updates) == 0 {
		return m, false
	}
	return out, true
}

func (c *checker) sanitizeArray(s []any, base *pathNode, depth int) (any, bool) {
	var out []any
	for i, v := range s {
		c.push(pathSeg{index: i, isIdx: true})
		nv, changed := c.sanitize(v, base, depth+1)
		c.pop()
		if !changed {
			continue
		}
		if out == nil {
			out = make([]any, len(s))
			copy(out, s)
		}
		out[i] = nv
	}
	if out == nil {
		return s, false
	}
	return out, true
}

// metaKeyReplacer is the sanitize_metadata_keys repair.
var metaKeyReplacer = strings.NewReplacer(".", "_", "$", "_")
