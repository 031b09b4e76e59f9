// Package gigyasim is an in-memory simulator of a SAP Customer Data Cloud
// (Gigya) site. It serves accounts.search and accounts.login over HTTP so
// that the extractor (cursor paging) and just-in-time migration (logins) can
// be tested without a Gigya tenant. Quoted names in parentheses are headings
// of docs/apis/gigya.md, which gives the sources.
//
// # Usage
//
//	sim, err := gigyasim.New(gigyasim.Options{Accounts: 1000, Seed: 1})
//	base, stop, err := sim.Start() // http://127.0.0.1:<port>
//	defer stop()
//	// POST base+"/accounts.search" with apiKey=sim.APIKey(), secret=sim.Secret(), ...
//
// The accounts come from internal/gigya/sample (same seed, same accounts), with hash
// work factors [FastSampleOptions] unless Options.SampleOptions says
// otherwise. [Sim.Passwords] gives the plaintext of every verifiable
// account. The command cmd/gigya-sim serves the same from the shell.
//
// # Simulated faithfully
//
//   - Transport ("Transport and response envelope"): POST,
//     application/x-www-form-urlencoded, HTTP 200 with the error in the body;
//     httpStatusCodes=true mirrors statusCode in the HTTP status. Every
//     response carries callId, errorCode, apiVersion 2, statusCode,
//     statusReason and time (RFC 3339, ms); errors add errorMessage and
//     errorDetails. statusCode is the first three digits of errorCode
//     (403048 → 403).
//   - Authentication ("Authentication"): apiKey + partner secret; apiKey +
//     userKey + secret; a signed request ("Signed requests": userKey, or
//     none to sign with the partner secret, timestamp, nonce and sig =
//     base64 HMAC-SHA1 over Gigya's base string, keyed with the
//     base64-decoded secret); Authorization: Bearer JWT (RS256, header kid =
//     userKey, payload iat/jti), verified against the userKey's RSA public
//     key, iat at most 5 minutes old and at most 1 minute ahead. Errors:
//     missing or wrong apiKey 400093; wrong secret, signature or JWT
//     signature 403003; unknown userKey (form or kid), or a kid without a
//     public key, 403005; JWT iat or signed timestamp out of range 403002;
//     malformed JWT or timestamp 400006; a signed request without
//     timestamp or nonce, or no credentials at all, 400002. Plain HTTP is
//     accepted (no 403006). Stats.Authenticated counts the requests that
//     passed, by mode. The npm package gigya 3.x runs against the
//     simulator in test/sdk, in all three of its modes.
//   - accounts.search parameters ("Search parameters"): query +
//     openCursor=true on the first request, cursorId afterwards, accountTypes
//     (full default, lite, full,lite), timeout (ms, default 20000, clamped to
//     60000).
//   - Responses ("Search responses"): results, objectsCount (this page),
//     totalCount (all matches), nextCursorId while rows remain and absent on
//     the last page.
//   - Page size ("Page size and limits"): 300 without LIMIT; LIMIT is the
//     page size and is clamped to 1000 (both configurable: DefaultPageSize,
//     MaxPageSize).
//   - Cursors ("Search cursors"): every page gets a new nextCursorId; a
//     cursorId names a position, so resending one (a client retry) answers
//     the same page and the same nextCursorId. A cursor idle longer than
//     CursorTTL (default 5 minutes) expires. An open cursor is a
//     point-in-time snapshot, like an Elasticsearch scroll: it keeps
//     returning the accounts (and versions) that matched when the query ran,
//     even after Put, Update or Delete.
//   - Encrypted fields ("Query language"): profile.email and loginIDs.emails
//     only take = and !=.
//   - Rate limit ("Rate limits"): SearchRate / LoginRate calls per second per
//     apiKey (token bucket, burst max(1, rate)); beyond it errorCode 403048
//     "Api rate limit exceeded", statusCode 403, statusReason Forbidden,
//     counted in Stats.RateLimited. No Retry-After header (none is
//     documented).
//   - Account object ("The account object"): the stored JSON is
//     internal/gigya/sample's, returned as is by SELECT *.
//     lastUpdatedTimestamp is unique: sample values are kept, and the rare
//     ties are broken by moving the larger UID up 1 ms (lastUpdated rewritten
//     to match). Put, Update and successful logins set
//     lastUpdated/lastUpdatedTimestamp to now, but always above every stored
//     value, so incremental extraction by lastUpdatedTimestamp is well
//     defined. Deleted accounts disappear from new searches ("Query
//     language").
//   - accounts.login ("accounts.login", "Login answers"): loginID (an email
//     in loginIDs.emails, loginIDs.unverifiedEmails or profile.email of a
//     full account, case-insensitive) and password; include selects the
//     account sections (default profile,data; unknown values 400006);
//     sessionInfo is {sessionToken, sessionSecret} for targetEnv=mobile and
//     {cookieName: glt_<apiKey>, cookieValue} otherwise. Outcomes: wrong
//     password or unknown loginID 403042 "invalid loginID or password";
//     correct password on isActive=false 403041; on isRegistered=false 206001
//     with regToken; on isVerified=false with RequireVerification 206002 with
//     regToken; LockoutAfter consecutive failures (default 5) lock the
//     account for LockoutFor (default 5 minutes): every attempt then answers
//     403120 with lockedUntil. A successful login bumps lastLogin(Timestamp)
//     and lastUpdated(Timestamp) as Gigya does ("Incremental extraction");
//     KeepTimestampsOnLogin turns that off.
//   - Password verification follows "Hash algorithms and format templates"
//     and is written independently of internal/gigya/sample: pbkdf2
//     (HMAC-SHA1), pbkdf2_sha256, pbkdf2_sha512 (base64 salt, rounds, key
//     length = hash length); md5, sha1, sha256, sha512 unsalted or with a
//     format template ($password, $salt, clear-text salt, expanded in one
//     pass); bcrypt via golang.org/x/crypto/bcrypt.
//
// # Query subset
//
//	SELECT <* | path, path, ...> FROM <accounts | emailAccounts>
//	  [WHERE <cond> [AND <cond>]...]
//	  [ORDER BY lastUpdatedTimestamp [ASC | DESC]]
//	  [LIMIT n]
//
// Keywords are case-insensitive and whitespace is free. cond is
// "field op value" with op one of > >= < <= = != and value a number, a
// "double-quoted string" or true/false. WHERE fields: lastUpdatedTimestamp,
// createdTimestamp (numbers); UID (string, all operators, byte order);
// profile.email (string, = and != only, case-insensitive);
// loginIDs.emails (the verified login emails, an array: = when one of
// them is the value, != when none is; case-insensitive);
// hasLiteAccount, hasFullAccount, isActive, isRegistered, isVerified
// (booleans, = and != only). A condition on a field the account lacks
// (isActive on a lite account) is false whatever the operator, like SQL
// NULL. SELECT paths return only those keys: "profile.email" returns
// {"profile":{"email":...}}, "identities.provider" returns the provider of
// each identity; UID is always included. FROM emailAccounts returns the
// accounts with hasLiteAccount=true (accountTypes is ignored there); FROM
// accounts returns full accounts, or what accountTypes asks for. Without
// ORDER BY, results come in (lastUpdatedTimestamp, UID) order.
//
// Everything else (OR, NOT, IN, IS NULL, CONTAINS, regex, FILTER, GROUP BY,
// START, count(*) and other functions, AS, parentheses, single quotes,
// other FROM tables, other WHERE or ORDER BY fields, clauses out of order)
// is rejected with errorCode 400006 and an errorDetails naming the
// unsupported part, so that a client bug is visible instead of producing
// silently different results.
//
// # Fault injection
//
// [Sim.Inject] arms a [Fault] for the next n matching requests; options
// narrow it ([OnSearch], [OnLogin], [OnMethod], [OnCursorRequests],
// [OnQueryRequests], [AfterMatches]) or parameterise it ([WithDelay]).
// Faults: HTTP500 (HTTP 500, HTML body), GigyaGeneral500001, Timeout504001,
// RateLimited (403048), Slow (delay; beyond the timeout parameter it becomes
// 504001), Truncated (executes, then sends half the body), ExpireCursor
// (expires the request's cursor: 400006), and SpuriousCursor (a nextCursorId
// on the last page whose fetch returns 0 results: "Search responses").
// [Sim.Stats] counts requests, errors by code, pages, rate-limit rejections
// and fired faults.
//
// # Choices where docs/apis/gigya.md marks Gigya's behaviour unconfirmed
//
//   - Expired or unknown cursorId: errorCode 400006, errorMessage "Invalid
//     parameter value", errorDetails "invalid cursorId" ("Search cursors").
//     Idle time counts per query: using any cursorId of a query keeps all of
//     its ids alive.
//   - query and cursorId together: 400006 (not 400001).
//   - openCursor sent again with a cursorId is ignored.
//   - Maximum LIMIT ("Page size and limits"): 1000 with or without
//     openCursor; the default page without LIMIT is 300. LIMIT 0 with
//     openCursor is 400006.
//   - SELECT * returns the whole stored account, password, identities,
//     loginIDs and emails included ("Account fields" leaves open what search
//     returns).
//   - Full accounts without hasFullAccount (all generated ones) count as
//     hasFullAccount=true and hasLiteAccount=false.
//   - accounts.login on an unknown loginID answers 403042, not 403047 ("Login
//     answers").
//   - md5_crypt is checked as crypt(3)'s "$1$" scheme (the generated
//     sample's md5_crypt strings are random, so they never match; tests
//     store accounts made with MD5Crypt to log one in).
//   - Hashes the simulator cannot check (custom, sha512Hexa and
//     the other import-only algorithms, a salt without a format template,
//     digest rounds above 1) fail like a wrong password: 403042, and count
//     towards the lockout.
//   - The password is checked before isActive, isRegistered and isVerified:
//     403041, 206001 and 206002 are only answered for the right password.
//   - Lockout: the failures up to and including the one reaching LockoutAfter
//     answer 403042; later attempts answer 403120 until lockedUntil, even
//     with the right password. Defaults (5 failures, 5 minutes) are not
//     Gigya's values (Gigya documents none).
//   - The JWT's jti is not checked for replay, nor a signed request's nonce.
//   - Signed requests ("Signed requests"): a timestamp of 10^11 or more is
//     in milliseconds (the npm package sends Date.now()), a smaller one in
//     seconds (SAP's SDKs send time()); it may be at most 3 minutes from the
//     simulator's clock either way. The signature is checked against
//     https://<namespace>.<Options.DataCenter>/<method> (the URL an SDK
//     signs; us1.gigya.com by default) and against the URL the request
//     reached, so a client pointed at the simulator verifies either way. A
//     secret that is not base64 cannot sign: 403003.
//
// # Simplified or not simulated
//
//   - Only accounts.search and accounts.login; any other method answers
//     400001 naming the method. GET requests and non-form bodies answer
//     400001, though Gigya may accept them; format other than json answers 400006.
//   - No data centers (301001), querySig, OAuth2 tokens, restrictedQuery,
//     or client-side (credential-less) calls: accounts.login without
//     credentials answers 400002, where Gigya would treat it as a
//     client-side call.
//   - No search lag: writes are visible to the next query at once (Gigya has
//     a short delay: "Query language").
//   - No captcha, TFA, loginMode, aToken, sessions or rehashing on login
//     (Gigya rehashes imported passwords on first login: "Password object").
//   - Failed logins do not change the stored account (no lockedUntil in
//     the account JSON); the lockout is kept beside it.
//   - Put/Update rewrite the account JSON with sorted keys (values unchanged).
//
// # Resources
//
// Generating 100,000 accounts with FastSampleOptions takes about 5 to 8
// seconds on two loaded cores (most of it internal/gigya/sample's bcrypt at cost 4)
// and holds about 260 MiB: the raw JSON (about 2.1 KB per account) plus a
// small index (UID, timestamps, email, flags). Serving all 100,000 with
// SELECT * in pages of 1000 takes under 2 seconds; field selection decodes
// each account of the page.
package gigyasim
