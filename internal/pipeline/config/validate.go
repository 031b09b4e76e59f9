package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Problems collects validation errors, each naming the key it is about, so a
// user sees every mistake in one run instead of one per run.
type Problems struct {
	errs []error
}

// Addf records a problem with the key at path.
func (p *Problems) Addf(path, format string, args ...any) {
	p.errs = append(p.errs, fmt.Errorf("%s: %s", path, fmt.Sprintf(format, args...)))
}

// Check records msg for path when ok is false.
func (p *Problems) Check(ok bool, path, msg string) {
	if !ok {
		p.Addf(path, "%s", msg)
	}
}

// Merge records every problem of err (as returned by Err) under prefix; an
// empty prefix keeps the paths as they are.
func (p *Problems) Merge(prefix string, err error) {
	if err == nil {
		return
	}
	if prefix == "" {
		p.errs = append(p.errs, err)
		return
	}
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		for _, e := range joined.Unwrap() {
			p.errs = append(p.errs, fmt.Errorf("%s.%w", prefix, e))
		}
		return
	}
	p.errs = append(p.errs, fmt.Errorf("%s.%w", prefix, err))
}

// Err returns nil or every recorded problem joined.
func (p *Problems) Err() error { return errors.Join(p.errs...) }

// SubjectToken reports whether s can be used as one token of a NATS subject
// (a site or target name): no dots, wildcards or whitespace.
func SubjectToken(s string) bool {
	return s != "" && !strings.ContainsAny(s, ".*> \t\r\n")
}

// Names lists the names of a registry (sinks, sources, validators), sorted
// and comma-separated, for usage texts and "known: ..." messages.
func Names[M ~map[string]V, V any](m M) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), ", ")
}
