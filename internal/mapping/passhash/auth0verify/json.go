package auth0verify

import (
	"bytes"
	"encoding/json" // stdlib on purpose: a token-level walk finds duplicate keys, and the verifier shares no code with the converter
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
)

// members decodes one JSON object into its raw members. Duplicate keys
// (which a map decoder would silently collapse), non-objects and trailing
// data are errors.
func members(data []byte, path string) (map[string]json.RawMessage, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return nil, malformed("%s: %v", path, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, malformed("%s must be an object", path)
	}
	m := make(map[string]json.RawMessage)
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, malformed("%s: %v", path, err)
		}
		key, _ := tok.(string) // inside an object the decoder only yields string keys here
		if _, dup := m[key]; dup {
			return nil, malformed("%s: duplicate key %q", path, key)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return nil, malformed("%s.%s: %v", path, key, err)
		}
		m[key] = raw
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, malformed("%s: %v", path, err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, malformed("%s: data after the object", path)
	}
	return m, nil
}

// object is members with a check that every key is allowed.
func object(data []byte, path string, allowed ...string) (map[string]json.RawMessage, error) {
	m, err := members(data, path)
	if err != nil {
		return nil, err
	}
	for k := range m {
		if !slices.Contains(allowed, k) {
			return nil, malformed("%s: unknown key %q", path, k)
		}
	}
	return m, nil
}

// str decodes a JSON string (not null, not another type).
func str(raw json.RawMessage, path string) (string, error) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", malformed("%s must be a string", path)
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", malformed("%s: %v", path, err)
	}
	return s, nil
}

// enum decodes a string that must be one of values.
func enum(raw json.RawMessage, path string, values ...string) (string, error) {
	s, err := str(raw, path)
	if err != nil {
		return "", err
	}
	if !slices.Contains(values, s) {
		return "", malformed("%s: %q is not one of %q", path, s, values)
	}
	return s, nil
}

// integerLiteral is JSON's integer syntax: no fraction, no exponent.
var integerLiteral = regexp.MustCompile(`^-?(0|[1-9][0-9]*)$`)

// integer decodes a JSON integer; 16.0 and 1.6e1 are not integers here.
func integer(raw json.RawMessage, path string) (int, error) {
	if !integerLiteral.Match(raw) {
		return 0, malformed("%s must be an integer", path)
	}
	n, err := strconv.Atoi(string(raw))
	if err != nil {
		return 0, malformed("%s: %v", path, err)
	}
	return n, nil
}

func malformed(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrMalformed, fmt.Sprintf(format, args...))
}
