// Package auth0file is a sink that writes Auth0 bulk-import files: JSON
// arrays of users, each file under a size limit (Auth0 accepts at most
// 500 KB per import job), for the Management API's users-imports endpoint or
// the User Import/Export extension.
//
// Each file is written to a temporary name, fsynced, and then linked to its
// final name, which fails rather than overwrites if the name exists: a file
// is either complete or absent, and a re-run never replaces an earlier file.
package auth0file

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/gigya-migrate/gigya-migrate/pkg/sink"
)

// AuthZeroLimit is Auth0's import file limit, 500 KB.
const AuthZeroLimit = 500_000

// Options are the sink's loader.sink.options.
type Options struct {
	Dir          string `yaml:"dir"`            // where files go; created if missing
	MaxFileBytes int    `yaml:"max_file_bytes"` // at most AuthZeroLimit
	Prefix       string `yaml:"prefix"`         // file names: <prefix>-<session>-<seq>.json
}

type fileSink struct {
	opts    Options
	session string // distinguishes this process's files from every other run's
	seq     int
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
	case o.Prefix == "" || filepath.Base(o.Prefix) != o.Prefix:
		return nil, fmt.Errorf("loader.sink.options.prefix: must be a plain file name prefix, got %q", o.Prefix)
	}
	if err := os.MkdirAll(o.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("loader.sink.options.dir: %w", err)
	}
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return &fileSink{opts: o, session: time.Now().UTC().Format("20060102T150405Z") + "-" + hex.EncodeToString(b)}, nil
}

// BatchLimits makes each loader batch fill one file.
func (s *fileSink) BatchLimits() (int, int) { return 0, s.opts.MaxFileBytes - 2 }

func (s *fileSink) Write(_ context.Context, recs []sink.Record) error {
	files, rejected := Pack(recs, s.opts.MaxFileBytes)
	for _, f := range files {
		if err := s.writeFile(f); err != nil {
			return err
		}
	}
	if rejected != nil {
		return &sink.RejectedError{Rejections: rejected}
	}
	return nil
}

// Pack packs users into Auth0 import files: JSON arrays of at most maxBytes
// each, filled in order (a file is closed when the next user would not fit).
// A user larger than a file on its own is rejected with code
// user_too_large. Both import paths use it, files and API jobs.
func Pack(recs []sink.Record, maxBytes int) (files [][]byte, rejected []sink.Rejection) {
	var buf []byte
	for i, r := range recs {
		if len(r.Data)+2 > maxBytes {
			rejected = append(rejected, sink.Rejection{Index: i, Code: "user_too_large",
				Reason: fmt.Sprintf("user %s is %d bytes; an Auth0 import file holds at most %d", r.UID, len(r.Data), maxBytes)})
			continue
		}
		// +1 for the separator, +1 for the closing bracket.
		if len(buf) > 0 && len(buf)+len(r.Data)+2 > maxBytes {
			files = append(files, append(buf, ']'))
			buf = nil
		}
		if len(buf) == 0 {
			buf = append(make([]byte, 0, maxBytes), '[')
		} else {
			buf = append(buf, ',')
		}
		buf = append(buf, r.Data...)
	}
	if len(buf) > 0 {
		files = append(files, append(buf, ']'))
	}
	return files, rejected
}

// writeFile writes one packed array as a file.
func (s *fileSink) writeFile(data []byte) error {
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
	for {
		s.seq++
		name := filepath.Join(s.opts.Dir, fmt.Sprintf("%s-%s-%06d.json", s.opts.Prefix, s.session, s.seq))
		err := os.Link(tmp.Name(), name)
		if errors.Is(err, os.ErrExist) {
			continue
		}
		if err != nil {
			return fault.Transient("write_failed", err)
		}
		break
	}
	return syncDir(s.opts.Dir)
}

// syncDir makes the new directory entry durable, not only the file's data.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fault.Transient("write_failed", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fault.Transient("write_failed", err)
	}
	return nil
}

func (s *fileSink) Close(context.Context) error { return nil }
