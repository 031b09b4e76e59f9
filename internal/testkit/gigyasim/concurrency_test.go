package gigyasim

import (
	"fmt"
	"os"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"testing"
	"time"
)

// TestConcurrentUse walks cursors while accounts are written and logged
// into; run with -race. Each walk must still see its snapshot exactly once.
func TestConcurrentUse(t *testing.T) {
	s, base := startSim(t, Options{Accounts: 300, Seed: 31})
	want := s.UIDs()
	a := firstLoginable(t, s, 0)
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			res := walk(t, s, base, fmt.Sprintf("SELECT UID FROM accounts LIMIT %d", 7+i), "accountTypes", "full,lite")
			got := uidsOf(res.rows)
			slices.Sort(got)
			if len(got) < len(want) || len(slices.Compact(got)) != len(got) {
				t.Errorf("walk %d: %d rows, duplicates or missing", i, len(res.rows))
			}
		})
	}
	wg.Go(func() {
		for j := range 50 {
			uid := want[j]
			if err := s.Update(uid, func(m map[string]any) { m["data"] = map[string]any{"n": j} }); err != nil {
				t.Error(err)
			}
			if err := s.Put([]byte(`{"UID":"new-` + strconv.Itoa(j) + `"}`)); err != nil {
				t.Error(err)
			}
		}
	})
	wg.Go(func() {
		for range 20 {
			if c := login(t, s, base, a.email, a.password).code(); c != 0 {
				t.Errorf("login: %d", c)
			}
		}
	})
	wg.Go(func() {
		for range 50 {
			s.Inject(Truncated, 1, OnMethod("accounts.none"))
			_ = s.Stats()
			_ = s.OpenCursors()
		}
	})
	wg.Wait()
	if s.Len() != 350 {
		t.Fatalf("Len %d", s.Len())
	}
}

// TestLargeGeneration measures 100,000 accounts; set GIGYASIM_LARGE=1.
func TestLargeGeneration(t *testing.T) {
	if os.Getenv("GIGYASIM_LARGE") == "" {
		t.Skip("set GIGYASIM_LARGE=1 to generate 100,000 accounts")
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	start := time.Now()
	s, base := startSim(t, Options{Accounts: 100_000, Seed: 1})
	gen := time.Since(start)
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	t.Logf("generated %d accounts in %v; live heap +%d MiB", s.Len(), gen, (after.HeapAlloc-before.HeapAlloc)>>20)
	start = time.Now()
	res := walk(t, s, base, "SELECT * FROM accounts LIMIT 1000", "accountTypes", "full,lite")
	t.Logf("walked %d accounts in %d pages in %v", len(res.rows), len(res.pages), time.Since(start))
	start = time.Now()
	res = walk(t, s, base, "SELECT UID, profile.email FROM accounts WHERE lastUpdatedTimestamp >= 1700000000000 LIMIT 1000")
	t.Logf("projected walk of %d accounts in %v", len(res.rows), time.Since(start))
	if len(res.rows) == 0 {
		t.Fatal("no rows")
	}
}
