package stage

import "runtime/debug"

// GC defaults of a binary that allocates per record (the transformer): the
// heap it keeps alive is small (the records in flight, some MB), but it
// allocates some KB per record, so at Go's default GOGC=100 the collector
// ran hundreds of times a second and took 10-15% of the transformer's CPU
// in profiles (marking, assists, returning pages to the OS and faulting
// them back in).
const (
	// DefaultGCPercent lets the heap grow to five times what is live
	// between collections.
	DefaultGCPercent = 400
	// DefaultMemoryLimit is a soft ceiling: should the live heap ever grow
	// large, collections come sooner instead of the heap reaching five
	// times it.
	DefaultMemoryLimit = 512 << 20
)

// TuneGC applies gcPercent and memoryLimit (bytes) unless the operator set
// GOGC or GOMEMLIMIT, which keep the meaning the Go runtime gives them.
// Call it from main, before the work starts: both are process-wide.
func TuneGC(getenv func(string) string, gcPercent int, memoryLimit int64) {
	if getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
}
