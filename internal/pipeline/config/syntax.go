package config

import (
	"bytes"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// yamlLine is the position yaml.v3 puts in front of a syntax error.
var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// maxSyntaxSearch bounds the files whose syntax errors are located by
// re-parsing (see syntaxError); a config file is a few hundred lines.
const maxSyntaxSearch = 5000

// syntaxError reports a YAML syntax error of file with the line to fix and
// the key after which the file stops making sense.
//
// yaml.v3's own line is not that line: for an error found by the parser (an
// indentation mistake, an unclosed bracket) it gives the 0-based line of the
// block the parser was in, one line early and often several lines above the
// mistake; only the scanner's errors carry the right line. The parser's
// position of the problem is not exposed, so it is found by parsing ever
// longer prefixes of the file, line by line: the first prefix that fails
// with the very same error ends on the offending line (an unclosed bracket
// or quote fails from the line that opens it, which is the one to fix).
func syntaxError(file string, data []byte, err error) error {
	msg := err.Error()
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	msg = strings.TrimPrefix(msg, "yaml: ")
	lines := bytes.SplitAfter(data, []byte("\n"))
	if len(lines) <= maxSyntaxSearch {
		var n yaml.Node
		for k := 1; k <= len(lines); k++ {
			if e := yaml.Unmarshal(bytes.Join(lines[:k], nil), &n); e != nil && e.Error() == err.Error() {
				line = k
				break
			}
		}
	}
	key, after := keyAt(lines, line)
	where := ""
	if after != "" {
		where = " after " + after
	}
	return &KeyError{File: file, Line: line, Key: key, Err: fmt.Errorf("YAML syntax error%s: %s%s", where, msg, syntaxHint(msg, lines, line))}
}

// segment is one step of a key's path, with the column it is written at.
type segment struct {
	name string // a key, or [i] for a list element
	col  int
	line int
}

// keyLine matches a line that starts with a key: its indentation, an
// optional list dash, and the key.
var keyLine = regexp.MustCompile(`^( *)(- +)?([A-Za-z0-9_][A-Za-z0-9_.-]*) *:( |$)`)

// keyAt names the key written on line (key), or, when the line holds none,
// the last key or list element written before it (after). The longest
// prefix of the file above the line that parses gives the path of that
// last key; the columns of its parents place a key on the line among them.
func keyAt(lines [][]byte, line int) (key, after string) {
	var chain []segment
	for k := min(line-1, len(lines)); k > 0; k-- {
		var doc yaml.Node
		if yaml.Unmarshal(bytes.Join(lines[:k], nil), &doc) == nil {
			chain = lastKey(resolve(&doc), nil, nil)
			break
		}
	}
	if line >= 1 && line <= len(lines) {
		if m := keyLine.FindStringSubmatch(strings.TrimRight(string(lines[line-1]), "\r\n")); m != nil {
			col := len(m[1]) + len(m[2]) + 1
			for len(chain) > 0 && chain[len(chain)-1].col >= col {
				chain = chain[:len(chain)-1]
			}
			return pathOf(append(chain, segment{name: m[3]})), ""
		}
	}
	return "", pathOf(chain)
}

func pathOf(chain []segment) string {
	path := ""
	for _, s := range chain {
		path = joinKey(path, s.name)
	}
	return path
}

// lastKey returns the path to the key or list element of n written last
// (on the highest line), best being the latest found so far.
func lastKey(n *yaml.Node, chain, best []segment) []segment {
	if n == nil || n.Style&yaml.FlowStyle != 0 {
		return best // [a, b] and {k: v} are one value, written on the key's line
	}
	later := func(c []segment) bool { return len(best) == 0 || c[len(c)-1].line >= best[len(best)-1].line }
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			c := append(slices.Clip(chain), segment{name: k.Value, col: k.Column, line: k.Line})
			if later(c) {
				best = c
			}
			best = lastKey(n.Content[i+1], c, best)
		}
	case yaml.SequenceNode:
		for i, e := range n.Content {
			c := append(slices.Clip(chain), segment{name: "[" + strconv.Itoa(i) + "]", col: e.Column, line: e.Line})
			if later(c) {
				best = c
			}
			best = lastKey(e, c, best)
		}
	}
	return best
}

// syntaxHint adds what usually causes an error that libyaml words for its
// own authors.
func syntaxHint(msg string, lines [][]byte, line int) string {
	text := ""
	if line >= 1 && line <= len(lines) {
		text = string(lines[line-1])
	}
	switch {
	case strings.Contains(text, "\t") && strings.Contains(msg, "cannot start any token"):
		return " (YAML does not allow tabs for indentation: indent with spaces)"
	case strings.Contains(msg, "did not find expected key"):
		return " (is this line indented like the other keys of its section?)"
	case strings.Contains(msg, "mapping values are not allowed"):
		return " (a value holds a ': ': quote the value, or check the indentation of this line)"
	case strings.Contains(msg, "did not find expected ',' or"):
		return " (is a [ or { opened here left unclosed?)"
	case strings.Contains(msg, "found unexpected end of stream"):
		return " (is a quote opened here left unclosed?)"
	}
	return ""
}
