// Package auth0verify checks a password against an Auth0
// custom_password_hash object, the way Auth0 does when a bulk-imported user
// first logs in.
//
// It is written only from Auth0's published description of the object (the
// bulk user import schema, summarised in docs/apis/auth0.md,
// "custom_password_hash" and "Hash algorithms"), never from the converter in
// package passhash: it is the independent half of the proof that a converted
// Gigya hash still logs the user in, and the password check of the Auth0
// simulator.
//
// [Parse] validates an object strictly and [Hash.Verify] checks a
// password; [Verify] does both. Validation follows the documented schema
// (required "algorithm" and "hash", no other top-level keys than algorithm,
// hash, salt, password, keylen, cost, blockSize, parallelization) and the
// per-algorithm rules:
//
//	algorithm            hash.encoding        salt object   value
//	argon2               utf8 (or omitted)    not allowed   PHC $argon2{i,d,id}$v=19$m=,t=,p=$salt$hash
//	bcrypt               utf8 (or omitted)    allowed       $2a$/$2b$/$2y$ MCF; input = salt+password cut to 72 bytes
//	hmac                 hex or base64        not allowed*  HMAC-<hash.digest>(key=hash.key, password)
//	ldap                 utf8 (or omitted)    not allowed   RFC 2307 {MD5|SMD5|SHA|SSHA|SHA256|...}base64; no {CRYPT}
//	md4 md5 sha1         hex or base64        optional      H(salt+password) or H(password+salt)
//	sha256 sha512
//	pbkdf2               utf8 (or omitted)    not allowed   PHC $pbkdf2-<digest>$i=,l=$<B64 salt>$<B64 hash>
//	scrypt               hex or base64        optional**    scrypt(password, salt, cost, blockSize, parallelization, keylen)
//
// Where the documentation leaves room, this package is stricter than Auth0
// may be, on purpose, so that our converter cannot come to depend on
// undocumented leniency:
//
//   - duplicate JSON keys, unknown keys, null values and trailing data are
//     errors; hash.digest and hash.key are accepted only with hmac, and
//     keylen, cost, blockSize and parallelization only with scrypt;
//   - hash.encoding is required for the binary algorithms (every example
//     in Auth0's docs sets it) and may only be omitted for the string forms;
//   - * a salt object with hmac is an error: the docs do not say how it
//     would be used; ** with scrypt it is the scrypt salt, and a
//     "position" is an error because it would mean nothing;
//   - PHC B64 (pbkdf2, argon2) must be the standard alphabet without "="
//     padding, with zero trailing bits; Auth0 requires unpadded B64 and the
//     community guide for Gigya says the "=" must be removed;
//   - base64 values elsewhere may use the standard or the URL-safe alphabet
//     ("url-encoded base64" is accepted by Auth0), padded correctly or not
//     at all; hex may be upper or lower case;
//   - a hash whose length can never match (a digest of the wrong size, a
//     PBKDF2 hash that is not l bytes, a scrypt hash that is not keylen
//     bytes) is malformed rather than merely wrong.
//
// password.encoding is applied the way Node.js encodes a JavaScript string,
// because Auth0 "transcodes from utf8" to it: utf8 as is, utf16le and ucs2
// as UTF-16 little-endian, latin1, binary and ascii as the low byte of each
// UTF-16 code unit.
//
// A few things Auth0 accepts are not computed here and give
// [ErrNotImplemented] from Verify: the whirlpool and mdc2 digests, argon2d,
// and Argon2 versions other than 19. Work factors beyond generous bounds
// give [ErrLimit], so that a hostile object cannot stall a simulator.
package auth0verify
