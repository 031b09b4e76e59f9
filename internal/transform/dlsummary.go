package transform

import (
	"context"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"
)

// dlSummary sums up the dead letters for the log. A failed mapping is
// logged per user at debug level only; at warn level the operator gets one
// line per error code and interval, with the count and an example, and
// lists the users themselves from ETL_DEADLETTER (transformer deadletter
// list). A migration with a bad field can fail thousands of users a
// minute: one line each would bury everything else in the log, and the
// writes cost the transformer a share of its CPU.
type dlSummary struct {
	mu    sync.Mutex
	codes map[string]*dlCode
}

// dlCode is what an interval saw of one error code.
type dlCode struct {
	count int64
	uid   string // the first user, as an example
	err   error
}

// add counts a dead letter.
func (d *dlSummary) add(code, uid string, err error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.codes == nil {
		d.codes = map[string]*dlCode{}
	}
	c := d.codes[code]
	if c == nil {
		c = &dlCode{uid: uid, err: err}
		d.codes[code] = c
	}
	c.count++
}

// flush logs what was counted since the last flush, a line per code.
func (d *dlSummary) flush(log *slog.Logger) {
	d.mu.Lock()
	codes := d.codes
	d.codes = nil
	d.mu.Unlock()
	for _, code := range slices.Sorted(maps.Keys(codes)) {
		c := codes[code]
		log.Warn("mapping failed, users dead-lettered", "code", code, "count", c.count,
			"example_uid", c.uid, "example_err", c.err, "list_them", "transformer deadletter list")
	}
}

// every flushes at the interval until ctx is done, then once more.
func (d *dlSummary) every(ctx context.Context, log *slog.Logger, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			d.flush(log)
			return
		case <-t.C:
			d.flush(log)
		}
	}
}
