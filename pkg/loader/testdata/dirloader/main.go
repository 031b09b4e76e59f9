// Command dirloader is a custom loader binary as someone outside this module
// writes one: the built-in sinks plus a sink of its own, and nothing but the
// public packages pkg/loader, pkg/sink and pkg/fault. The tests of package
// loader build and run it.
package main

import (
	"context"
	"os"
	"path/filepath"

	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/gigya-migrate/gigya-migrate/pkg/loader"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
)

func main() {
	sinks := loader.Builtin()
	sinks["dir"] = sink.Spec{New: newDirSink, Options: func() any { return &dirOptions{Dir: "users"} }}
	loader.Main(sinks)
}

// dirOptions are the sink's loader.sink.options.
type dirOptions struct {
	Dir string `yaml:"dir" doc:"directory that receives one file per user"`
}

// dirSink stores each user as <dir>/<UID>.json, so a record written twice
// is stored once.
type dirSink struct{ dir string }

func newDirSink(_ context.Context, p sink.Params) (sink.Sink, error) {
	o := dirOptions{Dir: "users"}
	if err := p.Decode(&o); err != nil {
		return nil, err
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fault.Permanent("config", err)
	}
	return &dirSink{dir: o.Dir}, nil
}

func (s *dirSink) Write(_ context.Context, recs []sink.Record) error {
	var rejected []sink.Rejection
	for i, r := range recs {
		if r.UID == "" || filepath.Base(r.UID) != r.UID {
			rejected = append(rejected, sink.Rejection{Index: i, Code: "bad_uid", Reason: "the UID is not a file name"})
			continue
		}
		if err := os.WriteFile(filepath.Join(s.dir, r.UID+".json"), r.Data, 0o600); err != nil {
			return fault.Transient("write", err)
		}
	}
	if len(rejected) > 0 {
		return &sink.RejectedError{Rejections: rejected}
	}
	return nil
}

func (s *dirSink) Close(context.Context) error { return nil }

var _ sink.Sink = (*dirSink)(nil)
