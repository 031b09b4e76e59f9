package validate

import (
	"fmt"
	"strconv"
	"strings"
)

// custom_password_hash (docs/apis/auth0.md, "custom_password_hash" and "Hash
// algorithms"). Everything wrong inside it is reported under one rule,
// custom_password_hash_shape, with a specific message. Three kinds of check:
//
//   - the JSON schema: required algorithm and hash, no other top-level
//     members, the enums, integer types;
//   - the per-algorithm prose: hash.encoding, salt allowed or not, value
//     formats (bcrypt prefixes, PHC strings, RFC 2307), hmac's digest and
//     key, scrypt's keylen;
//   - derived: a hash that decodes to a length its algorithm can never
//     produce, or a hex/base64 value that does not decode, would import fine
//     and then fail every login silently (docs/apis/auth0.md, "Known
//     pitfalls", item 2), so it is a violation too.
//
// Unknown members of hash, salt, password and hash.key are not forbidden
// by the schema (only custom_password_hash itself has additionalProperties:
// false) and Auth0 ignores them, so they are ignored_property warnings: most
// likely a misspelling whose intended setting silently falls back to the
// default.

// customHashAlgorithms is the algorithm enum, each with the hash.encoding
// it needs: "utf8" (only utf8, which may be left out) or "binary" (hex or
// base64, required).
var customHashAlgorithms = map[string]string{
	"argon2": "utf8", "bcrypt": "utf8", "ldap": "utf8", "pbkdf2": "utf8",
	"hmac": "binary", "md4": "binary", "md5": "binary", "sha1": "binary",
	"sha256": "binary", "sha512": "binary", "scrypt": "binary",
}

// saltForbidden are the algorithms whose salt is inside the hash value:
// "salt is not allowed" (argon2, pbkdf2, ldap).
var saltForbidden = map[string]bool{"argon2": true, "pbkdf2": true, "ldap": true}

// digestLen is the output length of the plain digests (md4 ... sha512)
// and of hmac's hash.digest enum.
var digestLen = map[string]int{
	"md4": 16, "md5": 16, "ripemd160": 20, "sha1": 20, "sha224": 28,
	"sha256": 32, "sha384": 48, "sha512": 64, "whirlpool": 64,
}

// pbkdf2Digests are the <digest> names Auth0 accepts in $pbkdf2-<digest>$.
var pbkdf2Digests = map[string]bool{
	"RSA-MD4": true, "RSA-MD5": true, "RSA-MDC2": true, "RSA-RIPEMD160": true, "RSA-SHA1": true,
	"RSA-SHA1-2": true, "RSA-SHA224": true, "RSA-SHA256": true, "RSA-SHA384": true, "RSA-SHA512": true,
	"md4": true, "md4WithRSAEncryption": true, "md5": true, "md5WithRSAEncryption": true, "mdc2": true,
	"mdc2WithRSA": true, "ripemd": true, "ripemd160": true, "ripemd160WithRSA": true, "rmd160": true,
	"sha1": true, "sha1WithRSAEncryption": true, "sha224": true, "sha224WithRSAEncryption": true,
	"sha256": true, "sha256WithRSAEncryption": true, "sha384": true, "sha384WithRSAEncryption": true,
	"sha512": true, "sha512WithRSAEncryption": true, "ssl3-md5": true, "ssl3-sha1": true, "whirlpool": true,
}

var (
	valueEncodings    = map[string]bool{"base64": true, "hex": true, "utf8": true}
	passwordEncodings = map[string]bool{"ascii": true, "utf8": true, "utf16le": true, "ucs2": true, "latin1": true, "binary": true}
	saltPositions     = map[string]bool{"prefix": true, "suffix": true}
)

const algorithmList = "argon2, bcrypt, hmac, ldap, md4, md5, sha1, sha256, sha512, pbkdf2, scrypt"

// hashCheck carries what checkCustomPasswordHash has learnt so far. The
// checker is passed to its methods separately: if hashCheck held it, the
// escape analysis would confuse the checker with the strings here and move
// it to the heap.
type hashCheck struct {
	alg    string // "" when missing or not in the enum
	keylen int64  // 0 when missing or invalid
}

// shape reports a custom_password_hash_shape violation.
func (c *checker) shape(p *pathNode, msg string) {
	c.violation(p, RuleCustomPasswordHash, msg)
}

func (c *checker) shapef(p *pathNode, format string, args ...any) {
	c.violation(p, RuleCustomPasswordHash, fmt.Sprintf(format, args...))
}

func checkCustomPasswordHash(c *checker, v any, p *pathNode) {
	m, ok := asObject(v)
	if !ok {
		c.violation(p, RuleCustomPasswordHash, "must be an object, not "+typeName(v))
		return
	}
	var h hashCheck

	ap := member(p, "algorithm")
	if av, present := m["algorithm"]; !present {
		c.shape(&ap, "is required: one of "+algorithmList)
	} else if s, ok := asString(av); !ok || customHashAlgorithms[s] == "" {
		c.shape(&ap, "must be one of "+algorithmList)
	} else {
		h.alg = s
	}

	for k, mv := range m {
		kp := member(p, k)
		switch k {
		case "algorithm", "hash":
		case "salt":
			h.salt(c, mv, &kp)
		case "password":
			if pm, ok := hashObject(c, mv, &kp); ok {
				enumMembers(c, pm, &kp, "encoding", passwordEncodings, "ascii, utf8, utf16le, ucs2, latin1 or binary")
			}
		case "keylen", "cost", "blockSize", "parallelization":
			h.scryptParam(c, k, mv, &kp)
		default:
			c.shape(&kp, "is not a member of custom_password_hash, which allows only algorithm, hash, salt, password, keylen, cost, blockSize and parallelization")
		}
	}
	if h.alg == "scrypt" && h.keylen == 0 {
		if _, present := m["keylen"]; !present {
			kp := member(p, "keylen")
			c.shape(&kp, "is required with algorithm scrypt: the derived key length in bytes")
		}
	}

	hp := member(p, "hash")
	hv, present := m["hash"]
	if !present {
		c.shape(&hp, "is required: an object with value (and encoding)")
		return
	}
	if hm, ok := hashObject(c, hv, &hp); ok {
		h.hash(c, hm, &hp)
	}
}

// hashObject returns v as an object or reports it.
func hashObject(c *checker, v any, p *pathNode) (map[string]any, bool) {
	m, ok := asObject(v)
	if !ok {
		c.shape(p, "must be an object, not "+typeName(v))
	}
	return m, ok
}

// enumMembers checks the enum member name of m (if present) and warns
// about every member other than the allowed ones.
func enumMembers(c *checker, m map[string]any, p *pathNode, name string, enum map[string]bool, list string, allowed ...string) string {
	var val string
	for k, v := range m {
		kp := member(p, k)
		switch {
		case k == name:
			s, ok := asString(v)
			if !ok || !enum[s] {
				c.shape(&kp, "must be one of "+list)
				continue
			}
			val = s
		case !contains(allowed, k):
			c.warning(&kp, RuleIgnoredProperty, "is not a member Auth0 knows here and is ignored: check the spelling")
		}
	}
	return val
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// salt checks the salt object: allowed per algorithm, value required,
// encoding and position enums, value decodable in its encoding.
func (h *hashCheck) salt(c *checker, v any, p *pathNode) {
	if saltForbidden[h.alg] {
		c.shapef(p, "is not allowed with algorithm %s: the salt is part of the hash value", h.alg)
		return
	}
	m, ok := hashObject(c, v, p)
	if !ok {
		return
	}
	enc := enumMembers(c, m, p, "encoding", valueEncodings, "base64, hex or utf8", "value", "position")
	if pos, present := m["position"]; present {
		if s, ok := asString(pos); !ok || !saltPositions[s] {
			pp := member(p, "position")
			c.shape(&pp, "must be prefix or suffix")
		}
	}
	encodedValue(c, m, p, enc, "is not valid %s, as salt.encoding says: Auth0 would use a different salt and every login would fail")
}

// encodedValue checks the required "value" member of a salt or key object:
// a string that decodes in the object's encoding; problem formats the
// message with the encoding.
func encodedValue(c *checker, m map[string]any, p *pathNode, enc, problem string) {
	vp := member(p, "value")
	val, present := m["value"]
	if !present {
		c.shape(&vp, "is required")
		return
	}
	s, ok := asString(val)
	if !ok {
		c.shape(&vp, "must be a string, not "+typeName(val))
		return
	}
	if _, ok := decodedLen(s, enc); !ok {
		c.shapef(&vp, problem, enc)
	}
}

// scryptParam checks keylen, cost, blockSize and parallelization: integers,
// keylen > 0, cost a power of two > 1, the others > 0. They are only used
// with scrypt, so elsewhere they are warnings.
func (h *hashCheck) scryptParam(c *checker, name string, v any, p *pathNode) {
	n, ok := asInt(v)
	switch {
	case !ok:
		c.shape(p, "must be an integer, not "+typeName(v))
		return
	case name == "cost" && (n < 2 || n&(n-1) != 0):
		c.shape(p, "must be a power of two greater than one (default 16384)")
		return
	case n < 1:
		c.shape(p, "must be a positive integer")
		return
	}
	if name == "keylen" {
		h.keylen = n
	}
	if h.alg != "" && h.alg != "scrypt" {
		c.warning(p, RuleIgnoredProperty, "is only used with algorithm scrypt and is ignored with "+h.alg)
	}
}

// hash checks the hash object and its value against the algorithm.
func (h *hashCheck) hash(c *checker, m map[string]any, p *pathNode) {
	enc := enumMembers(c, m, p, "encoding", valueEncodings, "base64, hex or utf8", "value", "digest", "key")
	ep := member(p, "encoding")
	_, encPresent := m["encoding"]
	// After a problem with the encoding, enc is "": the value cannot be
	// judged, but the other members still are.
	switch customHashAlgorithms[h.alg] {
	case "utf8":
		switch {
		case !encPresent:
			enc = "utf8"
		case enc != "" && enc != "utf8":
			c.shapef(&ep, "must be utf8 (or left out) with algorithm %s", h.alg)
			enc = ""
		}
	case "binary":
		switch {
		case !encPresent:
			c.shapef(&ep, "is required with algorithm %s: hex or base64", h.alg)
		case enc == "utf8":
			c.shapef(&ep, "must be hex or base64 with algorithm %s", h.alg)
			enc = ""
		}
	}

	digest := ""
	dp := member(p, "digest")
	if dv, present := m["digest"]; present {
		s, ok := asString(dv)
		if _, known := digestLen[s]; !ok || !known {
			c.shape(&dp, "must be one of md4, md5, ripemd160, sha1, sha224, sha256, sha384, sha512, whirlpool")
		} else {
			digest = s
		}
		if h.alg != "" && h.alg != "hmac" {
			c.warning(&dp, RuleIgnoredProperty, "is only used with algorithm hmac and is ignored with "+h.alg)
		}
	} else if h.alg == "hmac" {
		c.shape(&dp, "is required with algorithm hmac")
	}
	kp := member(p, "key")
	if kv, present := m["key"]; present {
		if h.alg != "" && h.alg != "hmac" {
			c.warning(&kp, RuleIgnoredProperty, "is only used with algorithm hmac and is ignored with "+h.alg)
		} else {
			hmacKey(c, kv, &kp)
		}
	} else if h.alg == "hmac" {
		c.shape(&kp, "is required with algorithm hmac: an object with value (and encoding)")
	}

	vp := member(p, "value")
	val, present := m["value"]
	if !present {
		c.shape(&vp, "is required: the hash itself")
		return
	}
	s, ok := asString(val)
	switch {
	case !ok:
		c.shape(&vp, "must be a string, not "+typeName(val))
		return
	case s == "":
		c.shape(&vp, "is empty")
		return
	case h.alg == "" || enc == "":
		return // already reported; the value cannot be judged
	}
	if msg := h.valueProblem(s, enc, digest); msg != "" {
		c.shape(&vp, msg)
	}
}

// hmacKey checks hash.key: an object with a value, an optional encoding,
// and a value that decodes in that encoding.
func hmacKey(c *checker, v any, p *pathNode) {
	m, ok := hashObject(c, v, p)
	if !ok {
		return
	}
	enc := enumMembers(c, m, p, "encoding", valueEncodings, "base64, hex or utf8", "value")
	encodedValue(c, m, p, enc, "is not valid %s, as key.encoding says")
}

// valueProblem checks hash.value for the algorithm, given a valid
// encoding.
func (h *hashCheck) valueProblem(s, enc, digest string) string {
	switch h.alg {
	case "argon2":
		return argon2Problem(s)
	case "bcrypt":
		variant, _, msg := bcryptShape(s)
		if variant != 0 && variant != 'a' && variant != 'b' && variant != 'y' {
			return fmt.Sprintf("has the prefix $2%c$, which Auth0 does not support: only $2a$, $2b$ and $2y$", variant)
		}
		return msg
	case "ldap":
		return ldapProblem(s)
	case "pbkdf2":
		return pbkdf2Problem(s)
	}
	// Binary digests: the value must decode, to the right length.
	n, ok := decodedLen(s, enc)
	if !ok {
		return fmt.Sprintf("is not valid %s, as hash.encoding says", enc)
	}
	want, what := 0, ""
	switch h.alg {
	case "hmac":
		want, what = digestLen[digest], "the HMAC-"+digest+" digest"
	case "scrypt":
		want, what = int(h.keylen), "keylen"
	default:
		want, what = digestLen[h.alg], "the "+h.alg+" digest"
	}
	if want > 0 && n != want {
		return fmt.Sprintf("decodes to %d bytes, but %s is %d bytes: check hash.encoding and how the hash was exported, or every login would fail", n, what, want)
	}
	return ""
}

// pbkdf2Problem checks a PHC pbkdf2 value:
// $pbkdf2-<digest>[$i=<iterations>,l=<keylen>]$<B64 salt>$<B64 hash>, with
// i and l defaulting to 100000 and 64, and the hash exactly l bytes long.
func pbkdf2Problem(s string) string {
	const form = " (PHC: $pbkdf2-<digest>$i=<iterations>,l=<key length>$<B64 salt>$<B64 hash>)"
	rest, ok := strings.CutPrefix(s, "$pbkdf2-")
	if !ok {
		return "must be a PHC string starting with $pbkdf2-<digest>$" + form
	}
	digest, rest, _ := strings.Cut(rest, "$")
	if !pbkdf2Digests[digest] {
		return "names a digest Auth0 does not accept for pbkdf2 (e.g. sha512, sha256, sha1, RSA-SHA512)" + form
	}
	keylen := 64
	switch strings.Count(rest, "$") {
	case 1: // no parameters: i=100000, l=64
	case 2:
		var params string
		params, rest, _ = strings.Cut(rest, "$")
		var msg string
		if keylen, msg = pbkdf2Params(params); msg != "" {
			return msg + form
		}
	default:
		return "must have the parts $pbkdf2-<digest>, parameters, salt and hash, separated by '$'" + form
	}
	salt, hash, _ := strings.Cut(rest, "$")
	if _, msg := phcB64Problem(salt); msg != "" {
		return "salt " + msg + form
	}
	n, msg := phcB64Problem(hash)
	if msg != "" {
		return "hash " + msg + form
	}
	if n != keylen {
		return fmt.Sprintf("hash is %d bytes but l is %d: l must be the derived key's length (Auth0 assumes 64 when l is left out)", n, keylen)
	}
	return ""
}

// pbkdf2Params parses "i=<n>,l=<n>" (each optional, once, positive) and
// returns l (64 when absent).
func pbkdf2Params(params string) (keylen int, problem string) {
	keylen = 64
	seen := [2]bool{}
	for params != "" {
		var kv string
		kv, params, _ = strings.Cut(params, ",")
		k, v, _ := strings.Cut(kv, "=")
		slot := 0
		switch k {
		case "i":
		case "l":
			slot = 1
		default:
			return 0, "has a parameter other than i (iterations) and l (key length)"
		}
		if seen[slot] {
			return 0, "repeats a parameter"
		}
		seen[slot] = true
		n, ok := positiveInt(v)
		if !ok {
			return 0, "has a parameter that is not a positive decimal integer"
		}
		if slot == 1 {
			keylen = n
		}
	}
	return keylen, ""
}

// positiveInt parses a decimal integer of 1 to 9 digits without a leading
// zero, greater than zero.
func positiveInt(s string) (int, bool) {
	if !isDigits(s) || len(s) > 9 || s[0] == '0' {
		return 0, false
	}
	n, _ := strconv.Atoi(s)
	return n, true
}

// argon2Problem checks a PHC argon2 value:
// $argon2id$[v=<n>$]m=<n>,t=<n>,p=<n>$<B64 salt>$<B64 hash>. Auth0 verifies
// it with auth0/magic, which uses libsodium: argon2i and argon2id only.
func argon2Problem(s string) string {
	const form = " (PHC: $argon2id$v=19$m=<memory KiB>,t=<iterations>,p=<parallelism>$<B64 salt>$<B64 hash>)"
	rest, ok := strings.CutPrefix(s, "$")
	if !ok {
		return "must be a PHC string starting with $argon2id$ or $argon2i$" + form
	}
	id, rest, _ := strings.Cut(rest, "$")
	switch id {
	case "argon2id", "argon2i":
	case "argon2d":
		return "is argon2d, which Auth0 cannot verify (auth0/magic uses libsodium: argon2i and argon2id only)"
	default:
		return "must be a PHC string starting with $argon2id$ or $argon2i$" + form
	}
	seg, rest, _ := strings.Cut(rest, "$")
	if v, isVersion := strings.CutPrefix(seg, "v="); isVersion {
		if _, ok := positiveInt(v); !ok {
			return "has a version that is not a number" + form
		}
		seg, rest, _ = strings.Cut(rest, "$")
	}
	for i, name := range [...]string{"m=", "t=", "p="} {
		var kv string
		kv, seg, _ = strings.Cut(seg, ",")
		v, ok := strings.CutPrefix(kv, name)
		if _, num := positiveInt(v); !ok || !num || i == 2 && seg != "" {
			return "must have the parameters m, t and p, in that order, as positive integers" + form
		}
	}
	salt, hash, ok := strings.Cut(rest, "$")
	if !ok || strings.IndexByte(hash, '$') >= 0 {
		return "must have exactly a salt and a hash after the parameters" + form
	}
	if _, msg := phcB64Problem(salt); msg != "" {
		return "salt " + msg + form
	}
	if _, msg := phcB64Problem(hash); msg != "" {
		return "hash " + msg + form
	}
	return ""
}

// ldapSchemes are the RFC 2307 schemes Auth0 accepts ("md5|smd5|sha*|ssha*",
// lower-cased), with the digest length and whether a salt follows it.
var ldapSchemes = map[string]struct {
	digest int
	salted bool
}{
	"md5": {16, false}, "smd5": {16, true},
	"sha": {20, false}, "ssha": {20, true}, "sha1": {20, false}, "ssha1": {20, true},
	"sha224": {28, false}, "ssha224": {28, true}, "sha256": {32, false}, "ssha256": {32, true},
	"sha384": {48, false}, "ssha384": {48, true}, "sha512": {64, false}, "ssha512": {64, true},
}

// ldapProblem checks an RFC 2307 userPassword value, {SCHEME}base64.
func ldapProblem(s string) string {
	const form = " (RFC 2307: {SCHEME}base64, e.g. {SSHA256}...)"
	end := strings.IndexByte(s, '}')
	if len(s) < 2 || s[0] != '{' || end < 0 {
		return "must be an LDAP userPassword value" + form
	}
	scheme, payload := strings.ToLower(s[1:end]), s[end+1:]
	if scheme == "crypt" {
		return "uses {CRYPT}, which Auth0 does not support"
	}
	info, known := ldapSchemes[scheme]
	if !known && !strings.HasPrefix(scheme, "sha") && !strings.HasPrefix(scheme, "ssha") {
		return "has a scheme Auth0 does not support: md5, smd5, sha* or ssha*" + form
	}
	n, ok := b64Len(payload)
	if !ok || n == 0 {
		return "has no valid base64 after the scheme" + form
	}
	switch {
	case !known:
	case info.salted && n <= info.digest:
		return fmt.Sprintf("decodes to %d bytes, too few for a %d-byte digest followed by a salt", n, info.digest)
	case !info.salted && n != info.digest:
		return fmt.Sprintf("decodes to %d bytes, but this scheme's digest is %d bytes", n, info.digest)
	}
	return ""
}
