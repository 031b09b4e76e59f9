// Package passhash converts the password hashes of a Gigya (SAP Customer
// Data Cloud) export into the forms target identity providers import, so
// that migrated users log in with the password they already have.
//
// [FromAccount] reads the "password" object of a decoded account into a
// [Gigya] value; [Auth0] and [LoginRadius] convert it. A hash that a target
// cannot verify, or whose Gigya semantics are not documented well enough to
// convert without guessing, is refused with an error wrapping
// *[UnsupportedError] (errors.Is [ErrUnsupported]), classified by
// fault.Classify as permanent with code "unsupported_password_hash". A
// wrong guess would make every affected login fail silently; a refusal lets
// the pipeline migrate the user without the hash and flag a password reset.
//
// # Gigya's export
//
// See docs/apis/gigya.md, "Password object" and "Hash algorithms and
// format templates".
//
//	password: {hash, hashSettings: {algorithm, rounds, salt, format}, created}
//
// hash is standard base64 (or an MCF string for bcrypt). Without a format
// template the salt is base64; with a format that contains "$salt" the salt
// is clear text spliced into the template. The template, e.g.
// "wikipedia$salt$password", is expanded left to right and the result is
// hashed as UTF-8. Base64 is decoded with the leniency real exports need
// (missing or superfluous padding, URL-safe alphabet) and nothing more; see
// decodeBase64.
//
// # Conversion table
//
// "Vector" means checked against a published example; "docs" means derived
// from the documentation of both sides and proven only by our own
// round-trip tests (Gigya-style hash → Auth0 object → package auth0verify,
// which is written from Auth0's documentation alone; Gigya-style hash →
// LoginRadius PasswordHash and PasswordEncryption → package lrverify,
// written from LoginRadius' hashing page alone).
//
//	Gigya algorithm / format          Auth0 custom_password_hash
//	pbkdf2_sha512 (native)            pbkdf2, "$pbkdf2-sha512$i=<rounds>,l=<len>$<B64>$<B64>"
//	                                  hash.encoding utf8, no salt object. Vector: Auth0
//	                                  community Gigya example, byte for byte.
//	pbkdf2_sha256                     same with "pbkdf2-sha256" (docs)
//	pbkdf2 (HMAC-SHA1)                same with "pbkdf2-sha1" (docs)
//	md5 sha1 sha256 sha512, no salt   <alg>, hash base64 (docs)
//	  format "$salt$password"         + salt {value <salt>, utf8, prefix} (docs)
//	  format "$password$salt"         + salt {value <salt>, utf8, suffix} (docs)
//	  "wikipedia$salt$password"       salt "wikipedia<salt>", prefix (docs)
//	  "$password$saltXYZ"             salt "<salt>XYZ", suffix (docs)
//	  "X$password" / "$passwordXYZ"   salt "X" prefix / "XYZ" suffix (docs)
//	  text on both sides of           unsupported: Auth0 has one salt position
//	  $password, $password missing
//	  or repeated
//	  salt but no format              unsupported: Gigya documents no position
//	  salt but format without $salt   unsupported: role of the salt undocumented
//	  rounds > 1                      unsupported: iterated digest, Auth0 hashes once
//	  hash not 16/20/32/64 bytes      unsupported (e.g. hex text where base64 belongs)
//	bcrypt $2a$ $2b$ $2y$ MCF         bcrypt, hash utf8 = the MCF string. Vector: Auth0's
//	(also as compoundHash, or with    "hello" example verifies in auth0verify; Gigya side
//	no algorithm but an MCF hash)     docs. rounds ignored (the MCF has the cost).
//	  with a format template          + salt object, prefix or suffix (docs; Auth0 counts
//	                                  it toward bcrypt's 72 bytes, as bcrypt itself does)
//	  $2$ or $2x$                     unsupported: Auth0 rejects these variants
//	  bare hash + salt + rounds       unsupported: Gigya's encoding of that form is
//	                                  undocumented
//	md5_crypt                         unsupported: no md5-crypt import ({CRYPT} excluded)
//	custom                            unsupported: hashed by the customer's remote service
//	sha1_hashbytes, sha512Hexa,       unsupported: semantics undocumented by SAP
//	md5_double_salted
//	drupal, symphony2, sap_abap       unsupported: iterated/proprietary schemes
//	anything with binaryFormat        unsupported: binaryFormat grammar undocumented
//	unknown or missing algorithm      unsupported
//
// LoginRadius (see [LoginRadius] and docs/apis/loginradius.md): every family
// above that Auth0 takes converts as well, into PasswordHash "<hash>" or
// "<hash>:<per-user salt>" and a PasswordEncryption {Type, IsPerPasswordSalt,
// SaltAttachType None/Prepend/Append, ...}: pbkdf2* (the salt after ":"),
// digests plain or with a one-sided template (the template's text after
// ":", Prepend or Append), bcrypt (the MCF string), and also md5_crypt (the
// "$1$" string, LoginRadius' Crypt_MD5). The same families are refused.
// The Type names and encodings LoginRadius does not confirm come from
// [LoginRadiusOptions].
//
// The password itself is always UTF-8 (Auth0's default password.encoding,
// and what Gigya hashes), so the converters never set password.encoding.
//
// # Base64 in Auth0's output
//
// PBKDF2 salts and keys are decoded and re-encoded as the PHC format's B64:
// the standard alphabet without padding (Auth0: "base64 omitting padding
// characters"). Merely stripping "=" would pass through any other defect of
// the export; re-encoding yields canonical text, and l is the decoded key
// length (Auth0 defaults l to 64, which would break every Gigya hash).
// Plain digests are sent as standard padded base64 with hash.encoding
// "base64". Salt text goes as utf8.
package passhash
