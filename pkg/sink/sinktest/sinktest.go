// Package sinktest is the conformance suite every sink passes: it checks the
// contract of [sink.Sink] that the loader relies on. A sink's test connects
// the suite to the sink's storage with a [Harness] and calls [Run]:
//
//	func TestConformance(t *testing.T) {
//		sinktest.Run(t, sinktest.Harness{
//			New: func(t *testing.T) sinktest.Storage {
//				dir := t.TempDir() // fresh, empty storage for each check
//				return sinktest.Storage{
//					Open:   func(t *testing.T) sink.Sink { return openMySink(t, dir) },
//					Stored: func(t *testing.T) map[string]int { return countUsersIn(t, dir) },
//				}
//			},
//			Refuse: func(r sink.Record) sink.Record { r.Data = []byte(`{"user_id":"x"}`); return r },
//		})
//	}
//
// The records are [Record]s: JSON objects with user_id and email (and, to
// fill a batch to a byte limit, user_metadata.pad). The suite checks that
//
//   - batches of several sizes are stored, each record once, and so is a
//     batch exactly at the sink's limits if it is a [sink.BatchLimiter];
//   - what Write returned nil for is readable through Storage.Stored right
//     after Write returned, before Close: the loader acks it at that moment;
//   - records made with Harness.Refuse come back in a *[sink.RejectedError]
//     naming exactly their indexes, while the others are stored; written
//     again, they are refused again (not skipped as stored);
//   - a batch written again (same MsgIDs) is stored once, by the same sink
//     and by a new sink opened on the same storage after the first one
//     crashed (it is not closed first);
//   - Close keeps everything written, also when a Write is in flight;
//   - a [sink.ConcurrentWriter] stores everything once from concurrent
//     Writes (run the suite with -race);
//   - record data is not kept after Write, and update records are accepted.
package sinktest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
)

// Harness connects the suite to one sink implementation.
type Harness struct {
	// New prepares empty storage for one check (a temporary directory, a
	// simulator, a test server) and returns how to open sinks on it and
	// read it back. Required.
	New func(t *testing.T) Storage
	// Refuse returns r changed so that the target refuses it for good, with
	// UID and MsgID kept: an invalid email, an oversized user. Nil skips the
	// per-record failure check, for a target that refuses nothing.
	Refuse func(r sink.Record) sink.Record
}

// Storage is the target of one check.
type Storage struct {
	// Open opens a sink on the storage. To simulate a crash and a restart
	// the suite opens a second sink on the same storage without closing
	// the first one; the second must honour what the first stored.
	Open func(t *testing.T) sink.Sink
	// Stored reads what the storage holds: how many times each UID is
	// stored. The suite calls it while a sink is open, right after Write
	// returned, and after Close.
	Stored func(t *testing.T) map[string]int
}

// Record builds test record i: a user with user_id and email, UID
// uid-<i> (four digits at least) and a stable MsgID.
func Record(i int) sink.Record {
	uid := fmt.Sprintf("uid-%04d", i)
	return sink.Record{UID: uid, MsgID: "t:" + uid + ":1:v", Data: fmt.Appendf(nil, `{"user_id":%q,"email":"%s@example.com"}`, uid, uid)}
}

// padded is record i grown to size bytes of data with user_metadata.pad, a
// field targets store as it is. It returns false when size is too small.
func padded(i, size int) (sink.Record, bool) {
	r := Record(i)
	base := fmt.Sprintf(`{"user_id":%q,"email":"%s@example.com","user_metadata":{"pad":""}}`, r.UID, r.UID)
	if size < len(base) {
		return r, false
	}
	cut := len(base) - len(`"}}`)
	r.Data = []byte(base[:cut] + strings.Repeat("x", size-len(base)) + base[cut:])
	return r, true
}

func records(from, n int) []sink.Record {
	recs := make([]sink.Record, n)
	for i := range recs {
		recs[i] = Record(from + i)
	}
	return recs
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	if h.New == nil {
		t.Fatal("sinktest: Harness.New is required")
	}
	t.Run("stores batches of several sizes, readable before Close", func(t *testing.T) {
		st := h.New(t)
		s := st.Open(t)
		var all []sink.Record
		for _, size := range []int{1, 7, 250} {
			batch := records(len(all), size)
			write(t, s, batch)
			all = append(all, batch...)
			// The loader acks the batch at this very moment.
			wantStored(t, st.Stored(t), all)
		}
		closeSink(t, s)
		wantStored(t, st.Stored(t), all)
	})
	t.Run("stores a batch at the sink's limits", func(t *testing.T) {
		st := h.New(t)
		s := st.Open(t)
		lim, ok := s.(sink.BatchLimiter)
		if !ok {
			closeSink(t, s)
			t.Skip("not a sink.BatchLimiter")
		}
		maxRecords, maxBytes := lim.BatchLimits()
		var all []sink.Record
		if maxRecords > 0 {
			batch := records(0, maxRecords)
			if maxBytes == 0 || dataBytes(batch) <= maxBytes {
				write(t, s, batch)
				all = append(all, batch...)
			}
		}
		if maxBytes > 0 {
			batch := fill(t, 1_000_000, maxBytes, maxRecords)
			write(t, s, batch)
			all = append(all, batch...)
		}
		wantStored(t, st.Stored(t), all)
		closeSink(t, s)
		wantStored(t, st.Stored(t), all)
	})
	t.Run("empty batch is a no-op", func(t *testing.T) {
		st := h.New(t)
		s := st.Open(t)
		write(t, s, nil)
		write(t, s, []sink.Record{})
		closeSink(t, s)
		wantStored(t, st.Stored(t))
	})
	t.Run("refused records are reported by index, the others stored", func(t *testing.T) {
		if h.Refuse == nil {
			t.Skip("Harness.Refuse not set: the target refuses nothing")
		}
		st := h.New(t)
		s := st.Open(t)
		batch := records(0, 6)
		batch[1], batch[4] = h.Refuse(batch[1]), h.Refuse(batch[4])
		stored := []sink.Record{batch[0], batch[2], batch[3], batch[5]}
		// The second write is a redelivery (the dead letter could not be
		// stored): the refused records are refused again, not skipped as
		// already stored, and the others are not stored twice.
		for range 2 {
			err := s.Write(t.Context(), batch)
			var rej *sink.RejectedError
			if !errors.As(err, &rej) {
				t.Fatalf("Write: got %v, want a *sink.RejectedError for indexes 1 and 4", err)
			}
			var idx []int
			for _, r := range rej.Rejections {
				idx = append(idx, r.Index)
				if r.Code == "" || r.Reason == "" {
					t.Fatalf("rejection %+v: a dead letter needs a code and a reason", r)
				}
			}
			slices.Sort(idx)
			if !slices.Equal(idx, []int{1, 4}) {
				t.Fatalf("rejected indexes %v, want [1 4]", idx)
			}
			wantStored(t, st.Stored(t), stored)
		}
		closeSink(t, s)
		wantStored(t, st.Stored(t), stored)
	})
	t.Run("a batch written again is stored once", func(t *testing.T) {
		st := h.New(t)
		s := st.Open(t)
		write(t, s, records(0, 10))
		write(t, s, records(0, 10))
		// A redelivery can also come back mixed with new records.
		write(t, s, records(5, 10))
		wantStored(t, st.Stored(t), records(0, 15))
		closeSink(t, s)
		wantStored(t, st.Stored(t), records(0, 15))
	})
	t.Run("a batch written again after a crash is stored once", func(t *testing.T) {
		st := h.New(t)
		crashed := st.Open(t)
		write(t, crashed, records(0, 10))
		// The process died before the acks: a new sink on the same storage
		// gets the batch again, then more of it with new records.
		s := st.Open(t)
		write(t, s, records(0, 10))
		write(t, s, records(5, 10))
		wantStored(t, st.Stored(t), records(0, 15))
		closeSink(t, s)
		wantStored(t, st.Stored(t), records(0, 15))
		// Only now, after every check, release what the crashed sink holds.
		_ = crashed.Close(context.Background())
	})
	t.Run("Close keeps what a Write in flight stored", func(t *testing.T) {
		st := h.New(t)
		s := st.Open(t)
		batch := records(0, 500)
		started, done := make(chan struct{}), make(chan error, 1)
		go func() {
			close(started)
			done <- s.Write(context.Background(), batch)
		}()
		<-started
		if err := s.Close(t.Context()); err != nil {
			t.Fatalf("Close during a Write: %v", err)
		}
		var err error
		select {
		case err = <-done:
		case <-time.After(time.Minute):
			t.Fatal("Write did not return within a minute of Close")
		}
		got := st.Stored(t)
		if err == nil {
			wantStored(t, got, batch) // acked by the loader: must be there
			return
		}
		// Write lost the race: whatever it stored comes again and must
		// then be stored once, so nothing may be there twice now.
		for uid, n := range got {
			if n > 1 {
				t.Fatalf("%s stored %d times", uid, n)
			}
		}
	})
	t.Run("concurrent writes store everything once", func(t *testing.T) {
		st := h.New(t)
		s := st.Open(t)
		cw, ok := s.(sink.ConcurrentWriter)
		if !ok || cw.MaxConcurrentWrites() < 2 {
			closeSink(t, s)
			t.Skip("not a sink.ConcurrentWriter")
		}
		const perWriter, size = 3, 20
		n := cw.MaxConcurrentWrites()
		errs := make(chan error, n*perWriter)
		var wg sync.WaitGroup
		for g := range n {
			wg.Go(func() {
				for k := range perWriter {
					if err := s.Write(t.Context(), records((g*perWriter+k)*size, size)); err != nil {
						errs <- err
					}
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("concurrent Write: %v", err)
		}
		wantStored(t, st.Stored(t), records(0, n*perWriter*size))
		closeSink(t, s)
		wantStored(t, st.Stored(t), records(0, n*perWriter*size))
	})
	t.Run("does not keep record data after Write", func(t *testing.T) {
		st := h.New(t)
		s := st.Open(t)
		r := Record(9)
		write(t, s, []sink.Record{r})
		for i := range r.Data {
			r.Data[i] = 'x' // the loader reuses buffers
		}
		closeSink(t, s)
		wantStored(t, st.Stored(t), []sink.Record{Record(9)})
	})
	t.Run("accepts update records", func(t *testing.T) {
		st := h.New(t)
		s := st.Open(t)
		write(t, s, []sink.Record{Record(1)})
		// A replay after a mapping fix: a new version of a stored user, and
		// a user the target does not have yet.
		changed := Record(1)
		changed.MsgID, changed.Update = "t:uid-0001:1:v2", true
		changed.Data = []byte(`{"user_id":"uid-0001","email":"uid-0001@example.com","name":"Changed"}`)
		added := Record(2)
		added.Update = true
		write(t, s, []sink.Record{changed, added})
		closeSink(t, s)
		got := st.Stored(t)
		if got["uid-0001"] < 1 || got["uid-0002"] < 1 {
			t.Fatalf("stored %v; want uid-0001 and uid-0002", got)
		}
	})
}

// fill builds records from index from whose data adds up to exactly
// total bytes, at most maxRecords of them (0: no limit).
func fill(t *testing.T, from, total, maxRecords int) []sink.Record {
	t.Helper()
	n := max(1, total/2000)
	if maxRecords > 0 {
		n = min(n, maxRecords)
	}
	batch := make([]sink.Record, n)
	for i := range batch {
		size := total/n - 1 // each record counts a separator byte
		if i < total%n {
			size++
		}
		r, ok := padded(from+i, size)
		if !ok {
			t.Skipf("a byte limit of %d in at most %d records leaves records too small for test users", total, n)
		}
		batch[i] = r
	}
	if got := dataBytes(batch); got != total {
		t.Fatalf("sinktest: filled %d bytes, want %d", got, total)
	}
	return batch
}

// dataBytes is a batch's size as the loader counts it for
// sink.BatchLimiter: the records' lengths plus one separator byte each.
func dataBytes(recs []sink.Record) int {
	n := 0
	for _, r := range recs {
		n += len(r.Data) + 1
	}
	return n
}

func write(t *testing.T, s sink.Sink, recs []sink.Record) {
	t.Helper()
	if err := s.Write(t.Context(), recs); err != nil {
		t.Fatalf("Write(%d records): %v", len(recs), err)
	}
}

func closeSink(t *testing.T, s sink.Sink) {
	t.Helper()
	if err := s.Close(t.Context()); err != nil {
		t.Fatalf("Close: %v", err)
	}
}

// wantStored checks that got holds exactly the UIDs of want, once each.
func wantStored(t *testing.T, got map[string]int, want ...[]sink.Record) {
	t.Helper()
	uids := map[string]bool{}
	for _, recs := range want {
		for _, r := range recs {
			uids[r.UID] = true
		}
	}
	var missing, extra, twice []string
	for uid := range uids {
		if got[uid] == 0 {
			missing = append(missing, uid)
		}
	}
	for uid, n := range got {
		switch {
		case !uids[uid]:
			extra = append(extra, uid)
		case n > 1:
			twice = append(twice, fmt.Sprintf("%s x%d", uid, n))
		}
	}
	if len(missing)+len(extra)+len(twice) > 0 {
		t.Fatalf("stored %d distinct users, want %d: missing %v, not written %v, stored more than once %v",
			len(got), len(uids), sample(missing), sample(extra), sample(twice))
	}
}

// sample sorts s and keeps its first few elements, for a readable failure.
func sample(s []string) []string {
	slices.Sort(s)
	if len(s) > 5 {
		return append(s[:5:5], fmt.Sprintf("... %d more", len(s)-5))
	}
	return s
}
