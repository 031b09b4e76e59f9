// Package sinktest is the conformance suite every sink passes: it checks the
// contract of sink.Sink that the loader relies on.
package sinktest

import (
	"context"
	"fmt"
	"testing"

	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
)

// Harness builds a fresh sink for each subtest and reads back what it
// stored, keyed by UID with the number of times each was stored.
type Harness struct {
	New    func(t *testing.T) sink.Sink
	Stored func(t *testing.T) map[string]int
	// Idempotent says the sink stores a record written twice (same MsgID)
	// once; file sinks that append may not.
	Idempotent bool
}

// Record builds a test record.
func Record(i int) sink.Record {
	uid := fmt.Sprintf("uid-%04d", i)
	return sink.Record{UID: uid, MsgID: "t:" + uid + ":1:v", Data: fmt.Appendf(nil, `{"user_id":%q,"email":"%s@example.com"}`, uid, uid)}
}

// Run runs the suite.
func Run(t *testing.T, h Harness) {
	ctx := context.Background()
	t.Run("stores every record of every batch", func(t *testing.T) {
		s := h.New(t)
		n := 0
		for _, size := range []int{1, 7, 250} {
			batch := make([]sink.Record, size)
			for i := range batch {
				batch[i] = Record(n)
				n++
			}
			if err := s.Write(ctx, batch); err != nil {
				t.Fatalf("Write(%d records): %v", size, err)
			}
		}
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
		got := h.Stored(t)
		if len(got) != n {
			t.Fatalf("stored %d distinct records, want %d", len(got), n)
		}
		for uid, c := range got {
			if c != 1 {
				t.Fatalf("%s stored %d times", uid, c)
			}
		}
	})
	t.Run("empty batch is a no-op", func(t *testing.T) {
		s := h.New(t)
		if err := s.Write(ctx, nil); err != nil {
			t.Fatal(err)
		}
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if got := h.Stored(t); len(got) != 0 {
			t.Fatalf("stored %v", got)
		}
	})
	if h.Idempotent {
		t.Run("rewriting a batch stores it once", func(t *testing.T) {
			s := h.New(t)
			batch := []sink.Record{Record(1), Record(2)}
			for range 2 {
				if err := s.Write(ctx, batch); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.Close(ctx); err != nil {
				t.Fatal(err)
			}
			for uid, c := range h.Stored(t) {
				if c != 1 {
					t.Fatalf("%s stored %d times", uid, c)
				}
			}
		})
	}
	t.Run("does not keep record data after Write", func(t *testing.T) {
		s := h.New(t)
		r := Record(9)
		if err := s.Write(ctx, []sink.Record{r}); err != nil {
			t.Fatal(err)
		}
		for i := range r.Data {
			r.Data[i] = 'x' // the loader reuses buffers
		}
		if err := s.Close(ctx); err != nil {
			t.Fatal(err)
		}
		if got := h.Stored(t); got["uid-0009"] != 1 {
			t.Fatalf("stored %v; the sink must copy or write data before returning", got)
		}
	})
}
