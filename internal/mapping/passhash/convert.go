package passhash

import (
	"regexp"
	"strings"
)

// pbkdf2Digests maps Gigya's PBKDF2 algorithms to the HMAC digest, named as
// Auth0's PHC id wants it ("$pbkdf2-<digest>$"). Gigya's plain "pbkdf2" is
// PBKDF2 with HMAC-SHA1 (Gigya's password validator tool: "pbkdf2 with sha1").
var pbkdf2Digests = map[string]string{
	AlgPBKDF2:       "sha1",
	AlgPBKDF2SHA256: "sha256",
	AlgPBKDF2SHA512: "sha512",
}

// digestSizes is the output size in bytes of the plain digests Gigya
// imports. A hash that decodes to another length is refused: it is
// hex-encoded, truncated, or not what the algorithm says, and would never
// verify.
var digestSizes = map[string]int{
	AlgMD5:    16,
	AlgSHA1:   20,
	AlgSHA256: 32,
	AlgSHA512: 64,
}

// refusalReasons explains, per Gigya algorithm, why no converter takes it.
// The semantics of several of these are not documented by SAP; a guess that
// is wrong would make every affected user's login fail silently, which is
// worse than an explicit password reset.
var refusalReasons = map[string]string{
	AlgMD5Crypt:        "md5-crypt ($1$) has no equivalent among the target's import formats (Auth0's ldap algorithm explicitly excludes {CRYPT})",
	AlgCustom:          "the hash was computed by the customer's remote hash service (hashSettings.url); no target can reproduce it",
	AlgSHA1HashBytes:   "Gigya does not document how sha1_hashbytes encodes the password (probably SQL Server HASHBYTES over UTF-16LE text, unconfirmed)",
	AlgSHA512Hexa:      "Gigya does not document sha512Hexa (probably SHA-512 with a hex-encoded hash, unconfirmed)",
	AlgMD5DoubleSalted: "Gigya does not document how md5_double_salted combines the password and its salts",
	AlgDrupal:          "Drupal 7 hashes ($S$) iterate SHA-512 thousands of times; no target import format verifies them",
	AlgSymphony2:       "Symfony2's MessageDigestPasswordEncoder re-hashes digest+password+{salt} (5000 rounds by default); no target import format verifies iterated digests",
	AlgSAPABAP:         "SAP ABAP password hashes (iterated salted SHA-1 and variants) have no equivalent among the target's import formats",
}

// bcryptMCF matches the bcrypt variants Auth0 accepts: "$2a$", "$2b$" and
// "$2y$", a two-digit cost, a 22-character salt and a 31-character hash in
// bcrypt's base64 alphabet.
var bcryptMCF = regexp.MustCompile(`^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$`)

// normalizeAlg lower-cases like FromAccount, for callers that build a
// Gigya value themselves.
func normalizeAlg(alg string) string { return strings.ToLower(strings.TrimSpace(alg)) }

// mcf returns the bcrypt candidate string: the hash, or compoundHash when
// the hash is empty.
func (g Gigya) mcf() string {
	if g.Hash != "" {
		return g.Hash
	}
	return g.CompoundHash
}

// isBcrypt reports whether g is a bcrypt hash: by its algorithm, or, when
// the export has no algorithm, by an unmistakable bcrypt MCF string.
func (g Gigya) isBcrypt(alg string) bool {
	return alg == AlgBcrypt || (alg == "" && bcryptMCF.MatchString(g.mcf()))
}

// refuse returns the error for an algorithm that no branch converts.
func refuse(alg, target string) error {
	if reason, ok := refusalReasons[alg]; ok {
		return unsupported(alg, target, "%s", reason)
	}
	if alg == "" {
		return unsupported(alg, target, "the export has no hashSettings.algorithm and the hash is not a bcrypt MCF string")
	}
	return unsupported(alg, target, "unknown algorithm")
}

// pbkdf2Parts validates a Gigya PBKDF2 hash and returns its salt and derived
// key as bytes. Gigya exports both as base64 (no format template:
// docs/apis/gigya.md, "Hash algorithms and format templates": without a
// format template the salt is base64).
func pbkdf2Parts(g Gigya, alg, target string) (salt, key []byte, err error) {
	switch {
	case g.Hash == "":
		return nil, nil, unsupported(alg, target, "no hash")
	case g.Format != "":
		// Whether Gigya applies a template to the password before PBKDF2,
		// and whether the salt is then clear text, is not documented.
		return nil, nil, unsupported(alg, target, "a format template with PBKDF2 is not documented by Gigya")
	case g.Rounds < 1:
		return nil, nil, unsupported(alg, target, "PBKDF2 needs rounds >= 1, got %d", g.Rounds)
	case g.Salt == "":
		return nil, nil, unsupported(alg, target, "PBKDF2 without a salt")
	}
	salt, derr := decodeBase64(g.Salt)
	if derr != nil {
		return nil, nil, unsupported(alg, target, "salt is not base64: %v", derr)
	}
	key, derr = decodeBase64(g.Hash)
	if derr != nil {
		return nil, nil, unsupported(alg, target, "hash is not base64: %v", derr)
	}
	return salt, key, nil
}
