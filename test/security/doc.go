// Package security holds the end-to-end security tests; it has no code of
// its own. They run the three binaries with distinctive secrets and search
// everything the run leaves behind (process output, /metrics, streams,
// configurations) for them. The login service (extractor login-service)
// is run the same way, for Auth0 and for LoginRadius' API mode and lookup
// endpoint, with users logging in with right and wrong passwords: no typed
// password may be anywhere, dead letters included.
package security
