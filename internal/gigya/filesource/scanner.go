package filesource

import (
	"bytes"
	"io"
)

const (
	// bufSize is the normal read window. It also bounds how far detectLines
	// looks for the end of the first line.
	bufSize = 256 << 10
	// maxRecordSize bounds one value held in memory. Gigya accounts are far
	// smaller; a value this large is nearly always a corrupt file whose
	// brackets or quotes never close, and holding it would defeat the flat
	// memory use.
	maxRecordSize = 32 << 20
	// maxBadData caps the bytes kept in a bad Record.
	maxBadData = 64 << 10
	// maxDepth matches encoding/json's nesting limit, so the bracket stack
	// cannot grow without bound on "[[[[…" garbage.
	maxDepth = 10000
	// minMore is the least read-ahead when a value runs past the window.
	minMore = 4 << 10
)

// status is the outcome of a structural skip.
type status int

const (
	stOK       status = iota
	stEOF             // input ended (or failed, or ctx is done) inside the value
	stNewline         // line mode only: a raw newline inside the value
	stMismatch        // a closing bracket that does not match the open one
	stTooDeep         // more than maxDepth open brackets
)

// scanner is a forward-only byte window over the decompressed input that
// knows the stream offset and line of every position it passes. Values are
// validated in place: value keeps a value's bytes contiguous in the window
// (growing it up to maxRecordSize) so that a record's Data is one copy out
// of the window and nothing is re-encoded.
type scanner struct {
	src    io.Reader
	cancel func() error // ctx.Err, checked on every read

	buf      []byte
	pos, end int   // unread window is buf[pos:end]
	base     int64 // stream offset of buf[0]
	err      error // sticky: io.EOF at the end, a read error, or cancel's error

	lines int // newlines before buf[nl]
	nl    int

	stack []byte   // scratch for validate and skipComposite
	keys  keySpans // the key members of the last value validated
}

func newScanner(src io.Reader, cancel func() error) *scanner {
	return &scanner{src: src, cancel: cancel, buf: make([]byte, bufSize)}
}

// offset is the stream offset of the next unread byte.
func (s *scanner) offset() int64 { return s.base + int64(s.pos) }

// line is the 1-based line of the next unread byte. Counting lazily with
// bytes.Count keeps line numbers exact for one vectorised pass over the data.
func (s *scanner) line() int {
	s.lines += bytes.Count(s.buf[s.nl:s.pos], []byte{'\n'})
	s.nl = s.pos
	return s.lines + 1
}

// compact moves the unread window to the start of the buffer.
func (s *scanner) compact() {
	if s.pos == 0 {
		return
	}
	s.lines += bytes.Count(s.buf[s.nl:s.pos], []byte{'\n'})
	s.nl = 0
	s.end = copy(s.buf, s.buf[s.pos:s.end])
	s.base += int64(s.pos)
	s.pos = 0
}

// read reads once into the free end of the buffer.
func (s *scanner) read() bool {
	if s.err != nil {
		return false
	}
	if err := s.cancel(); err != nil {
		s.err = err
		return false
	}
	for range 100 {
		n, err := s.src.Read(s.buf[s.end:])
		s.end += n
		if err != nil {
			s.err = err
		}
		if n > 0 {
			return true
		}
		if err != nil {
			return false
		}
	}
	s.err = io.ErrNoProgress
	return false
}

// fill adds input to the window, keeping the unread bytes. It reports false
// when nothing could be added; s.err then says why.
func (s *scanner) fill() bool {
	if s.err != nil {
		return false
	}
	s.compact()
	if len(s.buf) > bufSize && s.end < bufSize {
		// A big value grew the buffer; give the memory back.
		b := make([]byte, bufSize)
		s.end = copy(b, s.buf[:s.end])
		s.buf = b
	}
	if s.end == len(s.buf) {
		return true // only peekLine gets here, and it checks for a full window
	}
	return s.read()
}

// more reads until the window has doubled, growing the buffer as needed, so
// that value's re-validation from the start of a value costs at most twice
// the value's size in total. It reports false when the window did not grow:
// at the end of input or when the window already holds maxRecordSize bytes.
func (s *scanner) more() bool {
	have := s.end - s.pos
	if have >= maxRecordSize {
		return false
	}
	want := min(max(2*have, minMore), maxRecordSize)
	s.compact()
	if len(s.buf) < want {
		b := make([]byte, max(want, 2*len(s.buf)))
		s.end = copy(b, s.buf[:s.end])
		s.buf = b
	}
	grew := false
	for s.end < want && s.read() {
		grew = true
	}
	return grew
}

// value validates the JSON value that starts at the next byte, reading ahead
// as needed, without consuming it. On vOK, n is its length; on vSyntax the
// error is at buf[pos+n]; on vResults (see validate) the "results" member's
// value follows buf[pos+n]. vMore means the input ended inside the value, and
// vTooLarge that it is longer than maxRecordSize.
func (s *scanner) value(stopNL, findResults bool) (n int, r vresult) {
	for {
		final := s.err != nil
		n, r, s.stack = validate(s.buf[s.pos:s.end], stopNL, final, findResults, s.stack, &s.keys)
		if r != vMore || final {
			return n, r
		}
		if !s.more() && s.err == nil {
			return n, vTooLarge
		}
	}
}

// blankAfter reports whether only blanks follow the next n bytes up to the
// end of their line, reading ahead without consuming anything.
func (s *scanner) blankAfter(n int) bool {
	for {
		if i := skipWS(s.buf[:s.end], s.pos+n, true); i < s.end {
			return s.buf[i] == '\n'
		}
		if !s.more() {
			return true // the input ends, or a run of blanks longer than maxRecordSize
		}
	}
}

// skipSpace advances over JSON whitespace and returns the next byte without
// consuming it; ok is false at the end of input. With stopNL it stops at a
// newline, which line mode treats as the end of a record.
func (s *scanner) skipSpace(stopNL bool) (c byte, ok bool) {
	for {
		if s.pos = skipWS(s.buf[:s.end], s.pos, stopNL); s.pos < s.end {
			return s.buf[s.pos], true
		}
		if !s.fill() {
			return 0, false
		}
	}
}

// hasPrefix reports whether the unread input starts with p, reading ahead as
// needed (p must be shorter than the window).
func (s *scanner) hasPrefix(p string) bool {
	for s.end-s.pos < len(p) {
		if !s.fill() {
			return false
		}
	}
	return string(s.buf[s.pos:s.pos+len(p)]) == p
}

// skipLine consumes up to the next newline, leaving it unread, and appends
// what it consumed to data while data is shorter than maxBadData. With
// onlyData it stops consuming there too, for when the line is only context
// and may be the rest of a huge one-line file.
func (s *scanner) skipLine(data []byte, onlyData bool) []byte {
	for {
		win := s.buf[s.pos:s.end]
		i := bytes.IndexByte(win, '\n')
		if i >= 0 {
			win = win[:i]
		}
		room := max(maxBadData-len(data), 0)
		data = append(data, win[:min(room, len(win))]...)
		if onlyData && room < len(win) {
			s.pos += room
			return data
		}
		s.pos += len(win)
		if i >= 0 || !s.fill() {
			return data
		}
	}
}

// skipString consumes a string whose opening quote is the next byte, by
// structure only: the escape state comes from the run of backslashes before a
// quote, which may straddle a read.
func (s *scanner) skipString(stopNL bool) status {
	s.pos++
	run := 0 // backslashes just before s.pos inside this string
	for {
		win := s.buf[s.pos:s.end]
		i := bytes.IndexByte(win, '"')
		seg := win
		if i >= 0 {
			seg = win[:i]
		}
		if stopNL {
			if j := bytes.IndexByte(seg, '\n'); j >= 0 {
				s.pos += j
				return stNewline
			}
		}
		n := trailingBackslashes(seg, run)
		if i < 0 {
			run = n
			s.pos = s.end
			if !s.fill() {
				return stEOF
			}
			continue
		}
		s.pos += i + 1
		if n%2 == 0 {
			return stOK
		}
		run = 0
	}
}

func trailingBackslashes(b []byte, carry int) int {
	n := 0
	for n < len(b) && b[len(b)-1-n] == '\\' {
		n++
	}
	if n == len(b) {
		n += carry
	}
	return n
}

// skipComposite consumes an object or array whose opening bracket is the next
// byte by structure only (strings and brackets), in constant memory. It finds
// the end of a value too large to validate in place.
func (s *scanner) skipComposite(stopNL bool) status {
	st := s.stack[:0]
	defer func() { s.stack = st[:0] }()
	for {
		for s.pos < s.end {
			switch c := s.buf[s.pos]; c {
			case '"':
				if r := s.skipString(stopNL); r != stOK {
					return r
				}
				continue
			case '{':
				st = append(st, '}')
			case '[':
				st = append(st, ']')
			case '}', ']':
				if len(st) == 0 || st[len(st)-1] != c {
					return stMismatch
				}
				st = st[:len(st)-1]
				if len(st) == 0 {
					s.pos++
					return stOK
				}
			case '\n':
				if stopNL {
					return stNewline
				}
			}
			if len(st) > maxDepth {
				return stTooDeep
			}
			s.pos++
		}
		if !s.fill() {
			return stEOF
		}
	}
}

// skipScalar consumes a number, literal or garbage word up to the next
// delimiter or the end of input.
func (s *scanner) skipScalar() {
	for {
		for s.pos < s.end {
			switch s.buf[s.pos] {
			case ' ', '\t', '\r', '\n', ',', ':', '"', '[', ']', '{', '}':
				return
			}
			s.pos++
		}
		if !s.fill() {
			return
		}
	}
}

// peekLine returns the unread input up to its first newline without consuming
// it. found is false when no newline was seen, because the input ended or the
// line is longer than the window.
func (s *scanner) peekLine() (line []byte, found bool) {
	for {
		win := s.buf[s.pos:s.end]
		if i := bytes.IndexByte(win, '\n'); i >= 0 {
			return win[:i], true
		}
		if len(win) == len(s.buf) || !s.fill() {
			return s.buf[s.pos:s.end], false
		}
	}
}
