package auth0verify

import (
	"crypto/md5"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"hash"
	"regexp"
	"strconv"
	"strings"

	"golang.org/x/crypto/md4"
	"golang.org/x/crypto/ripemd160" // deprecated in x/crypto, but a digest Auth0 still accepts
)

// digests maps the canonical digest names to their constructors; nil means
// valid for Auth0 but not implemented here.
var digests = map[string]func() hash.Hash{
	"md4":       md4.New,
	"md5":       md5.New,
	"ripemd160": ripemd160.New,
	"sha1":      sha1.New,
	"sha224":    sha256.New224,
	"sha256":    sha256.New,
	"sha384":    sha512.New384,
	"sha512":    sha512.New,
	"mdc2":      nil,
	"whirlpool": nil,
}

// digestSizes is the output size of the implemented digests.
var digestSizes = map[string]int{
	"md4": 16, "md5": 16, "ripemd160": 20, "sha1": 20, "sha224": 28, "sha256": 32, "sha384": 48, "sha512": 64,
}

// pbkdf2DigestNames maps every digest Auth0 lists for "$pbkdf2-<digest>$"
// (OpenSSL names, case as documented) to its canonical name.
var pbkdf2DigestNames = map[string]string{
	"RSA-MD4": "md4", "md4": "md4", "md4WithRSAEncryption": "md4",
	"RSA-MD5": "md5", "md5": "md5", "md5WithRSAEncryption": "md5", "ssl3-md5": "md5",
	"RSA-MDC2": "mdc2", "mdc2": "mdc2", "mdc2WithRSA": "mdc2",
	"RSA-RIPEMD160": "ripemd160", "ripemd": "ripemd160", "ripemd160": "ripemd160", "ripemd160WithRSA": "ripemd160", "rmd160": "ripemd160",
	"RSA-SHA1": "sha1", "RSA-SHA1-2": "sha1", "sha1": "sha1", "sha1WithRSAEncryption": "sha1", "ssl3-sha1": "sha1",
	"RSA-SHA224": "sha224", "sha224": "sha224", "sha224WithRSAEncryption": "sha224",
	"RSA-SHA256": "sha256", "sha256": "sha256", "sha256WithRSAEncryption": "sha256",
	"RSA-SHA384": "sha384", "sha384": "sha384", "sha384WithRSAEncryption": "sha384",
	"RSA-SHA512": "sha512", "sha512": "sha512", "sha512WithRSAEncryption": "sha512",
	"whirlpool": "whirlpool",
}

// pbkdf2PHC is "$pbkdf2-<digest>$i=<iterations>,l=<keylen>$<B64 salt>$<B64 hash>".
type pbkdf2PHC struct {
	digest     string // canonical name
	iterations int
	salt, hash []byte
}

// parsePBKDF2 follows Auth0's pbkdf2 rules: the PHC id "pbkdf2-<digest>"
// with a listed digest; optional parameters i and l (defaults 100000 and
// 64), in any order, each at most once; B64 salt and hash, both required;
// and a hash of exactly l bytes (Node's pbkdf2 derives l bytes, so any
// other length can never match). The whole parameter segment may be
// omitted, as the PHC format allows.
func parsePBKDF2(s string) (*pbkdf2PHC, error) {
	parts := strings.Split(s, "$")
	if len(parts) < 4 || parts[0] != "" {
		return nil, malformed("pbkdf2 hash.value must be a PHC string $pbkdf2-<digest>$i=..,l=..$<salt>$<hash>")
	}
	id, rest := parts[1], parts[2:]
	name, ok := strings.CutPrefix(id, "pbkdf2-")
	if !ok {
		return nil, malformed("pbkdf2 hash.value: PHC id %q is not pbkdf2-<digest>", id)
	}
	p := &pbkdf2PHC{iterations: DefaultPBKDF2Iterations}
	if p.digest, ok = pbkdf2DigestNames[name]; !ok {
		return nil, malformed("pbkdf2 hash.value: unsupported digest %q", name)
	}
	keylen := DefaultPBKDF2KeyLength
	switch len(rest) {
	case 2:
	case 3:
		params, err := phcParams(rest[0], "pbkdf2", "i", "l")
		if err != nil {
			return nil, err
		}
		if v, ok := params["i"]; ok {
			p.iterations = v
		}
		if v, ok := params["l"]; ok {
			keylen = v
		}
		rest = rest[1:]
	default:
		return nil, malformed("pbkdf2 hash.value: wrong number of $-separated fields")
	}
	var err error
	if p.salt, err = decodeB64(rest[0], "pbkdf2 salt"); err != nil {
		return nil, err
	}
	if p.hash, err = decodeB64(rest[1], "pbkdf2 hash"); err != nil {
		return nil, err
	}
	if len(p.hash) != keylen {
		return nil, malformed("pbkdf2 hash is %d bytes but l is %d", len(p.hash), keylen)
	}
	return p, nil
}

// decimal is the PHC spec's decimal syntax, restricted to positive values.
var decimal = regexp.MustCompile(`^[1-9][0-9]{0,9}$`)

// phcParams parses "k=v,k=v" with positive decimal values, allowing only
// the given keys, each once.
func phcParams(s, alg string, allowed ...string) (map[string]int, error) {
	out := make(map[string]int)
	for _, kv := range strings.Split(s, ",") {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, malformed("%s parameters: %q is not k=v", alg, kv)
		}
		known := false
		for _, a := range allowed {
			known = known || a == k
		}
		if !known {
			return nil, malformed("%s parameters: unknown parameter %q", alg, k)
		}
		if _, dup := out[k]; dup {
			return nil, malformed("%s parameters: %q given twice", alg, k)
		}
		if !decimal.MatchString(v) {
			return nil, malformed("%s parameters: %s=%q is not a positive decimal", alg, k, v)
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, malformed("%s parameters: %s: %v", alg, k, err)
		}
		out[k] = n
	}
	return out, nil
}

// argon2PHC is "$argon2<variant>$v=<version>$m=<KiB>,t=<passes>,p=<lanes>$<B64 salt>$<B64 hash>".
type argon2PHC struct {
	variant               string // "i", "d" or "id"
	version               int
	memory, time, threads int
	salt, hash            []byte
}

// parseArgon2 reads Argon2's PHC string. The version segment is optional;
// per the Argon2 reference encoding its absence means version 16 (0x10).
func parseArgon2(s string) (*argon2PHC, error) {
	parts := strings.Split(s, "$")
	if len(parts) < 5 || parts[0] != "" {
		return nil, malformed("argon2 hash.value must be a PHC string $argon2id$v=19$m=..,t=..,p=..$<salt>$<hash>")
	}
	a := &argon2PHC{version: 16}
	switch parts[1] {
	case "argon2i":
		a.variant = "i"
	case "argon2d":
		a.variant = "d"
	case "argon2id":
		a.variant = "id"
	default:
		return nil, malformed("argon2 hash.value: unknown PHC id %q", parts[1])
	}
	rest := parts[2:]
	if len(rest) == 4 {
		v, ok := strings.CutPrefix(rest[0], "v=")
		if !ok || !decimal.MatchString(v) {
			return nil, malformed("argon2 hash.value: bad version segment")
		}
		a.version, _ = strconv.Atoi(v) // decimal guarantees it parses
		rest = rest[1:]
	}
	if len(rest) != 3 {
		return nil, malformed("argon2 hash.value: wrong number of $-separated fields")
	}
	params, err := phcParams(rest[0], "argon2", "m", "t", "p")
	if err != nil {
		return nil, err
	}
	for _, k := range []string{"m", "t", "p"} {
		if _, ok := params[k]; !ok {
			return nil, malformed("argon2 parameters: %s is required", k)
		}
	}
	a.memory, a.time, a.threads = params["m"], params["t"], params["p"]
	if a.salt, err = decodeB64(rest[1], "argon2 salt"); err != nil {
		return nil, err
	}
	if a.hash, err = decodeB64(rest[2], "argon2 hash"); err != nil {
		return nil, err
	}
	return a, nil
}

// ldapValue is an RFC 2307 userPassword value "{SCHEME}base64".
type ldapValue struct {
	digest string // canonical digest name
	sum    []byte
	salt   []byte // nil for unsalted schemes
}

// ldapSchemes maps the schemes Auth0 accepts ("md5|smd5|sha*|ssha*") to
// the digest and whether the value carries a salt after the digest, as in
// OpenLDAP's {SSHA}: base64(H(password + salt) + salt).
var ldapSchemes = map[string]struct {
	digest string
	salted bool
}{
	"MD5": {"md5", false}, "SMD5": {"md5", true},
	"SHA": {"sha1", false}, "SSHA": {"sha1", true},
	"SHA256": {"sha256", false}, "SSHA256": {"sha256", true},
	"SHA384": {"sha384", false}, "SSHA384": {"sha384", true},
	"SHA512": {"sha512", false}, "SSHA512": {"sha512", true},
}

func parseLDAP(s string) (*ldapValue, error) {
	rest, ok := strings.CutPrefix(s, "{")
	scheme, payload, ok2 := strings.Cut(rest, "}")
	if !ok || !ok2 {
		return nil, malformed("ldap hash.value must be {SCHEME}base64")
	}
	scheme = strings.ToUpper(scheme)
	if scheme == "CRYPT" {
		return nil, malformed("ldap {CRYPT} is not supported by Auth0")
	}
	sc, ok := ldapSchemes[scheme]
	if !ok {
		return nil, malformed("ldap hash.value: unknown scheme %q", scheme)
	}
	b, err := base64.StdEncoding.Strict().DecodeString(payload)
	if err != nil || strings.ContainsAny(payload, "\r\n") {
		return nil, malformed("ldap hash.value: payload is not padded standard base64")
	}
	size := digestSizes[sc.digest]
	switch {
	case sc.salted && len(b) <= size:
		return nil, malformed("ldap {%s} value has no salt after the %d-byte digest", scheme, size)
	case !sc.salted && len(b) != size:
		return nil, malformed("ldap {%s} value is %d bytes, want %d", scheme, len(b), size)
	}
	v := &ldapValue{digest: sc.digest, sum: b[:size]}
	if sc.salted {
		v.salt = b[size:]
	}
	return v, nil
}
