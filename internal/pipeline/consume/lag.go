package consume

import (
	"context"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/prometheus/client_golang/prometheus"
)

// lagInterval is how often a stage reads its consumer's state for metrics.
const lagInterval = 5 * time.Second

// WatchLag exports the state of the stage's durable consumer as gauges
// (gm_consumer_pending, gm_consumer_ack_pending, gm_consumer_redelivered,
// labelled by consumer) until ctx is done: the lag a dashboard plots and
// alerts on. Call it once per process.
func WatchLag(ctx context.Context, cons jetstream.Consumer, reg prometheus.Registerer, name string) {
	gauge := func(metric, help string) prometheus.Gauge {
		g := prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: metric, Help: help}, []string{"consumer"})
		reg.MustRegister(g)
		return g.WithLabelValues(name)
	}
	pending := gauge("gm_consumer_pending", "Messages of the stage's input stream not yet delivered to its consumer.")
	ackPending := gauge("gm_consumer_ack_pending", "Messages delivered to the stage's consumer and not yet acked.")
	redelivered := gauge("gm_consumer_redelivered", "Messages delivered more than once and not yet acked.")
	t := time.NewTicker(lagInterval)
	defer t.Stop()
	for {
		if info, err := cons.Info(ctx); err == nil {
			pending.Set(float64(info.NumPending))
			ackPending.Set(float64(info.NumAckPending))
			redelivered.Set(float64(info.NumRedelivered))
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
