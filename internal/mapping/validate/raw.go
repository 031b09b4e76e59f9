package validate

import (
	"strconv"
)

// RawValue is a value of a user that a mapping engine wrote as JSON without
// building it: typically a subtree copied whole from the source record (a
// Gigya account's `data`). The engine learns, while it writes the JSON, what
// the walks of a validator need to know about such a value — its size as
// they measure it, and whether it holds anything they would report — so a
// validator does not walk it again. Whenever a check must look inside (a
// finding's path, a repair, a type check), it asks for the Go value, which
// is exactly what the engine that decodes records into maps would hold.
//
// A user given to [Validator.Validate] may hold RawValues anywhere a value
// may be; they are never modified, and a repair that must change one
// replaces it with a new Go value.
type RawValue interface {
	// RawFacts returns the size of the value as the walks measure it (see
	// [StringSize]) and what the engine saw while writing it: clean is
	// false when the value may hold something a walk reports other than a
	// metadata key (invalid UTF-8, nesting too deep...), metaKeys is true
	// when an object key under it contains '.' or '$'.
	RawFacts() (size int, clean, metaKeys bool)
	// Value returns the value as a decoder builds it (map[string]any,
	// []any, string, int64, float64, bool or nil).
	Value() any
}

// RawObject is a RawValue that is an object whose member keys the engine
// knows without building it: an object of the mapping's own output fields
// (app_metadata.x, app_metadata.y...). A check that only needs the keys or
// the fact that it is an object asks for them, not for the map.
type RawObject interface {
	RawValue
	// RawKeys returns the keys of the members present, in no particular
	// order. The slice is the engine's: valid until the next record.
	RawKeys() []string
}

// Converted is a RawValue that is, unchanged, the whole result of one of
// the mapping's password converters, which ConvertedBy names ("" for none).
// A validator skips the checks that converter's output is proven to pass:
// FuzzAuth0 in package passhash runs every object it returns through them.
// What a mapping writes by hand, or changes, is checked as ever.
type Converted interface {
	RawValue
	ConvertedBy() string
}

// ConverterAuth0 is the helper auth0_password_hash, whose objects pass the
// custom_password_hash checks.
const ConverterAuth0 = "auth0_password_hash"

// objectKeys returns the member keys of v if it is an object, reporting a
// type violation at p if it is not.
func (c *checker) objectKeys(v any, p *pathNode) ([]string, bool) {
	if o, ok := v.(RawObject); ok {
		return o.RawKeys(), true
	}
	m, ok := c.wantObject(v, p)
	if !ok {
		return nil, false
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	return keys, true
}

// walkRaw walks a RawValue: from its facts when they say there is nothing to
// report, else the Go value it stands for.
func (c *checker) walkRaw(r RawValue, base *pathNode, metaKeys bool, depth int) int {
	size, clean, meta := r.RawFacts()
	if clean && (!metaKeys || !meta) {
		return size
	}
	return c.walk(r.Value(), base, metaKeys, depth)
}

// StringSize returns the length of s as a JSON string the way the walks
// measure it (quotes and escapes included, HTML characters not escaped, an
// invalid byte counted as the \ufffd the encoder writes) and whether s is
// valid UTF-8. A mapping engine that writes raw JSON uses it to report the
// same sizes (see [RawValue]).
func StringSize(s string) (n int, validUTF8 bool) { return scanString(s) }

// IntSize returns the length of an integer as the walks measure it.
func IntSize(i int64) int { return intLen(i) }

// FloatSize returns the length of a finite float64 as the walks measure it
// (strconv's shortest 'g' form, which is not what the encoder writes for
// every value: the walks' sizes are approximate by design).
func FloatSize(f float64) int {
	var buf [32]byte
	return len(strconv.AppendFloat(buf[:0], f, 'g', -1, 64))
}
