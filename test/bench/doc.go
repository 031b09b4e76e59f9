// Package bench holds the benchmarks behind BENCHMARKS.md (`make bench`);
// it has no code of its own. The pass-through processes they compare the
// binaries with are this package's test binary run again
// (TestBenchPassThroughHelper).
package bench
