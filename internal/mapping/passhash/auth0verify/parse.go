package auth0verify

import (
	"encoding/json"
	"math/bits"
	"strings"
)

// Algorithm names of custom_password_hash.algorithm.
const (
	Argon2 = "argon2"
	Bcrypt = "bcrypt"
	HMAC   = "hmac"
	LDAP   = "ldap"
	MD4    = "md4"
	MD5    = "md5"
	SHA1   = "sha1"
	SHA256 = "sha256"
	SHA512 = "sha512"
	PBKDF2 = "pbkdf2"
	Scrypt = "scrypt"
)

// Defaults Auth0 documents for omitted parameters.
const (
	DefaultPBKDF2Iterations = 100000
	DefaultPBKDF2KeyLength  = 64
	DefaultScryptCost       = 16384
	DefaultScryptBlockSize  = 8
	DefaultScryptParallel   = 1
)

// algorithmRule is what Auth0's per-algorithm section allows.
type algorithmRule struct {
	// textValue: hash.value is a string form (PHC, MCF, RFC 2307) and
	// hash.encoding must be utf8 or omitted; otherwise hash.encoding must be
	// hex or base64.
	textValue bool
	// salt: a salt object is allowed.
	salt bool
}

var rules = map[string]algorithmRule{
	Argon2: {textValue: true},
	Bcrypt: {textValue: true, salt: true},
	HMAC:   {},
	LDAP:   {textValue: true},
	MD4:    {salt: true},
	MD5:    {salt: true},
	SHA1:   {salt: true},
	SHA256: {salt: true},
	SHA512: {salt: true},
	PBKDF2: {textValue: true},
	Scrypt: {salt: true},
}

// Hash is a validated custom_password_hash. Create it with [Parse].
type Hash struct {
	// Algorithm is the object's "algorithm".
	Algorithm string
	// PasswordEncoding is password.encoding, "utf8" when omitted.
	PasswordEncoding string

	value []byte // decoded hash.value for the binary algorithms
	text  string // hash.value for the string forms

	digest string // hmac: hash.digest
	key    []byte // hmac: decoded hash.key.value

	salt         []byte // decoded salt.value; nil without a salt object
	saltPosition string // "prefix" or "suffix"

	keylen, cost, blockSize, parallelization int // scrypt

	pbkdf2 *pbkdf2PHC
	argon2 *argon2PHC
	ldap   *ldapValue
}

// Verify parses customPasswordHash (the JSON value of a user's
// custom_password_hash) and reports whether password matches it. A
// malformed object gives an error matching [ErrMalformed].
func Verify(customPasswordHash []byte, password string) (bool, error) {
	h, err := Parse(customPasswordHash)
	if err != nil {
		return false, err
	}
	return h.Verify(password)
}

// Parse validates customPasswordHash against Auth0's documented schema and
// per-algorithm rules (see the package documentation). Errors match
// [ErrMalformed].
func Parse(customPasswordHash []byte) (*Hash, error) {
	top, err := object(customPasswordHash, "custom_password_hash",
		"algorithm", "hash", "salt", "password", "keylen", "cost", "blockSize", "parallelization")
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"algorithm", "hash"} {
		if _, ok := top[k]; !ok {
			return nil, malformed("custom_password_hash: %s is required", k)
		}
	}
	h := &Hash{PasswordEncoding: "utf8"}
	if h.Algorithm, err = str(top["algorithm"], "algorithm"); err != nil {
		return nil, err
	}
	rule, ok := rules[h.Algorithm]
	if !ok {
		return nil, malformed("algorithm: unknown algorithm %q", h.Algorithm)
	}
	if err := h.parsePassword(top); err != nil {
		return nil, err
	}
	if err := h.parseScryptParams(top); err != nil {
		return nil, err
	}
	if err := h.parseSalt(top, rule); err != nil {
		return nil, err
	}
	if err := h.parseHash(top["hash"], rule); err != nil {
		return nil, err
	}
	return h, nil
}

func (h *Hash) parsePassword(top map[string]json.RawMessage) error {
	raw, ok := top["password"]
	if !ok {
		return nil
	}
	pw, err := object(raw, "password", "encoding")
	if err != nil {
		return err
	}
	if enc, ok := pw["encoding"]; ok {
		h.PasswordEncoding, err = enum(enc, "password.encoding", "ascii", "utf8", "utf16le", "ucs2", "latin1", "binary")
	}
	return err
}

// parseScryptParams reads keylen, cost, blockSize and parallelization,
// which Auth0 documents only for scrypt.
func (h *Hash) parseScryptParams(top map[string]json.RawMessage) error {
	h.cost, h.blockSize, h.parallelization = DefaultScryptCost, DefaultScryptBlockSize, DefaultScryptParallel
	fields := []struct {
		key string
		dst *int
	}{{"keylen", &h.keylen}, {"cost", &h.cost}, {"blockSize", &h.blockSize}, {"parallelization", &h.parallelization}}
	for _, f := range fields {
		raw, ok := top[f.key]
		if !ok {
			continue
		}
		if h.Algorithm != Scrypt {
			return malformed("%s is only allowed with scrypt", f.key)
		}
		n, err := integer(raw, f.key)
		if err != nil {
			return err
		}
		if n < 1 {
			return malformed("%s must be positive, got %d", f.key, n)
		}
		*f.dst = n
	}
	if h.Algorithm != Scrypt {
		return nil
	}
	if _, ok := top["keylen"]; !ok {
		return malformed("keylen is required with scrypt")
	}
	if h.cost < 2 || bits.OnesCount(uint(h.cost)) != 1 {
		return malformed("cost must be a power of two greater than one, got %d", h.cost)
	}
	return nil
}

func (h *Hash) parseSalt(top map[string]json.RawMessage, rule algorithmRule) error {
	raw, ok := top["salt"]
	if !ok {
		return nil
	}
	if !rule.salt {
		return malformed("salt is not allowed with %s", h.Algorithm)
	}
	s, err := object(raw, "salt", "value", "encoding", "position")
	if err != nil {
		return err
	}
	if _, ok := s["value"]; !ok {
		return malformed("salt.value is required")
	}
	value, err := str(s["value"], "salt.value")
	if err != nil {
		return err
	}
	encoding := "utf8"
	if enc, ok := s["encoding"]; ok {
		if encoding, err = enum(enc, "salt.encoding", "base64", "hex", "utf8"); err != nil {
			return err
		}
	}
	h.saltPosition = "prefix"
	if pos, ok := s["position"]; ok {
		if h.Algorithm == Scrypt {
			return malformed("salt.position is meaningless with scrypt")
		}
		if h.saltPosition, err = enum(pos, "salt.position", "prefix", "suffix"); err != nil {
			return err
		}
	}
	if h.salt, err = decodeValue(value, encoding, "salt.value"); err != nil {
		return err
	}
	if h.salt == nil {
		h.salt = []byte{} // an empty utf8 salt is still a salt object
	}
	return nil
}

func (h *Hash) parseHash(raw json.RawMessage, rule algorithmRule) error {
	hv, err := object(raw, "hash", "value", "encoding", "digest", "key")
	if err != nil {
		return err
	}
	if _, ok := hv["value"]; !ok {
		return malformed("hash.value is required")
	}
	value, err := str(hv["value"], "hash.value")
	if err != nil {
		return err
	}
	if value == "" {
		return malformed("hash.value is empty")
	}
	encoding := ""
	if enc, ok := hv["encoding"]; ok {
		if encoding, err = enum(enc, "hash.encoding", "base64", "hex", "utf8"); err != nil {
			return err
		}
	}
	if err := h.parseHMACParams(hv); err != nil {
		return err
	}
	if rule.textValue {
		if encoding != "" && encoding != "utf8" {
			return malformed("hash.encoding must be utf8 with %s, got %q", h.Algorithm, encoding)
		}
		h.text = value
		return h.parseText()
	}
	if encoding != "hex" && encoding != "base64" {
		return malformed("hash.encoding must be hex or base64 with %s", h.Algorithm)
	}
	if h.value, err = decodeValue(value, encoding, "hash.value"); err != nil {
		return err
	}
	switch h.Algorithm {
	case MD4, MD5, SHA1, SHA256, SHA512:
		if size := digestSizes[h.Algorithm]; len(h.value) != size {
			return malformed("hash.value is %d bytes, a %s digest has %d", len(h.value), h.Algorithm, size)
		}
	case HMAC:
		if size := digestSizes[h.digest]; size != 0 && len(h.value) != size {
			return malformed("hash.value is %d bytes, HMAC-%s has %d", len(h.value), h.digest, size)
		}
	case Scrypt:
		if len(h.value) != h.keylen {
			return malformed("hash.value is %d bytes but keylen is %d", len(h.value), h.keylen)
		}
	}
	return nil
}

// parseHMACParams reads hash.digest and hash.key, required with hmac and
// not allowed with anything else.
func (h *Hash) parseHMACParams(hv map[string]json.RawMessage) error {
	rawDigest, hasDigest := hv["digest"]
	rawKey, hasKey := hv["key"]
	if h.Algorithm != HMAC {
		if hasDigest || hasKey {
			return malformed("hash.digest and hash.key are only allowed with hmac")
		}
		return nil
	}
	if !hasDigest || !hasKey {
		return malformed("hmac requires hash.digest and hash.key")
	}
	var err error
	if h.digest, err = enum(rawDigest, "hash.digest",
		"md4", "md5", "ripemd160", "sha1", "sha224", "sha256", "sha384", "sha512", "whirlpool"); err != nil {
		return err
	}
	k, err := object(rawKey, "hash.key", "value", "encoding")
	if err != nil {
		return err
	}
	if _, ok := k["value"]; !ok {
		return malformed("hash.key.value is required")
	}
	value, err := str(k["value"], "hash.key.value")
	if err != nil {
		return err
	}
	encoding := "utf8"
	if enc, ok := k["encoding"]; ok {
		if encoding, err = enum(enc, "hash.key.encoding", "base64", "hex", "utf8"); err != nil {
			return err
		}
	}
	h.key, err = decodeValue(value, encoding, "hash.key.value")
	return err
}

// parseText parses the string forms of argon2, bcrypt, ldap and pbkdf2.
func (h *Hash) parseText() error {
	var err error
	switch h.Algorithm {
	case PBKDF2:
		h.pbkdf2, err = parsePBKDF2(h.text)
	case Argon2:
		h.argon2, err = parseArgon2(h.text)
	case LDAP:
		h.ldap, err = parseLDAP(h.text)
	case Bcrypt:
		err = checkBcrypt(h.text)
	}
	return err
}

// checkBcrypt accepts only the prefixes Auth0 lists ($2a$, $2b$, $2y$;
// "$2$, $sha1$ and $2x$ are not supported"), a cost of 04-31, and 53
// characters of bcrypt's base64 alphabet for salt and hash.
func checkBcrypt(s string) error {
	if len(s) != 60 || !(strings.HasPrefix(s, "$2a$") || strings.HasPrefix(s, "$2b$") || strings.HasPrefix(s, "$2y$")) {
		return malformed("bcrypt hash.value must be a 60-character $2a$, $2b$ or $2y$ string")
	}
	cost := s[4:6]
	if s[6] != '$' || cost < "04" || cost > "31" || cost[0] < '0' || cost[0] > '3' || cost[1] < '0' || cost[1] > '9' {
		return malformed("bcrypt hash.value: invalid cost")
	}
	for i := 7; i < len(s); i++ {
		c := s[i]
		if !(c == '.' || c == '/' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return malformed("bcrypt hash.value: %q is not in bcrypt's alphabet", c)
		}
	}
	return nil
}
