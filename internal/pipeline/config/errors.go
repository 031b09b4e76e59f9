package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// KeyError is a problem with one configuration key. It names the key by its
// dotted path (loader.batch.max_records, extractor.gigya.sites[0].name),
// because that is what a person searches the file and the reference for,
// and, once known, where its value was set: a line of the file, an
// environment variable or a flag.
type KeyError struct {
	Key  string // dotted path; "" for the file as a whole
	File string // the file the value was read from; "" when not from a file
	Line int    // 1-based line in File; 0 when unknown
	From string // the environment variable or flag that set it, e.g. GM_NATS_URLS, -site
	Err  error
}

// Error reads "file:line: key: problem" for a value from the file (the form
// editors and terminals turn into a link), and "key (from GM_X): problem"
// for one from the environment or a flag.
func (e *KeyError) Error() string {
	var b strings.Builder
	if e.File != "" {
		b.WriteString(e.File)
		if e.Line > 0 {
			b.WriteString(":" + strconv.Itoa(e.Line))
		}
		b.WriteString(": ")
	} else if e.Line > 0 {
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		if e.From != "" {
			b.WriteString(" (from " + e.From + ")")
		}
		b.WriteString(": ")
	}
	b.WriteString(e.Err.Error())
	return b.String()
}

// Unwrap returns the problem.
func (e *KeyError) Unwrap() error { return e.Err }

// keyErrors flattens err (a KeyError, or several joined) into its problems;
// an error that is not a KeyError stays as it is.
func keyErrors(err error) []error {
	if err == nil {
		return nil
	}
	j, ok := err.(interface{ Unwrap() []error })
	if !ok {
		return []error{err}
	}
	var out []error
	for _, e := range j.Unwrap() {
		out = append(out, keyErrors(e)...)
	}
	return out
}

// Origins records where each key of a loaded configuration got its value,
// so that a problem found after loading (by validation) points at the line,
// variable or flag to change instead of only naming the key.
type Origins struct {
	file  string
	lines map[string]int    // key -> line of the file
	from  map[string]string // key -> environment variable or flag, which won over the file
}

func newOrigins(file string) *Origins {
	return &Origins{file: file, lines: map[string]int{}, from: map[string]string{}}
}

// Set records that key was set by the environment variable or flag from,
// after the file (NATS_URL, -site).
func (o *Origins) Set(key, from string) {
	if o != nil {
		o.from[key] = from
	}
}

// Locate returns err with every [KeyError] in it completed with where its
// key was set: the key itself, or, for a key the file leaves out inside a
// list element (a site without a secret), that element. A key that was
// never set keeps its default, and its problem no location.
func (o *Origins) Locate(err error) error {
	if o == nil || err == nil {
		return err
	}
	errs := keyErrors(err)
	for i, e := range errs {
		var ke *KeyError
		if !errors.As(e, &ke) || ke.File != "" || ke.From != "" {
			continue
		}
		located := *ke
		if from, ok := o.setBy(ke.Key); ok {
			located.From = from
		} else if line, ok := o.line(ke.Key); ok {
			located.File, located.Line = o.file, line
		}
		errs[i] = &located
	}
	return errors.Join(errs...)
}

// setBy returns the variable or flag that set key, or the list it is an
// element of (NATS_URL sets every nats.urls[i]).
func (o *Origins) setBy(key string) (string, bool) {
	for k := key; k != ""; k = parent(k) {
		if from, ok := o.from[k]; ok {
			return from, true
		}
	}
	return "", false
}

// parent is the key of the section or list that holds key; "" at the top.
func parent(key string) string {
	i := strings.LastIndexAny(key, ".[")
	if i < 0 {
		return ""
	}
	return key[:i]
}

func (o *Origins) line(key string) (int, bool) {
	if line, ok := o.lines[key]; ok {
		return line, true
	}
	// The closest enclosing list element: its line is the one to look at.
	for k := key; ; {
		i := strings.LastIndexByte(k, '.')
		if i < 0 {
			return 0, false
		}
		k = k[:i]
		if strings.HasSuffix(k, "]") {
			line, ok := o.lines[k]
			return line, ok
		}
	}
}

// keyError builds the problem of key at line of file.
func keyError(file string, line int, key, format string, args ...any) *KeyError {
	return &KeyError{Key: key, File: file, Line: line, Err: fmt.Errorf(format, args...)}
}
