package mapfunc

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/expr-lang/expr"
)

// Doc describes one helper for the mapping reference.
type Doc struct {
	// Name is what expressions call, e.g. "gigya_time".
	Name string
	// Signature shows the parameters and the result, e.g.
	// "phone_e164(v, default_cc?) string|nil"; a "?" marks an optional
	// parameter, "..." a repeated one.
	Signature string
	// Description is one sentence on what the helper does, including what
	// it returns for values it cannot use.
	Description string
	// Example is an expression that calls the helper, self-contained (no
	// account needed).
	Example string
	// Result is Example's value rendered as JSON ("null" for nil). A test
	// evaluates every example, so the reference cannot lie.
	Result string
}

// helper is one entry of the registry: its documentation, its
// implementation in expr's calling convention and its typed signatures.
type helper struct {
	doc   Doc
	fn    func(params ...any) (any, error)
	types []any // new(func(...) ...) values, as expr.Function wants them
}

// helpers is the registry, in reference order. It is a function, not a
// package variable, so there is no mutable global; building it is cheap and
// only done when a mapping is compiled.
func helpers() []helper {
	return []helper{
		// Time.
		{Doc{
			Name:        "gigya_time",
			Signature:   "gigya_time(v) string|nil",
			Description: "An RFC 3339 UTC timestamp with milliseconds, from an ISO 8601 / RFC 3339 string (any offset, with or without fraction; no offset means UTC), an epoch number or digit string (absolute value below 1e11: seconds, else milliseconds) or a date() value; error for anything else.",
			Example:     `gigya_time("2019-03-14T10:26:53.589+01:00")`,
			Result:      `"2019-03-14T09:26:53.589Z"`,
		}, gigyaTime, []any{new(func(any) any)}},
		{Doc{
			Name:        "gigya_epoch_ms",
			Signature:   "gigya_epoch_ms(v) int|nil",
			Description: "Milliseconds since the Unix epoch, from the same inputs as gigya_time (so a seconds epoch is multiplied by 1000); error for anything else.",
			Example:     `gigya_epoch_ms(1700000000)`,
			Result:      `1700000000000`,
		}, gigyaEpochMs, []any{new(func(any) any)}},
		{Doc{
			Name:        "gigya_epoch_s",
			Signature:   "gigya_epoch_s(v) int|nil",
			Description: "Whole seconds since the Unix epoch (milliseconds dropped, rounding down), from the same inputs as gigya_time; error for anything else.",
			Example:     `gigya_epoch_s("2019-03-14T09:26:53.589Z")`,
			Result:      `1552555613`,
		}, gigyaEpochS, []any{new(func(any) any)}},

		// Identity.
		{Doc{
			Name:        "email",
			Signature:   "email(v) string|nil",
			Description: "The address trimmed and lower-cased; nil for a blank string; error when it does not look like one address (exactly one @, a dotted domain, no spaces or list punctuation).",
			Example:     `email("  Jane.Doe@Example.COM ")`,
			Result:      `"jane.doe@example.com"`,
		}, email, []any{new(func(any) any)}},
		{Doc{
			Name:        "email_list",
			Signature:   "email_list(v, exclude?) array|nil",
			Description: "The addresses of v (one address or an array of them) as email() gives them, without duplicates and without those in exclude (same forms), in order; nil when none is left; error when one is not an address.",
			Example:     `email_list(["A@x.com", "b@x.com", "a@X.com"], ["b@x.com"])`,
			Result:      `["a@x.com"]`,
		}, emailList, []any{new(func(any) any), new(func(any, any) any)}},
		{Doc{
			Name:        "phone_e164",
			Signature:   "phone_e164(v, default_cc?) string|nil",
			Description: "The number in E.164 (+ and 7 to 15 digits) from international (+49 …, 0049 …, +49 (0)151 …) or national writing; a national number needs default_cc, the country calling code (\"49\"), and loses its trunk 0 (kept for Italy, San Marino, Côte d'Ivoire; NANP's trunk 1 is dropped); error when that is impossible.",
			Example:     `phone_e164("(0151) 1234-5678", "49")`,
			Result:      `"+4915112345678"`,
		}, phoneE164, []any{new(func(any) any), new(func(any, string) any)}},
		{Doc{
			Name:        "first_phone",
			Signature:   "first_phone(phones, type?) string|nil",
			Description: "The number of the first entry of a Gigya phones array ([{number, type}]) that has one, optionally only among entries of the given type (case-insensitive), as written (pass it to phone_e164); nil when there is none.",
			Example:     `first_phone([{"type": "home", "number": "030 123456"}, {"type": "mobile", "number": "+49 151 12345678"}], "mobile")`,
			Result:      `"+49 151 12345678"`,
		}, firstPhone, []any{new(func(any) any), new(func(any, string) any)}},

		// Text.
		{Doc{
			Name:        "coalesce",
			Signature:   "coalesce(v...) any",
			Description: "The first argument that is not nil, a blank string, an empty array or an empty object; nil when there is none.",
			Example:     `coalesce(nil, " ", [], "fallback")`,
			Result:      `"fallback"`,
		}, coalesce, []any{new(func(...any) any)}},
		{Doc{
			Name:        "join_name",
			Signature:   "join_name(first, last) string|nil",
			Description: "First and last name trimmed and joined with one space, skipping a blank part; nil when both are blank.",
			Example:     `join_name(" Jane", "Doe ")`,
			Result:      `"Jane Doe"`,
		}, joinName, []any{new(func(any, any) any)}},
		{Doc{
			Name:        "join_nonempty",
			Signature:   "join_nonempty(sep, parts...) string|nil",
			Description: "The parts (text or numbers; arrays are expanded one level) trimmed and joined with sep, skipping nil and blank ones; nil when nothing is left.",
			Example:     `join_nonempty(", ", "Berlin", "", nil, 10115)`,
			Result:      `"Berlin, 10115"`,
		}, joinNonempty, []any{new(func(string, ...any) any)}},
		{Doc{
			Name:        "to_bool",
			Signature:   "to_bool(v) bool|nil",
			Description: "A boolean from a boolean, a number (0 is false) or a string (true/false, 1/0, yes/no, y/n, on/off, t/f in any case); nil for a blank string; error for any other string.",
			Example:     `to_bool("Yes")`,
			Result:      `true`,
		}, toBool, []any{new(func(any) any)}},
		{Doc{
			Name:        "gender",
			Signature:   "gender(v) string|nil",
			Description: "\"male\" or \"female\" from Gigya's m/f (or male/female/man/woman, any case); nil for u, unknown and anything else.",
			Example:     `gender("F")`,
			Result:      `"female"`,
		}, genderWord, []any{new(func(any) any)}},
		{Doc{
			Name:        "gender_code",
			Signature:   "gender_code(v) string|nil",
			Description: "LoginRadius' \"M\", \"F\" or \"U\" from the same inputs as gender: \"U\" for u, unknown and any other non-blank value; nil for nil or blank.",
			Example:     `gender_code("male")`,
			Result:      `"M"`,
		}, genderCode, []any{new(func(any) any)}},
		{Doc{
			Name:        "birthdate",
			Signature:   "birthdate(year, month, day) string|nil",
			Description: "\"YYYY-MM-DD\" from Gigya's birthYear, birthMonth and birthDay (numbers or digit strings); nil unless all three are present and form a real date.",
			Example:     `birthdate(1988, 5, 12)`,
			Result:      `"1988-05-12"`,
		}, birthdate, []any{new(func(any, any, any) any)}},

		// Locale.
		{Doc{
			Name:        "locale",
			Signature:   "locale(v) string|nil",
			Description: "A BCP 47 language tag with canonical case from a Gigya/POSIX or BCP 47 locale (de_DE, en-gb, zh_hant_tw, de_DE.UTF-8); nil when it is not one.",
			Example:     `locale("zh_hant_tw")`,
			Result:      `"zh-Hant-TW"`,
		}, localeTag, []any{new(func(any) any)}},
		{Doc{
			Name:        "language",
			Signature:   "language(v) string|nil",
			Description: "The lower-case language subtag of a locale (as accepted by locale); nil when it is not one.",
			Example:     `language("de_DE")`,
			Result:      `"de"`,
		}, language, []any{new(func(any) any)}},
		{Doc{
			Name:        "country",
			Signature:   "country(v) string|nil",
			Description: "An upper-case ISO 3166-1 alpha-2 code from a country value (two letters, any case; UK becomes GB), an English country name or common alias (Germany, United States of America, Great Britain), or the region of a locale written with - or _ (de_DE; a bare \"sv\" is read as a country code); nil for names in other languages, alpha-3 codes, locales without a region and unassigned codes.",
			Example:     `country("de_DE")`,
			Result:      `"DE"`,
		}, country, []any{new(func(any) any)}},
		{Doc{
			Name:        "country_name",
			Signature:   "country_name(v) string|nil",
			Description: "The English short name of the country that country() reads from v (code, English name or alias, locale with a region); otherwise v as written, trimmed, so that a name in another language is kept rather than dropped; nil for nil or blank.",
			Example:     `country_name("de_AT")`,
			Result:      `"Austria"`,
		}, countryName, []any{new(func(any) any)}},

		// Objects.
		{Doc{
			Name:        "omit_empty",
			Signature:   "omit_empty(v) any",
			Description: "A copy of an object or array with nil, blank strings, empty arrays and empty objects removed at every depth (false and 0 stay); nil when nothing is left.",
			Example:     `omit_empty({"a": "", "b": {"c": nil}, "d": [1, " "], "e": false})`,
			Result:      `{"d":[1],"e":false}`,
		}, omitEmpty, []any{new(func(any) any)}},
		{Doc{
			Name:        "pick",
			Signature:   "pick(obj, keys...) object|nil",
			Description: "A new object with only the given top-level keys of obj that hold a non-nil value; nil when none does.",
			Example:     `pick({"a": 1, "b": 2, "c": 3}, "a", "c", "z")`,
			Result:      `{"a":1,"c":3}`,
		}, pick, []any{new(func(any, ...string) any)}},
		{Doc{
			Name:        "rename_keys",
			Signature:   "rename_keys(obj, renames) object|nil",
			Description: "A new object with the top-level keys of obj renamed by the renames object (old name: new name), other keys kept; error when a new name collides with a key already there.",
			Example:     `rename_keys({"loyaltyId": "L-1", "tier": "gold"}, {"loyaltyId": "loyalty_id"})`,
			Result:      `{"loyalty_id":"L-1","tier":"gold"}`,
		}, renameKeys, []any{new(func(any, map[string]any) any)}},
		{Doc{
			Name:        "custom_fields",
			Signature:   "custom_fields(obj, renames?) object|nil",
			Description: "A copy of obj whose top-level values are all strings, for targets whose custom fields are text: strings as they are, booleans and numbers as JSON writes them, arrays and objects as compact JSON; nil values left out; keys renamed first as rename_keys does; nil when nothing is left.",
			Example:     `custom_fields({"terms": true, "store": 101, "marketing": {"sms": false}}, {"store": "store_id"})`,
			Result:      `{"marketing":"{\"sms\":false}","store_id":"101","terms":"true"}`,
		}, customFields, []any{new(func(any) any), new(func(any, map[string]any) any)}},
		{Doc{
			Name:        "sanitize_keys",
			Signature:   "sanitize_keys(v) any",
			Description: "A copy with . and $ replaced by _ in every object key at every depth, as Auth0 metadata requires; error when two keys of one object end up equal.",
			Example:     `sanitize_keys({"a.b": {"$c": 1}})`,
			Result:      `{"a_b":{"_c":1}}`,
		}, sanitizeKeys, []any{new(func(any) any)}},

		// Passwords.
		{Doc{
			Name:        "auth0_password_hash",
			Signature:   "auth0_password_hash(password) object|nil",
			Description: "Auth0's custom_password_hash object for Gigya's password object (pbkdf2*, salted or plain md5/sha1/sha256/sha512, bcrypt), nil when the account has no password; error unsupported_password_hash for what Auth0 cannot verify (md5_crypt, custom, unusable templates), so pair it with on_error: omit and a flag to import such users for a reset instead.",
			Example:     `auth0_password_hash({"hash": "89v2METlSkX2LKWSQGHCdE4iUkE=", "hashSettings": {"algorithm": "pbkdf2_sha512", "rounds": 10000, "salt": "YWJjc29tZXRoaW5n"}})`,
			Result:      `{"algorithm":"pbkdf2","hash":{"encoding":"utf8","value":"$pbkdf2-sha512$i=10000,l=20$YWJjc29tZXRoaW5n$89v2METlSkX2LKWSQGHCdE4iUkE"}}`,
		}, auth0PasswordHash, []any{new(func(any) any)}},
		{Doc{
			Name:        "loginradius_password_hash",
			Signature:   "loginradius_password_hash(password, options?) string|nil",
			Description: "LoginRadius' PasswordHash for Gigya's password object (pbkdf2*, salted or plain md5/sha1/sha256/sha512, bcrypt, md5_crypt; a per-user salt after \":\"), nil when the account has no password; error unsupported_password_hash for what LoginRadius cannot verify (custom, iterated digests, unusable templates), so pair it with on_error: omit and a flag. options (types, hash_encoding, salt_encoding, salt_attach_types, pbkdf2_form) change the unconfirmed choices; pass the same to loginradius_password_encryption.",
			Example:     `loginradius_password_hash({"hash": "X03MO1qnZdYdgyfeuILPmQ==", "hashSettings": {"algorithm": "md5", "salt": "s4lt", "format": "$salt$password"}})`,
			Result:      `"X03MO1qnZdYdgyfeuILPmQ==:s4lt"`,
		}, loginRadiusPasswordHash, []any{new(func(any) any), new(func(any, map[string]any) any)}},
		{Doc{
			Name:        "loginradius_password_encryption",
			Signature:   "loginradius_password_encryption(password, options?) object|nil",
			Description: "The PasswordEncryption object (Type, IsPerPasswordSalt, SaltAttachType, NumberOfIteration, ...) of the bulk request that must carry the user's PasswordHash; nil wherever loginradius_password_hash gives nil or fails. The loginradius-bulk sink lifts it out of the profile and groups users by it.",
			Example:     `loginradius_password_encryption({"hash": "X03MO1qnZdYdgyfeuILPmQ==", "hashSettings": {"algorithm": "md5", "salt": "s4lt", "format": "$salt$password"}})`,
			Result:      `{"IsPerPasswordSalt":true,"PasswordHashEncodingType":"Base64","SaltAttachType":"Prepend","Type":"MD5"}`,
		}, loginRadiusPasswordEncryption, []any{new(func(any) any), new(func(any, map[string]any) any)}},
		{Doc{
			Name:        "unverifiable_password",
			Signature:   "unverifiable_password(password, target, options?) bool",
			Description: "True when the account has a password object that target (\"auth0\" or \"loginradius\") cannot verify, the ones its password helper refuses (unsupported_password_hash, invalid_password_hash); false without a password or with one the target verifies. options are loginradius_password_hash's, for the loginradius target. As a filter it leaves those users out of the bulk load, for login-time migration to move with their password (docs/login-migration.md).",
			Example:     `unverifiable_password({"hash": "$1$abcdefgh$FErPkDeIHv781e9EexumS.", "hashSettings": {"algorithm": "md5_crypt"}}, "auth0")`,
			Result:      `true`,
		}, unverifiablePassword, []any{new(func(any, string) bool), new(func(any, string, map[string]any) bool)}},
	}
}

// Options returns the expr options that define every helper, to be passed to
// expr.Compile together with the engine's own options (order does not
// matter).
func Options() []expr.Option {
	hs := helpers()
	opts := make([]expr.Option, len(hs))
	for i, h := range hs {
		opts[i] = expr.Function(h.doc.Name, h.fn, h.types...)
	}
	return opts
}

// Docs returns the documentation of every helper, in a stable order (the
// order of the mapping reference).
func Docs() []Doc {
	hs := helpers()
	docs := make([]Doc, len(hs))
	for i, h := range hs {
		docs[i] = h.doc
	}
	return docs
}

// Funcs returns every helper's implementation by name, in expr's calling
// convention (the function expr.Function registers), for an engine that
// evaluates expressions without expr's virtual machine: calling it is
// calling what the compiled expressions call.
func Funcs() map[string]func(params ...any) (any, error) {
	hs := helpers()
	fns := make(map[string]func(params ...any) (any, error), len(hs))
	for _, h := range hs {
		fns[h.doc.Name] = h.fn
	}
	return fns
}

// Names returns the helper names, in the order of [Docs].
func Names() []string {
	hs := helpers()
	names := make([]string, len(hs))
	for i, h := range hs {
		names[i] = h.doc.Name
	}
	return names
}

// arg returns params[i], or nil when the call has fewer arguments. expr
// checks the arity at compile time; this keeps a direct call with too few
// arguments from panicking.
func arg(params []any, i int) any {
	if i < len(params) {
		return params[i]
	}
	return nil
}

// typeError reports a value of the wrong JSON type.
func typeError(name, want string, v any) error {
	return fmt.Errorf("%s: want %s, got %s", name, want, kindOf(v))
}

// kindOf names v's type in JSON terms, which is what mapping authors see.
func kindOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return "a number"
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	}
	switch reflect.ValueOf(v).Kind() {
	case reflect.Map, reflect.Struct:
		return "an object (" + reflect.TypeOf(v).String() + ")"
	case reflect.Slice, reflect.Array:
		return "an array (" + reflect.TypeOf(v).String() + ")"
	}
	return "a " + reflect.TypeOf(v).String()
}

// quote renders s for an error message, shortened so a huge value does not
// flood the logs.
func quote(s string) string {
	const limit = 64
	if len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		return strconv.Quote(s[:cut]) + "…"
	}
	return strconv.Quote(s)
}

// blank reports whether s is empty or only white space.
func blank(s string) bool { return strings.TrimSpace(s) == "" }

// IsEmpty is the emptiness test of coalesce and omit_empty, which the
// mapping engine also uses for `required:` and the merged identities view:
// nil (typed nils included), a blank string, an empty array or an empty
// object. false and 0 are values.
func IsEmpty(v any) bool {
	switch x := v.(type) {
	case nil:
		return true
	case string:
		return blank(x)
	case bool, int, int64, float64:
		return false
	case map[string]any:
		return len(x) == 0
	case []any:
		return len(x) == 0
	}
	rv := reflect.ValueOf(v)
	switch rv.Kind() {
	case reflect.Map, reflect.Slice:
		return rv.IsNil() || rv.Len() == 0
	case reflect.Array:
		return rv.Len() == 0
	case reflect.Pointer, reflect.Interface, reflect.Func, reflect.Chan:
		return rv.IsNil()
	}
	return false
}

// intValue converts an integral number of any Go numeric type to int64. ok is
// false for a non-number, a fraction, NaN, an infinity or a value out of
// int64's range.
func intValue(v any) (n int64, ok bool) {
	switch x := v.(type) {
	case int64:
		return x, true
	case int:
		return int64(x), true
	case float64:
		return floatToInt(x)
	case int32:
		return int64(x), true
	case int16:
		return int64(x), true
	case int8:
		return int64(x), true
	case uint:
		return uintToInt(uint64(x))
	case uint64:
		return uintToInt(x)
	case uint32:
		return int64(x), true
	case uint16:
		return int64(x), true
	case uint8:
		return int64(x), true
	case float32:
		return floatToInt(float64(x))
	}
	return 0, false
}

func uintToInt(u uint64) (int64, bool) {
	if u > 1<<63-1 {
		return 0, false
	}
	return int64(u), true
}

func floatToInt(f float64) (int64, bool) {
	// -2^63 is exact in float64, 2^63 is the first value out of range; NaN
	// fails both comparisons.
	if !(f >= -(1<<63) && f < 1<<63) || f != float64(int64(f)) {
		return 0, false
	}
	return int64(f), true
}

// isNumber reports whether v is a Go number.
func isNumber(v any) bool {
	switch v.(type) {
	case int, int8, int16, int32, int64, uint, uint8, uint16, uint32, uint64, float32, float64:
		return true
	}
	return false
}
