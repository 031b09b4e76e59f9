package validate

import (
	"fmt"
	"slices"
	"strings"
)

// Violation is one broken rule (or, in [Result.Warnings] and
// [Result.Repaired], one remark about a rule).
type Violation struct {
	// Path locates the value in the user: top-level names as they are
	// ("email"), members after a dot ("app_metadata.created_at"), indexes in
	// brackets ("mfa_factors[1].phone.value"), and object keys that are not
	// plain names (containing '.', '[', ']', '"', spaces or non-printable
	// characters, or empty) as quoted strings in brackets
	// (`user_metadata["a.b"]`), so a path is never ambiguous.
	Path string
	// Rule is a stable, machine-readable rule id: one of the Rule* constants.
	// It is safe as a metric label (a small fixed set).
	Rule string
	// Message is human-readable and says what to do. Messages name keys and
	// enum values but never echo personal data (an email address, a name, a
	// hash), so they are safe to log.
	Message string
}

// Rule ids. Each rule of each target is listed in the package
// documentation with its source.
const (
	RuleRequired              = "required"                  // a required value is missing
	RuleType                  = "type"                      // wrong JSON type
	RuleAdditionalProperty    = "additional_property"       // a name the target's schema does not allow
	RuleFormatEmail           = "format_email"              // not a usable email address
	RuleE164                  = "e164"                      // phone number not in E.164 form
	RuleReservedAppMetadata   = "reserved_app_metadata_key" // Auth0 reserves this app_metadata key
	RuleMetadataKeyChars      = "metadata_key_chars"        // '.' or '$' in a metadata key
	RuleMetadataKeyCollision  = "metadata_key_collision"    // sanitizing a key would overwrite another key
	RuleUserIDPrefix          = "user_id_prefix"            // user_id already carries "auth0|"
	RulePasswordHashFormat    = "password_hash_format"      // password_hash not bcrypt $2a$/$2b$ cost 10
	RulePasswordHashExclusive = "password_hash_exclusive"   // password_hash and custom_password_hash together
	RuleCustomPasswordHash    = "custom_password_hash_shape"
	RuleMFAFactor             = "mfa_factor_shape"   // an mfa_factors item is not exactly one factor
	RuleArrayLength           = "array_length"       // too few or too many items
	RuleTOTPSecret            = "totp_secret_base32" // totp.secret not unpadded upper-case Base32
	RuleInvalidUTF8           = "invalid_utf8"       // a string or key is not valid UTF-8
	RuleJSONValue             = "json_value"         // a value JSON cannot represent (NaN, a channel, ...)
	RuleMaxSize               = "max_size"           // the user alone exceeds a hard size limit
	// Warnings only.
	RuleProfileSize     = "profile_size"     // over Auth0's 10 KB profile size
	RuleLength          = "length"           // outside the Management API length limits
	RuleIgnoredProperty = "ignored_property" // a name the target would ignore (likely a typo)
	RulePascalCase      = "pascal_case"      // LoginRadius field names are PascalCase
)

// Result is the outcome of validating one user.
type Result struct {
	// Violations are broken rules: the user must not be published. Use
	// [Result.Err] to turn them into a dead-letter error.
	Violations []Violation
	// Warnings do not stop the user (for example a profile over 10 KB, or
	// a limit the target documents elsewhere but may not enforce on import):
	// publish it, but report them.
	Warnings []Violation
	// Repaired lists what enabled repairs (see [Options]) changed in the
	// user, one entry per change, with the path as it was before the repair.
	Repaired []Violation
}

// OK reports whether the user has no violations (warnings and repairs do
// not count).
func (r Result) OK() bool { return len(r.Violations) == 0 }

// Options enable documented repairs instead of violations. The zero value
// repairs nothing. A repair a target has no use for is ignored by that
// target's validator (LoginRadius users have no metadata, for instance).
type Options struct {
	// SanitizeMetadataKeys replaces '.' and '$' in every key of
	// app_metadata and user_metadata, at any depth (including objects inside
	// arrays), with '_' instead of reporting metadata_key_chars. When the
	// new key already exists, or two keys would get the same new name, none
	// of those keys is renamed and each is reported as
	// metadata_key_collision: a repair must never drop data.
	SanitizeMetadataKeys bool
	// StripAuth0Prefix turns a user_id "auth0|x" into "x" instead of
	// reporting user_id_prefix. Auth0 prepends the connection strategy
	// itself, so re-importing an Auth0 export unchanged produces
	// "auth0|auth0|x" (docs/apis/auth0.md, "Known pitfalls", item 8). Only
	// one prefix is removed; an id that still starts with "auth0|"
	// afterwards, or that would become empty, is reported.
	StripAuth0Prefix bool
}

// Repair names, as a mapping's `repair:` list spells them.
const (
	RepairSanitizeMetadataKeys = "sanitize_metadata_keys"
	RepairStripAuth0Prefix     = "strip_auth0_prefix"
)

// RepairNames returns every repair name [ParseRepairs] accepts, sorted.
func RepairNames() []string {
	return []string{RepairSanitizeMetadataKeys, RepairStripAuth0Prefix}
}

// ParseRepairs turns repair names (a mapping's `repair:` list) into
// Options. An unknown name is an error wrapping [ErrUnknownRepair] that
// lists the known names; duplicates are fine.
func ParseRepairs(names []string) (Options, error) {
	var o Options
	for _, n := range names {
		switch n {
		case RepairSanitizeMetadataKeys:
			o.SanitizeMetadataKeys = true
		case RepairStripAuth0Prefix:
			o.StripAuth0Prefix = true
		default:
			return Options{}, fmt.Errorf("%w %q (known: %s)", ErrUnknownRepair, n, strings.Join(RepairNames(), ", "))
		}
	}
	return o, nil
}

// Validator checks users of one target.
//
// Validate never fails as a call: every problem is in the [Result]. It
// never panics on any input, including values JSON cannot represent.
// It modifies user only for repairs enabled in [Options], and then only by
// replacing top-level values (a repaired app_metadata is a new object):
// nested objects and arrays are never written to, because a mapped user
// may share them with the decoded account it came from.
//
// The built-in validators hold only their Options, so one Validator may be
// used by any number of goroutines at once (each with its own user).
//
// ValidateFields is the same check on the user's members as a list, which
// a mapping engine that knows its output fields fills without building a
// map; what Validate says of a map, ValidateFields says of its members in
// any order.
type Validator interface {
	Validate(user map[string]any) Result
	ValidateFields(user *Fields) Result
}

// Fields is a user as the list of its top-level members: Keys[i] holds
// Values[i], and no key appears twice. A repair replaces a value in place.
//
// KeySizes is optional: an engine whose keys are fixed in advance gives
// each key's size as [StringSize] measures it (a valid key), or -1 to
// have it measured here.
type Fields struct {
	Keys     []string
	Values   []any
	KeySizes []int
}

// keySize returns the size of the i-th key and whether it is valid UTF-8.
func (f *Fields) keySize(i int) (int, bool) {
	if i < len(f.KeySizes) && f.KeySizes[i] >= 0 {
		return f.KeySizes[i], true
	}
	return scanString(f.Keys[i])
}

// index returns the position of key, or -1.
func (f *Fields) index(key string) int {
	for i, k := range f.Keys {
		if k == key {
			return i
		}
	}
	return -1
}

// get returns the value of key, as a map index would.
func (f *Fields) get(key string) (any, bool) {
	if i := f.index(key); i >= 0 {
		return f.Values[i], true
	}
	return nil, false
}

// validateMap is Validate by ValidateFields: the map's members as a list,
// and the values the repairs replaced written back.
func validateMap(validate func(*Fields) Result, user map[string]any) Result {
	f := Fields{Keys: make([]string, 0, len(user)), Values: make([]any, 0, len(user))}
	for k, v := range user {
		f.Keys = append(f.Keys, k)
		f.Values = append(f.Values, v)
	}
	res := validate(&f)
	if len(res.Repaired) > 0 {
		for i, k := range f.Keys {
			user[k] = f.Values[i]
		}
	}
	return res
}

// Factory builds the validator of one target with the given repairs.
type Factory func(Options) Validator

// Builtin returns the built-in validators by target name, as a mapping's
// `target:` (or `validate:`) names them. It returns a new map on every call,
// so a caller may add or replace entries (a test double, another target).
func Builtin() map[string]Factory {
	return map[string]Factory{
		"auth0":       NewAuth0,
		"loginradius": NewLoginRadius,
	}
}

// sortResult orders each list by path (stable, so the rules found for one
// path keep the order they were checked in). Map iteration order would
// otherwise make the order, and so dead-letter messages, random.
func sortResult(r *Result) {
	for _, l := range [...][]Violation{r.Violations, r.Warnings, r.Repaired} {
		if len(l) > 1 {
			slices.SortStableFunc(l, func(a, b Violation) int { return strings.Compare(a.Path, b.Path) })
		}
	}
}
