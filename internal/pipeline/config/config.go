// Package config loads the YAML configuration shared by the three binaries.
//
// The order is fixed: the caller starts from a struct holding every default,
// [Load] overlays the YAML file (after expanding ${VAR} and ${VAR:-default} in
// its string values), then environment variables named after each key's path
// (see [EnvName]), and finally the caller validates. Unknown keys are errors,
// so a typo never silently falls back to a default.
//
// Every error is about a key and says so: a [KeyError] names the key's
// dotted path, the file and line (or the variable, or the flag) that set
// it, and what to write instead, in the words of the file rather than of
// the Go types it is decoded into. [Read] returns the [Origins] that let the
// caller's validation errors point at the same places.
package config

import (
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts the name of every environment variable that overrides a key.
const EnvPrefix = "GM_"

// Load overlays the YAML file at path (if path is not empty) and then the
// environment onto cfg, which must be a pointer to a struct already holding
// the defaults. getenv is usually os.Getenv; tests pass their own.
func Load(path string, cfg any, getenv func(string) string) error {
	_, err := Read(path, cfg, getenv)
	return err
}

// Read is [Load], and also returns where each key got its value, for
// [Origins.Locate] to point the problems validation finds at the line,
// variable or flag to change. Every error, of the file or of a variable, is
// a [KeyError] (several are joined): all of them are reported at once.
func Read(path string, cfg any, getenv func(string) string) (*Origins, error) {
	o := newOrigins(path)
	var fileErr error
	if path != "" {
		data, err := os.ReadFile(path)
		if err != nil {
			return o, fmt.Errorf("read config: %w", err)
		}
		fileErr = decodeFile(path, data, cfg, getenv, o)
	}
	// The variables are applied even after a bad file, so that their
	// problems are reported in the same run.
	return o, errors.Join(fileErr, applyEnv(cfg, getenv, o))
}

// Decode overlays YAML data onto cfg, expanding ${VAR} and ${VAR:-default}
// references in string values with getenv. name is the file name errors
// start with.
func Decode(name string, data []byte, cfg any, getenv func(string) string) error {
	return decodeFile(name, data, cfg, getenv, nil)
}

func decodeFile(name string, data []byte, cfg any, getenv func(string) string, o *Origins) error {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return syntaxError(name, data, err)
	}
	root := resolve(&doc)
	if root == nil {
		return nil // empty file: defaults only
	}
	d := &decoder{file: name, origins: o}
	expandNode(root, "", getenv, d)
	if isNull(root) {
		return errors.Join(d.errs...) // a file of comments only
	}
	d.decode("", root, reflect.ValueOf(cfg).Elem())
	return errors.Join(d.errs...)
}

// DecodeNode decodes a free-form section (sink options) strictly into v,
// which holds the defaults; path is the section's key, which the errors
// name the keys under. A zero node leaves v unchanged.
func DecodeNode(path string, n *yaml.Node, v any) error {
	return DecodeNodeFrom("", path, n, v)
}

// DecodeNodeFrom is [DecodeNode] for a node read from file, which its errors
// name with the line.
func DecodeNodeFrom(file, path string, n *yaml.Node, v any) error {
	if n == nil || n.Kind == 0 {
		return nil
	}
	d := &decoder{file: file}
	d.decode(path, n, reflect.ValueOf(v).Elem())
	return errors.Join(d.errs...)
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:-([^}]*))?\}`)

// expandNode fills the ${VAR} references of every scalar under n, the value
// of key. A reference to an unset variable is recorded in d and leaves a
// null, so the key keeps its default instead of causing a second error.
func expandNode(n *yaml.Node, key string, getenv func(string) string, d *decoder) {
	switch n.Kind {
	case yaml.ScalarNode:
		if !strings.Contains(n.Value, "${") {
			return
		}
		var missing []string
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
			m := envRef.FindStringSubmatch(ref)
			if v := getenv(m[1]); v != "" {
				return v
			}
			if m[2] != "" {
				return m[3]
			}
			missing = append(missing, m[1])
			return ""
		})
		if len(missing) > 0 {
			d.fail(n, key, "environment variable %s is not set (use ${%s:-default} for an optional value)", missing[0], missing[0])
			n.Tag, n.Value, n.Style = "!!null", "", 0
			return
		}
		// A plain (unquoted) reference resolves like the literal would have
		// (${PORT} can fill an int); a quoted one stays a string.
		if n.Style == 0 {
			n.Tag = ""
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			expandNode(k, key, getenv, d)
			expandNode(v, joinKey(key, k.Value), getenv, d)
		}
	case yaml.SequenceNode:
		for i, c := range n.Content {
			expandNode(c, key+"["+strconv.Itoa(i)+"]", getenv, d)
		}
	}
}

// EnvName is the environment variable that overrides the key at path, for
// example "nats.urls" -> "GM_NATS_URLS".
func EnvName(path string) string {
	return EnvPrefix + strings.ToUpper(strings.NewReplacer(".", "_", "-", "_").Replace(path))
}

// ApplyEnv sets every scalar key of cfg whose environment variable is set.
// Lists are comma-separated. Each error is a [KeyError] naming the key and
// the variable.
func ApplyEnv(cfg any, getenv func(string) string) error {
	return applyEnv(cfg, getenv, nil)
}

func applyEnv(cfg any, getenv func(string) string, o *Origins) error {
	var errs []error
	walk(reflect.ValueOf(cfg).Elem(), "", func(path string, v reflect.Value, _ reflect.StructField) {
		if strings.Contains(path, "[]") {
			return // list elements are set in the file, each differently
		}
		raw := getenv(EnvName(path))
		if raw == "" {
			return
		}
		if err := setScalar(v, raw); err != nil {
			errs = append(errs, &KeyError{Key: path, From: EnvName(path), Err: err})
			return
		}
		o.Set(path, EnvName(path))
	})
	return errors.Join(errs...)
}

// Key describes one configuration key, for documentation and its tests.
type Key struct {
	Path    string // dotted YAML path
	Env     string // environment variable that overrides it; "" for list elements
	Default string // the default, formatted as it would be written in YAML
	Doc     string // from the field's `doc` struct tag
}

// Describe lists every scalar key of cfg (a pointer to a struct holding the
// defaults) in declaration order.
func Describe(cfg any) []Key {
	var keys []Key
	walk(reflect.ValueOf(cfg).Elem(), "", func(path string, v reflect.Value, f reflect.StructField) {
		k := Key{Path: path, Env: EnvName(path), Default: format(v), Doc: f.Tag.Get("doc")}
		if strings.Contains(path, "[]") {
			k.Env = "" // not overridable: each element is its own
		}
		if d, ok := f.Tag.Lookup("default"); ok {
			k.Default = d // applied by the code that reads the element
		}
		keys = append(keys, k)
	})
	return keys
}

var durationType = reflect.TypeFor[time.Duration]()

// walk visits the scalar and list-of-scalar leaves of a struct. Fields
// without a yaml name, and maps (free-form sink options) are skipped.
func walk(v reflect.Value, prefix string, visit func(string, reflect.Value, reflect.StructField)) {
	t := v.Type()
	for i := range t.NumField() {
		f := t.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if !f.IsExported() || name == "-" {
			continue
		}
		if name == "" {
			if opts == "inline" && f.Type.Kind() == reflect.Struct {
				walk(v.Field(i), prefix, visit)
			}
			continue
		}
		path := name
		if prefix != "" {
			path = prefix + "." + name
		}
		fv := v.Field(i)
		switch {
		case fv.Kind() == reflect.Struct:
			walk(fv, path, visit)
		case fv.Kind() == reflect.Slice && fv.Type().Elem().Kind() == reflect.Struct:
			// A list of sections (extractor.gigya.sites): its keys are
			// described on a zero element, as path[].key.
			walk(reflect.New(fv.Type().Elem()).Elem(), path+"[]", visit)
		case isScalar(fv.Type()) || (fv.Kind() == reflect.Slice && isScalar(fv.Type().Elem())):
			visit(path, fv, f)
		}
	}
}

func isScalar(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.String, reflect.Bool, reflect.Int, reflect.Int32, reflect.Int64, reflect.Uint, reflect.Uint64, reflect.Float64:
		return true
	}
	return false
}

// setScalar parses raw, a value of the environment, into v. Its errors say
// what to write, as the file's do.
func setScalar(v reflect.Value, raw string) error {
	if v.Kind() == reflect.Slice {
		parts := strings.Split(raw, ",")
		s := reflect.MakeSlice(v.Type(), 0, len(parts))
		for _, p := range parts {
			e := reflect.New(v.Type().Elem()).Elem()
			if err := setScalar(e, strings.TrimSpace(p)); err != nil {
				return err
			}
			s = reflect.Append(s, e)
		}
		v.Set(s)
		return nil
	}
	if v.Type() == durationType {
		d, err := parseDuration(raw, false)
		if err != nil {
			return err
		}
		v.SetInt(int64(d))
		return nil
	}
	var err error
	switch v.Kind() {
	case reflect.String:
		v.SetString(raw)
	case reflect.Bool:
		var b bool
		if b, err = strconv.ParseBool(raw); err == nil {
			v.SetBool(b)
		}
	case reflect.Int, reflect.Int32, reflect.Int64:
		var n int64
		if n, err = strconv.ParseInt(raw, 10, v.Type().Bits()); err == nil {
			v.SetInt(n)
		}
	case reflect.Uint, reflect.Uint64:
		var n uint64
		if n, err = strconv.ParseUint(raw, 10, v.Type().Bits()); err == nil {
			v.SetUint(n)
		}
	case reflect.Float64:
		var n float64
		if n, err = strconv.ParseFloat(raw, 64); err == nil {
			v.SetFloat(n)
		}
	}
	if err != nil {
		return fmt.Errorf("want %s, got %q", want(v.Type()), raw)
	}
	return nil
}

func format(v reflect.Value) string {
	if v.Kind() == reflect.Slice {
		parts := make([]string, v.Len())
		for i := range parts {
			parts[i] = format(v.Index(i))
		}
		return "[" + strings.Join(parts, ", ") + "]"
	}
	if v.Type() == durationType {
		return formatDuration(time.Duration(v.Int()))
	}
	if v.Kind() == reflect.String {
		return strconv.Quote(v.String())
	}
	return fmt.Sprint(v.Interface())
}

// formatDuration writes d as a person would: 168h, 2m, 1m30s, 250ms.
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
