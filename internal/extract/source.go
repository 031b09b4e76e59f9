package extract

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/gigya-migrate/gigya-migrate/internal/gigya/filesource"
	"github.com/gigya-migrate/gigya-migrate/internal/pipeline/message"
	"github.com/gigya-migrate/gigya-migrate/pkg/fault"
	"github.com/nats-io/nats.go"
	"github.com/segmentio/encoding/json"
)

// Item is one account object read by a source, or one unusable piece of input.
type Item struct {
	Data []byte
	// Err is set when the input is unusable; Code is its stable dead-letter code.
	Err    error
	Code   string
	Origin Origin
	// Position, when set, is the source's state after this item: once this
	// item and every one before it are stored, the source can resume from
	// it. It is encoded as JSON into the checkpoint.
	Position any
	// Resumed marks an item a previous run already stored: counted, not
	// published.
	Resumed bool
	// Key, when set, holds the members of Data that may hold its key (see
	// gigya.IdentifyMembers), found by a source that validated Data as it
	// read it (the file source), so identifying it need not scan it again.
	Key []byte
}

// Checkpoint is what the KV bucket holds for one input (checkpointKey).
type Checkpoint struct {
	Input    string          `json:"input"`
	Site     string          `json:"site"`
	Run      string          `json:"run"`
	State    json.RawMessage `json:"state"`    // the source's own position
	Complete bool            `json:"complete"` // that run read its whole input
	Updated  time.Time       `json:"updated"`
}

// Origin locates an item in its input, for dead-letter headers and logs.
type Origin struct {
	Input  string // file name (or API endpoint)
	Line   int    // 1-based; 0 when unknown
	Offset int64  // byte offset in the (decompressed) input
}

func (o Origin) String() string {
	if o.Line > 0 {
		return o.Input + ":" + strconv.Itoa(o.Line)
	}
	return o.Input + "@" + strconv.FormatInt(o.Offset, 10)
}

// header describes the origin as dead-letter headers.
func (o Origin) header() nats.Header {
	h := nats.Header{}
	h.Set(message.HdrSourceFile, o.Input)
	if o.Line > 0 {
		h.Set(message.HdrSourceLine, strconv.Itoa(o.Line))
	}
	h.Set(message.HdrSourceOffset, strconv.FormatInt(o.Offset, 10))
	return h
}

// Source reads accounts. Read emits the items after the position in from
// (the zero Checkpoint: from the start; a Complete one: the source decides,
// a file is read again, an incremental API read continues) and returns when
// the input is exhausted, emit fails, or ctx is done.
type Source interface {
	Read(ctx context.Context, from Checkpoint, emit func(Item) error) error
	// Identity names the input, so that a checkpoint is only resumed for the
	// same input.
	Identity() string
}

// SiteSource is a source and the site its accounts are published for.
type SiteSource struct {
	Site   string
	Source Source
}

// SourceOptions carry what a factory needs beyond the settings.
type SourceOptions struct {
	Mode syncMode
	Log  *slog.Logger
	// ObserveGigya hears every Gigya API attempt (nil: nobody).
	ObserveGigya func(method, code string, took time.Duration)
}

// SourceFactory builds the sources of the extractor settings: one per site.
type SourceFactory func(s Settings, opts SourceOptions) ([]SiteSource, error)

// Registry maps a source type (extractor.source.type) to its factory.
type Registry map[string]SourceFactory

// Sources returns the built-in sources.
func Sources() Registry {
	return Registry{"file": newFileSource, "gigya-api": newAPISources}
}

func newAPISources(s Settings, opts SourceOptions) ([]SiteSource, error) {
	var out []SiteSource
	for i, site := range s.Gigya.Sites {
		src, err := newAPISource(fmt.Sprintf("extractor.gigya.sites[%d]", i), site, s.Gigya, opts)
		if err != nil {
			return nil, err
		}
		out = append(out, SiteSource{Site: site.Name, Source: src})
	}
	return out, nil
}

type fileSource struct{ paths []string }

func newFileSource(s Settings, _ SourceOptions) ([]SiteSource, error) {
	if len(s.Source.Paths) == 0 {
		return nil, errors.New("no input files: pass export files or directories as arguments, or set extractor.source.paths")
	}
	files, err := filesource.Expand(s.Source.Paths)
	var pe *fs.PathError
	if errors.As(err, &pe) {
		// The input named by a person: say which, without the system call.
		return nil, fmt.Errorf("input %s: %w", pe.Path, pe.Err)
	}
	if err != nil {
		return nil, err
	}
	return []SiteSource{{Site: s.Site, Source: &fileSource{paths: files}}}, nil
}

func (f *fileSource) Identity() string { return "file:" + strings.Join(f.paths, ",") }

// filePosition is the file source's checkpoint: how many items, from the
// start of the input, are stored. The input is re-read up to there.
type filePosition struct {
	Done int64 `json:"done"`
}

func (f *fileSource) Read(ctx context.Context, from Checkpoint, emit func(Item) error) error {
	var skip int64
	if from.State != nil && !from.Complete {
		var p filePosition
		if err := json.Unmarshal(from.State, &p); err != nil {
			return fmt.Errorf("file checkpoint: %w (use -restart)", err)
		}
		skip = p.Done
	}
	var n int64
	return filesource.Read(ctx, f.paths, func(r filesource.Record) error {
		n++
		if n <= skip {
			return emit(Item{Resumed: true})
		}
		it := Item{Data: r.Data, Err: r.Err, Origin: Origin{Input: r.Origin.File, Line: r.Origin.Line, Offset: r.Origin.Offset},
			Position: filePosition{Done: n}}
		if r.Err == nil {
			it.Key = r.Key
			return emit(it)
		}
		it.Code = filesource.Code(r.Err)
		cut := errors.Is(r.Err, filesource.ErrTruncated)
		if !cut && it.Code != "read_error" {
			return emit(it) // a bad record: dead-lettered, and the run goes on
		}
		// The input ends here, cut short or unreadable: it is dead-lettered
		// so the operator sees where, but the checkpoint stays before it, so
		// that a rerun with the repaired file reads this record again (it is
		// whole then) instead of skipping it.
		it.Position = nil
		if err := emit(it); err != nil {
			return err
		}
		if !cut {
			return nil // filesource.Read returns the I/O error itself
		}
		// What followed the cut is lost: that is not a finished run, however
		// many records came before it.
		return fault.Permanent("input_truncated", fmt.Errorf(
			"input %s is cut short at line %d (offset %d of its content): %v; %s. Repair or export the file again, then rerun the extractor on the same inputs: it continues after them",
			r.Origin.File, max(r.Origin.Line, 1), r.Origin.Offset, strings.TrimPrefix(r.Err.Error(), "filesource: "), storedBefore(n-1)))
	})
}

// storedBefore says how many records before the cut are stored.
func storedBefore(n int64) string {
	switch n {
	case 0:
		return "no record came before the cut"
	case 1:
		return "the 1 record before the cut is stored"
	}
	return fmt.Sprintf("the %d records before the cut are stored", n)
}
