// Package validate checks mapped users against a target's documented import
// rules before they are published, so that an invalid user is dead-lettered
// with the field path and the rule instead of failing later in the target.
// For Auth0 this matters more than for one user: the import file's schema
// has additionalProperties: false, and one invalid user can make the whole
// file invalid.
//
// # Model
//
// [Builtin] maps a target name (the mapping's `target:`) to a [Factory];
// the map is explicit, with no init() registration, and a caller may add to
// it. A Factory takes [Options], the repairs the mapping allows
// ([ParseRepairs] reads its `repair:` list), and returns a [Validator]. A
// Validator is stateless and safe for concurrent use; build one at start-up
// and share it between workers.
//
// [Validator.Validate] returns a [Result] with three lists:
//
//   - Violations: broken rules. The user must not be published;
//     [Result.Err] turns them into a permanent error (fault code
//     "schema_violation", one "path: rule: message" per violation, the
//     violations themselves through errors.As with [*ViolationError]) for
//     the dead-letter stream.
//   - Warnings: published anyway, but reported (a profile over 10 KB, a
//     limit the target documents for another API).
//   - Repaired: what an enabled repair changed. Validate modifies the user
//     only for enabled repairs, and then only by replacing top-level
//     values: nested objects are copied on write, never modified, because
//     a mapped user may share them with the decoded account.
//
// Each finding has a Path ("app_metadata.created_at", "mfa_factors[1].phone.value",
// `user_metadata["a.b"]` for a key that is not a plain name, "" for the user
// as a whole), a stable Rule id (the Rule* constants, a small fixed set
// suitable as a metric label) and a Message that says what to do and never
// echoes personal data. Lists are sorted by path, so the same user always
// produces the same error text.
//
// Users are Go values about to be JSON-encoded, not decoded JSON, so every
// check sees values the way the encoder will: a named string type is a
// string, any map with string keys an object, any slice an array ([]byte
// a string), and a value with its own MarshalJSON or MarshalText is opaque
// (a time.Time in metadata is fine; in a field the schema types as string it
// is a type violation: format it in the mapping).
//
// Validation runs per record on the hot path: no regular expressions (the
// formats are small hand-written scanners), no encoding, and no paths unless
// something is reported (a value with a finding is walked a second time to
// name it). Validating a valid user allocates nothing.
//
// # Auth0 rules
//
// Sources are headings of docs/apis/auth0.md, which cites Auth0's
// bulk-import schema page and related Auth0 documents.
// V = violation, W = warning, R = repair (when enabled in [Options]).
//
//	Rule id                      Sev  What                                                    Source
//	required                     V    email present                                           User fields (required)
//	type                         V    email, phone_number, user_id, username, given_name,     User fields
//	                                  family_name, name, nickname, picture, password_hash
//	                                  strings; email_verified, phone_verified, blocked
//	                                  booleans; app_metadata, user_metadata objects;
//	                                  mfa_factors an array of objects
//	additional_property          V    no top-level name outside the schema's 17; no member    User fields (additionalProperties: false)
//	                                  other than totp/phone/email in an mfa_factors item,
//	                                  and only secret/value inside them
//	format_email                 V    email and mfa email.value are addresses (see below)     User fields (format: email)
//	e164                         V    phone_number and mfa phone.value: '+', 1-15 digits,     User fields (pattern ^\+[0-9]{1,15}$,
//	                                  first digit not 0 (see below)                           "E.164 ... including the country code")
//	reserved_app_metadata_key    V    none of the 18 reserved keys in app_metadata            Reserved app_metadata keys
//	metadata_key_chars           V/R  no '.' or '$' in any app_metadata/user_metadata key,    User fields (metadata names)
//	                                  at any depth, inside arrays too; R: replaced by '_'
//	metadata_key_collision       V    R would rename a key onto an existing or another        ours: a repair never drops data
//	                                  renamed key: none of them is renamed
//	user_id_prefix               V/R  user_id does not start with "auth0|"; R strips one      User fields; Known pitfalls, item 8
//	password_hash_format         V    bcrypt $2a$/$2b$, cost 10, 60-character modular crypt   User fields ("10 saltRounds")
//	password_hash_exclusive      V    not both password_hash and custom_password_hash         User fields
//	custom_password_hash_shape   V    see below                                               custom_password_hash; Hash algorithms
//	array_length                 V    mfa_factors has 1 to 10 items                           User fields (minItems/maxItems)
//	mfa_factor_shape             V    each item has exactly one member                        User fields (maxProperties: 1; ours: not 0)
//	totp_secret_base32           V    totp.secret matches ^[A-Z2-7]+$                         User fields
//	invalid_utf8                 V    every string and key is valid UTF-8                     ours: the encoder would alter it
//	json_value                   V    no NaN, infinity, channel, function, cycle              ours: not encodable
//	max_size                     V    the user is at most 500,000 bytes of JSON               Size and length limits (500 KB file)
//	profile_size                 W    the user is at most 10,000 bytes of JSON                Size and length limits (10 KB profile)
//	length                       W    given_name/family_name 1-150, name/nickname 1-300       Size and length limits (Management API;
//	                                  characters                                              import enforcement UNCONFIRMED)
//	ignored_property             W    unknown members of hash, salt, password, hash.key;      custom_password_hash (not forbidden by the schema,
//	                                  digest/key without hmac; keylen, cost, blockSize,       ignored by Auth0: likely a typo)
//	                                  parallelization without scrypt
//
// custom_password_hash_shape covers, with a specific message each:
// algorithm and hash required; no members besides algorithm, hash, salt,
// password, keylen, cost, blockSize, parallelization; the algorithm, hash
// encoding, digest, salt encoding, salt position and password encoding
// enums; hash.value required and non-empty; hash.encoding utf8 (or absent)
// for argon2, bcrypt, ldap, pbkdf2 and hex or base64 (required) for hmac,
// md4, md5, sha1, sha256, sha512, scrypt; the salt object forbidden for
// argon2, pbkdf2, ldap, and with a value that decodes in its encoding;
// hmac's digest and key.value required, the key decodable; scrypt's keylen
// required, keylen > 0, cost a power of two > 1, blockSize and
// parallelization > 0, all integers; and per algorithm the value:
//
//	bcrypt   $2a$, $2b$ or $2y$ (not $2$, $2x$), two-digit cost 04-31, 53 characters of ./A-Za-z0-9
//	pbkdf2   $pbkdf2-<digest>[$i=<n>,l=<n>]$<salt>$<hash>, digest from the accepted list, i and l
//	         positive and at most once each, salt and hash standard base64 WITHOUT '=' padding,
//	         hash exactly l bytes (64 when l is absent)
//	argon2   $argon2id$ or $argon2i$, optional v=<n>, m, t, p in that order, salt and hash as above;
//	         argon2d is rejected: Auth0 verifies through auth0/magic, which uses libsodium
//	ldap     {SCHEME}base64 with scheme md5, smd5, sha*, ssha* (case-insensitive), not {CRYPT};
//	         known schemes decode to exactly the digest length (unsalted) or more (salted)
//	md4 ...  the value decodes (hex either case; base64 standard or URL-safe, padding optional)
//	sha512,  to exactly the digest length (16, 16, 20, 32, 64 bytes), the hmac digest's length,
//	hmac,    or keylen for scrypt
//	scrypt
//
// The length checks are derived rather than stated by Auth0: a hash of the
// wrong length, or a hex/base64 value that does not decode, imports fine and
// then fails every login silently (docs/apis/auth0.md, "Known pitfalls",
// item 2), so it is caught here.
//
// Decisions where the documents leave room:
//
//   - format_email: net/mail must parse the value as one bare addr-spec,
//     unchanged (no display name, angle brackets, comments, quoted local
//     part, surrounding spaces); the domain must contain a dot and consist
//     of letter/digit/hyphen (or non-ASCII) labels of 1-63 bytes not
//     starting or ending with '-', and not be an IP literal; at most 64
//     bytes before the @ and 254 in all. That is what ajv and validator.js,
//     the usual JSON-schema email validators for Node, agree on. Non-ASCII
//     addresses are accepted; whether Auth0 accepts them is unknown.
//   - e164: stricter than the schema's pattern by rejecting a 0 after the
//     '+' (no country code starts with 0; "+0049..." is a bug and the
//     number could never receive an SMS), for phone_number and MFA phones.
//   - Sizes are the length of the user as compact JSON without HTML
//     escaping, computed while walking the value (no encoding). Auth0's own
//     measure of a stored profile differs, hence a warning threshold of
//     10,000 bytes rather than 10,240, and a violation only where no import
//     file could hold the user.
//   - Empty strings in name fields are warnings (the Management API wants at
//     least 1 character); the mapping's omit_empty removes them.
//
// Not checked, because nothing confirms a rule: username format (a
// connection setting), picture as a URL (the schema says string),
// upsert-only restrictions (a loader concern), user_id length or
// characters.
//
// # LoginRadius rules
//
// The LoginRadius validator checks a profile of the bulk migration API
// against LoginRadius' profile model and error list; sources are headings of
// docs/apis/loginradius.md:
//
//	Rule id              Sev  What                                                     Source
//	type                 V    strings: Uid, UserName, Username, FirstName, LastName,   Profile (Go SDK profile struct and
//	                          PhoneId, PasswordHash, Password, State, City, Gender,    sample, Account Create example)
//	                          BirthDate, the dates, ...; booleans: EmailVerified,
//	                          PhoneIdVerified, IsActive; objects: Country {Code, Name},
//	                          PasswordEncryption; arrays of objects: Email,
//	                          UnverifiedEmail, Identities, Addresses, PhoneNumbers;
//	                          Password a string (a plaintext password, never a hash)
//	required             V    a login: an Email address, a PhoneId or a social         Profile (our reading: LoginRadius
//	                          identity; each Email item has Type and Value; each       logs a user in by one of these)
//	                          identity Provider and ID; PasswordEncryption.Type
//	format_email         V    each Email / UnverifiedEmail Value is an address         Profile
//	email_type           V    at most one Primary address in Email                     Profile (Primary, Secondary)
//	email_twice          V    no address both in Email and UnverifiedEmail             Profile (the guide's mapping table)
//	uid_format           V    Uid 1-50 letters, digits, '_', '-'                       Errors (error 1200)
//	custom_field_type    V    every CustomFields value is a string                     Profile (the SDKs' CustomFields)
//	password_encryption  V    PasswordHash with PasswordEncryption and not one alone;  PasswordEncryption, Hashing algorithms
//	                          with IsPerPasswordSalt the hash has ":<salt>"            ([hash]:RS)
//	invalid_utf8         V    every string and key is valid UTF-8                      ours
//	json_value           V    no NaN, infinity, channel, function, cycle               ours
//	max_size             V    the user is at most 10 MiB of JSON                       Request size (10 MB per request)
//	e164                 W    PhoneId in E.164                                         UNCONFIRMED format
//	pascal_case          W    top-level names start with an upper-case letter          Profile (handling of other names
//	                                                                                   UNCONFIRMED)
//
// Left out as UNCONFIRMED: the Email Type values beyond Primary and
// Secondary, unknown top-level names (the profile model has many fields),
// length limits, whether CustomFields must be declared in the tenant first.
// [Options] do not apply to LoginRadius.
package validate
