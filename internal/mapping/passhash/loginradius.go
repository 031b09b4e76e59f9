package passhash

import (
	"encoding/base64"
	"fmt"
	"strings"
)

// LoginRadius field names of the bulk migration API (POST
// https://migration.loginradius.com/v2/bulk/upsert; docs/apis/loginradius.md,
// "Request body").
const (
	// LRPasswordHash is the per-profile field "Profiles[].PasswordHash".
	LRPasswordHash = "PasswordHash"
	// LRPasswordEncryption is the request-level "PasswordEncryption" object:
	// one per request, so a loader must batch profiles whose
	// PasswordEncryption values are equal.
	LRPasswordEncryption = "PasswordEncryption"
)

// LoginRadius converts g to the fields of LoginRadius' bulk migration API,
// returned as a map with two keys: [LRPasswordHash] (a string, per profile)
// and [LRPasswordEncryption] (an object, per request).
//
// What LoginRadius documents, and what this relies on (sources in
// docs/apis/loginradius.md, "PasswordEncryption" and "PasswordHash"):
//
//   - Confirmed (self-serve migration page and its API reference): the body
//     shape {"PasswordEncryption": {...}, "Profiles": [{..., "PasswordHash"}]};
//     the PasswordEncryption field names Type, IsPerPasswordSalt,
//     NumberOfIteration and SaltKeyLength; "PBKDF2" as a Type value; bcrypt,
//     scrypt, SHA1, SHA256 and PBKDF2 as supported hash families.
//   - Only in a generated SDK reference whose repository we could not
//     identify: SubKeyLength, and the meanings of SaltKeyLength ("length of
//     the salt key (in bytes)") and SubKeyLength ("length of the derived key
//     (in bytes)").
//   - Not confirmed: the grammar of PasswordHash. The only example is
//     "Rfc2898DeriveBytes$1000$<base64 salt>$<base64 hash>:<suffix>";
//     this converter writes that form without the unexplained ":<suffix>".
//     Rfc2898DeriveBytes is .NET's PBKDF2, whose default PRF is HMAC-SHA1.
//   - Not documented at all: the enum values of Type other than "PBKDF2",
//     SaltAttachType, PasswordHashEncodingType, PasswordSaltEncodingType,
//     PlaintextPasswordEncoding and PasswordHasherVersion, so no field
//     selects the PBKDF2 digest, a salt position or a hash encoding.
//
// Hence only Gigya's "pbkdf2" (HMAC-SHA1) is converted; everything else,
// including the native pbkdf2_sha512, returns an error wrapping
// *[UnsupportedError] that says what is missing from LoginRadius' docs.
// Validate the output with one test user on a real tenant before a bulk run:
// there is no published vector to check it against. (LoginRadius' managed
// Gigya migration, in which their team reads the Gigya password object
// directly, is the documented route for the other algorithms.)
func LoginRadius(g Gigya) (map[string]any, error) {
	alg := normalizeAlg(g.Algorithm)
	if g.BinaryFormat != "" {
		return nil, unsupported(alg, TargetLoginRadius, "hashSettings.binaryFormat is set, and its grammar is not documented")
	}
	switch {
	case alg == AlgPBKDF2:
		return loginRadiusPBKDF2(g, alg)
	case alg == AlgPBKDF2SHA256 || alg == AlgPBKDF2SHA512:
		return nil, unsupported(alg, TargetLoginRadius,
			"LoginRadius documents PBKDF2 but no PasswordEncryption value that selects HMAC-%s (only SHA-1, the Rfc2898DeriveBytes default, is implied)",
			strings.ToUpper(pbkdf2Digests[alg]))
	case alg == AlgSHA1 || alg == AlgSHA256:
		return nil, unsupported(alg, TargetLoginRadius,
			"LoginRadius lists %s as supported but documents neither its PasswordEncryption.Type value nor the SaltAttachType values for salted hashes", alg)
	case alg == AlgMD5 || alg == AlgSHA512:
		return nil, unsupported(alg, TargetLoginRadius, "%s is not among the hash types LoginRadius documents for bulk migration", alg)
	case g.isBcrypt(alg):
		return nil, unsupported(alg, TargetLoginRadius, "LoginRadius lists bcrypt as supported but does not document its PasswordEncryption.Type value")
	}
	return nil, refuse(alg, TargetLoginRadius)
}

// loginRadiusPBKDF2 writes the Rfc2898DeriveBytes form of LoginRadius'
// example, with standard padded base64 as in that example, and describes
// it in PasswordEncryption. IsPerPasswordSalt is true because every Gigya
// user has their own salt, carried inside PasswordHash.
func loginRadiusPBKDF2(g Gigya, alg string) (map[string]any, error) {
	salt, key, err := pbkdf2Parts(g, alg, TargetLoginRadius)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		LRPasswordHash: fmt.Sprintf("Rfc2898DeriveBytes$%d$%s$%s", g.Rounds,
			base64.StdEncoding.EncodeToString(salt), base64.StdEncoding.EncodeToString(key)),
		LRPasswordEncryption: map[string]any{
			"Type":              "PBKDF2",
			"IsPerPasswordSalt": true,
			"NumberOfIteration": g.Rounds,
			"SaltKeyLength":     len(salt),
			"SubKeyLength":      len(key),
		},
	}, nil
}
