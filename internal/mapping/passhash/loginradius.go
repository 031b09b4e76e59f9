package passhash

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// LoginRadius field names of the bulk migration API (POST
// https://migration.loginradius.com/v2/bulk/upsert; docs/apis/loginradius.md,
// "Request body").
const (
	// LRPasswordHash is the per-profile field "Profiles[].PasswordHash".
	LRPasswordHash = "PasswordHash"
	// LRPasswordEncryption is the request-level "PasswordEncryption" object:
	// one per request. The mapping puts it into each profile, and the
	// loginradius-bulk sink lifts it out and sends the profiles whose
	// objects are equal in one request.
	LRPasswordEncryption = "PasswordEncryption"
)

// LoginRadiusOptions are the choices LoginRadius does not document well
// enough to make once and for all (docs/apis/loginradius.md, "Unconfirmed"):
// every one of them can be changed by the mapping, through the options
// object of the loginradius_password_* helpers.
type LoginRadiusOptions struct {
	// Types maps a Gigya algorithm (pbkdf2, pbkdf2_sha256, pbkdf2_sha512,
	// md5, sha1, sha256, sha512, bcrypt, md5_crypt) to the
	// PasswordEncryption.Type LoginRadius verifies it with. An algorithm
	// missing from the map, or mapped to "", is not converted: its users are
	// imported without a password and flagged. Confirmed by LoginRadius'
	// hashing page and migration example: PBKDF2, MD5, SHA1, SHA256, SHA512,
	// Crypt_MD5 as names of algorithms; not confirmed: that PBKDF2 means
	// HMAC-SHA1, the names of PBKDF2 with SHA-256/512 and of bcrypt.
	Types map[string]string
	// HashEncoding is PasswordHashEncodingType, and how digests and PBKDF2
	// keys are written in PasswordHash: a value that reads "base64" or
	// "hex" in any case. Default "Base64" (Gigya's own encoding).
	HashEncoding string
	// SaltEncoding is PasswordSaltEncodingType for PBKDF2's binary salt, and
	// how it is written after the ":": "base64" or "hex" in any case.
	// Default "Base64". Text salts (digest templates) go as they are,
	// without the member.
	SaltEncoding string
	// AttachNone, AttachAppend and AttachPrepend are the SaltAttachType
	// values for no salt at the password, password+salt and salt+password.
	// Defaults "None", "Append", "Prepend", the words of LoginRadius'
	// hashing page.
	AttachNone, AttachAppend, AttachPrepend string
	// PBKDF2Form is how a PBKDF2 hash is written: "hash:salt" (default, the
	// per-user salt form of LoginRadius' hashing page, <key>:<salt>) or
	// "rfc2898" (the self-describing form of LoginRadius' API example,
	// Rfc2898DeriveBytes$<rounds>$<base64 salt>$<base64 key>).
	PBKDF2Form string
}

// PBKDF2 hash forms of [LoginRadiusOptions.PBKDF2Form].
const (
	PBKDF2FormSalt    = "hash:salt"
	PBKDF2FormRFC2898 = "rfc2898"
)

// lrSaltSeparator separates the hash from the per-user salt: LoginRadius'
// hashing page writes every per-user salted hash as [hash]:RS.
const lrSaltSeparator = ":"

// DefaultLoginRadiusOptions returns the defaults described on
// [LoginRadiusOptions].
func DefaultLoginRadiusOptions() LoginRadiusOptions {
	return LoginRadiusOptions{
		Types: map[string]string{
			AlgPBKDF2: "PBKDF2", AlgPBKDF2SHA256: "PBKDF2_SHA256", AlgPBKDF2SHA512: "PBKDF2_SHA512",
			AlgMD5: "MD5", AlgSHA1: "SHA1", AlgSHA256: "SHA256", AlgSHA512: "SHA512",
			AlgBcrypt: "BCrypt", AlgMD5Crypt: "Crypt_MD5",
		},
		HashEncoding: "Base64", SaltEncoding: "Base64",
		AttachNone: "None", AttachAppend: "Append", AttachPrepend: "Prepend",
		PBKDF2Form: PBKDF2FormSalt,
	}
}

// ParseLoginRadiusOptions reads the options object a mapping passes to the
// helpers: types (an object of algorithm: Type, merged over the defaults;
// "" turns an algorithm off), hash_encoding, salt_encoding,
// salt_attach_types (an object with none, append, prepend) and pbkdf2_form.
// Unknown keys and values of the wrong type are errors.
func ParseLoginRadiusOptions(m map[string]any) (LoginRadiusOptions, error) {
	o := DefaultLoginRadiusOptions()
	str := func(key string, v any) (string, error) {
		s, ok := v.(string)
		if !ok {
			return "", fmt.Errorf("loginradius options: %s must be a string", key)
		}
		return s, nil
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		v := m[k]
		var err error
		switch k {
		case "types":
			obj, ok := v.(map[string]any)
			if !ok {
				return o, fmt.Errorf("loginradius options: types must be an object of algorithm: Type")
			}
			for alg, t := range obj {
				alg = normalizeAlg(alg)
				if _, known := o.Types[alg]; !known {
					return o, fmt.Errorf("loginradius options: types: unknown algorithm %q (known: %s)", alg, strings.Join(slices.Sorted(maps.Keys(o.Types)), ", "))
				}
				if o.Types[alg], err = str("types."+alg, t); err != nil {
					return o, err
				}
			}
		case "hash_encoding":
			o.HashEncoding, err = str(k, v)
		case "salt_encoding":
			o.SaltEncoding, err = str(k, v)
		case "pbkdf2_form":
			o.PBKDF2Form, err = str(k, v)
		case "salt_attach_types":
			obj, ok := v.(map[string]any)
			if !ok {
				return o, fmt.Errorf("loginradius options: salt_attach_types must be an object with none, append, prepend")
			}
			for name, t := range obj {
				var s string
				if s, err = str("salt_attach_types."+name, t); err != nil {
					return o, err
				}
				switch name {
				case "none":
					o.AttachNone = s
				case "append":
					o.AttachAppend = s
				case "prepend":
					o.AttachPrepend = s
				default:
					return o, fmt.Errorf("loginradius options: salt_attach_types: unknown key %q (want none, append, prepend)", name)
				}
			}
		default:
			return o, fmt.Errorf("loginradius options: unknown key %q (want types, hash_encoding, salt_encoding, salt_attach_types, pbkdf2_form)", k)
		}
		if err != nil {
			return o, err
		}
	}
	return o, o.check()
}

// check rejects encodings and forms the converter cannot write.
func (o LoginRadiusOptions) check() error {
	for name, v := range map[string]string{"hash_encoding": o.HashEncoding, "salt_encoding": o.SaltEncoding} {
		if binaryEncoding(v) == "" {
			return fmt.Errorf("loginradius options: %s %q: want Base64 or Hex", name, v)
		}
	}
	if o.PBKDF2Form != PBKDF2FormSalt && o.PBKDF2Form != PBKDF2FormRFC2898 {
		return fmt.Errorf("loginradius options: pbkdf2_form %q: want %q or %q", o.PBKDF2Form, PBKDF2FormSalt, PBKDF2FormRFC2898)
	}
	return nil
}

// binaryEncoding reads an encoding name: "base64", "hex", or "".
func binaryEncoding(name string) string {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "base64":
		return "base64"
	case "hex":
		return "hex"
	}
	return ""
}

func encodeBinary(b []byte, name string) string {
	if binaryEncoding(name) == "hex" {
		return hex.EncodeToString(b)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// LoginRadiusPassword is one user's password in the bulk migration API:
// the profile's PasswordHash and the PasswordEncryption of the request
// that must carry it.
type LoginRadiusPassword struct {
	Hash       string
	Encryption map[string]any
}

// md5CryptMCF matches an md5-crypt string: "$1$", a salt of at most 8
// crypt64 characters, "$", 22 crypt64 characters.
var md5CryptMCF = regexp.MustCompile(`^\$1\$[./0-9A-Za-z]{0,8}\$[./0-9A-Za-z]{22}$`)

// LoginRadius converts g for LoginRadius' bulk migration API with the
// choices of o (see the package documentation's table and
// docs/apis/loginradius.md, "PasswordEncryption" and "Hashing
// algorithms"). LoginRadius documents every supported algorithm with a salt
// type (a universal salt, or one per user stored as "<hash>:<salt>") and an
// attached salt type (None, Append: H(password+salt), Prepend:
// H(salt+password)); Gigya's per-user salts and format templates map onto
// the per-user forms:
//
//	pbkdf2, pbkdf2_sha256,      <key>:<salt>, IsPerPasswordSalt, SaltAttachType None,
//	pbkdf2_sha512               NumberOfIteration, SaltKeyLength, SubKeyLength,
//	                            PasswordHashEncodingType, PasswordSaltEncodingType
//	md5 sha1 sha256 sha512      <digest>, Universal, None; with a template
//	                            "$salt$password" / "$password$salt" (constant text
//	                            folded into the salt): <digest>:<salt>, Prepend / Append
//	bcrypt                      the MCF string (template: :<salt>, Prepend / Append)
//	md5_crypt                   the "$1$" MCF string (LoginRadius' Crypt_MD5)
//
// Everything else (custom, sha1_hashbytes, sha512Hexa, md5_double_salted,
// drupal, symphony2, sap_abap, binaryFormat, iterated digests, templates
// with text on both sides of the password, an algorithm whose Type o leaves
// empty) gives an error wrapping *[UnsupportedError].
func LoginRadius(g Gigya, o LoginRadiusOptions) (LoginRadiusPassword, error) {
	alg := normalizeAlg(g.Algorithm)
	if g.BinaryFormat != "" {
		return LoginRadiusPassword{}, unsupported(alg, TargetLoginRadius, "hashSettings.binaryFormat is set, and its grammar is not documented")
	}
	if err := o.check(); err != nil {
		return LoginRadiusPassword{}, err
	}
	scheme := alg
	if g.isBcrypt(alg) {
		scheme = AlgBcrypt
	}
	known := scheme == AlgBcrypt || scheme == AlgMD5Crypt || pbkdf2Digests[scheme] != "" || digestSizes[scheme] != 0
	if !known {
		return LoginRadiusPassword{}, refuse(alg, TargetLoginRadius)
	}
	typ := o.Types[scheme]
	if typ == "" {
		return LoginRadiusPassword{}, unsupported(alg, TargetLoginRadius, "the mapping's loginradius options give %s no PasswordEncryption.Type", scheme)
	}
	switch {
	case pbkdf2Digests[scheme] != "":
		return lrPBKDF2(g, alg, typ, o)
	case digestSizes[scheme] != 0:
		return lrDigest(g, alg, typ, o)
	case scheme == AlgBcrypt:
		return lrBcrypt(g, alg, typ, o)
	}
	return lrMD5Crypt(g, alg, typ, o)
}

// lrPBKDF2 writes the derived key with the per-user salt after ":" (or the
// Rfc2898DeriveBytes form). SaltAttachType None: the salt is PBKDF2's salt,
// not text at the password.
func lrPBKDF2(g Gigya, alg, typ string, o LoginRadiusOptions) (LoginRadiusPassword, error) {
	salt, key, err := pbkdf2Parts(g, alg, TargetLoginRadius)
	if err != nil {
		return LoginRadiusPassword{}, err
	}
	enc := map[string]any{
		"Type":              typ,
		"IsPerPasswordSalt": true,
		"SaltAttachType":    o.AttachNone,
		"NumberOfIteration": g.Rounds,
		"SaltKeyLength":     len(salt),
		"SubKeyLength":      len(key),
	}
	if o.PBKDF2Form == PBKDF2FormRFC2898 {
		// The form carries its own rounds, salt and key, in base64.
		return LoginRadiusPassword{
			Hash: "Rfc2898DeriveBytes$" + strconv.Itoa(g.Rounds) + "$" +
				base64.StdEncoding.EncodeToString(salt) + "$" + base64.StdEncoding.EncodeToString(key),
			Encryption: enc,
		}, nil
	}
	enc["PasswordHashEncodingType"] = o.HashEncoding
	enc["PasswordSaltEncodingType"] = o.SaltEncoding
	return LoginRadiusPassword{
		Hash:       encodeBinary(key, o.HashEncoding) + lrSaltSeparator + encodeBinary(salt, o.SaltEncoding),
		Encryption: enc,
	}, nil
}

// lrDigest converts one md5/sha1/sha256/sha512 digest of
// prefix+password+suffix.
func lrDigest(g Gigya, alg, typ string, o LoginRadiusOptions) (LoginRadiusPassword, error) {
	size := digestSizes[alg]
	switch {
	case g.Hash == "":
		return LoginRadiusPassword{}, unsupported(alg, TargetLoginRadius, "no hash")
	case g.Rounds > 1:
		return LoginRadiusPassword{}, unsupported(alg, TargetLoginRadius, "the digest was iterated %d times; LoginRadius documents a single digest only", g.Rounds)
	case g.Rounds < 0:
		return LoginRadiusPassword{}, unsupported(alg, TargetLoginRadius, "invalid rounds %d", g.Rounds)
	}
	sum, err := decodeBase64(g.Hash)
	if err != nil {
		return LoginRadiusPassword{}, unsupported(alg, TargetLoginRadius, "hash is not base64: %v", err)
	}
	if len(sum) != size {
		return LoginRadiusPassword{}, unsupported(alg, TargetLoginRadius, "hash decodes to %d bytes, a %s digest has %d", len(sum), alg, size)
	}
	a, reason := digestAffix(g)
	if reason != "" {
		return LoginRadiusPassword{}, unsupported(alg, TargetLoginRadius, "%s", reason)
	}
	p := lrAttach(typ, encodeBinary(sum, o.HashEncoding), a, o)
	p.Encryption["PasswordHashEncodingType"] = o.HashEncoding
	return p, nil
}

// lrBcrypt passes a bcrypt MCF string through, with the text of a format
// template as an attached per-user salt.
func lrBcrypt(g Gigya, alg, typ string, o LoginRadiusOptions) (LoginRadiusPassword, error) {
	mcf := g.mcf()
	switch {
	case mcf == "":
		return LoginRadiusPassword{}, unsupported(alg, TargetLoginRadius, "no hash")
	case !bcryptMCF.MatchString(mcf):
		return LoginRadiusPassword{}, unsupported(alg, TargetLoginRadius, "the bcrypt hash is not an MCF string ($2a$/$2b$/$2y$, cost 04-31); a bare hash with separate salt and rounds is not documented")
	}
	var a affix
	switch {
	case g.Format != "":
		var reason string
		if a, reason = splitFormat(g.Format, g.Salt); reason != "" {
			return LoginRadiusPassword{}, unsupported(alg, TargetLoginRadius, "%s", reason)
		}
	case g.Salt != "" && g.Salt != mcf[7:29]:
		return LoginRadiusPassword{}, unsupported(alg, TargetLoginRadius, "bcrypt with a separate salt but no format template: its role is not documented")
	}
	return lrAttach(typ, mcf, a, o), nil
}

// lrMD5Crypt passes an md5-crypt string through: LoginRadius lists
// Crypt_MD5, whose universal, unattached form stores Crypt_MD5[P], the
// "$1$" string that carries its own salt.
func lrMD5Crypt(g Gigya, alg, typ string, o LoginRadiusOptions) (LoginRadiusPassword, error) {
	mcf := g.mcf()
	switch {
	case mcf == "":
		return LoginRadiusPassword{}, unsupported(alg, TargetLoginRadius, "no hash")
	case !md5CryptMCF.MatchString(mcf):
		return LoginRadiusPassword{}, unsupported(alg, TargetLoginRadius, "the md5_crypt hash is not a $1$<salt>$<22 characters> string")
	case g.Format == "" && g.Salt != "":
		return LoginRadiusPassword{}, unsupported(alg, TargetLoginRadius, "md5_crypt with a separate salt but no format template: its role is not documented")
	}
	var a affix
	if g.Format != "" {
		var reason string
		if a, reason = splitFormat(g.Format, g.Salt); reason != "" {
			return LoginRadiusPassword{}, unsupported(alg, TargetLoginRadius, "%s", reason)
		}
	}
	return lrAttach(typ, mcf, a, o), nil
}

// lrAttach builds the password for hash with the text a around the
// password: none (universal, no salt), a prefix (per-user salt, Prepend)
// or a suffix (per-user salt, Append).
func lrAttach(typ, hash string, a affix, o LoginRadiusOptions) LoginRadiusPassword {
	enc := map[string]any{"Type": typ, "IsPerPasswordSalt": false, "SaltAttachType": o.AttachNone}
	switch {
	case a.prefix != "":
		enc["IsPerPasswordSalt"], enc["SaltAttachType"] = true, o.AttachPrepend
		hash += lrSaltSeparator + a.prefix
	case a.suffix != "":
		enc["IsPerPasswordSalt"], enc["SaltAttachType"] = true, o.AttachAppend
		hash += lrSaltSeparator + a.suffix
	}
	return LoginRadiusPassword{Hash: hash, Encryption: enc}
}
