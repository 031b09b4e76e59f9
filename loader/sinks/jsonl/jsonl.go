// Package jsonl is a sink that writes one mapped user per line to a file or
// to standard output: for inspecting a mapping, or feeding another tool.
package jsonl

import (
	"bufio"
	"context"
	"fmt"
	"os"

	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
)

// Options are the sink's loader.sink.options.
type Options struct {
	// Path is the file to append to; "-" is standard output.
	Path string `yaml:"path"`
	// Sync fsyncs the file after each batch, so an acked user is on disk.
	Sync bool `yaml:"sync"`
}

type jsonlSink struct {
	f    *os.File
	w    *bufio.Writer
	sync bool
}

// New builds the sink. Defaults: path "-" (stdout), sync true.
func New(_ context.Context, p sink.Params) (sink.Sink, error) {
	o := Options{Path: "-", Sync: true}
	if err := p.Decode(&o); err != nil {
		return nil, err
	}
	if o.Path == "" {
		return nil, fmt.Errorf("loader.sink.options.path: required (- for stdout)")
	}
	f := os.Stdout
	if o.Path != "-" {
		var err error
		f, err = os.OpenFile(o.Path, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return nil, fmt.Errorf("loader.sink.options.path: %w", err)
		}
	}
	return &jsonlSink{f: f, w: bufio.NewWriterSize(f, 256<<10), sync: o.Sync && o.Path != "-"}, nil
}

func (s *jsonlSink) Write(_ context.Context, recs []sink.Record) error {
	for _, r := range recs {
		if _, err := s.w.Write(r.Data); err != nil {
			return fault.Transient("write_failed", err)
		}
		if err := s.w.WriteByte('\n'); err != nil {
			return fault.Transient("write_failed", err)
		}
	}
	if err := s.w.Flush(); err != nil {
		return fault.Transient("write_failed", err)
	}
	if s.sync {
		if err := s.f.Sync(); err != nil {
			return fault.Transient("write_failed", err)
		}
	}
	return nil
}

func (s *jsonlSink) Close(context.Context) error {
	if err := s.w.Flush(); err != nil {
		return err
	}
	if s.f == os.Stdout {
		return nil
	}
	return s.f.Close()
}
