// Package e2e holds the end-to-end tests of the pipeline; it has no code
// of its own. They build the three binaries and run them as processes
// against a JetStream server: what `make run` runs (TestQuickstart), crashes
// and graceful stops, the Gigya API path, the Auth0 Management API path,
// the LoginRadius bulk migration and Account API paths, several
// transformers, back-pressure, and the operator's fix, redrive and replay
// recipe. `make test` runs them without the race detector, one
// process-running package at a time.
package e2e
