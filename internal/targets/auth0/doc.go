// Package auth0 is a small client for the parts of the Auth0 Management API
// that a bulk user migration needs: client-credentials tokens, connection
// lookup, and bulk user-import jobs.
//
// # Machine-to-machine application
//
// Create an M2M application authorised for the Management API
// (audience https://<domain>/api/v2/) with these scopes:
//
//   - create:users     create import jobs (POST /api/v2/jobs/users-imports)
//   - read:users       read job status and per-user job errors
//     (GET /api/v2/jobs/{id}, GET /api/v2/jobs/{id}/errors)
//   - read:connections resolve a connection name to its con_ id
//     (only needed when the configuration names the connection instead of
//     giving its id)
//
// # Flow
//
//  1. [NewClient] validates the [Config]; the access token is fetched lazily
//     with the client-credentials grant (POST /oauth/token), cached until about
//     one minute before it expires, and refreshed once when a call gets a 401.
//  2. [Client.ConnectionID] turns a connection name into its con_ id.
//  3. [Client.CreateImport] uploads one JSON array file (at most
//     [MaxFileBytes]; Auth0 recommends less than 400 KB, about 1,000 users) as a
//     multipart import job. Auth0 runs at most two import jobs per tenant at a
//     time: a third returns 429 "There are 2 active import users jobs", which
//     this package returns at once as an error matching [ErrJobSlots] so that
//     the caller can wait for one of its jobs to finish and submit again.
//  4. [Client.WaitJob] polls [Client.Job] until the job is completed, failed
//     or expired (unknown statuses such as "processing" mean still running).
//  5. [Client.JobErrors] lists the users that failed in a completed job.
//
// # Errors, retries and rate limits
//
// Every error is classified with package fault. Network errors, timeouts,
// 5xx and 429 responses (and 409 responses carrying an exhausted rate-limit
// header, which Auth0 has been seen to send) are retried with exponential
// backoff and jitter up to Config.MaxRetries times and are transient when
// retries run out. A 429 waits for Retry-After or x-ratelimit-reset when
// present. When a response says x-ratelimit-remaining: 0, the next call from
// the same Client waits until x-ratelimit-reset. 400, 403, 404 and 413
// responses are permanent. The client secret and the access token never
// appear in errors or log records.
package auth0
