//go:build !race

package mapping

// raceEnabled: see race_test.go.
const raceEnabled = false
