package journal

// idSet is a set of IDs with a capacity fixed when it is made: open
// addressing, linear probing, backward-shift deletion. It replaces
// map[uint64]struct{} because a Go map grows in steps while the window
// fills (and keeps old tables for the collector while it does), so a
// loader's memory went on growing until the window was full — about 200,000
// users into a run. A table sized for the window from the start costs the
// same in a run of 100,000 users as in one of 10 million.
type idSet struct {
	slots   []uint64 // 0 is an empty slot; the ID 0 itself is hasZero
	mask    uint64
	n       int
	hasZero bool
}

// newIDSet returns a set for up to n IDs, its table at most half full so
// that probes stay short.
func newIDSet(n int) idSet {
	size := 8
	for size < 2*n {
		size *= 2
	}
	return idSet{slots: make([]uint64, size), mask: uint64(size - 1)}
}

// home is the slot an ID probes first. IDs are SHA-256 bits, so their low
// bits are uniform already.
func (s *idSet) home(id uint64) uint64 { return id & s.mask }

func (s *idSet) has(id uint64) bool {
	if id == 0 {
		return s.hasZero
	}
	for i := s.home(id); ; i = (i + 1) & s.mask {
		switch s.slots[i] {
		case id:
			return true
		case 0:
			return false
		}
	}
}

// add inserts id; the caller keeps the set within the size it was made for.
func (s *idSet) add(id uint64) {
	if id == 0 {
		if !s.hasZero {
			s.hasZero = true
			s.n++
		}
		return
	}
	for i := s.home(id); ; i = (i + 1) & s.mask {
		switch s.slots[i] {
		case id:
			return
		case 0:
			s.slots[i] = id
			s.n++
			return
		}
	}
}

func (s *idSet) remove(id uint64) {
	if id == 0 {
		if s.hasZero {
			s.hasZero = false
			s.n--
		}
		return
	}
	i := s.home(id)
	for ; s.slots[i] != id; i = (i + 1) & s.mask {
		if s.slots[i] == 0 {
			return
		}
	}
	// Backward shift: move later members of the probe run into the hole
	// when their home does not lie strictly between the hole and them, so
	// that every member stays reachable from its home without tombstones.
	for j := (i + 1) & s.mask; s.slots[j] != 0; j = (j + 1) & s.mask {
		if (j-s.home(s.slots[j]))&s.mask >= (j-i)&s.mask {
			s.slots[i] = s.slots[j]
			i = j
		}
	}
	s.slots[i] = 0
	s.n--
}

// each calls fn for every member, in no particular order.
func (s *idSet) each(fn func(uint64)) {
	if s.hasZero {
		fn(0)
	}
	for _, id := range s.slots {
		if id != 0 {
			fn(id)
		}
	}
}

func (s *idSet) len() int { return s.n }
