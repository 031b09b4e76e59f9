package status

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
)

// The live view is one mpb container: a header "bar" whose extender lines
// hold the stream table, one progress bar per consumer, and a footer "bar"
// whose extender lines hold the other tables. mpb redraws all of them in
// place each cycle, so the tables need no terminal handling of their own
// and the bars stay the library's (widths kept in sync, resize handled).

const (
	// liveRedraw is how often mpb redraws; the data changes every
	// -interval, the redraw also follows terminal resizes.
	liveRedraw = 250 * time.Millisecond
	// liveRuns is how many run records the live view lists.
	liveRuns = 5
	// barWidth is the width of the bar itself, decorators aside.
	barWidth = 40
)

// collector takes one snapshot.
type collector func(ctx context.Context) (Snapshot, error)

// liveView is the state the mpb decorators and extenders draw from; they
// run on mpb's goroutines, hence the lock.
type liveView struct {
	liveOptions

	mu   sync.Mutex
	snap Snapshot
	err  error // the last refresh's failure, shown until one succeeds
}

func (v *liveView) set(s Snapshot, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err == nil {
		v.snap = s
	}
	v.err = err
}

func (v *liveView) current() (Snapshot, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.snap, v.err
}

func (v *liveView) consumer(key string) (ConsumerStatus, bool) {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, c := range v.snap.Consumers {
		if consumerKey(c) == key {
			return c, true
		}
	}
	return ConsumerStatus{}, false
}

func consumerKey(c ConsumerStatus) string { return c.Stream + "/" + c.Name }

// liveOptions shape the live view.
type liveOptions struct {
	interval time.Duration // between samples; 0: one sample
	once     bool          // stop after the second sample
	// height is the terminal's height in lines (0 or nil: unknown). mpb
	// drops the lines of a frame taller than the terminal starting from the
	// top, the header and the bars; the view cuts its bottom tables instead.
	height func() int
	// mpb are extra container options: tests force drawing on a buffer.
	mpb []mpb.ContainerOption
}

// runLive draws the live view on w, refreshed every o.interval until ctx
// is done; with o.once it stops after a second sample (so that rates show).
func runLive(ctx context.Context, w io.Writer, collect collector, o liveOptions) error {
	interval, once := o.interval, o.once
	// The first sample is taken before drawing, so that a pipeline that
	// cannot be read fails with a plain error rather than an empty view.
	first, err := collect(ctx)
	if err != nil {
		return err
	}
	v := &liveView{liveOptions: o, snap: first}
	opts := append([]mpb.ContainerOption{mpb.WithOutput(w), mpb.WithRefreshRate(liveRedraw)}, o.mpb...)
	p := mpb.New(opts...)
	// Shutdown draws the last frame and leaves it on the screen.
	defer p.Shutdown()
	p.New(0, mpb.NopStyle(), mpb.BarFillerTrim(),
		mpb.PrependDecorators(decor.Any(func(decor.Statistics) string { return v.header() })),
		mpb.BarExtender(mpb.BarFillerFunc(v.top), false))
	p.New(0, mpb.NopStyle(), mpb.BarFillerTrim(), mpb.BarPriority(math.MaxInt32),
		mpb.BarExtender(mpb.BarFillerFunc(v.bottom), false))
	bars := map[string]*mpb.Bar{}
	syncBars(p, v, bars, first)
	if interval <= 0 {
		return nil
	}
	tick := time.NewTicker(interval)
	defer tick.Stop()
	prev := first
	for {
		select {
		case <-ctx.Done():
			return nil // Ctrl-C is how the live view ends
		case <-tick.C:
		}
		cur, err := collect(ctx)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil && once:
			return err
		case err != nil:
			// A failed refresh (server restarting, timeout) is shown and
			// retried at the next tick: the view outlives a hiccup.
			v.set(Snapshot{}, err)
			continue
		}
		cur = WithRates(prev, cur)
		prev = cur
		v.set(cur, nil)
		syncBars(p, v, bars, cur)
		if once {
			return nil
		}
	}
}

// syncBars adds a bar for every new consumer, drops the bars of consumers
// that are gone, and moves every bar to its consumer's figures.
func syncBars(p *mpb.Progress, v *liveView, bars map[string]*mpb.Bar, s Snapshot) {
	seen := map[string]bool{}
	for _, c := range s.Consumers {
		key := consumerKey(c)
		seen[key] = true
		bar, ok := bars[key]
		if !ok {
			bar = newConsumerBar(p, v, key)
			bars[key] = bar
		}
		// Created with total 0, a bar never completes on its own: a
		// consumer at 100% gets more work as soon as messages arrive.
		bar.SetTotal(int64(c.Total), false)
		bar.SetCurrent(int64(c.Done))
	}
	for key, bar := range bars {
		if !seen[key] {
			bar.Abort(true)
			delete(bars, key)
		}
	}
}

func newConsumerBar(p *mpb.Progress, v *liveView, key string) *mpb.Bar {
	figures := func(f func(ConsumerStatus) string) decor.DecorFunc {
		return func(decor.Statistics) string {
			c, ok := v.consumer(key)
			if !ok {
				return "-"
			}
			return f(c)
		}
	}
	return p.New(0, mpb.BarStyle(), mpb.BarWidth(barWidth),
		mpb.PrependDecorators(decor.Name(key, decor.WCSyncSpaceR)),
		mpb.AppendDecorators(
			decor.Any(figures(func(c ConsumerStatus) string { return fmt.Sprintf("%d/%d", c.Done, c.Total) }), decor.WCSyncSpace),
			decor.Any(figures(func(c ConsumerStatus) string { return percentText(c.Done, c.Total) }), decor.WCSyncSpace),
			decor.Any(figures(func(c ConsumerStatus) string { return rateText(c.RatePerSec) }), decor.WCSyncSpace),
			decor.Any(figures(func(c ConsumerStatus) string { return "ETA " + etaText(c) }), decor.WCSyncSpace),
		))
}

func (v *liveView) header() string {
	s, err := v.current()
	h := "gigya-migrate status at " + s.Taken.UTC().Format(time.TimeOnly+" MST")
	if !v.once {
		h += fmt.Sprintf(", every %s (Ctrl-C to quit)", v.interval)
	}
	if err != nil {
		h += " | refresh failed: " + err.Error()
	}
	return h
}

// top draws the lines under the header: the streams, then the title of the
// consumer bars that follow.
func (v *liveView) top(w io.Writer, st decor.Statistics) error {
	s, _ := v.current()
	return writeLines(w, topText(s), st.AvailableWidth)
}

func topText(s Snapshot) string {
	var b strings.Builder
	b.WriteString("\n")
	writeStreams(&b, s)
	b.WriteString("\nPROGRESS (done/total, rate, ETA)\n")
	if len(s.Consumers) == 0 {
		b.WriteString("  no consumers yet\n")
	}
	return b.String()
}

// bottom draws the tables under the bars, cut to what the terminal has
// left below them.
func (v *liveView) bottom(w io.Writer, st decor.Statistics) error {
	s, _ := v.current()
	var b strings.Builder
	if len(s.Consumers) > 0 {
		writeConsumers(&b, s, false)
		b.WriteString("\n")
	}
	writeDetails(&b, s, liveRuns)
	text := b.String()
	if v.height != nil {
		if h := v.height(); h > 0 {
			// header + top lines + one bar per consumer + this panel's own
			// (empty) row + the line the cursor rests on
			used := 1 + strings.Count(topText(s), "\n") + len(s.Consumers) + 1 + 1
			text = clipLines(text, h-used)
		}
	}
	return writeLines(w, text, st.AvailableWidth)
}

// clipLines keeps at most n lines of text, the last saying what was cut.
func clipLines(text string, n int) string {
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if len(lines) <= n {
		return text
	}
	if n <= 0 {
		return ""
	}
	cut := len(lines) - (n - 1)
	return strings.Join(lines[:n-1], "") + fmt.Sprintf("... %d more lines: a taller terminal shows them, -json has everything\n", cut)
}

// writeLines writes text cut to width: mpb moves the cursor up by the lines
// it drew, so a line the terminal wraps would leave debris behind. A
// paused producer's line is shown in bold red: it explains a stalled bar.
func writeLines(w io.Writer, text string, width int) error {
	sc := bufio.NewScanner(strings.NewReader(text))
	for sc.Scan() {
		line := sc.Text()
		if width > 0 && utf8.RuneCountInString(line) > width {
			line = string([]rune(line)[:max(width-1, 0)]) + "…"
		}
		if strings.HasPrefix(line, "PAUSED:") {
			line = "\x1b[1;31m" + line + "\x1b[0m"
		}
		if _, err := io.WriteString(w, line+"\n"); err != nil {
			return fmt.Errorf("draw: %w", err)
		}
	}
	return nil
}
