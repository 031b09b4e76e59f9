package passhash

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
)

// Gigya algorithm names (hashSettings.algorithm, lower-cased), as listed for
// accounts.importFullAccount (docs/apis/gigya.md, "Hash algorithms and
// format templates").
const (
	AlgPBKDF2          = "pbkdf2" // PBKDF2 with HMAC-SHA1
	AlgPBKDF2SHA256    = "pbkdf2_sha256"
	AlgPBKDF2SHA512    = "pbkdf2_sha512" // Gigya's native algorithm
	AlgMD5             = "md5"
	AlgSHA1            = "sha1"
	AlgSHA256          = "sha256"
	AlgSHA512          = "sha512"
	AlgBcrypt          = "bcrypt"
	AlgSHA1HashBytes   = "sha1_hashbytes"
	AlgSHA512Hexa      = "sha512hexa" // "sha512Hexa" in Gigya's docs
	AlgMD5DoubleSalted = "md5_double_salted"
	AlgMD5Crypt        = "md5_crypt"
	AlgDrupal          = "drupal"
	AlgSymphony2       = "symphony2"
	AlgSAPABAP         = "sap_abap"
	AlgCustom          = "custom"
)

// Gigya is Gigya's exported password object:
//
//	password: {hash, compoundHash, hashSettings: {algorithm, rounds, salt, format, binaryFormat, url}, created}
//
// (docs/apis/gigya.md, "Password object"; compoundHash and binaryFormat come
// from the Node SDK's account type). Only the fields a conversion needs are
// kept.
type Gigya struct {
	// Hash is password.hash exactly as exported: standard base64 of the
	// digest or derived key for digest and pbkdf2 algorithms, or a full MCF
	// string ("$2a$10$...") for bcrypt.
	Hash string
	// Algorithm is hashSettings.algorithm, trimmed and lower-cased (so
	// Gigya's "sha512Hexa" is "sha512hexa").
	Algorithm string
	// Rounds is hashSettings.rounds: the PBKDF2 iteration count, the number
	// of times a plain digest was iterated (0 and 1 both mean once), and
	// 2^cost for bcrypt. 0 when absent.
	Rounds int
	// Salt is hashSettings.salt exactly as exported. Its meaning depends on
	// Format: without a format it is base64 of the salt bytes (pbkdf2); with
	// a format that contains "$salt" it is clear text, spliced into the
	// template as is (Gigya: with "$salt" in the format the salt "should be
	// clear text, not BASE64-encoded"; docs/apis/gigya.md, "Hash algorithms
	// and format templates").
	Salt string
	// Format is hashSettings.format, the pwHashFormat template that merges
	// the clear-text password ("$password") and salt ("$salt") with constant
	// text before hashing, e.g. "$salt$password" or "wikipedia$salt$password".
	// "" when absent. Gigya drops it at the user's first login.
	Format string
	// BinaryFormat is hashSettings.binaryFormat (pwHashBinaryFormat on
	// import), a template with explicit encodings such as
	// "$salt:hex$password:utf8". Its grammar is not documented, so no
	// converter accepts a hash that has one; it is kept so that they can
	// refuse instead of silently ignoring it.
	BinaryFormat string
	// CompoundHash is password.compoundHash, an MCF string. It stands in for
	// Hash when Hash is empty (bcrypt imported through
	// compoundHashedPassword).
	CompoundHash string
}

// FromAccount reads the "password" value of a decoded Gigya account: a
// map[string]any as produced by JSON decoding (or an [Object]), whose
// numbers may be int, int64, float64, json.Number or numeric strings.
//
// ok is false, with a nil error, when the account has no password: password
// is nil or missing, or it has neither hash nor compoundHash (Gigya returns
// password.created even for accounts without include=password). A value that
// is present but of the wrong type gives an error matching [ErrMalformed],
// classified permanent with code [CodeMalformed].
func FromAccount(password any) (g Gigya, ok bool, err error) {
	if password == nil {
		return Gigya{}, false, nil
	}
	obj, isObj := objectOf(password)
	if !isObj {
		return Gigya{}, false, malformed("password is %s, want an object", typeName(password))
	}
	if g.Hash, err = optString(obj, "hash", "password.hash"); err != nil {
		return Gigya{}, false, err
	}
	if g.CompoundHash, err = optString(obj, "compoundHash", "password.compoundHash"); err != nil {
		return Gigya{}, false, err
	}
	if g.Hash == "" && g.CompoundHash == "" {
		return Gigya{}, false, nil
	}
	var settings Object // nil: no settings
	if hs := obj.Member("hashSettings"); hs != nil {
		var isObj bool
		if settings, isObj = objectOf(hs); !isObj {
			return Gigya{}, false, malformed("password.hashSettings is %s, want an object", typeName(hs))
		}
	}
	alg, err := optString(settings, "algorithm", "hashSettings.algorithm")
	if err != nil {
		return Gigya{}, false, err
	}
	g.Algorithm = strings.ToLower(strings.TrimSpace(alg))
	if g.Rounds, err = optInt(settings, "rounds", "hashSettings.rounds"); err != nil {
		return Gigya{}, false, err
	}
	if g.Salt, err = optString(settings, "salt", "hashSettings.salt"); err != nil {
		return Gigya{}, false, err
	}
	if g.Format, err = optString(settings, "format", "hashSettings.format"); err != nil {
		return Gigya{}, false, err
	}
	if g.BinaryFormat, err = optString(settings, "binaryFormat", "hashSettings.binaryFormat"); err != nil {
		return Gigya{}, false, err
	}
	return g, true, nil
}

// Object is an object of an account read member by member: FromAccount
// takes one instead of a map, so that the mapping engine can hand over its
// view of the raw record without building the password object.
type Object interface {
	// Member returns the value of key as a decoder builds it (string,
	// float64 or int64, bool, []any, nil when absent or null), an object
	// as an Object or a map[string]any.
	Member(key string) any
}

// mapObject is a decoded object as an Object.
type mapObject map[string]any

func (m mapObject) Member(key string) any { return m[key] }

// objectOf returns v as an Object when it is an object.
func objectOf(v any) (Object, bool) {
	switch x := v.(type) {
	case map[string]any:
		return mapObject(x), true
	case Object:
		return x, true
	}
	return nil, false
}

// optString reads an optional string; absent and null are "".
func optString(obj Object, key, path string) (string, error) {
	if obj == nil {
		return "", nil
	}
	switch v := obj.Member(key).(type) {
	case nil:
		return "", nil
	case string:
		return v, nil
	default:
		return "", malformed("%s is %s, want a string", path, typeName(v))
	}
}

// optInt reads an optional integer in any of the forms a JSON decoder
// produces; absent, null and "" are 0. Fractions and out-of-range values are
// errors rather than being rounded, because a wrong iteration count silently
// breaks every login.
func optInt(obj Object, key, path string) (int, error) {
	if obj == nil {
		return 0, nil
	}
	var n int64
	switch v := obj.Member(key).(type) {
	case nil:
		return 0, nil
	case int:
		return v, nil
	case int32:
		n = int64(v)
	case int64:
		n = v
	case uint32:
		n = int64(v)
	case uint64:
		if v > math.MaxInt64 {
			return 0, malformed("%s %d is out of range", path, v)
		}
		n = int64(v)
	case float64:
		if v != math.Trunc(v) || v < math.MinInt64 || v >= math.MaxInt64 {
			return 0, malformed("%s %v is not an integer", path, v)
		}
		n = int64(v)
	case json.Number:
		return parseInt(string(v), path)
	case string:
		if strings.TrimSpace(v) == "" {
			return 0, nil
		}
		return parseInt(strings.TrimSpace(v), path)
	default:
		return 0, malformed("%s is %s, want a number", path, typeName(v))
	}
	if n < math.MinInt || n > math.MaxInt {
		return 0, malformed("%s %d is out of range", path, n)
	}
	return int(n), nil
}

// parseInt accepts a decimal integer, or a number literal with an integral
// value such as "1e4" (which some JSON encoders write).
func parseInt(s, path string) (int, error) {
	if n, err := strconv.Atoi(s); err == nil {
		return n, nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || f != math.Trunc(f) || f < math.MinInt64 || f >= math.MaxInt64 || f < math.MinInt || f > math.MaxInt {
		return 0, malformed("%s %q is not an integer", path, s)
	}
	return int(f), nil
}

func typeName(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case bool:
		return "a boolean"
	case map[string]any, Object:
		return "an object"
	case []any:
		return "an array"
	case float64, int, int64, json.Number:
		return "a number"
	default:
		return "an unexpected type"
	}
}
