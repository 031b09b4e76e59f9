// Package repo holds the checks that the repository's files agree with the
// code: the generated sections of docs/, the import rules of
// docs/layout.md, configs/pipeline.yaml (and that every binary checks every
// section of the one file they share), compose.yaml and the env files, the
// Dockerfile, and the Grafana dashboard. It has no code of its own; the checks run without Docker or
// the binaries, so `make test` runs them with the unit tests.
package repo
