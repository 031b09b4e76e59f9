package validate_test

import (
	"strings"
	"testing"
)

func TestAuth0CustomPasswordHash(t *testing.T) {
	// hash replaces custom_password_hash with the JSON given.
	hash := func(s string) func(t *testing.T, u map[string]any) {
		return func(t *testing.T, u map[string]any) { u["custom_password_hash"] = jv(t, s) }
	}
	const cph = "custom_password_hash"
	const shape = ": custom_password_hash_shape"
	runAuth0(t, []auth0Case{
		// Valid variations.
		{name: "pbkdf2 without parameters", mod: hash(`{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-sha256$c2FsdA$` + b64(64) + `"}}`)},
		{name: "pbkdf2 with l only", mod: hash(`{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-RSA-SHA512$l=20$c2FsdA$` + b64(20) + `"}}`)},
		{name: "md5 url-safe base64 and a suffix salt", mod: hash(`{"algorithm":"md5","hash":{"value":"_-8AAAAAAAAAAAAAAAAAAA","encoding":"base64"},"salt":{"value":"6162","encoding":"hex","position":"suffix"},"password":{"encoding":"utf16le"}}`)},
		{name: "sha512 upper-case hex", mod: hash(`{"algorithm":"sha512","hash":{"value":"` + hexN(64, 'A') + `","encoding":"hex"}}`)},
		{name: "bcrypt $2y$ with a salt", mod: hash(`{"algorithm":"bcrypt","hash":{"value":"$2y$12$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K","encoding":"utf8"},"salt":{"value":"pepper"}}`)},
		{name: "argon2i without version", mod: hash(`{"algorithm":"argon2","hash":{"value":"$argon2i$m=4096,t=3,p=1$c2FsdHNhbHQ$` + b64(32) + `"}}`)},
		{name: "ldap unsalted md5", mod: hash(`{"algorithm":"ldap","hash":{"value":"{MD5}` + b64pad(16) + `"}}`)},
		{name: "hmac sha256 with utf8 key", mod: hash(`{"algorithm":"hmac","hash":{"value":"` + hexN(32, 'f') + `","encoding":"hex","digest":"sha256","key":{"value":"secret"}}}`)},

		// Schema.
		{name: "not an object", mod: hash(`"$2b$10$x"`), want: []string{cph + shape}},
		{name: "algorithm missing", mod: hash(`{"hash":{"value":"x","encoding":"utf8"}}`), want: []string{cph + ".algorithm" + shape}},
		{name: "algorithm unknown", mod: hash(`{"algorithm":"sha3","hash":{"value":"x","encoding":"hex"}}`), want: []string{cph + ".algorithm" + shape}},
		{name: "algorithm Gigya's name", mod: hash(`{"algorithm":"pbkdf2_sha512","hash":{"value":"` + gigyaPBKDF2 + `"}}`), want: []string{cph + ".algorithm" + shape}},
		{name: "hash missing", mod: hash(`{"algorithm":"md5"}`), want: []string{cph + ".hash" + shape}},
		{name: "hash a string (old schema)", mod: hash(`{"algorithm":"md5","hash":"` + hexN(16, 'a') + `","encoding":"hex"}`),
			want: []string{cph + ".hash" + shape, cph + ".encoding" + shape}},
		{name: "unknown member", mod: hash(`{"algorithm":"pbkdf2","hash":{"value":"` + gigyaPBKDF2 + `"},"iterations":10000}`),
			want: []string{cph + ".iterations" + shape}},
		{name: "hash.value missing, misspelt", mod: hash(`{"algorithm":"pbkdf2","hash":{"valeu":"` + gigyaPBKDF2 + `"}}`),
			want: []string{cph + ".hash.value" + shape}, warn: []string{cph + ".hash.valeu: ignored_property"}},
		{name: "hash.value empty", mod: hash(`{"algorithm":"pbkdf2","hash":{"value":""}}`), want: []string{cph + ".hash.value" + shape}},
		{name: "hash.encoding unknown", mod: hash(`{"algorithm":"md5","hash":{"value":"` + hexN(16, 'a') + `","encoding":"base32"}}`),
			want: []string{cph + ".hash.encoding" + shape}},
		{name: "password.encoding unknown", mod: hash(`{"algorithm":"pbkdf2","hash":{"value":"` + gigyaPBKDF2 + `"},"password":{"encoding":"utf16"}}`),
			want: []string{cph + ".password.encoding" + shape}},
		{name: "password with a misspelt member", mod: hash(`{"algorithm":"pbkdf2","hash":{"value":"` + gigyaPBKDF2 + `"},"password":{"encodng":"utf16le"}}`),
			warn: []string{cph + ".password.encodng: ignored_property"}},

		// Encoding per algorithm.
		{name: "pbkdf2 with hex encoding", mod: hash(`{"algorithm":"pbkdf2","hash":{"value":"` + gigyaPBKDF2 + `","encoding":"hex"}}`),
			want: []string{cph + ".hash.encoding" + shape}},
		{name: "md5 without encoding", mod: hash(`{"algorithm":"md5","hash":{"value":"` + hexN(16, 'a') + `"}}`),
			want: []string{cph + ".hash.encoding" + shape}},
		{name: "sha1 with utf8 encoding", mod: hash(`{"algorithm":"sha1","hash":{"value":"` + hexN(20, 'a') + `","encoding":"utf8"}}`),
			want: []string{cph + ".hash.encoding" + shape}},
		{name: "md5 hex of the wrong length", mod: hash(`{"algorithm":"md5","hash":{"value":"` + hexN(20, 'a') + `","encoding":"hex"}}`),
			want: []string{cph + ".hash.value" + shape}},
		{name: "sha256 not hex", mod: hash(`{"algorithm":"sha256","hash":{"value":"` + hexN(31, 'a') + `zz","encoding":"hex"}}`),
			want: []string{cph + ".hash.value" + shape}},
		{name: "sha256 base64 with broken padding", mod: hash(`{"algorithm":"sha256","hash":{"value":"` + b64(32) + `==","encoding":"base64"}}`),
			want: []string{cph + ".hash.value" + shape}},

		// Salt.
		{name: "pbkdf2 with a salt object", mod: hash(`{"algorithm":"pbkdf2","hash":{"value":"` + gigyaPBKDF2 + `","encoding":"utf8"},"salt":{"value":"abcsomething","encoding":"utf8"}}`),
			want: []string{cph + ".salt" + shape}},
		{name: "argon2 with a salt object", mod: hash(`{"algorithm":"argon2","hash":{"value":"$argon2id$v=19$m=65536,t=2,p=1$J6Q/82PCyaNpYKRELJyTZg$m04qUAB8rexWDR4+/0f+SFB+4XMFxt7YAvAq2UycYos"},"salt":{"value":"x"}}`),
			want: []string{cph + ".salt" + shape}},
		{name: "ldap with a salt object", mod: hash(`{"algorithm":"ldap","hash":{"value":"{MD5}` + b64pad(16) + `"},"salt":{"value":"x"}}`),
			want: []string{cph + ".salt" + shape}},
		{name: "salt without value", mod: hash(`{"algorithm":"md5","hash":{"value":"` + hexN(16, 'a') + `","encoding":"hex"},"salt":{"position":"prefix"}}`),
			want: []string{cph + ".salt.value" + shape}},
		{name: "salt position unknown", mod: hash(`{"algorithm":"md5","hash":{"value":"` + hexN(16, 'a') + `","encoding":"hex"},"salt":{"value":"s","position":"middle"}}`),
			want: []string{cph + ".salt.position" + shape}},
		{name: "salt encoding unknown", mod: hash(`{"algorithm":"md5","hash":{"value":"` + hexN(16, 'a') + `","encoding":"hex"},"salt":{"value":"s","encoding":"latin1"}}`),
			want: []string{cph + ".salt.encoding" + shape}},
		{name: "salt not in its encoding", mod: hash(`{"algorithm":"md5","hash":{"value":"` + hexN(16, 'a') + `","encoding":"hex"},"salt":{"value":"xyz","encoding":"hex"}}`),
			want: []string{cph + ".salt.value" + shape}},

		// bcrypt.
		{name: "bcrypt $2x$", mod: hash(`{"algorithm":"bcrypt","hash":{"value":"$2x$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K"}}`),
			want: []string{cph + ".hash.value" + shape}},
		{name: "bcrypt $2$", mod: hash(`{"algorithm":"bcrypt","hash":{"value":"$2$10$nFguVi9LsCAcvTZFKQlRKeLVydo8ETv483lkNsSFI/Wl1Rz1Ypo1K"}}`),
			want: []string{cph + ".hash.value" + shape}},
		{name: "bcrypt with base64 encoding", mod: hash(`{"algorithm":"bcrypt","hash":{"value":"` + bcrypt10 + `","encoding":"base64"}}`),
			want: []string{cph + ".hash.encoding" + shape}},

		// pbkdf2.
		{name: "pbkdf2 padded salt (stripped only partly)", mod: hash(`{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-sha512$i=10000,l=20$YWJjc29tZXRoaW5n==$89v2METlSkX2LKWSQGHCdE4iUkE"}}`),
			want: []string{cph + ".hash.value" + shape}},
		{name: "pbkdf2 padded hash", mod: hash(`{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-sha512$i=10000,l=20$YWJjc29tZXRoaW5n$89v2METlSkX2LKWSQGHCdE4iUkE="}}`),
			want: []string{cph + ".hash.value" + shape}},
		{name: "pbkdf2 l not the hash length", mod: hash(`{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-sha512$i=10000,l=64$YWJjc29tZXRoaW5n$89v2METlSkX2LKWSQGHCdE4iUkE"}}`),
			want: []string{cph + ".hash.value" + shape}},
		{name: "pbkdf2 without l, short hash", mod: hash(`{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-sha512$i=10000$YWJjc29tZXRoaW5n$89v2METlSkX2LKWSQGHCdE4iUkE"}}`),
			want: []string{cph + ".hash.value" + shape}},
		{name: "pbkdf2 unknown digest", mod: hash(`{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-sha3-256$i=10000,l=20$YWJjc29tZXRoaW5n$89v2METlSkX2LKWSQGHCdE4iUkE"}}`),
			want: []string{cph + ".hash.value" + shape}},
		{name: "pbkdf2 Gigya's underscore name", mod: hash(`{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2_sha512$i=10000,l=20$YWJjc29tZXRoaW5n$89v2METlSkX2LKWSQGHCdE4iUkE"}}`),
			want: []string{cph + ".hash.value" + shape}},
		{name: "pbkdf2 unknown parameter", mod: hash(`{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-sha512$i=10000,l=20,r=8$YWJjc29tZXRoaW5n$89v2METlSkX2LKWSQGHCdE4iUkE"}}`),
			want: []string{cph + ".hash.value" + shape}},
		{name: "pbkdf2 zero iterations", mod: hash(`{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-sha512$i=0,l=20$YWJjc29tZXRoaW5n$89v2METlSkX2LKWSQGHCdE4iUkE"}}`),
			want: []string{cph + ".hash.value" + shape}},
		{name: "pbkdf2 missing hash part", mod: hash(`{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-sha512$i=10000,l=20$YWJjc29tZXRoaW5n"}}`),
			want: []string{cph + ".hash.value" + shape}},
		{name: "pbkdf2 url-safe B64", mod: hash(`{"algorithm":"pbkdf2","hash":{"value":"$pbkdf2-sha512$i=10000,l=20$YWJjc29tZXRoaW5n$89v2METlSkX2LKWSQGHCdE4i_-E"}}`),
			want: []string{cph + ".hash.value" + shape}},

		// argon2, ldap.
		{name: "argon2d", mod: hash(`{"algorithm":"argon2","hash":{"value":"$argon2d$v=19$m=65536,t=2,p=1$J6Q/82PCyaNpYKRELJyTZg$m04qUAB8rexWDR4+/0f+SFB+4XMFxt7YAvAq2UycYos"}}`),
			want: []string{cph + ".hash.value" + shape}},
		{name: "argon2 parameters out of order", mod: hash(`{"algorithm":"argon2","hash":{"value":"$argon2id$v=19$t=2,m=65536,p=1$J6Q/82PCyaNpYKRELJyTZg$m04qUAB8rexWDR4+/0f+SFB+4XMFxt7YAvAq2UycYos"}}`),
			want: []string{cph + ".hash.value" + shape}},
		{name: "argon2 not PHC", mod: hash(`{"algorithm":"argon2","hash":{"value":"` + hexN(32, 'a') + `"}}`),
			want: []string{cph + ".hash.value" + shape}},
		{name: "ldap crypt", mod: hash(`{"algorithm":"ldap","hash":{"value":"{CRYPT}$1$abc$def"}}`), want: []string{cph + ".hash.value" + shape}},
		{name: "ldap unknown scheme", mod: hash(`{"algorithm":"ldap","hash":{"value":"{PBKDF2}` + b64pad(32) + `"}}`), want: []string{cph + ".hash.value" + shape}},
		{name: "ldap salted too short", mod: hash(`{"algorithm":"ldap","hash":{"value":"{SSHA}` + b64pad(20) + `"}}`), want: []string{cph + ".hash.value" + shape}},

		// hmac.
		{name: "hmac without digest and key", mod: hash(`{"algorithm":"hmac","hash":{"value":"cg7f42jH39/2EaAU4wNd4s2lKIk=","encoding":"base64"}}`),
			want: []string{cph + ".hash.digest" + shape, cph + ".hash.key" + shape}},
		{name: "hmac with only a value", mod: hash(`{"algorithm":"hmac","hash":{"value":"cg7f42jH39/2EaAU4wNd4s2lKIk="}}`),
			want: []string{cph + ".hash.encoding" + shape, cph + ".hash.digest" + shape, cph + ".hash.key" + shape}},
		{name: "hmac digest unknown", mod: hash(`{"algorithm":"hmac","hash":{"value":"cg7f42jH39/2EaAU4wNd4s2lKIk=","encoding":"base64","digest":"sha3","key":{"value":"shh"}}}`),
			want: []string{cph + ".hash.digest" + shape}},
		{name: "hmac key without value", mod: hash(`{"algorithm":"hmac","hash":{"value":"cg7f42jH39/2EaAU4wNd4s2lKIk=","encoding":"base64","digest":"sha1","key":{"encoding":"hex"}}}`),
			want: []string{cph + ".hash.key.value" + shape}},
		{name: "hmac key not hex", mod: hash(`{"algorithm":"hmac","hash":{"value":"cg7f42jH39/2EaAU4wNd4s2lKIk=","encoding":"base64","digest":"sha1","key":{"value":"shh","encoding":"hex"}}}`),
			want: []string{cph + ".hash.key.value" + shape}},
		{name: "hmac wrong length for digest", mod: hash(`{"algorithm":"hmac","hash":{"value":"cg7f42jH39/2EaAU4wNd4s2lKIk=","encoding":"base64","digest":"sha256","key":{"value":"shh"}}}`),
			want: []string{cph + ".hash.value" + shape}},
		{name: "digest and key on md5 are ignored", mod: hash(`{"algorithm":"md5","hash":{"value":"` + hexN(16, 'a') + `","encoding":"hex","digest":"md5","key":{"value":"k"}}}`),
			warn: []string{cph + ".hash.digest: ignored_property", cph + ".hash.key: ignored_property"}},

		// scrypt.
		{name: "scrypt without keylen", mod: hash(`{"algorithm":"scrypt","hash":{"value":"` + hexN(32, 'a') + `","encoding":"hex"}}`),
			want: []string{cph + ".keylen" + shape}},
		{name: "scrypt keylen not the hash length", mod: hash(`{"algorithm":"scrypt","hash":{"value":"` + hexN(32, 'a') + `","encoding":"hex"},"keylen":64}`),
			want: []string{cph + ".hash.value" + shape}},
		{name: "scrypt parameters invalid", mod: hash(`{"algorithm":"scrypt","hash":{"value":"` + hexN(32, 'a') + `","encoding":"hex"},"keylen":32,"cost":1000,"blockSize":0,"parallelization":"1"}`),
			want: []string{cph + ".cost" + shape, cph + ".blockSize" + shape, cph + ".parallelization" + shape}},
		{name: "scrypt keylen not an integer", mod: hash(`{"algorithm":"scrypt","hash":{"value":"` + hexN(32, 'a') + `","encoding":"hex"},"keylen":32.5}`),
			want: []string{cph + ".keylen" + shape}},
		{name: "keylen with md5 is ignored", mod: hash(`{"algorithm":"md5","hash":{"value":"` + hexN(16, 'a') + `","encoding":"hex"},"keylen":16}`),
			warn: []string{cph + ".keylen: ignored_property"}},
	})
}

// b64 returns an unpadded standard-base64 string of n bytes' length.
func b64(n int) string {
	return strings.Repeat("A", (n*8+5)/6)
}

// b64pad returns a padded standard-base64 string of n bytes.
func b64pad(n int) string {
	s := b64(n)
	for len(s)%4 != 0 {
		s += "="
	}
	return s
}

// hexN returns n bytes as hex, every digit c.
func hexN(n int, c byte) string {
	return strings.Repeat(string(c), 2*n)
}
