// Package security holds the end-to-end security tests; it has no code of
// its own. They run the three binaries with distinctive secrets and search
// everything the run leaves behind (process output, /metrics, streams,
// configurations) for them.
package security
