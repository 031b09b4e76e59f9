// Package lrsim is an in-memory LoginRadius tenant for tests: the bulk
// migration API, the Account (management) APIs a per-user load uses, the
// availability checks, and a login that checks a migrated PasswordHash with
// the PasswordEncryption it came with, so that a test proves users log in
// with their old password. Quoted names in parentheses are headings of
// docs/apis/loginradius.md, which gives the sources; everything the
// document marks as a simulator choice is one here too.
//
// # Endpoints
//
// One host serves both LoginRadius hosts (migration.loginradius.com and
// api.loginradius.com):
//
//	POST /v2/bulk/upsert?apikey=&apisecret=        {PasswordEncryption?, Profiles} → 200
//	                                               {"Profile": {RecordInserted, RecordUpdated,
//	                                               Failed}} ("Bulk upsert")
//	POST /identity/v2/manage/account               Account Create: a profile, Password
//	                                               plaintext → the profile ("Account APIs")
//	GET  /identity/v2/manage/account?email=|username=|phone=   the profile
//	GET  /identity/v2/manage/account/{uid}         the profile
//	PUT  /identity/v2/manage/account/{uid}         Account Update → {"IsPosted", "Data"}
//	PUT  /identity/v2/manage/account/{uid}/password {"password"} → {"PasswordHash"}
//	GET  /identity/v2/auth/email?apikey=&email=    {"IsExist": bool}; also /auth/username,
//	                                               /auth/phone
//	POST /identity/v2/auth/login?apikey=           {email | username | phone, password} →
//	                                               {access_token, expires_in, Profile}
//	POST /identity/v2/auth/password?apikey=        forgot password {email} → {"IsPosted"};
//	                                               the token is [Sim.ResetToken]
//	PUT  /identity/v2/auth/password/reset?apikey=  {resettoken, password} → {"IsPosted"}
//
// Credentials: the bulk API takes apikey and apisecret in the query; the
// management APIs the X-LoginRadius-ApiKey and X-LoginRadius-ApiSecret
// headers or the same query parameters; the auth APIs the apikey. A missing
// key answers 400 ErrorCode 922, an unknown one 400 920, a wrong secret 401
// 902; the bulk API answers 401 6002 "Access Unauthorized" (its documented
// error). Every error is LoginRadius' body {Description, ErrorCode, Message,
// IsProviderError, ProviderErrorResponse} ("Errors"). A token bucket of
// Options.Rate per second and Options.Burst answers 429 with ErrorCode 429
// when empty ("Rate limits"); no rate-limit header is sent (none is
// documented).
//
// # Bulk upsert
//
//   - The body is at most Options.MaxRequestBytes (default 10 MiB): above,
//     413 with ErrorCode 7914 (simulator choice of status). Not JSON, an
//     unknown top-level member, or no Profiles: 400 7914 "Post body is
//     invalid". A PasswordEncryption that package lrverify refuses: 400 1134.
//   - Each profile is upserted by Uid (one is generated when absent):
//     RecordUpdated when the Uid exists, RecordInserted otherwise. The
//     profile's members replace the stored ones; PasswordHash replaces the
//     stored hash and its encryption.
//   - A profile that fails goes to Failed as {Uid, Email, ErrorCode,
//     Message, Description} (the shape of Failed items is a simulator
//     choice): a Uid LoginRadius refuses (1200), an invalid email (990),
//     no login (an Email, a PhoneId or an identity with Provider and ID:
//     1134), an email another Uid holds (936), a username (1017) or phone
//     (1058) another Uid holds, a CustomFields value that is not text (1134),
//     a PasswordHash without an encryption, or one that does not fit it
//     (1134). The others are stored.
//
// # Password policy
//
// With Options.MinPasswordLength, Account Create and set password refuse a
// shorter plaintext Password with 403 ErrorCode 1216 "Weak password", a
// simulator choice: LoginRadius publishes 1216 for a weak password but not
// which code its policy check answers on Account Create.
//
// # Fault injection
//
// [Sim.Inject] arms a [Fault] for the next N occurrences. On any request:
// FaultRateLimit (429 without a header, as LoginRadius documents none),
// FaultRateLimitRetryAfter (429 with Retry-After: Options.RetryAfter
// seconds), Fault500, Fault503. On the next bulk upserts: FaultSlow (held
// for Options.SlowDelay, then processed even if the client has gone, so a
// test can kill the loader while its request is in flight and see the
// write land after), FaultLostAnswer (processed and stored, then the
// connection is dropped without an answer), FaultUnattributed (Failed items
// without Uid or Email). [Sim.Refuse] makes every later write of one Uid
// fail with a given ErrorCode: a bulk upsert lists it in Failed, the
// Account APIs answer 403. Stats counts the faults that fired (Faults), the
// refused profiles (Refused), the bulk upserts in flight (InFlight) and
// those FaultSlow holds (Held);
// Options.OnWrite sees every profile stored, in order, so a test can tell
// whether an older version of a user was ever written after a newer one.
//
// # Login
//
// [Sim.Login] and POST /auth/login find the user by email (any of Email),
// UserName or PhoneId, refuse a user with IsActive false (991) and check
// the password: a migrated PasswordHash with lrverify and the request's
// PasswordEncryption, a password set through the APIs with bcrypt. A wrong
// password or an unknown user answers 966 "Invalid user ID and/or
// password" (HTTP 401).
package lrsim
