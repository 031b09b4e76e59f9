package sample

import (
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"fmt"
	"hash"
	"strings"
)

// How each algorithm is laid out in the generated password object.
// Everything below is our reading of docs/apis/gigya.md ("Password object",
// "Hash algorithms and format templates"); hashes are always over
// the UTF-8 bytes of the password and encoded as standard, padded base64
// unless noted.
//
//   - pbkdf2_sha512, pbkdf2_sha256, pbkdf2 (HMAC-SHA1): salt is base64 of 16
//     random bytes, rounds is the iteration count, and hash is
//     base64(PBKDF2(HMAC-H, password, base64decode(salt), rounds, keyLen))
//     with keyLen 20 for sha512 (matches the real export: the hash decodes
//     to 20 bytes), 32 for sha256 and 20 for sha1. No format.
//
//   - sha256, sha512, sha1, md5 salted: these always come with a format
//     template, because that is how Gigya imports salted legacy hashes.
//     Gigya documents that with "$salt" in the template the salt is clear
//     text, not base64, so hashSettings.salt holds the salt exactly as it is
//     spliced into the template (we only use [A-Za-z0-9] salts, 8–16
//     characters). hash = base64(H(UTF-8(template with $password and $salt
//     replaced))). Templates are "$salt$password" (salt prefix) and
//     "$password$salt" (salt suffix). rounds is 1: one digest, no iteration.
//
//   - md5, sha1 unsalted: no salt, no format, rounds 1; hash = base64(H(password)).
//
//   - bcrypt: hash holds the whole MCF string "$2a$<cost>$<22-char salt><31-char hash>"
//     (sometimes "$2b$", same algorithm for passwords under 255 bytes);
//     rounds = 2^cost because Gigya wants a power of two there; no separate salt.
//
//   - md5_crypt: hash is a syntactically valid "$1$<8-char salt>$<22 chars>"
//     string of random characters whose plaintext nobody knows; no rounds or salt.
//
//   - custom: hash and salt are base64 of random bytes and url names a remote
//     hash service that does not exist, so no target can verify it.

type hashFamily int

const (
	familyPBKDF2 hashFamily = iota + 1
	familySaltedDigest
	familyPlainDigest
	familyBcrypt
	familyMD5Crypt
	familyCustom
)

type hashScheme struct {
	algorithm string
	family    hashFamily
	weight    int
	newHash   func() hash.Hash
	keyLen    int
}

// hashSchemes is weighted like a tenant that has run for years: most users
// logged in since the import and were rehashed to the native pbkdf2_sha512,
// the rest still carry what they were imported with.
var hashSchemes = []hashScheme{
	{"pbkdf2_sha512", familyPBKDF2, 54, sha512.New, 20},
	{"pbkdf2_sha256", familyPBKDF2, 6, sha256.New, 32},
	{"pbkdf2", familyPBKDF2, 6, sha1.New, 20},
	{"bcrypt", familyBcrypt, 4, nil, 0},
	{"sha256", familySaltedDigest, 5, sha256.New, 0},
	{"sha512", familySaltedDigest, 4, sha512.New, 0},
	{"sha1", familySaltedDigest, 4, sha1.New, 0},
	{"md5", familySaltedDigest, 4, md5.New, 0},
	{"md5", familyPlainDigest, 4, md5.New, 0},
	{"sha1", familyPlainDigest, 3, sha1.New, 0},
	{"md5_crypt", familyMD5Crypt, 3, nil, 0},
	{"custom", familyCustom, 3, nil, 0},
}

var digestFormats = []string{"$salt$password", "$password$salt"}

const (
	alnumChars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	// cryptChars is the alphabet of crypt(3) strings, in crypt's order, so
	// that an index is also the 6-bit value the character encodes.
	cryptChars = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	// customHashURL points at a reserved domain: the hash service of the
	// "custom" algorithm must not resolve to anything real.
	customHashURL = "https://legacy-auth.example.com/hash"
)

// password builds the password object for plain. It reports whether the
// hash can be checked against plain. All random draws happen whatever the
// options, so that Options never shift the rest of the sequence.
func (b *builder) password(plain string, created int64) (doc *passwordDoc, verifiable bool) {
	s := b.pickScheme()
	doc = &passwordDoc{
		Created:      isoMillis(created),
		HashSettings: hashSettings{Algorithm: s.algorithm},
	}
	hs := &doc.HashSettings
	switch s.family {
	case familyPBKDF2:
		salt := b.bytes(16)
		key, err := pbkdf2.Key(s.newHash, plain, salt, b.opts.PBKDF2Rounds, s.keyLen)
		if err != nil {
			// Only possible under GODEBUG=fips140=only, where generating
			// legacy test hashes is not a supported use.
			panic(fmt.Sprintf("sample: %s: %v", s.algorithm, err))
		}
		doc.Hash = b64(key)
		hs.Rounds = b.opts.PBKDF2Rounds
		hs.Salt = b64(salt)
		return doc, true
	case familySaltedDigest:
		salt := b.text(alnumChars, 8+b.rng.IntN(9))
		hs.Format = digestFormats[b.rng.IntN(len(digestFormats))]
		hs.Rounds = 1
		hs.Salt = salt
		doc.Hash = b64(digest(s.newHash, expandFormat(hs.Format, plain, salt)))
		return doc, true
	case familyPlainDigest:
		hs.Rounds = 1
		doc.Hash = b64(digest(s.newHash, plain))
		return doc, true
	case familyBcrypt:
		var salt [16]byte
		copy(salt[:], b.bytes(16))
		minor := byte('a')
		if b.chance(0.3) {
			minor = 'b'
		}
		doc.Hash = bcryptHash([]byte(plain), b.opts.BcryptCost, salt, minor)
		hs.Rounds = 1 << b.opts.BcryptCost
		return doc, true
	case familyMD5Crypt:
		// The last character of md5-crypt carries only 2 bits, so only the
		// first four letters of the alphabet can appear there.
		doc.Hash = "$1$" + b.text(cryptChars, 8) + "$" + b.text(cryptChars, 21) + b.text(cryptChars[:4], 1)
		return doc, false
	case familyCustom:
		hs.Salt = b64(b.bytes(16))
		hs.URL = customHashURL
		doc.Hash = b64(b.bytes(32))
		return doc, false
	}
	panic("sample: unknown hash family")
}

func (b *builder) pickScheme() hashScheme {
	total := 0
	for _, s := range hashSchemes {
		total += s.weight
	}
	n := b.rng.IntN(total)
	for _, s := range hashSchemes {
		if n < s.weight {
			return s
		}
		n -= s.weight
	}
	return hashSchemes[0]
}

// expandFormat fills a pwHashFormat template in a single left-to-right
// pass, so that a password which itself contains "$salt" is not expanded a
// second time.
func expandFormat(format, password, salt string) string {
	var sb strings.Builder
	for i := 0; i < len(format); {
		switch {
		case strings.HasPrefix(format[i:], "$password"):
			sb.WriteString(password)
			i += len("$password")
		case strings.HasPrefix(format[i:], "$salt"):
			sb.WriteString(salt)
			i += len("$salt")
		default:
			sb.WriteByte(format[i])
			i++
		}
	}
	return sb.String()
}

func digest(newHash func() hash.Hash, s string) []byte {
	h := newHash()
	h.Write([]byte(s))
	return h.Sum(nil)
}

func b64(p []byte) string { return base64.StdEncoding.EncodeToString(p) }
