package config

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
)

// Problems collects validation errors, each a [KeyError] naming the key it
// is about, so a user sees every mistake in one run instead of one per run.
type Problems struct {
	errs []error
}

// Addf records a problem with the key at path.
func (p *Problems) Addf(path, format string, args ...any) {
	p.errs = append(p.errs, &KeyError{Key: path, Err: fmt.Errorf(format, args...)})
}

// Check records msg for path when ok is false.
func (p *Problems) Check(ok bool, path, msg string) {
	if !ok {
		p.Addf(path, "%s", msg)
	}
}

// Merge records every problem of err (as returned by Err) under prefix, the
// path of the section it was found in; an empty prefix keeps the paths as
// they are. A problem that names no key is recorded as one of prefix.
func (p *Problems) Merge(prefix string, err error) {
	for _, e := range keyErrors(err) {
		var ke *KeyError
		switch {
		case prefix == "":
			p.errs = append(p.errs, e)
		case errors.As(e, &ke):
			prefixed := *ke
			prefixed.Key = joinKey(prefix, ke.Key)
			p.errs = append(p.errs, &prefixed)
		default:
			p.errs = append(p.errs, &KeyError{Key: prefix, Err: e})
		}
	}
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

// joinKey is the path of key inside the section at prefix.
func joinKey(prefix, key string) string {
	switch {
	case prefix == "":
		return key
	case key == "":
		return prefix
	case strings.HasPrefix(key, "["):
		return prefix + key
	}
	return prefix + "." + key
}
