package status

import (
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/heartbeat"
)

func TestBalancesAccountForEveryExtractedAccount(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	runs := []RunRecord{
		{Run: "r1", Site: "eu", Published: 60, DeadLettered: 2, Started: t0},
		{Run: "r1", Site: "us", Published: 40, Started: t0},
		{Run: "r2", Site: "eu", Published: 5, Started: t0.Add(time.Hour)},
	}
	tallies := []heartbeat.Beat{
		{Stage: "transformer", Instance: "h-1", Target: "auth0", Runs: map[string]map[string]int64{
			"r1": {"filtered": 7, "dead_lettered": 3, "mapped": 90}}},
		{Stage: "loader", Instance: "h-2", Target: "auth0", Runs: map[string]map[string]int64{
			"r1": {"loaded": 50, "dead_lettered": 4, "conflicts": 1, "superseded": 2, "migrated_at_login": 6, "replay_loaded": 9, "replay_migrated_at_login": 1}}},
	}
	beats := []heartbeat.Beat{
		// The stopped loader's heartbeat, not deleted: its tally wins.
		{Stage: "loader", Instance: "h-2", Target: "auth0", Runs: map[string]map[string]int64{"r1": {"loaded": 49}}},
		// A loader still running, and a dead one.
		{Stage: "loader", Instance: "h-3", Target: "auth0", Runs: map[string]map[string]int64{"r1": {"loaded": 30}, "r2": {"loaded": 5}}},
		{Stage: "loader", Instance: "h-4", Target: "auth0", Updated: t0, Runs: map[string]map[string]int64{"r1": {"loaded": 2}}},
		// Accounts of a run still extracting, and foreign messages: no balance.
		{Stage: "transformer", Instance: "h-5", Target: "auth0", Runs: map[string]map[string]int64{"r3": {"mapped": 1}, heartbeat.NoRun: {"mapped": 1}}},
		// Another stage's counts are not part of it.
		{Stage: "replay", Instance: "h-6", Target: "auth0", Runs: map[string]map[string]int64{"r1": {"mapped": 100}}},
	}
	got := balances(runs, beats, tallies)
	if len(got) != 2 || got[0].Run != "r2" || got[1].Run != "r1" {
		t.Fatalf("balances %+v, want r2 then r1", got)
	}
	r1 := got[1]
	want := Balance{Run: "r1", Target: "auth0", Extracted: 102, ExtractDeadLettered: 2, Filtered: 7, TransformDeadLettered: 3,
		Loaded: 82, LoadDeadLettered: 4, Conflicts: 1, Superseded: 2, MigratedAtLogin: 6, Replayed: 10, InFlight: 102 - 2 - 7 - 3 - 82 - 4 - 2 - 6}
	if r1 != want {
		t.Fatalf("r1:\n got %+v\nwant %+v", r1, want)
	}
	if r2 := got[0]; r2.Extracted != 5 || r2.Loaded != 5 || r2.InFlight != 0 {
		t.Fatalf("r2: %+v", r2)
	}
}
