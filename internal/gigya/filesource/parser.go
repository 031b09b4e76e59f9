package filesource

import (
	"errors"
	"fmt"
	"io"
)

// Decoding strategy. One hand-written streaming parser serves every format.
// It parses tokens itself only where records are delimited: the top level,
// the arrays that hold records, and the members of a saved response after its
// "results". Each record, and each value it skips, is checked by validate in
// one pass over bytes kept contiguous in the read window, then copied out as
// it was read. Nothing is decoded into Go values.
//
// encoding/json's Decoder (Token/More/Decode into json.RawMessage) was the
// obvious alternative; segmentio's Decoder has no Token API. It was not used
// because:
//   - it cannot stop at a newline, so a broken JSON line would swallow the
//     lines after it instead of costing one record;
//   - it reports the offset after a token, not the start offset or line of a
//     record, and counting lines would be a second pass over every byte;
//   - after a syntax error it cannot go on, and it reports the error without
//     the offending bytes, which the dead-letter record needs;
//   - it is slower: BenchmarkStdlibDecoderArray reads 129 MB/s where
//     BenchmarkReadArray reads about 720 MB/s (numbers in bench_test.go).

// control values are returned by parser methods after a bad record has been
// emitted, to tell the caller how to go on. They never leave the package.
type control int

const (
	// errLineSkipped: line mode, the rest of the bad line was consumed; go on
	// with the next line.
	errLineSkipped control = iota + 1
	// errStopFile: the input cannot be resynchronised; stop this file.
	errStopFile
)

func (c control) Error() string {
	if c == errLineSkipped {
		return "filesource: line skipped"
	}
	return "filesource: file abandoned"
}

// parser turns one decompressed stream into Records.
type parser struct {
	s     *scanner
	name  string
	lines bool // JSON lines: a newline ends every top-level value
	emit  func(Record) error
}

func (p *parser) here() Origin {
	return Origin{File: p.name, Line: p.s.line(), Offset: p.s.offset()}
}

// run reads top-level values until the input ends.
func (p *parser) run() error {
	for {
		c, ok := p.s.skipSpace(false)
		if !ok {
			return p.end()
		}
		switch err := p.top(c); err {
		case nil, errLineSkipped:
		case errStopFile:
			return nil
		default:
			return err
		}
	}
}

func (p *parser) top(c byte) error {
	var err error
	switch c {
	case '{':
		start := p.here()
		var data, key []byte
		if data, key, err = p.object(false, p.lines, start); err != nil || data == nil {
			break
		}
		return p.emit(Record{Data: data, Key: key, Origin: start})
	case '[':
		err = p.array(false)
	default:
		err = p.notObject(c, p.lines)
	}
	if err != nil || !p.lines {
		return err
	}
	if c, ok := p.s.skipSpace(true); ok && c != '\n' {
		return p.fail(p.here(), nil, syntaxError("unexpected %s after the value on this line", describe(c)))
	}
	return nil
}

// object reads the object at the next byte, which starts at start. Outside a
// results array, an object with a top-level "results" member is a saved
// accounts.search response: its results are emitted as they are read and
// object returns nil. Any other object is an account, returned as a copy.
// Members before "results" are validated in place in case the object is an
// account; Gigya writes "results" first, so this costs little. With
// wholeLine an account is good only if the rest of its line is blank;
// otherwise the whole line is reported. An account comes with its key
// members (Record.Key).
func (p *parser) object(inResults, wholeLine bool, start Origin) (data, key []byte, err error) {
	s := p.s
	n, r := s.value(p.lines, !inResults)
	switch r {
	case vOK:
		if wholeLine && !s.blankAfter(n) {
			return nil, nil, p.trailing(start, n)
		}
		data, key = withKey(s.buf[s.pos:s.pos+n], s.keys.spans)
		s.pos += n
		return data, key, nil
	case vResults:
		s.pos += n
		return nil, nil, p.response()
	}
	return nil, nil, p.badValue(start, n, r, '{')
}

// withKey copies the account value and builds the object of its key
// members from their spans in value, in one allocation.
func withKey(value []byte, spans []int) (data, key []byte) {
	size := 2
	for i := 0; i < len(spans); i += 2 {
		size += spans[i+1] - spans[i] + 1
	}
	buf := make([]byte, 0, len(value)+size)
	buf = append(buf, value...)
	buf = append(buf, '{')
	for i := 0; i < len(spans); i += 2 {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = append(buf, value[spans[i]:spans[i+1]]...)
	}
	buf = append(buf, '}')
	return buf[:len(value):len(value)], buf[len(value):]
}

// trailing reports a line whose value, of n bytes at start, is followed by
// more than blanks; blankAfter has put the offending byte in the window.
func (p *parser) trailing(start Origin, n int) error {
	s := p.s
	c := s.buf[skipWS(s.buf[:s.end], s.pos+n, true)]
	data := clip(s.buf[s.pos : s.pos+n])
	s.pos += n
	return p.fail(start, data, syntaxError("unexpected %s after the value on this line", describe(c)))
}

// response reads a saved response from the value of its "results" member on.
// Its other members are validated and dropped.
func (p *parser) response() error {
	s := p.s
	c, ok := s.skipSpace(p.lines)
	if !ok {
		return p.eof()
	}
	if err := p.results(c); err != nil {
		return err
	}
	for {
		if c, ok = s.skipSpace(p.lines); !ok {
			return p.eof()
		}
		switch c {
		case '}':
			s.pos++
			return nil
		case ',':
			s.pos++
		default:
			return p.fail(p.here(), nil, syntaxError("expected ',' or '}' after an object member, found %s", describe(c)))
		}
		if c, ok = s.skipSpace(p.lines); !ok {
			return p.eof()
		}
		if c != '"' {
			return p.fail(p.here(), nil, syntaxError("expected a member name, found %s", describe(c)))
		}
		results := s.hasPrefix(`"results"`) // a repeated key must not hide accounts
		if err := p.skip(c); err != nil {
			return err
		}
		if c, ok = s.skipSpace(p.lines); !ok {
			return p.eof()
		}
		if c != ':' {
			return p.fail(p.here(), nil, syntaxError("expected ':' after a member name, found %s", describe(c)))
		}
		s.pos++
		if c, ok = s.skipSpace(p.lines); !ok {
			return p.eof()
		}
		var err error
		if results {
			err = p.results(c)
		} else {
			err = p.skip(c)
		}
		if err != nil {
			return err
		}
	}
}

// results reads the value of a response's "results" member.
func (p *parser) results(c byte) error {
	if c == '[' {
		return p.array(true)
	}
	s := p.s
	start := p.here()
	n, r := s.value(p.lines, false)
	if r != vOK {
		return p.badValue(start, n, r, c)
	}
	rec := Record{
		Data:   clip(s.buf[s.pos : s.pos+n]),
		Origin: start,
		Err:    fmt.Errorf("%w: \"results\" is %s, not an array", ErrInvalidJSON, describe(c)),
	}
	s.pos += n
	return p.emit(rec)
}

// array reads the array at the next byte and emits its elements. Elements of
// a results array are accounts; elements of a top-level array may also be
// responses.
func (p *parser) array(inResults bool) error {
	s := p.s
	s.pos++
	c, ok := s.skipSpace(p.lines)
	if !ok {
		return p.eof()
	}
	if c == ']' {
		s.pos++
		return nil
	}
	for {
		if c == '{' {
			start := p.here()
			data, key, err := p.object(inResults, false, start)
			if err != nil {
				return err
			}
			if data != nil {
				if err := p.emit(Record{Data: data, Key: key, Origin: start}); err != nil {
					return err
				}
			}
		} else if err := p.notObject(c, false); err != nil {
			return err
		}
		if c, ok = s.skipSpace(p.lines); !ok {
			return p.eof()
		}
		switch c {
		case ',':
			s.pos++
			if c, ok = s.skipSpace(p.lines); !ok {
				return p.eof()
			}
			if c == ']' {
				return p.fail(p.here(), nil, syntaxError("trailing comma before ']'"))
			}
		case ']':
			s.pos++
			return nil
		default:
			return p.fail(p.here(), nil, syntaxError("expected ',' or ']' after an array element, found %s", describe(c)))
		}
	}
}

// notObject reports a value that is not an object where a record belongs.
// wholeLine is as for object.
func (p *parser) notObject(c byte, wholeLine bool) error {
	s := p.s
	start := p.here()
	n, r := s.value(p.lines, false)
	if r != vOK {
		return p.badValue(start, n, r, c)
	}
	if wholeLine && !s.blankAfter(n) {
		return p.trailing(start, n)
	}
	rec := Record{
		Data:   clip(s.buf[s.pos : s.pos+n]),
		Origin: start,
		Err:    fmt.Errorf("%w: found %s", ErrNotObject, describe(c)),
	}
	s.pos += n
	return p.emit(rec)
}

// skip validates and drops the value at the next byte.
func (p *parser) skip(c byte) error {
	s := p.s
	start := p.here()
	n, r := s.value(p.lines, false)
	if r != vOK {
		return p.badValue(start, n, r, c)
	}
	s.pos += n
	return nil
}

// badValue reports a value, starting with c at start, that value could not
// accept.
func (p *parser) badValue(start Origin, n int, r vresult, c byte) error {
	s := p.s
	switch r {
	case vSyntax:
		bad := s.buf[s.pos+n]
		data := clip(s.buf[s.pos : s.pos+n])
		s.pos += n
		if bad == '\n' {
			return p.fail(start, data, syntaxError("the line ends inside the value"))
		}
		return p.fail(start, data, syntaxError("unexpected %s at offset %d", describe(bad), start.Offset+int64(n)))
	case vTooDeep:
		data := clip(s.buf[s.pos : s.pos+n])
		s.pos += n
		return p.fail(start, data, syntaxError("nested more than %d levels deep (objects and arrays) at offset %d", maxDepth, start.Offset+int64(n)))
	case vMore:
		data := clip(s.buf[s.pos:s.end])
		s.pos = s.end
		return p.truncated(start, data)
	}
	return p.tooLarge(start, c)
}

// tooLarge reports a value longer than maxRecordSize and finds its end by
// structure alone, in constant memory.
func (p *parser) tooLarge(start Origin, c byte) error {
	s := p.s
	data := clip(s.buf[s.pos:s.end])
	st := stOK
	switch c {
	case '{', '[':
		st = s.skipComposite(p.lines)
	case '"':
		st = s.skipString(p.lines)
	default:
		s.skipScalar()
	}
	switch st {
	case stOK:
		return p.emit(Record{Data: data, Origin: start, Err: fmt.Errorf("%w: larger than %d MiB", ErrTooLarge, maxRecordSize>>20)})
	case stEOF:
		return p.truncated(start, data)
	}
	return p.fail(start, data, syntaxError("in a value larger than %d MiB, before offset %d", maxRecordSize>>20, s.offset()))
}

// fail emits a bad record for a syntax error and says how to go on. data is
// the record's bytes up to the error; the rest of the line is added. Line mode
// consumes that rest, to resume on the next line. A document (an array or a
// pretty-printed object) cannot be resynchronised in general, since a lost
// quote turns the rest of the file inside out, so the file is abandoned there
// rather than risk emitting fabricated records.
func (p *parser) fail(origin Origin, data []byte, cause error) error {
	data = p.s.skipLine(data, !p.lines)
	if n := len(data); n > 0 && data[n-1] == '\r' {
		data = data[:n-1]
	}
	if err := p.emit(Record{Data: data, Origin: origin, Err: cause}); err != nil {
		return err
	}
	if p.lines {
		return errLineSkipped
	}
	return errStopFile
}

// eof handles input that ended between the tokens of a value.
func (p *parser) eof() error {
	return p.truncated(p.here(), nil)
}

// truncated handles input that ended inside a value starting at origin.
func (p *parser) truncated(origin Origin, data []byte) error {
	s := p.s
	if err := s.cancel(); err != nil {
		return err
	}
	if !isTruncation(s.err) {
		return p.ioError(origin, data)
	}
	err := p.emit(Record{Data: data, Origin: origin, Err: fmt.Errorf("%w after %d bytes", ErrTruncated, s.offset())})
	if err != nil {
		return err
	}
	return errStopFile
}

// end handles the end of input between values.
func (p *parser) end() error {
	s := p.s
	if err := s.cancel(); err != nil {
		return err
	}
	switch {
	case s.err == io.EOF:
		return nil
	case isTruncation(s.err):
		// A gzip stream cut between two records: what followed is lost.
		return p.emit(Record{Origin: p.here(), Err: fmt.Errorf("%w: the compressed stream is cut off after %d bytes", ErrTruncated, s.offset())})
	}
	return p.ioError(p.here(), nil)
}

// ioError reports a read failure as a Record and returns it, ending Read.
func (p *parser) ioError(origin Origin, data []byte) error {
	err := fmt.Errorf("filesource: read %s: %w", p.name, p.s.err)
	if eerr := p.emit(Record{Data: data, Origin: origin, Err: err}); eerr != nil {
		return eerr
	}
	return err
}

// isTruncation tells the end of a plain input and a cut-off gzip stream
// (io.ErrUnexpectedEOF) from real read failures.
func isTruncation(err error) bool {
	return err == io.EOF || errors.Is(err, io.ErrUnexpectedEOF)
}

func syntaxError(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidJSON}, args...)...)
}

// describe names the value or token starting with c for error messages.
func describe(c byte) string {
	switch c {
	case '{':
		return "an object"
	case '[':
		return "an array"
	case '"':
		return "a string"
	case 't', 'f':
		return "a boolean"
	case 'n':
		return "null"
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return "a number"
	}
	return fmt.Sprintf("%q", c)
}

// clip copies at most maxBadData bytes of b for a bad record.
func clip(b []byte) []byte {
	return append([]byte(nil), b[:min(len(b), maxBadData)]...)
}
