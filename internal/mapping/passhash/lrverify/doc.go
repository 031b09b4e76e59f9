// Package lrverify checks a password against a LoginRadius PasswordHash and
// the PasswordEncryption configuration it was imported with, the way
// LoginRadius documents it for migrated users.
//
// It is written from LoginRadius' published description only (the
// cryptographic hashing algorithms page and the bulk migration API,
// summarised in docs/apis/loginradius.md, "PasswordEncryption" and
// "Hashing algorithms"), never from the converter in package passhash: it
// is the independent half of the proof that a converted Gigya hash still
// logs the user in, and the password check of the LoginRadius simulator.
//
// LoginRadius' hashing page describes every algorithm by its salt type and
// its attached salt type, with P the password, S a universal (site-wide)
// salt and RS a per-user salt:
//
//	Salt type          Attached salt   Stored PasswordHash
//	Universal          None            H[P]
//	Universal          Append          H[P+S]
//	Universal          Prepend         H[S+P]
//	User per password  None            [H[P]]:RS
//	User per password  Append          [H[P+RS]]:RS
//	User per password  Prepend         [H[RS+P]]:RS
//
// In PasswordEncryption these are IsPerPasswordSalt (false: Universal, the
// salt is PasswordEncryption.Salt; true: the per-user salt follows the hash
// after the first ":"), SaltAttachType ("None", "Append", "Prepend") and
// Type, the algorithm. What this package computes for each Type (names
// compared without regard to case, "-" or "_"):
//
//	MD5, SHA1, SHA256, SHA512   one digest of the (salted) UTF-8 password; the
//	                            hash is PasswordHashEncodingType: Base64 or Hex
//	                            (Hex when absent, as in LoginRadius' own hashing
//	                            library)
//	PBKDF2                      PBKDF2-HMAC-SHA1 (.NET's Rfc2898DeriveBytes);
//	PBKDF2_SHA256, PBKDF2_SHA512 with HMAC-SHA256 / HMAC-SHA512 (the names are
//	                            our reading: LoginRadius lists only PBKDF2);
//	                            NumberOfIteration rounds, the salt decoded with
//	                            PasswordSaltEncodingType (Base64, Hex, UTF8;
//	                            UTF8 when absent), a key as long as the stored
//	                            hash (SubKeyLength, when set, must agree); only
//	                            with SaltAttachType None, where the salt is
//	                            PBKDF2's salt. The self-describing form of
//	                            LoginRadius' API example,
//	                            "Rfc2898DeriveBytes$<rounds>$<b64 salt>$<b64 key>",
//	                            is read too.
//	BCrypt                      a $2a$, $2b$ or $2y$ string; salt attached to
//	                            the password as above
//	Crypt_MD5                   an md5-crypt "$1$<salt>$<hash>" string (the
//	                            FreeBSD scheme), salt attached as above
//
// [Parse] validates a PasswordEncryption object strictly and
// [Encryption.Verify] checks a password against a PasswordHash: a hash that
// does not fit the configuration (no ":" with a per-user salt, the wrong
// length, bad encoding) is an error matching [ErrMalformed], not a wrong
// password. Work factors beyond generous bounds give [ErrLimit].
package lrverify
