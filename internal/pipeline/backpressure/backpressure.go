// Package backpressure pauses a producer while the consumers downstream of
// the subject it writes fall behind (docs/delivery.md). JetStream stores
// whatever is published, so without it a fast extractor runs days ahead of a
// slow loader: the streams grow towards their limits, a Gigya cursor outlives
// its usefulness, and a mapping fix has to be replayed over more records. A
// [Gate] polls the lag (pending + ack-pending) of every durable consumer
// whose filter matches the producer's subjects, closes above the high-water
// mark and opens again below the low one. Between two checks the gate counts
// the producer's own publications on top of the lag it last saw, so a fast
// producer closes it as soon as it may have crossed the mark, not a whole
// interval later; the producer calls [Gate.Pass] before each publication.
package backpressure

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/config"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// Config holds the thresholds.
type Config struct {
	HighWater int           `yaml:"high_water" doc:"a producer (extractor, transformer) pauses while a durable consumer downstream of its subject lags (pending + ack-pending) by at least this many messages (0: never pause)"`
	LowWater  int           `yaml:"low_water" doc:"it resumes once every such consumer lags by at most this many"`
	Interval  time.Duration `yaml:"interval" doc:"how often the downstream lag is checked"`
}

// Default returns the default thresholds: far enough ahead that consumers
// never starve, near enough that the streams stay small.
func Default() Config { return Config{HighWater: 100_000, LowWater: 50_000, Interval: time.Second} }

// Validate reports every problem, naming keys relative to the section.
func (c Config) Validate() error {
	var p config.Problems
	p.Check(c.HighWater >= 0, "high_water", "must not be negative (0 turns back-pressure off)")
	p.Check(c.HighWater == 0 || (c.LowWater >= 0 && c.LowWater < c.HighWater), "low_water", "must be at least 0 and below high_water")
	p.Check(c.Interval >= 10*time.Millisecond, "interval", "must be at least 10ms")
	return p.Err()
}

// Stream is the part of a JetStream stream the gate reads.
type Stream interface {
	ListConsumers(ctx context.Context) jetstream.ConsumerInfoLister
}

// Gate is open while the consumers downstream keep up.
type Gate struct {
	cfg      Config
	stream   Stream
	subjects []string
	label    string // the subjects, as the metrics' label
	log      *slog.Logger
	onChange func(paused bool, reason string)
	metrics  *Metrics

	mu     sync.Mutex
	paused bool
	open   chan struct{} // closed while the gate is open
	base   int           // the downstream lag at the last check
	sent   int           // publications admitted since
}

// Metrics are the gate's Prometheus metrics; one set per process, shared by
// the gates of its sites.
type Metrics struct {
	paused *prometheus.GaugeVec
	pauses *prometheus.CounterVec
	lag    *prometheus.GaugeVec
}

// NewMetrics registers the gate metrics of a producer stage.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		paused: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gm_backpressure_paused",
			Help: "1 while the producer is paused because a consumer downstream of the subject lags beyond the high-water mark.",
		}, []string{"subject"}),
		pauses: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "gm_backpressure_pauses_total",
			Help: "Back-pressure pauses, by subject.",
		}, []string{"subject"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "gm_backpressure_downstream_lag",
			Help: "Largest lag (pending + ack-pending) of the durable consumers downstream of the subject, at the last check.",
		}, []string{"subject"}),
	}
	reg.MustRegister(m.paused, m.pauses, m.lag)
	return m
}

// New builds a gate for a producer publishing to subjects of stream.
// onChange (may be nil) hears every pause and resume, e.g. to publish it in
// the instance's heartbeat.
func New(cfg Config, stream Stream, subjects []string, m *Metrics, log *slog.Logger, onChange func(paused bool, reason string)) *Gate {
	g := &Gate{cfg: cfg, stream: stream, subjects: subjects, label: strings.Join(subjects, ","), log: log, onChange: onChange, metrics: m, open: make(chan struct{})}
	close(g.open)
	return g
}

// Run checks the downstream lag every interval until ctx is done. A gate
// whose high-water mark is 0 never closes and Run returns at once.
func (g *Gate) Run(ctx context.Context) {
	if g.cfg.HighWater <= 0 {
		return
	}
	t := time.NewTicker(g.cfg.Interval)
	defer t.Stop()
	for {
		g.Check(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Pass admits one publication and waits while the gate is closed.
func (g *Gate) Pass(ctx context.Context) error {
	g.Admit()
	return g.Wait(ctx)
}

// Admit counts one publication against the estimated downstream lag and
// reports whether the gate is still open; it closes the gate when the
// estimate reaches the high-water mark.
func (g *Gate) Admit() bool {
	if g.cfg.HighWater <= 0 {
		return true
	}
	g.mu.Lock()
	if g.paused {
		g.mu.Unlock()
		return false
	}
	g.sent++
	if g.base+g.sent < g.cfg.HighWater {
		g.mu.Unlock()
		return true
	}
	reason := fmt.Sprintf("the downstream lag reached the high water %d (%d at the last check, %d published since)", g.cfg.HighWater, g.base, g.sent)
	g.close()
	g.mu.Unlock()
	g.changed(true, reason)
	return false
}

// close closes the gate; g.mu is held.
func (g *Gate) close() {
	g.paused = true
	g.open = make(chan struct{})
}

// Wait returns at once while the gate is open, otherwise when it opens or
// ctx is done.
func (g *Gate) Wait(ctx context.Context) error {
	g.mu.Lock()
	open := g.open
	g.mu.Unlock()
	select {
	case <-open:
		return nil
	default:
	}
	select {
	case <-open:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Paused reports whether the gate is closed.
func (g *Gate) Paused() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.paused
}

// Check reads the downstream lag once and opens or closes the gate. A
// failed read leaves the gate as it is: a server hiccup must not stop a
// healthy pipeline, nor release a paused one.
func (g *Gate) Check(ctx context.Context) {
	worst, name, err := g.lag(ctx)
	if err != nil {
		if ctx.Err() == nil {
			g.log.Warn("back-pressure: cannot read the downstream consumers; keeping the current state", "err", err)
		}
		return
	}
	if g.metrics != nil {
		g.metrics.lag.WithLabelValues(g.label).Set(float64(worst))
	}
	g.mu.Lock()
	var change string
	g.base, g.sent = worst, 0
	switch {
	case !g.paused && worst >= g.cfg.HighWater:
		g.close()
		change = fmt.Sprintf("consumer %s lags %d >= high water %d", name, worst, g.cfg.HighWater)
	case g.paused && worst <= g.cfg.LowWater:
		g.paused = false
		close(g.open)
		change = fmt.Sprintf("the slowest consumer lags %d <= low water %d", worst, g.cfg.LowWater)
	}
	paused := g.paused
	g.mu.Unlock()
	if change != "" {
		g.changed(paused, change)
	}
}

// changed reports a pause or a resume in the log, the metrics and onChange.
func (g *Gate) changed(paused bool, change string) {
	if paused {
		g.log.Warn("back-pressure: paused publishing until the consumers downstream catch up", "subject", g.label, "reason", change)
	} else {
		g.log.Info("back-pressure: resumed publishing", "subject", g.label, "reason", change)
	}
	if g.metrics != nil {
		v := 0.0
		if paused {
			v = 1
			g.metrics.pauses.WithLabelValues(g.label).Inc()
		}
		g.metrics.paused.WithLabelValues(g.label).Set(v)
	}
	if g.onChange != nil {
		g.onChange(paused, change)
	}
}

// lag returns the largest lag of the durable consumers whose filter matches
// one of the gate's subjects. Ephemeral consumers (a replay, a status
// probe) do not hold producers back.
func (g *Gate) lag(ctx context.Context) (int, string, error) {
	lister := g.stream.ListConsumers(ctx)
	worst, name := 0, ""
	for info := range lister.Info() {
		if info.Config.Durable == "" || !g.downstream(info.Config) {
			continue
		}
		if l := int(info.NumPending) + info.NumAckPending; l >= worst {
			worst, name = l, info.Name
		}
	}
	return worst, name, lister.Err()
}

func (g *Gate) downstream(c jetstream.ConsumerConfig) bool {
	filters := c.FilterSubjects
	if c.FilterSubject != "" {
		filters = append(filters, c.FilterSubject)
	}
	if len(filters) == 0 {
		return true // the whole stream
	}
	for _, f := range filters {
		for _, s := range g.subjects {
			if Overlap(f, s) {
				return true
			}
		}
	}
	return false
}

// Overlap reports whether some subject matches both patterns a and b (each
// may hold the wildcards * and >).
func Overlap(a, b string) bool {
	at, bt := strings.Split(a, "."), strings.Split(b, ".")
	for i := 0; ; i++ {
		if i == len(at) || i == len(bt) {
			return len(at) == len(bt)
		}
		switch {
		case at[i] == ">" || bt[i] == ">":
			return true // each still has a token here, and > takes one or more
		case at[i] == "*" || bt[i] == "*" || at[i] == bt[i]:
		default:
			return false
		}
	}
}
