package extract

import (
	"context"
	"errors"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/gigya-migrate/gigya-migrate/pkg/filesource"
	"github.com/gigya-migrate/gigya-migrate/pkg/message"
	"github.com/nats-io/nats.go"
)

// Item is one account object read by a source, or one unusable piece of input.
type Item struct {
	Data []byte
	// Err is set when the input is unusable; Code is its stable dead-letter code.
	Err    error
	Code   string
	Origin Origin
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

// Source reads accounts. Read emits every item in a deterministic order
// (resuming skips the first items by count) and returns when the input is
// exhausted, emit fails, or ctx is done.
type Source interface {
	Read(ctx context.Context, emit func(Item) error) error
	// Identity names the input, so that a checkpoint is only resumed for the
	// same input.
	Identity() string
}

// SourceFactory builds a source from the extractor settings.
type SourceFactory func(s Settings) (Source, error)

// Registry maps a source type (extractor.source.type) to its factory.
type Registry map[string]SourceFactory

func (r Registry) names() string { return strings.Join(slices.Sorted(maps.Keys(r)), ", ") }

// Sources returns the built-in sources.
func Sources() Registry {
	return Registry{"file": newFileSource}
}

type fileSource struct{ paths []string }

func newFileSource(s Settings) (Source, error) {
	if len(s.Source.Paths) == 0 {
		return nil, errors.New("no input files: pass export files or directories as arguments, or set extractor.source.paths")
	}
	files, err := filesource.Expand(s.Source.Paths)
	if err != nil {
		return nil, err
	}
	return &fileSource{paths: files}, nil
}

func (f *fileSource) Identity() string { return "file:" + strings.Join(f.paths, ",") }

func (f *fileSource) Read(ctx context.Context, emit func(Item) error) error {
	return filesource.Read(ctx, f.paths, func(r filesource.Record) error {
		it := Item{Data: r.Data, Err: r.Err, Origin: Origin{Input: r.Origin.File, Line: r.Origin.Line, Offset: r.Origin.Offset}}
		if r.Err != nil {
			it.Code = fileErrorCode(r.Err)
		}
		return emit(it)
	})
}

func fileErrorCode(err error) string {
	switch {
	case errors.Is(err, filesource.ErrNotObject):
		return "not_object"
	case errors.Is(err, filesource.ErrTruncated):
		return "truncated"
	default:
		return "invalid_json"
	}
}
