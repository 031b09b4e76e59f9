// Package auth0sim is an in-memory Auth0 tenant for tests: the parts of the
// Management API that a bulk user import and its checks use, and a password
// check that proves an imported user can log in afterwards. The official
// npm client (auth0 7.x and its legacy v4 entry point) runs against it in
// test/sdk. Quoted names in parentheses are headings of docs/apis/auth0.md,
// which gives the sources.
//
// # Endpoints
//
//	POST /oauth/token                      client credentials, form or JSON; scope may ask for
//	                                       fewer of Options.Scopes ("Management API token")
//	GET  /api/v2/connections               name, strategy (repeatable), fields/include_fields;
//	                                       page/per_page → array, with include_totals=true
//	                                       {start, limit, total, connections}; from/take →
//	                                       {connections, next} ("Connections")
//	GET  /api/v2/connections/{id}          one connection
//	POST /api/v2/jobs/users-imports        multipart users/connection_id/upsert/external_id/
//	                                       send_completion_email ("Create an import job") → 202 job
//	GET  /api/v2/jobs/{id}                 status, percentage_done, time_left_seconds,
//	                                       summary when completed ("Job status")
//	GET  /api/v2/jobs/{id}/errors          200 array, 204, or 200 {"message"} ("Job errors")
//	GET  /api/v2/users-by-email?email=     array of users ("Users by email")
//	GET  /api/v2/users/{id}                the user ("The user object")
//	GET  /api/v2/users?q=&search_engine=v3 search, page/per_page, include_totals
//	                                       {start, limit, length, total, users}, sort ("User search")
//
// Scopes: connections need read:connections, imports create:users, jobs and
// their errors create:users or read:users, users read:users; a token
// without one answers 403 insufficient_scope. Every /api/v2 route above
// answers with x-ratelimit-limit, x-ratelimit-remaining and x-ratelimit-reset (unix
// seconds) from a token bucket of Options.Burst refilled at Options.Rate
// per second ("Rate limits"); an empty bucket answers 429. Every error, on
// every route and for unknown routes and methods, is the Management API's
// JSON body {"statusCode","error","message","errorCode"} with
// Content-Type application/json: 400 invalid_query_string, 401
// invalid_token, 403 insufficient_scope, 404 inexistent_user /
// inexistent_job / inexistent_connection (none for an unknown route), 429
// too_many_requests ("Management API errors"); /oauth/token errors use
// {"error","error_description"}.
//
// # Faithful
//
//   - 202 job body with type users_import, status pending, connection_id,
//     connection, created_at, id (job_ + 16 alphanumerics), external_id
//     ("Create an import job").
//   - connection_id pattern ^con_[A-Za-z0-9]{16}$ → 400 invalid_body with the
//     documented message (passing the connection name: "Known pitfalls", item
//     4); an unknown well-formed id → 404.
//   - users file > 500,000 bytes → 413 ("Size and length limits"); not a JSON
//     array of objects → 400.
//   - at most 2 pending/processing jobs; a third → 429 with the documented
//     "There are 2 active import users jobs..." message ("Limits and
//     concurrency").
//   - status goes pending → processing → completed (or failed) ("Job
//     status"); invalid users do not fail the job: they are counted in
//     summary.failed and listed by the errors endpoint ("Job status", "Job
//     errors"); 204 when there are none; hash values redacted as "*****"
//     (password_hash, hash.value, hash.key.value, salt.value) ("Job errors").
//   - duplicates inside one file (same email, case-insensitive, or same
//     user_id) → DUPLICATED_USER for the later ones; an existing user without
//     upsert → DUPLICATED_USER "The user already exist and upsert parameter
//     is false" ("Job errors"; "Known pitfalls", item 3).
//   - upsert matches on email and overwrites only email_verified, given_name,
//     family_name, name, nickname, picture, app_metadata, user_metadata
//     (whole objects, no merge) and custom_password_hash; password_hash is
//     ignored on upsert ("User fields", "Upsert"). A custom_password_hash on
//     a user that has a password_hash or has already logged in fails the user
//     with "A custom_password_hash was provided, but the user already has
//     password hash defined" ("Known pitfalls", item 1).
//   - user_id is stored as "auth0|<user_id>"; an id that already carries the
//     prefix becomes auth0|auth0|… ("User fields"; "Known pitfalls", item 8).
//   - users come back in the Management API's shape: user_id auth0|<id>,
//     the email lower-cased (as Auth0 stores it), one identity {connection,
//     provider auth0, user_id, isSocial false}, the fields the import stored
//     but the hashes and MFA factors ("The user object"); users-by-email
//     matches the lower-cased email exactly, so capitals find nobody ("Users
//     by email"); search matches the normalized fields in any case and the
//     others exactly, 50 users a page by default, per_page at most 100, the
//     first 1000 results only ("User search").
//   - connections: a bare array without include_totals, the totals object
//     with it, the checkpoint object whenever from or take is given
//     (include_totals is then ignored); per_page defaults to 100, take to 50
//     ("Connections").
//   - [Sim.Login]: password_hash checked with bcrypt, custom_password_hash
//     with package auth0verify; on the first successful login with a
//     custom_password_hash it is replaced by a bcrypt password_hash ("Known
//     pitfalls", item 2).
//
// # Per-user validation
//
// Each user is checked with internal/mapping/validate's Auth0 validator (warnings are
// ignored) and, when otherwise valid, its custom_password_hash is parsed
// with auth0verify.Parse. Rule ids map to Auth0 codes from the list under
// "Job error codes":
//
//	required                                  OBJECT_REQUIRED
//	type, json_value                          INVALID_TYPE
//	format_email, invalid_utf8                FORMAT
//	e164, totp_secret_base32,
//	password_hash_format                      PATTERN
//	array_length                              ARRAY_LENGTH_SHORT (0 items) / ARRAY_LENGTH_LONG
//	mfa_factor_shape                          MFA_FACTORS_FAILED
//	user_id_prefix                            not an error (stored double-prefixed)
//	everything else (additional_property,
//	reserved_app_metadata_key, metadata_key_*,
//	password_hash_exclusive,
//	custom_password_hash_shape, max_size,
//	auth0verify parse errors)                 NOT_PASSED
//
// The mapping is ours: Auth0 documents the code list, not which schema
// rule produces which code. Messages are internal/mapping/validate's, not Auth0's.
//
// # Simplified or missing
//
//   - one tenant, one database connection; Options.ExtraConnections are
//     listed (for paging and filters) but an import into one answers 400;
//     the audience must end in /api/v2/ (or equal Options.Audience).
//   - user search reads only field:value and field:"value" terms joined by
//     AND and OR, on the fields listed in docs/apis/auth0.md ("User
//     search"); anything else answers 400 rather than a different result.
//     Results come in import order unless sort says otherwise.
//   - users carry only what the import stored: no default name, nickname
//     or picture, no logins_count or last_login; app_metadata and
//     user_metadata only when set. [Sim.Users] and [Sim.User] return the
//     stored user as imported (email as in the file, hashes included).
//   - checkpoint paging: next is the id of the next page's first
//     connection; take and per_page are at most 100.
//   - a job sleeps half of JobDuration as pending and half as processing,
//     then processes all its users at once (real time, not Options.Clock);
//     jobs never expire (no 2-hour timeout, no 24-hour deletion).
//   - existing-user matching is on email, and on user_id for users whose
//     email is new (DUPLICATED_USER without upsert, CONFLICT with it);
//     phone_number and username are not matched.
//   - email_verified defaults to false on insert and is left unchanged by
//     an upsert that omits it.
//   - send_completion_email is parsed and ignored; no emails.
//   - the rate limiter is one bucket for all /api/v2 endpoints;
//     /oauth/token is not rate limited; no Retry-After header.
//   - the "object" errors form of a failed job is {"message":...}; Auth0's
//     field list is unconfirmed ("Job errors").
//
// # Fault injection
//
// [Sim.Inject] arms a [Fault] for the next N occurrences: FaultRateLimit
// (429 with x-ratelimit-* headers, remaining 0), Fault500, Fault503 (any
// request, including /oauth/token), FaultJobFailed (the next created job
// ends "failed" as a whole, nothing imported; its errors endpoint answers
// 204 or, with Options.FailedJobErrorsObject, 200 {"message"}), and
// FaultSlowJob (the next created job takes Options.SlowJobDuration).
package auth0sim
