package status

import (
	"math"
	"slices"
	"time"
)

// WithRates returns cur with the rate and ETA of each consumer that prev
// also had: rate = progress of Done per second between the two snapshots,
// ETA = remaining / rate. A consumer that is new, was recreated (its Done
// went back or its creation time changed) or snapshots not in time order
// leave the rate unknown; a zero rate leaves the ETA unknown unless nothing
// remains. cur is not modified.
func WithRates(prev, cur Snapshot) Snapshot {
	out := cur
	out.Consumers = slices.Clone(cur.Consumers)
	elapsed := cur.Taken.Sub(prev.Taken)
	before := make(map[string]ConsumerStatus, len(prev.Consumers))
	for _, c := range prev.Consumers {
		before[c.Stream+"/"+c.Name] = c
	}
	for i := range out.Consumers {
		c := &out.Consumers[i]
		c.RatePerSec, c.ETASeconds = nil, nil
		p, ok := before[c.Stream+"/"+c.Name]
		if !ok || elapsed <= 0 || c.Done < p.Done || !c.Created.Equal(p.Created) {
			continue
		}
		rate := Rate(p.Done, c.Done, elapsed)
		c.RatePerSec = &rate
		if eta, ok := ETA(c.Remaining(), rate); ok {
			secs := eta.Seconds()
			c.ETASeconds = &secs
		}
	}
	return out
}

// Rate is the progress per second from prevDone to curDone over elapsed;
// 0 when elapsed is not positive or nothing progressed.
func Rate(prevDone, curDone uint64, elapsed time.Duration) float64 {
	if elapsed <= 0 || curDone <= prevDone {
		return 0
	}
	return float64(curDone-prevDone) / elapsed.Seconds()
}

// ETA is how long remaining takes at rate per second. It is unknown
// (false) when the rate is not positive, or so low that the wait does not
// fit a time.Duration (about 292 years); nothing remaining is done now.
func ETA(remaining uint64, rate float64) (time.Duration, bool) {
	if remaining == 0 {
		return 0, true
	}
	if rate <= 0 || math.IsNaN(rate) {
		return 0, false
	}
	ns := float64(remaining) / rate * float64(time.Second)
	if ns >= math.MaxInt64 {
		return 0, false
	}
	return time.Duration(ns), true
}
