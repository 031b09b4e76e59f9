package loader_test

import (
	"context"

	"github.com/gigya-migrate/gigya-migrate/pkg/loader"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
)

// A loader binary for a target of your own: its main is the stock loader's
// with one more sink. Run it as `myloader -config loader.yaml` with
// loader.sink.type: webhook; `myloader -h` lists the sink's options.
func Example() {
	sinks := loader.Builtin()
	sinks["webhook"] = sink.Spec{New: newWebhook, Options: func() any { return &webhookOptions{} }}
	loader.Main(sinks)
}

// webhookOptions are the sink's loader.sink.options; their yaml and doc
// tags document them in myloader -h.
type webhookOptions struct {
	URL string `yaml:"url" doc:"where batches are POSTed"`
}

// newWebhook builds the sink: see the example of package sink for a whole
// one, and package sinktest for the conformance suite it must pass.
func newWebhook(ctx context.Context, p sink.Params) (sink.Sink, error) {
	o := webhookOptions{}
	if err := p.Decode(&o); err != nil {
		return nil, err
	}
	panic("see the example of package sink")
}
