// Package jsonl is a sink that writes one mapped user per line to a file or
// to standard output: for inspecting a mapping, or feeding another tool.
//
// Lines are appended; an update (a replayed user) is appended too, so a
// reader keeps the last line of each user_id.
//
// A file is written idempotently, also across crashes, with a journal
// beside it (<path>.journal): after each batch the file is fsynced, then
// the journal records the file's new length and the batch's MsgIDs. On
// open the file is cut back to the journal's last length (what lies beyond
// is a batch whose Write never returned: none of its users were acked, all
// of them come again), and a redelivered user whose MsgID is among the
// recent ones is not written again. One loader writes one file; remove the
// file and its journal together to start afresh. Standard output has no
// journal and is not idempotent.
package jsonl

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/gigya-migrate/gigya-migrate/internal/targets/journal"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
	"github.com/segmentio/encoding/json"
)

// Options are the sink's loader.sink.options.
type Options struct {
	Path        string `yaml:"path" doc:"file to append to, created if missing; - is standard output, without a journal: not idempotent"`
	Sync        bool   `yaml:"sync" doc:"fsync the file and its journal after each batch, so an acked user survives a power loss"`
	DedupWindow int    `yaml:"dedup_window" doc:"how many recently written users (MsgIDs) are remembered, to skip them when redelivered; keep it above the users written during the consumer's ack_wait (0: 200000)"`
}

type jsonlSink struct {
	mu      sync.Mutex
	f       *os.File
	stdout  bool
	sync    bool
	j       *journal.Journal // nil for standard output
	size    int64            // the file's length up to the last journaled batch
	restore bool             // a failed write left bytes beyond size
	closed  bool
	buf     []byte
	log     *slog.Logger
}

// DefaultOptions are the options a config does not set.
func DefaultOptions() Options { return Options{Path: "-", Sync: true} }

// New builds the sink from [DefaultOptions] and the configured options.
func New(_ context.Context, p sink.Params) (sink.Sink, error) {
	o := DefaultOptions()
	if err := p.Decode(&o); err != nil {
		return nil, err
	}
	switch {
	case o.Path == "":
		return nil, errors.New("loader.sink.options.path: required (- for stdout)")
	case o.DedupWindow < 0:
		return nil, fmt.Errorf("loader.sink.options.dedup_window: must not be negative, got %d", o.DedupWindow)
	}
	log := p.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.Path == "-" {
		return &jsonlSink{f: os.Stdout, stdout: true, log: log}, nil
	}
	s := &jsonlSink{sync: o.Sync, log: log}
	if err := s.open(o); err != nil {
		return nil, fmt.Errorf("loader.sink.options.path: %w", err)
	}
	return s, nil
}

// open opens the file and its journal and cuts the file back to the last
// batch the journal confirms.
func (s *jsonlSink) open(o Options) error {
	f, err := os.OpenFile(o.Path, os.O_CREATE|os.O_RDWR|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	j, err := journal.Open(o.Path+".journal", o.DedupWindow, o.Sync, nil)
	if err != nil {
		f.Close()
		return err
	}
	s.f, s.j = f, j
	fail := func(err error) error {
		j.Close()
		f.Close()
		return err
	}
	fi, err := f.Stat()
	if err != nil {
		return fail(err)
	}
	last, ok := j.Last()
	switch {
	case !ok:
		// A new journal: what the file holds was there before this sink
		// wrote to it, so it stays.
		if err := j.Append(journal.Entry{Length: fi.Size()}); err != nil {
			return fail(err)
		}
		s.size = fi.Size()
		if o.Sync {
			if err := journal.SyncDir(filepath.Dir(o.Path)); err != nil {
				return fail(err)
			}
		}
	case fi.Size() < last.Length:
		return fail(fmt.Errorf("%s has %d bytes but its journal confirms %d: the file was changed outside the loader (to start a new file, remove %s.journal as well)",
			o.Path, fi.Size(), last.Length, o.Path))
	default:
		if cut := fi.Size() - last.Length; cut > 0 {
			if err := f.Truncate(last.Length); err != nil {
				return fail(err)
			}
			if err := f.Sync(); err != nil {
				return fail(err)
			}
			s.log.Info("removed the end of a batch that was written but not acknowledged before a crash; its users come again",
				"path", o.Path, "bytes", cut)
		}
		s.size = last.Length
	}
	return nil
}

// Write appends the users the file does not hold yet. A user whose data is
// not JSON is rejected (invalid_json); a pretty-printed one is compacted
// onto its line.
func (s *jsonlSink) Write(_ context.Context, recs []sink.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fault.Transient("sink_closed", errors.New("jsonl: write after Close"))
	}
	var ids []uint64
	var rejected []sink.Rejection
	buf := s.buf[:0]
	for i, r := range recs {
		var id uint64
		known := s.j != nil && r.MsgID != ""
		if known {
			id = journal.ID(r.MsgID)
			if s.j.Seen(id) {
				continue // stored already; its ack was lost
			}
		}
		if !json.Valid(r.Data) {
			// Not remembered: refused again if it comes again.
			rejected = append(rejected, sink.Rejection{Index: i, Code: "invalid_json",
				Reason: fmt.Sprintf("user %s is not valid JSON", r.UID)})
			continue
		}
		if known {
			ids = append(ids, id)
		}
		if bytes.ContainsAny(r.Data, "\r\n") {
			var c bytes.Buffer
			if err := json.Compact(&c, r.Data); err != nil {
				return fault.Permanent("invalid_json", fmt.Errorf("jsonl: user %s: %w", r.UID, err))
			}
			buf = append(buf, c.Bytes()...)
		} else {
			buf = append(buf, r.Data...)
		}
		buf = append(buf, '\n')
	}
	s.buf = buf
	if len(buf) > 0 {
		if err := s.append(buf, ids); err != nil {
			return err
		}
	}
	if rejected != nil {
		return &sink.RejectedError{Rejections: rejected}
	}
	return nil
}

// append writes one batch: data durable first, then its journal entry. On
// error nothing of the batch remains (or the next Write removes it first).
func (s *jsonlSink) append(buf []byte, ids []uint64) error {
	if s.stdout {
		if _, err := s.f.Write(buf); err != nil {
			return fault.Transient("write_failed", err)
		}
		return nil
	}
	if s.restore {
		if err := s.f.Truncate(s.size); err != nil {
			return fault.Transient("write_failed", fmt.Errorf("jsonl: removing a failed write: %w", err))
		}
		s.restore = false
	}
	_, err := s.f.Write(buf)
	if err == nil && s.sync {
		err = s.f.Sync()
	}
	if err == nil {
		err = s.j.Append(journal.Entry{Length: s.size + int64(len(buf)), IDs: ids})
	}
	if err != nil {
		// Without its journal entry the batch is not stored: remove it now
		// so the next batch does not follow a half-written one.
		if terr := s.f.Truncate(s.size); terr != nil {
			s.restore = true
		}
		return fault.Transient("write_failed", err)
	}
	s.size += int64(len(buf))
	if err := s.j.Remember(ids); err != nil {
		// The batch is stored and journaled; only the rewrite that keeps
		// the journal small failed.
		s.log.Warn("jsonl: could not rewrite the journal; it keeps growing until a rewrite succeeds", "err", err)
	}
	return nil
}

// Close waits for a Write in flight, then closes the file and its journal.
func (s *jsonlSink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed || s.stdout {
		s.closed = true
		return nil
	}
	s.closed = true
	return errors.Join(s.j.Close(), s.f.Close())
}
