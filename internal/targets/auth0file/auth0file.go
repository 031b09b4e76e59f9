// Package auth0file is a sink that writes Auth0 bulk-import files: JSON
// arrays of users, each file under a size limit (Auth0 accepts at most
// 500 KB per import job), for the Management API's users-imports endpoint or
// the User Import/Export extension.
//
// First imports go to <prefix>-<session>-<seq>.json; updates (users a
// replay re-sends, [sink.Record.Update]) go to
// <prefix>-upsert-<session>-<seq>.json, which must be imported with upsert
// on (without it Auth0 refuses every user that exists as DUPLICATED_USER).
// The session starts with a digit, so <prefix>-[0-9]*.json selects the first
// imports alone.
//
// Each file is written to a temporary name and fsynced; then its entry (name,
// size, the MsgIDs of its users) is appended to the journal
// <prefix>.journal in the same directory and fsynced; then the file is
// linked to its final name, which fails rather than overwrites if the name
// exists, and the directory is fsynced. A file is either complete or absent,
// a re-run never replaces an earlier file, and the journal tells a restarted
// sink which redelivered users it already wrote: those of the recent entries
// whose file exists with the recorded size. An entry whose file is missing
// belongs to a Write that died before the link, so before it returned: its
// users were not acked and are written again. Nothing else is ever removed
// (only leftover temporary files), so moving imported files away is safe,
// and so is a second loader in the same directory, though after a crash it
// may then write a user twice.
package auth0file

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/targets/journal"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
)

// AuthZeroLimit is Auth0's import file limit, 500 KB.
const AuthZeroLimit = 500_000

// Options are the sink's loader.sink.options.
type Options struct {
	Dir          string `yaml:"dir" doc:"where files go; created if missing"`
	MaxFileBytes int    `yaml:"max_file_bytes" doc:"size of one file at most, 1024 to 500000, Auth0's limit"`
	Prefix       string `yaml:"prefix" doc:"file names: <prefix>-<session>-<seq>.json, updates <prefix>-upsert-<session>-<seq>.json; journal <prefix>.journal"`
	DedupWindow  int    `yaml:"dedup_window" doc:"how many recently written users (MsgIDs) are remembered, to skip them when redelivered; keep it above the users written during the consumer's ack_wait (0: 200000)"`
}

type fileSink struct {
	mu      sync.Mutex
	opts    Options
	session string // distinguishes this process's files from every other run's
	seq     [2]int // last sequence number used: first imports, updates
	j       *journal.Journal
	closed  bool
	log     *slog.Logger
}

// DefaultOptions are the options a config does not set.
func DefaultOptions() Options {
	return Options{Dir: "out", MaxFileBytes: AuthZeroLimit, Prefix: "users"}
}

// New builds the sink from [DefaultOptions] and the configured options.
func New(_ context.Context, p sink.Params) (sink.Sink, error) {
	o := DefaultOptions()
	if err := p.Decode(&o); err != nil {
		return nil, err
	}
	switch {
	case o.Dir == "":
		return nil, errors.New("loader.sink.options.dir: required")
	case o.MaxFileBytes < 1024 || o.MaxFileBytes > AuthZeroLimit:
		return nil, fmt.Errorf("loader.sink.options.max_file_bytes: must be between 1024 and %d (Auth0's limit), got %d", AuthZeroLimit, o.MaxFileBytes)
	case o.Prefix == "" || filepath.Base(o.Prefix) != o.Prefix || strings.HasPrefix(o.Prefix, "."):
		return nil, fmt.Errorf("loader.sink.options.prefix: must be a plain file name prefix, got %q", o.Prefix)
	case o.DedupWindow < 0:
		return nil, fmt.Errorf("loader.sink.options.dedup_window: must not be negative, got %d", o.DedupWindow)
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("loader.sink.options.dir: %w", err)
	}
	log := p.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &fileSink{opts: o, log: log}
	names, err := s.sweep()
	if err != nil {
		return nil, fmt.Errorf("loader.sink.options.dir: %w", err)
	}
	for s.session == "" || slices.ContainsFunc(names, func(n string) bool { return strings.Contains(n, "-"+s.session+"-") }) {
		b := make([]byte, 3)
		_, _ = rand.Read(b)
		s.session = time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)
	}
	s.j, err = journal.Open(filepath.Join(o.Dir, o.Prefix+".journal"), o.DedupWindow, true, s.exists)
	if err != nil {
		return nil, fmt.Errorf("loader.sink.options.dir: %w", err)
	}
	return s, nil
}

// sweep removes the temporary files of writes that died before their link
// (their users were not acked) and returns the names in the directory.
func (s *fileSink) sweep() ([]string, error) {
	entries, err := os.ReadDir(s.opts.Dir)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, "."+s.opts.Prefix+"-") && strings.HasSuffix(n, ".tmp") {
			if err := os.Remove(filepath.Join(s.opts.Dir, n)); err != nil && !errors.Is(err, fs.ErrNotExist) {
				return nil, err
			}
			continue
		}
		names = append(names, n)
	}
	return names, nil
}

// exists reports whether the file of a journal entry is there, complete.
func (s *fileSink) exists(e journal.Entry) bool {
	if e.Name == "" {
		return true
	}
	fi, err := os.Stat(filepath.Join(s.opts.Dir, e.Name))
	return err == nil && fi.Size() == e.Length
}

// BatchLimits makes each loader batch fill one file: a file is the batch's
// records joined by commas, as the loader counts them, in brackets.
func (s *fileSink) BatchLimits() (int, int) { return 0, s.opts.MaxFileBytes - 1 }

// Write packs the users not written yet into files, first imports and
// updates apart, and writes them.
func (s *fileSink) Write(_ context.Context, recs []sink.Record) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return fault.Transient("sink_closed", errors.New("auth0-file: write after Close"))
	}
	var fresh [2][]int // indexes of recs to write: first imports, updates
	for i, r := range recs {
		if r.MsgID != "" && s.j.Seen(journal.ID(r.MsgID)) {
			continue // in a file already; its ack was lost
		}
		kind := 0
		if r.Update {
			kind = 1
		}
		fresh[kind] = append(fresh[kind], i)
	}
	var rejected []sink.Rejection
	for kind, idx := range fresh {
		if len(idx) == 0 {
			continue
		}
		sub := make([]sink.Record, len(idx))
		for k, i := range idx {
			sub[k] = recs[i]
		}
		files, refused := Pack(sub, s.opts.MaxFileBytes)
		for _, r := range refused {
			r.Index = idx[r.Index]
			rejected = append(rejected, r)
		}
		for _, f := range files {
			var ids []uint64
			for _, k := range f.Index {
				if id := sub[k].MsgID; id != "" {
					ids = append(ids, journal.ID(id))
				}
			}
			if err := s.writeFile(f.Data, kind == 1, ids); err != nil {
				return err
			}
		}
	}
	if rejected != nil {
		slices.SortFunc(rejected, func(a, b sink.Rejection) int { return cmp.Compare(a.Index, b.Index) })
		return &sink.RejectedError{Rejections: rejected}
	}
	return nil
}

// File is one packed import file.
type File struct {
	Data  []byte // a JSON array of users
	Index []int  // the users in it, as indexes into the packed records
}

// Pack packs users into Auth0 import files: JSON arrays of at most maxBytes
// each, filled in order (a file is closed when the next user would not fit).
// A user larger than a file on its own is rejected with code
// user_too_large. Both import paths use it, files and API jobs.
func Pack(recs []sink.Record, maxBytes int) (files []File, rejected []sink.Rejection) {
	var cur File
	for i, r := range recs {
		if len(r.Data)+2 > maxBytes {
			rejected = append(rejected, sink.Rejection{Index: i, Code: "user_too_large",
				Reason: fmt.Sprintf("user %s is %d bytes; an Auth0 import file holds at most %d", r.UID, len(r.Data), maxBytes)})
			continue
		}
		// +1 for the separator, +1 for the closing bracket.
		if len(cur.Data) > 0 && len(cur.Data)+len(r.Data)+2 > maxBytes {
			cur.Data = append(cur.Data, ']')
			files = append(files, cur)
			cur = File{}
		}
		if len(cur.Data) == 0 {
			cur.Data = append(make([]byte, 0, maxBytes), '[')
		} else {
			cur.Data = append(cur.Data, ',')
		}
		cur.Data = append(cur.Data, r.Data...)
		cur.Index = append(cur.Index, i)
	}
	if len(cur.Data) > 0 {
		cur.Data = append(cur.Data, ']')
		files = append(files, cur)
	}
	return files, rejected
}

// writeFile writes one packed array as a file: data durable, then its
// journal entry, then its name.
func (s *fileSink) writeFile(data []byte, upsert bool, ids []uint64) error {
	tmp, err := os.CreateTemp(s.opts.Dir, "."+s.opts.Prefix+"-*.tmp")
	if err != nil {
		return fault.Transient("write_failed", err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fault.Transient("write_failed", err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fault.Transient("write_failed", err)
	}
	if err := tmp.Close(); err != nil {
		return fault.Transient("write_failed", err)
	}
	// A name is used once, even when this attempt fails after its journal
	// entry: an entry must never come to describe another file.
	name, err := s.nextName(upsert)
	if err != nil {
		return fault.Transient("write_failed", err)
	}
	if err := s.j.Append(journal.Entry{Name: name, Length: int64(len(data)), IDs: ids}); err != nil {
		return fault.Transient("write_failed", err)
	}
	if err := os.Link(tmp.Name(), filepath.Join(s.opts.Dir, name)); err != nil {
		return fault.Transient("write_failed", err)
	}
	if err := journal.SyncDir(s.opts.Dir); err != nil {
		// The link may not survive a power loss: write the users again
		// (a duplicate at worst) rather than count them stored.
		return fault.Transient("write_failed", err)
	}
	if err := s.j.Remember(ids); err != nil {
		s.log.Warn("auth0-file: could not rewrite the journal; it keeps growing until a rewrite succeeds", "err", err)
	}
	// One line a file: how full the files run is what tells whether the
	// batches fill them (a file is an import job, of which a tenant runs
	// two at a time).
	s.log.Info("import file written", "file", name, "users", len(ids), "bytes", len(data),
		"fill", fmt.Sprintf("%.1f%%", 100*float64(len(data))/float64(s.opts.MaxFileBytes)))
	return nil
}

// nextName returns the next free file name of this session.
func (s *fileSink) nextName(upsert bool) (string, error) {
	kind, infix := 0, ""
	if upsert {
		kind, infix = 1, "upsert-"
	}
	for {
		s.seq[kind]++
		name := fmt.Sprintf("%s-%s%s-%06d.json", s.opts.Prefix, infix, s.session, s.seq[kind])
		_, err := os.Lstat(filepath.Join(s.opts.Dir, name))
		if errors.Is(err, fs.ErrNotExist) {
			return name, nil
		}
		if err != nil {
			return "", err
		}
	}
}

// Close waits for a Write in flight, then closes the journal.
func (s *fileSink) Close(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	return s.j.Close()
}
