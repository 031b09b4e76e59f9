package journal

import (
	"math/rand/v2"
	"testing"
)

// TestIDSetMatchesAMap drives the set like the window does (add the new,
// remove the oldest) with IDs that collide on purpose in a small table, and
// checks every answer against a map.
func TestIDSetMatchesAMap(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	const window = 100
	s := newIDSet(window)
	want := map[uint64]bool{}
	var ring []uint64
	for i := range 20_000 {
		// Few distinct low bits: long probe runs that wrap around the table.
		id := r.Uint64N(8)<<40 | r.Uint64N(16)
		if i%97 == 0 {
			id = 0
		}
		if !want[id] {
			if len(ring) == window {
				s.remove(ring[0])
				delete(want, ring[0])
				ring = ring[1:]
			}
			s.add(id)
			want[id] = true
			ring = append(ring, id)
		}
		if s.len() != len(want) {
			t.Fatalf("step %d: len %d, want %d", i, s.len(), len(want))
		}
		for probe := range uint64(16) {
			for _, p := range []uint64{probe, 1<<40 | probe, 7<<40 | probe} {
				if s.has(p) != want[p] {
					t.Fatalf("step %d: has(%#x) = %v, want %v", i, p, s.has(p), want[p])
				}
			}
		}
	}
	n := 0
	s.each(func(id uint64) {
		n++
		if !want[id] {
			t.Errorf("each yields %#x, not a member", id)
		}
	})
	if n != len(want) {
		t.Errorf("each yields %d IDs, want %d", n, len(want))
	}
}

// TestRememberDoesNotAllocate: the window's memory is taken at Open, so a
// long run does not grow it.
func TestRememberDoesNotAllocate(t *testing.T) {
	j := open(t, t.TempDir()+"/j", 1000, nil)
	ids := make([]uint64, 100)
	next := uint64(1)
	allocs := testing.AllocsPerRun(50, func() {
		for i := range ids {
			ids[i] = next * 0x9E3779B97F4A7C15
			next++
		}
		if err := j.Remember(ids); err != nil {
			t.Fatal(err)
		}
	})
	if allocs != 0 {
		t.Errorf("Remember allocates %v times per call, want 0", allocs)
	}
}
