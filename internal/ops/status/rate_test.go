package status

import (
	"fmt"
	"math"
	"testing"
	"time"
)

func TestWithRates(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)
	created := t0.Add(-time.Hour)
	prev := Snapshot{Taken: t0, Consumers: []ConsumerStatus{
		{Stream: "RAW", Name: "moving", Created: created, Done: 100, Total: 1000},
		{Stream: "RAW", Name: "stuck", Created: created, Done: 50, Total: 80},
		{Stream: "RAW", Name: "recreated", Created: created, Done: 500, Total: 500},
		{Stream: "MAPPED", Name: "finished", Created: created, Done: 10, Total: 10},
	}}
	cur := Snapshot{Taken: t0.Add(2 * time.Second), Consumers: []ConsumerStatus{
		{Stream: "RAW", Name: "moving", Created: created, Done: 200, Total: 1000},
		{Stream: "RAW", Name: "stuck", Created: created, Done: 50, Total: 90},
		{Stream: "RAW", Name: "recreated", Created: t0.Add(time.Second), Done: 20, Total: 500},
		{Stream: "MAPPED", Name: "finished", Created: created, Done: 10, Total: 10},
		{Stream: "MAPPED", Name: "new", Created: created, Done: 5, Total: 10},
	}}
	got := WithRates(prev, cur)

	type want struct {
		rate *float64
		eta  *float64
	}
	f := func(v float64) *float64 { return &v }
	for name, w := range map[string]want{
		"moving":    {rate: f(50), eta: f(16)}, // 100 in 2s; 800 left
		"stuck":     {rate: f(0), eta: nil},    // no progress: no ETA
		"recreated": {rate: nil, eta: nil},     // a different consumer now
		"finished":  {rate: f(0), eta: f(0)},   // nothing left: done now
		"new":       {rate: nil, eta: nil},     // one sample only
	} {
		c := findConsumer(got, name)
		if !sameFloat(c.RatePerSec, w.rate) || !sameFloat(c.ETASeconds, w.eta) {
			t.Errorf("%s: rate %s eta %s, want rate %s eta %s", name, show(c.RatePerSec), show(c.ETASeconds), show(w.rate), show(w.eta))
		}
	}
	if cur.Consumers[0].RatePerSec != nil {
		t.Error("WithRates modified its argument")
	}
	if back := WithRates(cur, prev); findConsumer(back, "moving").RatePerSec != nil {
		t.Error("snapshots out of order must not give a rate")
	}
}

func TestRateAndETA(t *testing.T) {
	if r := Rate(10, 40, 3*time.Second); r != 10 {
		t.Errorf("Rate(10, 40, 3s) = %v, want 10", r)
	}
	if r := Rate(10, 40, 0); r != 0 {
		t.Errorf("Rate with no elapsed time = %v, want 0", r)
	}
	if r := Rate(40, 10, time.Second); r != 0 {
		t.Errorf("Rate going back = %v, want 0", r)
	}
	for _, c := range []struct {
		remaining uint64
		rate      float64
		eta       time.Duration
		known     bool
	}{
		{remaining: 300, rate: 10, eta: 30 * time.Second, known: true},
		{remaining: 0, rate: 0, eta: 0, known: true},
		{remaining: 5, rate: 0, known: false},
		{remaining: 5, rate: math.NaN(), known: false},
		{remaining: math.MaxUint64, rate: 1e-9, known: false}, // beyond time.Duration
	} {
		eta, known := ETA(c.remaining, c.rate)
		if eta != c.eta || known != c.known {
			t.Errorf("ETA(%d, %v) = %v, %v; want %v, %v", c.remaining, c.rate, eta, known, c.eta, c.known)
		}
	}
}

func sameFloat(a, b *float64) bool {
	if a == nil || b == nil {
		return a == b
	}
	return math.Abs(*a-*b) < 1e-9
}

func show(p *float64) string {
	if p == nil {
		return "unknown"
	}
	return fmt.Sprintf("%g", *p)
}
