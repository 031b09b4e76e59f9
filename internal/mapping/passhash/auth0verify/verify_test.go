package auth0verify_test

import (
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"
	"golang.org/x/crypto/bcrypt"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/passhash/auth0verify"
)

// vector is an object with a password that must verify and one that must not.
type vector struct {
	name   string
	object string
	right  string
	wrong  string
}

func checkVectors(t *testing.T, vectors []vector) {
	t.Helper()
	for _, v := range vectors {
		t.Run(v.name, func(t *testing.T) {
			ok, err := auth0verify.Verify([]byte(v.object), v.right)
			if err != nil || !ok {
				t.Fatalf("right password: ok=%v err=%v", ok, err)
			}
			wrong := v.wrong
			if wrong == "" {
				wrong = v.right + "x"
			}
			ok, err = auth0verify.Verify([]byte(v.object), wrong)
			if err != nil || ok {
				t.Fatalf("wrong password %q: ok=%v err=%v", wrong, ok, err)
			}
		})
	}
}

// TestPublishedVectors checks the examples of Auth0's bulk-import schema page
// whose plaintexts are known (docs/apis/auth0.md, "Published hash examples"),
// plus published vectors of the underlying primitives (RFC 6070, RFC 7914,
// Wikipedia's HMAC examples), so that the verifier is anchored to outside
// data and not only to hashes computed in this repository.
func TestPublishedVectors(t *testing.T) {
	t.Parallel()
	checkVectors(t, []vector{
		{
			name:   "auth0 hmac example",
			object: `{"algorithm":"hmac","hash":{"value":"cg7f42jH39/2EaAU4wNd4s2lKIk=","encoding":"base64","digest":"sha1","key":{"value":"736868","encoding":"hex"}}}`,
			right:  "test", wrong: "Test",
		},
		{
			name:   "auth0 scrypt example",
			object: `{"algorithm":"scrypt","hash":{"value":"097f6197e1b41538f723e32aa7a68e8d76227d8e432ce5faa4882a913032db29","encoding":"hex"},"salt":{"value":"abc123","encoding":"utf8"},"keylen":32,"cost":4096}`,
			right:  "password", wrong: "passwort",
		},
		{
			name:   "auth0 bcrypt example",
			object: `{"algorithm":"bcrypt","hash":{"value":"$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K","encoding":"utf8"}}`,
			right:  "hello", wrong: "hellO",
		},
		{
			name:   "RFC 6070 PBKDF2-HMAC-SHA1 c=2",
			object: phc("sha1", 2, 20, []byte("salt"), unhex("ea6c014dc72d6f8ccd1ed92ace1d41f0d8de8957")),
			right:  "password",
		},
		{
			name:   "PBKDF2-HMAC-SHA512 c=1 (well-known vector, rechecked with Python hashlib)",
			object: phc("sha512", 1, 64, []byte("salt"), unhex("867f70cf1ade02cff3752599a3a53dc4af34c7a669815ae5d513554e1c8cf252c02d470a285a0501bad999bfe943c08f050235d7d68b1da55e63f73b60a57fce")),
			right:  "password",
		},
		{
			name:   "RFC 7914 scrypt N=1024 r=8 p=16",
			object: `{"algorithm":"scrypt","hash":{"value":"fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640","encoding":"hex"},"salt":{"value":"NaCl"},"keylen":64,"cost":1024,"blockSize":8,"parallelization":16}`,
			right:  "password",
		},
		{
			name:   "Wikipedia HMAC-SHA256, key as base64",
			object: `{"algorithm":"hmac","hash":{"value":"F7BC83F430538424B13298E6AA6FB143EF4D59A14946175997479DBC2D1A3CD8","encoding":"hex","digest":"sha256","key":{"value":"a2V5","encoding":"base64"}}}`,
			right:  "The quick brown fox jumps over the lazy dog",
		},
		{
			name:   "Wikipedia HMAC-MD5, key utf8 by default",
			object: `{"algorithm":"hmac","hash":{"value":"80070713463e7749b90c2dc24911e275","encoding":"hex","digest":"md5","key":{"value":"key"}}}`,
			right:  "The quick brown fox jumps over the lazy dog",
		},
	})
}

// TestComputedVectors covers every algorithm, salt position and encoding
// with values computed by Python's hashlib (an implementation independent
// of Go's), including non-ASCII passwords.
func TestComputedVectors(t *testing.T) {
	const uni = "pässwörd-日本-🔑"
	checkVectors(t, []vector{
		{
			name:   "sha256 salt prefix hex",
			object: `{"algorithm":"sha256","hash":{"value":"643feddb9540bd089a09d2d012211635a97a797726a993d66f1723d45b891416","encoding":"hex"},"salt":{"value":"abc123","position":"prefix"}}`,
			right:  uni, wrong: "pässwörd-日本",
		},
		{
			name:   "sha256 salt prefix by default",
			object: `{"algorithm":"sha256","hash":{"value":"643feddb9540bd089a09d2d012211635a97a797726a993d66f1723d45b891416","encoding":"hex"},"salt":{"value":"abc123"}}`,
			right:  uni,
		},
		{
			name:   "sha512 salt suffix base64",
			object: `{"algorithm":"sha512","hash":{"value":"Kkx8qJUUELzcYKQxKvc7MXFa3HMZJX+TTFMGUzuZ8RPG41DTMu900NARU1Ny7CDMgrnRNqjBx/S7I7DS8XtF6w==","encoding":"base64"},"salt":{"value":"sält","encoding":"utf8","position":"suffix"}}`,
			right:  uni,
		},
		{
			name:   "sha512 salt suffix url-safe unpadded base64, salt as hex",
			object: `{"algorithm":"sha512","hash":{"value":"Kkx8qJUUELzcYKQxKvc7MXFa3HMZJX-TTFMGUzuZ8RPG41DTMu900NARU1Ny7CDMgrnRNqjBx_S7I7DS8XtF6w","encoding":"base64"},"salt":{"value":"73c3a46c74","encoding":"hex","position":"suffix"}}`,
			right:  uni,
		},
		{
			name:   "md5 of utf16le password",
			object: `{"algorithm":"md5","hash":{"value":"0b2bc55a4481175a6dee2476c9972d46","encoding":"hex"},"password":{"encoding":"utf16le"}}`,
			right:  "pässwörd-🔑",
		},
		{
			name:   "ucs2 is utf16le",
			object: `{"algorithm":"md5","hash":{"value":"0b2bc55a4481175a6dee2476c9972d46","encoding":"hex"},"password":{"encoding":"ucs2"}}`,
			right:  "pässwörd-🔑",
		},
		{
			name:   "sha1 of latin1 password",
			object: `{"algorithm":"sha1","hash":{"value":"eYxIHY7AbAiRXrCWOfnCEBMfpL8=","encoding":"base64"},"password":{"encoding":"latin1"}}`,
			right:  "pässwörd",
		},
		{
			name:   "pbkdf2-sha256 with a non-ASCII password",
			object: phcString("$pbkdf2-sha256$i=1000,l=32$c2FsdHNhbHRzYWx0c2FsdA$hNweArP6CtzsVyou3ag3G6zh9h56w8Dk0LC8j72a1WA"),
			right:  uni,
		},
		{
			name:   "pbkdf2 defaults i=100000 l=64, parameters omitted, digest alias",
			object: phcString("$pbkdf2-RSA-SHA512$MDEyMzQ1Njc4OWFiY2RlZg$dZDTiVyfCYID8E49qzzeTrLuytQEUKj8LkAW5HISaSb3T1/q3cAHE69iteVe8Qm3XE41A8GD9aV5tQco/4/6zw"),
			right:  "password",
		},
		{
			name:   "pbkdf2 parameters in the other order",
			object: phcString("$pbkdf2-sha256$l=32,i=1000$c2FsdHNhbHRzYWx0c2FsdA$hNweArP6CtzsVyou3ag3G6zh9h56w8Dk0LC8j72a1WA"),
			right:  uni,
		},
		{
			name:   "ldap SSHA",
			object: `{"algorithm":"ldap","hash":{"value":"{SSHA}qlf/gcOo2SlI1zDpZmaQgOVI3G4BAgME/v8=","encoding":"utf8"}}`,
			right:  "secret",
		},
		{
			name:   "ldap SHA, encoding omitted",
			object: `{"algorithm":"ldap","hash":{"value":"{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="}}`,
			right:  "secret",
		},
		{
			name:   "ldap SMD5 lower-case scheme",
			object: `{"algorithm":"ldap","hash":{"value":"{smd5}zFKiBDSbiJSqfDVmCRtlNQECAwT+/w=="}}`,
			right:  "secret",
		},
		{
			name:   "ldap SSHA512",
			object: `{"algorithm":"ldap","hash":{"value":"{SSHA512}2zHIN6hrbMzsW70SaB4xIPyHAMtaot0JqxzLBaqt+N1MyCWsnRXaMEhkbwaE9i4dzRq2F27tPsVUkYhtVJxWBwECAwT+/w=="}}`,
			right:  "secret",
		},
	})
}

// TestBcryptSaltAndTruncation checks bcrypt with a salt object (allowed by
// Auth0, counted toward bcrypt's 72 bytes) and the documented truncation.
func TestBcryptSaltAndTruncation(t *testing.T) {
	mk := func(input string) string {
		h, err := bcrypt.GenerateFromPassword([]byte(input), bcrypt.MinCost)
		if err != nil {
			t.Fatal(err)
		}
		return string(h)
	}
	long := strings.Repeat("ä", 40) // 80 bytes: only the first 72 count
	for _, minor := range []string{"$2a$", "$2b$", "$2y$"} {
		h := minor + mk("pepper!pässwörd")[4:]
		checkVectors(t, []vector{
			{name: minor + " salt prefix", object: fmt.Sprintf(`{"algorithm":"bcrypt","hash":{"value":%q,"encoding":"utf8"},"salt":{"value":"pepper!","position":"prefix"}}`, h), right: "pässwörd"},
		})
	}
	checkVectors(t, []vector{
		{name: "salt suffix", object: fmt.Sprintf(`{"algorithm":"bcrypt","hash":{"value":%q},"salt":{"value":"cGVwcGVy","encoding":"base64","position":"suffix"}}`, mk("pässwörd-🔑pepper")), right: "pässwörd-🔑"},
		{name: "72-byte truncation", object: fmt.Sprintf(`{"algorithm":"bcrypt","hash":{"value":%q},"salt":{"value":"12345678"}}`, mk("12345678"+long[:64])), right: long, wrong: strings.Repeat("ä", 31) + "a"},
	})
}

// TestArgon2 uses x/crypto/argon2 to make hashes, since Auth0 publishes no
// argon2 plaintext; it checks the PHC parsing and variant dispatch.
func TestArgon2(t *testing.T) {
	salt := []byte("0123456789abcdef")
	b64 := base64.RawStdEncoding.EncodeToString
	id := argon2.IDKey([]byte("pässwörd"), salt, 1, 64, 1, 32)
	i := argon2.Key([]byte("pässwörd"), salt, 1, 64, 1, 16)
	checkVectors(t, []vector{
		{name: "argon2id", object: phcString("$argon2id$v=19$m=64,t=1,p=1$" + b64(salt) + "$" + b64(id)), right: "pässwörd"},
		{name: "argon2i", object: phcString("$argon2i$v=19$m=64,t=1,p=1$" + b64(salt) + "$" + b64(i)), right: "pässwörd"},
	})
	for _, s := range []string{
		"$argon2d$v=19$m=64,t=1,p=1$" + b64(salt) + "$" + b64(id),
		"$argon2id$m=64,t=1,p=1$" + b64(salt) + "$" + b64(id), // version 16
	} {
		if _, err := auth0verify.Verify([]byte(phcString(s)), "x"); !errors.Is(err, auth0verify.ErrNotImplemented) {
			t.Errorf("%s: err = %v, want ErrNotImplemented", s, err)
		}
	}
}

// TestDocumentedExamplesParse makes sure the verifier's strictness does not
// reject any example from Auth0's own documentation (including the ones
// whose plaintext is unknown), and that a random password does not match
// them.
func TestDocumentedExamplesParse(t *testing.T) {
	examples := []string{
		`{"algorithm":"md4","hash":{"value":"AbuUujgF0pPPkJPSFRTpmA==","encoding":"base64"}}`,
		`{"algorithm":"sha256","hash":{"value":"d24e794fce503c3ddb1cd1ba1dd5d9b250cf9917336a0316fefd87fecf79200f","encoding":"hex"},"salt":{"value":"abc123","position":"prefix"}}`,
		`{"algorithm":"bcrypt","hash":{"value":"$2b$10$C9hB01.YxRSTcn/ZOOo4j.TW7xCKKFKBSF.C7E0xiUwumqIDqWUXG"}}`,
		`{"algorithm":"bcrypt","hash":{"value":"$2a$10$aHF7mbpWT6tZ7PJVtwtjNelaKbszikcYBCB2jibvbFcGFmOsu/s4K"}}`,
		`{"algorithm":"argon2","hash":{"value":"$argon2id$v=19$m=65536,t=2,p=1$J6Q/82PCyaNpYKRELJyTZg$m04qUAB8rexWDR4+/0f+SFB+4XMFxt7YAvAq2UycYos"}}`,
		`{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-md4$i=100000,l=64$+N375B8q0Fw$fp2R9KAM4hK/votGHC5Fu+jhqbxUD8+Nic/EMSGvNC3UP/k7wSHI0uXluHRSkZfl/BOheYqNOemayG90ZaSSQw","encoding":"utf8"}}`,
		`{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-sha512$i=100000,l=64$KNyFsA2rWoE$I2CQGI9H0JxdDf3kERRI97kPCGxh0KWBIV3MxyaS191gDGfzVBGyS4BibhgqWQ0/ails8mHuU9ckASxHOOq58w"}}`,
		`{"algorithm":"ldap","hash":{"value":"{SSHA384}/cgEjdoZh85DhurDeOQEMO1rMlAur93SVPbYe5XSD4lF7nNuvrBju5hUeg9A6agRemgSXGl5YuE=","encoding":"utf8"}}`,
		`{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-sha512$i=10000,l=20$YWJjc29tZXRoaW5n$89v2METlSkX2LKWSQGHCdE4iUkE","encoding":"utf8"}}`,
	}
	for _, e := range examples {
		h, err := auth0verify.Parse([]byte(e))
		if err != nil {
			t.Errorf("documented example rejected: %v\n%s", err, e)
			continue
		}
		switch h.Algorithm {
		case auth0verify.Argon2, auth0verify.Bcrypt, auth0verify.PBKDF2:
			// Costly (64 MiB, cost 10, 100000 iterations), and computed by
			// the vector tests already; parsing is what matters here.
			continue
		}
		if ok, err := h.Verify("not the password"); ok || err != nil {
			t.Errorf("random password: ok=%v err=%v\n%s", ok, err, e)
		}
	}
}

// TestMalformed lists objects that break the schema or a per-algorithm
// rule; each must be rejected with ErrMalformed.
func TestMalformed(t *testing.T) {
	okPBKDF2 := "$pbkdf2-sha1$i=2,l=20$c2FsdA$6mwBTcctb4zNHtkqzh1B8NjeiVc"
	sum := sha256.Sum256([]byte("x"))
	sha := base64.StdEncoding.EncodeToString(sum[:])
	cases := map[string]string{
		"not json":               `{"algorithm":`,
		"not an object":          `["pbkdf2"]`,
		"trailing data":          `{"algorithm":"sha256","hash":{"value":"` + sha + `","encoding":"base64"}} {}`,
		"duplicate key":          `{"algorithm":"sha256","algorithm":"md5","hash":{"value":"` + sha + `","encoding":"base64"}}`,
		"duplicate nested key":   `{"algorithm":"sha256","hash":{"value":"` + sha + `","value":"x","encoding":"base64"}}`,
		"unknown top-level key":  `{"algorithm":"sha256","hash":{"value":"` + sha + `","encoding":"base64"},"iterations":2}`,
		"unknown hash key":       `{"algorithm":"sha256","hash":{"value":"` + sha + `","encoding":"base64","salt":"x"}}`,
		"unknown salt key":       `{"algorithm":"sha256","hash":{"value":"` + sha + `","encoding":"base64"},"salt":{"value":"x","pos":"prefix"}}`,
		"missing algorithm":      `{"hash":{"value":"` + sha + `","encoding":"base64"}}`,
		"missing hash":           `{"algorithm":"sha256"}`,
		"missing hash value":     `{"algorithm":"sha256","hash":{"encoding":"base64"}}`,
		"empty hash value":       `{"algorithm":"sha256","hash":{"value":"","encoding":"base64"}}`,
		"null hash":              `{"algorithm":"sha256","hash":null}`,
		"numeric algorithm":      `{"algorithm":5,"hash":{"value":"` + sha + `","encoding":"base64"}}`,
		"unknown algorithm":      `{"algorithm":"sha384","hash":{"value":"` + sha + `","encoding":"base64"}}`,
		"bad encoding":           `{"algorithm":"sha256","hash":{"value":"` + sha + `","encoding":"base32"}}`,
		"digest without enc":     `{"algorithm":"sha256","hash":{"value":"` + sha + `"}}`,
		"digest utf8":            `{"algorithm":"sha256","hash":{"value":"` + sha + `","encoding":"utf8"}}`,
		"digest not base64":      `{"algorithm":"sha256","hash":{"value":"%%%","encoding":"base64"}}`,
		"digest wrong length":    `{"algorithm":"md5","hash":{"value":"` + sha + `","encoding":"base64"}}`,
		"base64 mixed alphabets": `{"algorithm":"md5","hash":{"value":"+-AAAAAAAAAAAAAAAAAAAA","encoding":"base64"}}`,
		"hex odd":                `{"algorithm":"md5","hash":{"value":"abc","encoding":"hex"}}`,
		"salt without value":     `{"algorithm":"sha256","hash":{"value":"` + sha + `","encoding":"base64"},"salt":{"position":"prefix"}}`,
		"salt bad position":      `{"algorithm":"sha256","hash":{"value":"` + sha + `","encoding":"base64"},"salt":{"value":"x","position":"middle"}}`,
		"salt bad base64":        `{"algorithm":"sha256","hash":{"value":"` + sha + `","encoding":"base64"},"salt":{"value":"a","encoding":"base64"}}`,
		"password bad encoding":  `{"algorithm":"sha256","hash":{"value":"` + sha + `","encoding":"base64"},"password":{"encoding":"utf32"}}`,
		"digest key on sha256":   `{"algorithm":"sha256","hash":{"value":"` + sha + `","encoding":"base64","digest":"sha1"}}`,
		"keylen on sha256":       `{"algorithm":"sha256","hash":{"value":"` + sha + `","encoding":"base64"},"keylen":32}`,
		"pbkdf2 with salt":       `{"algorithm":"pbkdf2","hash":{"value":"` + okPBKDF2 + `","encoding":"utf8"},"salt":{"value":"salt"}}`,
		"pbkdf2 base64 encoding": `{"algorithm":"pbkdf2","hash":{"value":"` + okPBKDF2 + `","encoding":"base64"}}`,
		"pbkdf2 padded salt":     phcString("$pbkdf2-sha1$i=2,l=20$c2FsdA==$6mwBTcctb4zNHtkqzh1B8NjeiVc"),
		"pbkdf2 padded hash":     phcString("$pbkdf2-sha1$i=2,l=20$c2FsdA$6mwBTcctb4zNHtkqzh1B8NjeiVc="),
		"pbkdf2 url alphabet":    phcString("$pbkdf2-sha1$i=2,l=20$c2FsdA$6mwBTcctb4zNHtkqzh1B8NjeiV_"),
		"pbkdf2 wrong l":         phcString("$pbkdf2-sha1$i=2,l=64$c2FsdA$6mwBTcctb4zNHtkqzh1B8NjeiVc"),
		"pbkdf2 l omitted (64)":  phcString("$pbkdf2-sha1$i=2$c2FsdA$6mwBTcctb4zNHtkqzh1B8NjeiVc"),
		"pbkdf2 unknown digest":  phcString("$pbkdf2-sha3$i=2,l=20$c2FsdA$6mwBTcctb4zNHtkqzh1B8NjeiVc"),
		"pbkdf2 upper digest":    phcString("$pbkdf2-SHA1$i=2,l=20$c2FsdA$6mwBTcctb4zNHtkqzh1B8NjeiVc"),
		"pbkdf2 unknown param":   phcString("$pbkdf2-sha1$i=2,l=20,p=1$c2FsdA$6mwBTcctb4zNHtkqzh1B8NjeiVc"),
		"pbkdf2 duplicate param": phcString("$pbkdf2-sha1$i=2,i=3,l=20$c2FsdA$6mwBTcctb4zNHtkqzh1B8NjeiVc"),
		"pbkdf2 zero iterations": phcString("$pbkdf2-sha1$i=0,l=20$c2FsdA$6mwBTcctb4zNHtkqzh1B8NjeiVc"),
		"pbkdf2 empty salt":      phcString("$pbkdf2-sha1$i=2,l=20$$6mwBTcctb4zNHtkqzh1B8NjeiVc"),
		"pbkdf2 not phc":         phcString("pbkdf2-sha1$i=2,l=20$c2FsdA$6mwBTcctb4zNHtkqzh1B8NjeiVc"),
		"pbkdf2 id":              phcString("$pbkdf3-sha1$i=2,l=20$c2FsdA$6mwBTcctb4zNHtkqzh1B8NjeiVc"),
		"bcrypt 2x":              `{"algorithm":"bcrypt","hash":{"value":"$2x$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K"}}`,
		"bcrypt 2":               `{"algorithm":"bcrypt","hash":{"value":"$2$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K"}}`,
		"bcrypt cost 03":         `{"algorithm":"bcrypt","hash":{"value":"$2b$03$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K"}}`,
		"bcrypt truncated":       `{"algorithm":"bcrypt","hash":{"value":"$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1"}}`,
		"bcrypt hex encoding":    `{"algorithm":"bcrypt","hash":{"value":"$2b$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K","encoding":"hex"}}`,
		"hmac without digest":    `{"algorithm":"hmac","hash":{"value":"cg7f42jH39/2EaAU4wNd4s2lKIk=","encoding":"base64","key":{"value":"shh"}}}`,
		"hmac without key":       `{"algorithm":"hmac","hash":{"value":"cg7f42jH39/2EaAU4wNd4s2lKIk=","encoding":"base64","digest":"sha1"}}`,
		"hmac key without value": `{"algorithm":"hmac","hash":{"value":"cg7f42jH39/2EaAU4wNd4s2lKIk=","encoding":"base64","digest":"sha1","key":{}}}`,
		"hmac utf8 encoding":     `{"algorithm":"hmac","hash":{"value":"cg7f42jH39/2EaAU4wNd4s2lKIk=","encoding":"utf8","digest":"sha1","key":{"value":"shh"}}}`,
		"hmac with salt":         `{"algorithm":"hmac","hash":{"value":"cg7f42jH39/2EaAU4wNd4s2lKIk=","encoding":"base64","digest":"sha1","key":{"value":"shh"}},"salt":{"value":"x"}}`,
		"scrypt without keylen":  `{"algorithm":"scrypt","hash":{"value":"097f6197e1b41538f723e32aa7a68e8d76227d8e432ce5faa4882a913032db29","encoding":"hex"},"salt":{"value":"abc123"}}`,
		"scrypt cost not pow2":   `{"algorithm":"scrypt","hash":{"value":"097f6197e1b41538f723e32aa7a68e8d76227d8e432ce5faa4882a913032db29","encoding":"hex"},"salt":{"value":"abc123"},"keylen":32,"cost":4000}`,
		"scrypt keylen float":    `{"algorithm":"scrypt","hash":{"value":"097f6197e1b41538f723e32aa7a68e8d76227d8e432ce5faa4882a913032db29","encoding":"hex"},"salt":{"value":"abc123"},"keylen":32.0}`,
		"scrypt keylen mismatch": `{"algorithm":"scrypt","hash":{"value":"097f6197e1b41538f723e32aa7a68e8d76227d8e432ce5faa4882a913032db29","encoding":"hex"},"salt":{"value":"abc123"},"keylen":16}`,
		"scrypt salt position":   `{"algorithm":"scrypt","hash":{"value":"097f6197e1b41538f723e32aa7a68e8d76227d8e432ce5faa4882a913032db29","encoding":"hex"},"salt":{"value":"abc123","position":"prefix"},"keylen":32}`,
		"ldap crypt":             `{"algorithm":"ldap","hash":{"value":"{CRYPT}$1$abcdefgh$0123456789012345678901"}}`,
		"ldap salt object":       `{"algorithm":"ldap","hash":{"value":"{SHA}5en6G6MezRroT3XKqkdPOmY/BfQ="},"salt":{"value":"x"}}`,
		"ldap short":             `{"algorithm":"ldap","hash":{"value":"{SHA}5en6G6MezRroT3XKqkdPOmY/"}}`,
		"ldap ssha without salt": `{"algorithm":"ldap","hash":{"value":"{SSHA}5en6G6MezRroT3XKqkdPOmY/BfQ="}}`,
		"argon2 with salt":       `{"algorithm":"argon2","hash":{"value":"$argon2id$v=19$m=65536,t=2,p=1$J6Q/82PCyaNpYKRELJyTZg$m04qUAB8rexWDR4+/0f+SFB+4XMFxt7YAvAq2UycYos"},"salt":{"value":"x"}}`,
		"argon2 missing p":       `{"algorithm":"argon2","hash":{"value":"$argon2id$v=19$m=65536,t=2$J6Q/82PCyaNpYKRELJyTZg$m04qUAB8rexWDR4+/0f+SFB+4XMFxt7YAvAq2UycYos"}}`,
	}
	for name, obj := range cases {
		t.Run(name, func(t *testing.T) {
			_, err := auth0verify.Parse([]byte(obj))
			t.Log(err)
			if !errors.Is(err, auth0verify.ErrMalformed) {
				t.Fatalf("Parse: err = %v, want ErrMalformed\n%s", err, obj)
			}
			if ok, err := auth0verify.Verify([]byte(obj), "x"); ok || err == nil {
				t.Fatalf("Verify: ok=%v err=%v, want an error", ok, err)
			}
		})
	}
}

func TestLimitsAndNotImplemented(t *testing.T) {
	cases := map[string]error{
		phcString("$pbkdf2-sha1$i=10000001,l=20$c2FsdA$6mwBTcctb4zNHtkqzh1B8NjeiVc"):                                                                                auth0verify.ErrLimit,
		phcString("$pbkdf2-whirlpool$i=2,l=20$c2FsdA$6mwBTcctb4zNHtkqzh1B8NjeiVc"):                                                                                  auth0verify.ErrNotImplemented,
		phcString("$pbkdf2-mdc2$i=2,l=20$c2FsdA$6mwBTcctb4zNHtkqzh1B8NjeiVc"):                                                                                       auth0verify.ErrNotImplemented,
		`{"algorithm":"hmac","hash":{"value":"cg7f42jH39/2EaAU4wNd4s2lKIk=","encoding":"base64","digest":"whirlpool","key":{"value":"shh"}}}`:                       auth0verify.ErrNotImplemented,
		`{"algorithm":"scrypt","hash":{"value":"097f6197e1b41538f723e32aa7a68e8d76227d8e432ce5faa4882a913032db29","encoding":"hex"},"keylen":32,"cost":1073741824}`: auth0verify.ErrLimit,
		`{"algorithm":"bcrypt","hash":{"value":"$2b$19$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K"}}`:                                                    auth0verify.ErrLimit,
		phcString("$argon2id$v=19$m=4194304,t=1,p=1$MDEyMzQ1Njc4OWFiY2RlZg$MDEyMzQ1Njc4OWFiY2RlZg"):                                                                 auth0verify.ErrLimit,
	}
	for obj, want := range cases {
		if _, err := auth0verify.Parse([]byte(obj)); err != nil {
			t.Errorf("Parse rejected a documented-valid object: %v\n%s", err, obj)
		}
		if ok, err := auth0verify.Verify([]byte(obj), "password"); ok || !errors.Is(err, want) {
			t.Errorf("Verify: ok=%v err=%v, want %v\n%s", ok, err, want, obj)
		}
	}
	if _, err := auth0verify.Verify([]byte(`{"algorithm":"md5","hash":{"value":"0b2bc55a4481175a6dee2476c9972d46","encoding":"hex"}}`), "\xff"); err == nil {
		t.Error("an invalid UTF-8 password must be an error")
	}
}

func phc(digest string, iter, keylen int, salt, key []byte) string {
	b64 := base64.RawStdEncoding.EncodeToString
	return phcString(fmt.Sprintf("$pbkdf2-%s$i=%d,l=%d$%s$%s", digest, iter, keylen, b64(salt), b64(key)))
}

// phcString wraps a PHC string in the object for its algorithm.
func phcString(s string) string {
	alg := "pbkdf2"
	if strings.HasPrefix(s, "$argon2") {
		alg = "argon2"
	}
	return fmt.Sprintf(`{"algorithm":%q,"hash":{"value":%q,"encoding":"utf8"}}`, alg, s)
}

func unhex(s string) []byte {
	var b []byte
	if _, err := fmt.Sscanf(s, "%x", &b); err != nil {
		panic(err)
	}
	return b
}

// FuzzParse feeds arbitrary bytes to the parser: it must not panic, and an
// accepted object of a cheap algorithm must be checkable.
func FuzzParse(f *testing.F) {
	f.Add([]byte(`{"algorithm":"hmac","hash":{"value":"cg7f42jH39/2EaAU4wNd4s2lKIk=","encoding":"base64","digest":"sha1","key":{"value":"736868","encoding":"hex"}}}`))
	f.Add([]byte(`{"algorithm":"sha256","hash":{"value":"d24e794fce503c3ddb1cd1ba1dd5d9b250cf9917336a0316fefd87fecf79200f","encoding":"hex"},"salt":{"value":"abc123","position":"prefix"}}`))
	f.Add([]byte(`{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-sha512$i=10000,l=20$YWJjc29tZXRoaW5n$89v2METlSkX2LKWSQGHCdE4iUkE","encoding":"utf8"}}`))
	f.Add([]byte(`{"algorithm":"ldap","hash":{"value":"{SSHA}qlf/gcOo2SlI1zDpZmaQgOVI3G4BAgME/v8="}}`))
	f.Add([]byte(`{"algorithm":"argon2","hash":{"value":"$argon2id$v=19$m=65536,t=2,p=1$J6Q/82PCyaNpYKRELJyTZg$m04qUAB8rexWDR4+/0f+SFB+4XMFxt7YAvAq2UycYos"}}`))
	f.Add([]byte(`{"algorithm":"scrypt","hash":{"value":"097f6197e1b41538f723e32aa7a68e8d76227d8e432ce5faa4882a913032db29","encoding":"hex"},"salt":{"value":"abc123"},"keylen":32,"cost":4096}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		h, err := auth0verify.Parse(data)
		if err != nil {
			if !errors.Is(err, auth0verify.ErrMalformed) {
				t.Fatalf("Parse error does not match ErrMalformed: %v", err)
			}
			return
		}
		switch h.Algorithm {
		case auth0verify.MD4, auth0verify.MD5, auth0verify.SHA1, auth0verify.SHA256, auth0verify.SHA512, auth0verify.HMAC, auth0verify.LDAP:
			if _, err := h.Verify("pässwörd"); err != nil && !errors.Is(err, auth0verify.ErrNotImplemented) {
				t.Fatalf("Verify: %v", err)
			}
		}
	})
}
