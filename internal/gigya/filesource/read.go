package filesource

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
)

// Read streams every record of every file to emit, in input order. The paths
// are resolved with [Expand] first; if that fails, Read returns its error
// before reading anything.
//
// It stops early and returns emit's error if emit returns one, or ctx.Err()
// when ctx is done. Unusable input is reported as a Record with Err set and
// reading goes on where that is possible (see the package documentation); such
// records do not make Read fail, the caller counts them. Read returns an error
// only for I/O failures (an unopenable or unreadable file, a corrupt gzip
// stream), after emitting a Record that describes the failure; it does not go
// on with the other files then, since a failing disk or a damaged archive
// needs a person to look at it.
//
// emit is called from the calling goroutine, one Record at a time.
func Read(ctx context.Context, paths []string, emit func(Record) error) error {
	files, err := Expand(paths)
	if err != nil {
		return err
	}
	for _, path := range files {
		if err := readFile(ctx, path, emit); err != nil {
			return err
		}
	}
	return nil
}

func readFile(ctx context.Context, path string, emit func(Record) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		err = fmt.Errorf("filesource: %w", err)
		if eerr := emit(Record{Origin: Origin{File: path}, Err: err}); eerr != nil {
			return eerr
		}
		return err
	}
	defer func() { _ = f.Close() }() // read-only: a Close error cannot lose data
	return ReadFrom(ctx, path, f, emit)
}

// ReadFrom is [Read] for one already open input, such as standard input or a
// pipe; name is used for Origin.File and, when it ends in .jsonl or .ndjson
// (optionally followed by .gz), to choose JSON lines without sniffing. The
// input may be gzipped. It returns the same errors as Read and does not close r.
//
// ctx is checked before every read from r and every record; a Read blocked
// inside r is not interrupted, so close r to stop a stalled pipe.
func ReadFrom(ctx context.Context, name string, r io.Reader, emit func(Record) error) error {
	send := func(rec Record) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		return emit(rec)
	}
	in, err := decompress(r)
	if err != nil {
		if err := ctx.Err(); err != nil {
			return err
		}
		start := Origin{File: name, Line: 1}
		if isTruncation(err) {
			return send(Record{Origin: start, Err: fmt.Errorf("%w: the gzip header is cut off", ErrTruncated)})
		}
		err = fmt.Errorf("filesource: read %s: %w", name, err)
		if eerr := send(Record{Origin: start, Err: err}); eerr != nil {
			return eerr
		}
		return err
	}
	s := newScanner(in, ctx.Err)
	skipBOM(s)
	p := &parser{s: s, name: name, emit: send, lines: detectLines(name, s)}
	return p.run()
}

// decompress looks at the first two bytes, not at the file name, because
// exports get renamed and re-compressed by hand.
func decompress(r io.Reader) (io.Reader, error) {
	br := bufio.NewReaderSize(r, 64<<10)
	magic, _ := br.Peek(2) // a short or failing peek is seen again by the reader
	if len(magic) < 2 || magic[0] != 0x1f || magic[1] != 0x8b {
		return br, nil
	}
	zr, err := gzip.NewReader(br)
	if err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF // the magic bytes promised a header
		}
		return nil, err
	}
	return zr, nil
}

func skipBOM(s *scanner) {
	if s.hasPrefix("\xef\xbb\xbf") {
		s.pos += 3
	}
}

// detectLines decides between JSON lines, where every line is a record of its
// own and a broken line costs only itself, and a document (an array, or one
// or more possibly pretty-printed objects), where newlines are blanks.
//
// A name ending in .jsonl or .ndjson decides. Otherwise an input starting with
// '[' is a document. An input starting with '{' is JSON lines when its first
// line holds a complete value, or is too long to look at (a one-line saved
// response), and a document when the first line is incomplete and ends the way
// a pretty-printer breaks lines: after '{', '[', ',' or ':'. A first line that
// is incomplete in any other way is taken for a broken JSON line, so that one
// bad first line does not cost the whole file.
func detectLines(name string, s *scanner) bool {
	if linesByName(name) {
		return true
	}
	c, ok := s.skipSpace(false)
	if !ok {
		return true
	}
	switch c {
	case '[':
		return false
	case '{':
	default:
		return true
	}
	line, found := s.peekLine()
	if !found || balanced(line) {
		return true
	}
	line = bytes.TrimRight(line, " \t\r")
	switch line[len(line)-1] {
	case '{', '[', ',', ':':
		return false
	}
	return true
}

// balanced reports whether b closes every bracket and string it opens.
func balanced(b []byte) bool {
	depth, inString, escaped := 0, false, false
	for _, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString:
			switch c {
			case '\\':
				escaped = true
			case '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
		case c == '}' || c == ']':
			depth--
		}
	}
	return depth <= 0 && !inString
}
