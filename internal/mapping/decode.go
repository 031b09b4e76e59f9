package mapping

import (
	"bytes"
	"errors"
	"fmt"
	"strconv"

	"github.com/segmentio/encoding/json"
)

// Decoding only what a mapping reads. Turning a whole 2-3 KB Gigya account
// into map[string]any costs ~95% of a record's mapping time, and most of it
// goes into sections a mapping never reads (subscriptions, preferences, the
// identities array of a mapping that does not use it). A compiled mapping
// knows its top-level keys ([Mapping.Paths]), so the decoder walks the
// top-level object once and decodes only the values of those keys; the
// others are skipped with a structural scan (strings, escapes and nesting
// are followed, so the object's extent is exact, but a skipped value's
// content is not validated: it is never used).

var errTopLevel = errors.New("the account is not a JSON object")

// decodeKeys decodes the top-level object in data, keeping only the keys in
// want (all keys when want is nil).
func decodeKeys(data []byte, want map[string]struct{}) (map[string]any, error) {
	if want == nil {
		return decodeAll(data)
	}
	s := scanner{b: data}
	s.space()
	if s.peek() == 'n' && bytes.HasPrefix(data[s.i:], []byte("null")) {
		return nil, fmt.Errorf("%w: the account is null, not an object", ErrDecode)
	}
	if !s.consume('{') {
		return nil, fmt.Errorf("%w: %w", ErrDecode, errTopLevel)
	}
	account := make(map[string]any, len(want))
	s.space()
	if s.consume('}') {
		return account, s.end()
	}
	for {
		s.space()
		kStart := s.i
		if !s.str() {
			return nil, s.fail("a key")
		}
		rawKey := data[kStart+1 : s.i-1]
		key := string(rawKey)
		if bytes.IndexByte(rawKey, '\\') >= 0 {
			if err := json.Unmarshal(data[kStart:s.i], &key); err != nil {
				return nil, fmt.Errorf("%w: %w", ErrDecode, err)
			}
		}
		s.space()
		if !s.consume(':') {
			return nil, s.fail("':'")
		}
		s.space()
		vStart := s.i
		if !s.value() {
			return nil, s.fail("a value")
		}
		if _, ok := want[key]; ok {
			vs := scanner{b: data[:s.i], i: vStart}
			v, err := vs.decode()
			if err == nil && vs.i != s.i {
				err = vs.fail("the end of the value")
			}
			if err != nil {
				return nil, fmt.Errorf("key %q: %w", key, err)
			}
			account[key] = v // a repeated key: the last wins, as in a full decode
		}
		s.space()
		if s.consume(',') {
			continue
		}
		if s.consume('}') {
			return account, s.end()
		}
		return nil, s.fail("',' or '}'")
	}
}

func decodeAll(data []byte) (map[string]any, error) {
	s := scanner{b: data}
	s.space()
	if s.peek() != '{' {
		if bytes.HasPrefix(data[s.i:], []byte("null")) {
			return nil, fmt.Errorf("%w: the account is null, not an object", ErrDecode)
		}
		return nil, fmt.Errorf("%w: %w", ErrDecode, errTopLevel)
	}
	v, err := s.decode()
	if err != nil {
		return nil, err
	}
	return v.(map[string]any), s.end()
}

// scanner finds the extent of JSON values without building them.
type scanner struct {
	b []byte
	i int
}

func (s *scanner) peek() byte {
	if s.i < len(s.b) {
		return s.b[s.i]
	}
	return 0
}

func (s *scanner) consume(c byte) bool {
	if s.peek() == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) space() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// str skips a string starting at s.i (the opening quote).
func (s *scanner) str() bool {
	if !s.consume('"') {
		return false
	}
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return true
		case c == '\\':
			s.i += 2
		case c < 0x20:
			return false
		default:
			s.i++
		}
	}
	return false
}

// value skips one value: a string, a scalar, or a balanced object or array.
func (s *scanner) value() bool {
	switch s.peek() {
	case '"':
		return s.str()
	case '{', '[':
		depth := 0
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case '"':
				if !s.str() {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return true
				}
			}
			s.i++
		}
		return false
	default:
		start := s.i
		for s.i < len(s.b) {
			switch s.b[s.i] {
			case ',', '}', ']', ' ', '\t', '\n', '\r':
				return s.i > start
			}
			s.i++
		}
		return s.i > start
	}
}

func (s *scanner) end() error {
	s.space()
	if s.i != len(s.b) {
		return fmt.Errorf("%w: unexpected data after the JSON object at offset %d", ErrDecode, s.i)
	}
	return nil
}

func (s *scanner) fail(want string) error {
	if s.i >= len(s.b) {
		return fmt.Errorf("%w: unexpected end of the account, want %s", ErrDecode, want)
	}
	return fmt.Errorf("%w: invalid JSON at offset %d, want %s", ErrDecode, s.i, want)
}

// decode builds the value starting at s.i: objects as map[string]any,
// arrays as []any, integers that fit as int64 (ids and millisecond
// timestamps keep every digit), other numbers as float64. It is the hot
// path of every record, hence hand-written: strings without escapes are
// copied straight, escaped ones go through the JSON library.
func (s *scanner) decode() (any, error) {
	switch c := s.peek(); {
	case c == '{':
		s.i++
		obj := make(map[string]any)
		s.space()
		if s.consume('}') {
			return obj, nil
		}
		for {
			s.space()
			key, err := s.decodeString()
			if err != nil {
				return nil, err
			}
			s.space()
			if !s.consume(':') {
				return nil, s.fail("':'")
			}
			s.space()
			v, err := s.decode()
			if err != nil {
				return nil, err
			}
			obj[key] = v
			s.space()
			if s.consume(',') {
				continue
			}
			if s.consume('}') {
				return obj, nil
			}
			return nil, s.fail("',' or '}'")
		}
	case c == '[':
		s.i++
		arr := []any{}
		s.space()
		if s.consume(']') {
			return arr, nil
		}
		for {
			s.space()
			v, err := s.decode()
			if err != nil {
				return nil, err
			}
			arr = append(arr, v)
			s.space()
			if s.consume(',') {
				continue
			}
			if s.consume(']') {
				return arr, nil
			}
			return nil, s.fail("',' or ']'")
		}
	case c == '"':
		return s.decodeString()
	case c == 't' && bytes.HasPrefix(s.b[s.i:], []byte("true")):
		s.i += 4
		return true, nil
	case c == 'f' && bytes.HasPrefix(s.b[s.i:], []byte("false")):
		s.i += 5
		return false, nil
	case c == 'n' && bytes.HasPrefix(s.b[s.i:], []byte("null")):
		s.i += 4
		return nil, nil
	case c == '-' || c >= '0' && c <= '9':
		return s.decodeNumber()
	}
	return nil, s.fail("a value")
}

func (s *scanner) decodeString() (string, error) {
	start := s.i
	if s.peek() != '"' {
		return "", s.fail("a string")
	}
	escaped := false
	for i := s.i + 1; i < len(s.b); i++ {
		switch c := s.b[i]; {
		case c == '"':
			s.i = i + 1
			if !escaped {
				return string(s.b[start+1 : i]), nil
			}
			var out string
			if err := json.Unmarshal(s.b[start:s.i], &out); err != nil {
				return "", fmt.Errorf("%w: string at offset %d: %w", ErrDecode, start, err)
			}
			return out, nil
		case c == '\\':
			escaped = true
			i++
		case c < 0x20:
			s.i = i
			return "", s.fail("a string without control characters")
		}
	}
	s.i = len(s.b)
	return "", s.fail("the end of a string")
}

func (s *scanner) decodeNumber() (any, error) {
	start := s.i
	isInt := true
	for s.i < len(s.b) {
		c := s.b[s.i]
		if c >= '0' && c <= '9' || c == '-' {
			s.i++
			continue
		}
		if c == '.' || c == 'e' || c == 'E' || c == '+' {
			isInt = false
			s.i++
			continue
		}
		break
	}
	text := string(s.b[start:s.i])
	if !validNumber(text) {
		return nil, fmt.Errorf("%w: invalid number %q at offset %d", ErrDecode, text, start)
	}
	if isInt {
		if n, err := strconv.ParseInt(text, 10, 64); err == nil {
			return n, nil
		}
	}
	f, err := strconv.ParseFloat(text, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: number %q at offset %d: %w", ErrDecode, text, start, err)
	}
	return f, nil
}

// validNumber checks the JSON number grammar, which ParseFloat is laxer
// than (it accepts "1_000", "0x1p3", "Inf", leading zeros...).
func validNumber(t string) bool {
	i := 0
	if i < len(t) && t[i] == '-' {
		i++
	}
	switch {
	case i < len(t) && t[i] == '0':
		i++
	case i < len(t) && t[i] >= '1' && t[i] <= '9':
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(t) && t[i] == '.' {
		i++
		if i == len(t) || t[i] < '0' || t[i] > '9' {
			return false
		}
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		i++
		if i < len(t) && (t[i] == '+' || t[i] == '-') {
			i++
		}
		if i == len(t) || t[i] < '0' || t[i] > '9' {
			return false
		}
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			i++
		}
	}
	return i == len(t)
}
