// Package faults holds the fault-injection suite (TestFaults); it has no
// code of its own. `make test` runs it with 2 trials per kind, `make
// test-faults` with GM_FAULT_TRIALS (default 10); a failure prints the
// command that reruns its seed.
package faults
