//go:build race

package mapping

// raceEnabled: the race detector slows the differential tests tenfold;
// under it they run on fewer records (they run on all of them without it).
const raceEnabled = true
