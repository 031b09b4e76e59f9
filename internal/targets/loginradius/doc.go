// Package loginradius is a small client for the LoginRadius APIs a user
// migration needs: the bulk migration API (POST /v2/bulk/upsert on the
// migration host), which imports profiles with their password hashes, and
// the Account (management) APIs, which create and update one user at a time
// without a hash. docs/apis/loginradius.md gives the sources.
//
// # Credentials
//
// The tenant's API key and API secret, from the Admin Console. The bulk API
// takes them as the apikey and apisecret query parameters (its documented
// form); the Account APIs as the X-LoginRadius-ApiKey and
// X-LoginRadius-ApiSecret headers, as LoginRadius' SDKs send them. The
// secret never appears in an error or a log record: URLs in errors are
// redacted.
//
// # Errors, retries and rate limits
//
// Every error is classified with package fault, in [classify]: network
// errors, timeouts, 408, 429 and 5xx are transient and retried with
// exponential backoff and jitter (a 429 waits for Retry-After when there is
// one; LoginRadius documents none) up to Config.MaxRetries times; the rest
// are permanent with a code after LoginRadius' ErrorCode: unauthorized
// (6002, 901, 902, 920-922), not_found (938), email_exists (936, 988),
// username_exists (1017), phone_exists (1058), invalid_uid (1200),
// invalid_email (990), validation_failed (1134), invalid_body (7914, and
// 400 without a code), request_too_large (413), else lr_<ErrorCode> or
// http_<status>. A token bucket (Config.Rate per second, Config.Burst)
// spaces the requests of one Client, which is safe for concurrent use.
package loginradius
