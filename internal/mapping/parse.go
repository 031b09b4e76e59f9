package mapping

import (
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode"

	"github.com/gigya-migrate/gigya-migrate/internal/mapping/validate"
	"go.yaml.in/yaml/v3"
)

// Limits on a mapping document. They keep a hostile or broken config from
// costing memory or CPU at start-up and in every record.
const (
	// FormatVersion is the only accepted value of the `version:` key.
	FormatVersion = 1
	// maxDocumentSize bounds the YAML document given to Parse.
	maxDocumentSize = 1 << 20
	// MaxExprLen bounds the source of one expression (field or filter).
	MaxExprLen = 4 << 10
	// MaxExprNodes is the expr AST node budget of one expression
	// (expr.MaxNodes; expr's own default is 10,000).
	MaxExprNodes = 2000
	// maxNameLen bounds target and filter names (they become a NATS subject
	// token and a metric label value).
	maxNameLen = 64
	// maxProblems bounds how many problems one Parse reports.
	maxProblems = 50
)

// Field is one output field as written in the mapping: an output path and the
// expression that computes it.
type Field struct {
	// Path is the output path; dots separate nested object keys
	// ("app_metadata.gigya_uid").
	Path string
	// Expr is the expr-lang source, exactly as the YAML scalar decoded.
	Expr string
	// Line is the 1-based YAML line of the field's key.
	Line int
	// Required makes a missing or empty value a failure of the record (the
	// same as listing Path under the top-level `required:`).
	Required bool
	// Default is an expression evaluated when Expr yields nothing (nil, or
	// an empty value under omit_empty); "" when there is none.
	Default string
	// OnError is what a runtime error of Expr does: "fail" (the record is
	// dead-lettered, the default) or "omit" (the field is left out and the
	// record goes on, noted in the evaluation's Notes).
	OnError string
	// Flag is an output path set to true when OnError "omit" dropped the
	// field, e.g. app_metadata.password_reset_required.
	Flag string
	// FlagValue replaces true as the value set at Flag (flag_value: a YAML
	// string, boolean or integer), for a target whose field there must be
	// text, such as LoginRadius' CustomFields. nil: true.
	FlagValue any
}

// On-error policies of a field.
const (
	OnErrorFail = "fail"
	OnErrorOmit = "omit"
)

// Filter is one skip rule: a record for which When is true is skipped and
// counted under Name.
type Filter struct {
	// Name identifies the filter in counters and logs; [a-z0-9_-]+.
	Name string
	// When is a boolean expr-lang expression over the account.
	When string
	// Line is the 1-based YAML line of the filter item.
	Line int
}

// document is the validated structure of a mapping file, before any
// expression is compiled.
type document struct {
	target    string
	fields    []Field
	filters   []Filter
	required  []Field // Path and Line only
	omitEmpty bool
	explode   string   // top-level array key, "" when off
	validate  string   // validator name, "" = the target's own, "none" = off
	repairs   []string // repair names, sorted
}

// problems collects ConfigErrors so one Parse reports everything it can find
// instead of one problem per edit-and-retry cycle.
type problems struct {
	name string
	errs []error
}

func (p *problems) add(section, key string, line int, format string, args ...any) {
	p.addErr(&ConfigError{Section: section, Key: key, Line: line, Err: fmt.Errorf(format, args...)})
}

func (p *problems) addErr(e *ConfigError) {
	if len(p.errs) == maxProblems {
		p.errs = append(p.errs, &ConfigError{Name: p.name, Err: errors.New("too many problems, stopping")})
	}
	if len(p.errs) > maxProblems {
		return
	}
	e.Name = p.name
	p.errs = append(p.errs, e)
}

// err joins the problems in document order (by line; those without a line,
// like a missing key, last).
func (p *problems) err() error {
	slices.SortStableFunc(p.errs, func(a, b error) int {
		la, lb := lineOf(a), lineOf(b)
		switch {
		case la == lb:
			return 0
		case la == 0:
			return 1
		case lb == 0:
			return -1
		}
		return la - lb
	})
	return errors.Join(p.errs...)
}

func lineOf(err error) int {
	if ce, ok := err.(*ConfigError); ok {
		return ce.Line
	}
	return 0
}

// parseDocument decodes and validates the YAML structure of a mapping:
// strict keys, ordered fields, path shapes and conflicts, names. Problems go
// to p; the returned document holds every item that is valid by itself (so
// the caller can still compile those and report all problems at once), or
// is nil when the YAML cannot be read as a mapping at all.
func parseDocument(p *problems, data []byte) *document {
	if len(data) > maxDocumentSize {
		p.add("", "", 0, "document is %d bytes, the limit is %d", len(data), maxDocumentSize)
		return nil
	}
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			err = errors.New("document is empty")
		}
		p.addErr(&ConfigError{Err: err})
		return nil
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		p.add("", "", extra.Line, "a mapping file holds exactly one YAML document")
		return nil
	}
	top := &root
	if top.Kind == yaml.DocumentNode && len(top.Content) == 1 {
		top = top.Content[0]
	}
	if top.Kind != yaml.MappingNode {
		p.add("", "", top.Line, "the document must be a mapping with version, target and fields")
		return nil
	}

	doc := &document{omitEmpty: true}
	seen := map[string]int{}
	for i := 0; i+1 < len(top.Content); i += 2 {
		k, v := top.Content[i], resolve(top.Content[i+1])
		if k.Kind != yaml.ScalarNode {
			p.add("", "", k.Line, "keys must be plain strings")
			continue
		}
		if first, dup := seen[k.Value]; dup {
			p.add(k.Value, "", k.Line, "duplicate key (first on line %d)", first)
			continue
		}
		seen[k.Value] = k.Line
		switch k.Value {
		case "version":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || v.Value != fmt.Sprint(FormatVersion) {
				p.add("version", "", v.Line, "unsupported mapping format version %q, want %d", v.Value, FormatVersion)
			}
		case "target":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" || !validName(v.Value) {
				p.add("target", "", v.Line, "target %q must match [a-z0-9_-]{1,%d} (it becomes a NATS subject token)", v.Value, maxNameLen)
				continue
			}
			doc.target = v.Value
		case "fields":
			doc.fields = parseFields(p, v)
		case "filters":
			doc.filters = parseFilters(p, v)
		case "required":
			doc.required = parseRequired(p, v)
		case "omit_empty":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!bool" {
				p.add("omit_empty", "", v.Line, "must be true or false")
				continue
			}
			doc.omitEmpty = v.Value == "true"
		case "explode":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" || !validIdent(v.Value) {
				p.add("explode", "", v.Line, "must name a top-level array of the account, e.g. identities")
				continue
			}
			doc.explode = v.Value
		case "validate":
			if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!str" || !validName(v.Value) {
				p.add("validate", "", v.Line, "must be a validator name (e.g. auth0, loginradius) or none")
				continue
			}
			doc.validate = v.Value
		case "repair":
			doc.repairs = parseRepairs(p, v)
		default:
			p.add("", "", k.Line, "unknown key %q (want version, target, fields, filters, required, omit_empty, explode, validate, repair)", k.Value)
		}
	}
	for _, key := range []string{"version", "target", "fields"} {
		if _, ok := seen[key]; !ok {
			p.add(key, "", 0, "missing")
		}
	}
	if _, ok := seen["fields"]; ok && len(doc.fields) == 0 && len(p.errs) == 0 {
		p.add("fields", "", seen["fields"], "no fields: a mapping must produce something")
	}
	checkRequired(p, doc)
	return doc
}

// resolve follows a YAML alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// parseFields reads the ordered `fields:` mapping and checks every path: no
// duplicates, no empty segments, and no path that is both a value and a
// parent object (that output could not be built).
func parseFields(p *problems, v *yaml.Node) []Field {
	if v.Kind != yaml.MappingNode {
		p.add("fields", "", v.Line, "must be a mapping of output path to expression")
		return nil
	}
	var fields []Field
	leaves := map[string]int{}  // path -> line
	parents := map[string]int{} // proper prefix -> line of the first field under it
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], resolve(v.Content[i+1])
		if k.Kind != yaml.ScalarNode || k.ShortTag() == "!!merge" {
			p.add("field", "", k.Line, "output paths must be plain strings (no merge keys or complex keys)")
			continue
		}
		path, line := k.Value, k.Line
		if err := checkPath(path); err != nil {
			p.add("field", path, line, "%v", err)
			continue
		}
		if first, dup := leaves[path]; dup {
			p.add("field", path, line, "duplicate field (first on line %d)", first)
			continue
		}
		if pl, ok := parents[path]; ok {
			p.add("field", path, line, "conflicts with the field on line %d: %q cannot be both a value and an object", pl, path)
			continue
		}
		segs := strings.Split(path, ".")
		conflict := false
		for j := 1; j < len(segs); j++ {
			prefix := strings.Join(segs[:j], ".")
			if ll, ok := leaves[prefix]; ok {
				p.add("field", path, line, "conflicts with field %q (line %d): %q cannot be both a value and an object", prefix, ll, prefix)
				conflict = true
				break
			}
		}
		if conflict {
			continue
		}
		f := Field{Path: path, Line: line, OnError: OnErrorFail}
		if val.Kind == yaml.MappingNode {
			if !parseFieldSpec(p, &f, val) {
				continue
			}
		} else {
			src, ok := scalarExpr(p, "field", path, val)
			if !ok {
				continue
			}
			f.Expr = src
		}
		leaves[path] = line
		for j := 1; j < len(segs); j++ {
			prefix := strings.Join(segs[:j], ".")
			if _, ok := parents[prefix]; !ok {
				parents[prefix] = line
			}
		}
		fields = append(fields, f)
	}
	for _, f := range fields {
		if f.Flag == "" {
			continue
		}
		if _, clash := leaves[f.Flag]; clash {
			p.add("field", f.Path, f.Line, "flag %q is also a field", f.Flag)
		}
		if _, clash := parents[f.Flag]; clash {
			p.add("field", f.Path, f.Line, "flag %q is an object of other fields", f.Flag)
		}
	}
	return fields
}

// parseFieldSpec reads the long form of a field:
//
//	path: {expr: ..., required: true, default: ..., on_error: omit, flag: path, flag_value: "true"}
func parseFieldSpec(p *problems, f *Field, v *yaml.Node) bool {
	ok := true
	seen := map[string]bool{}
	for i := 0; i+1 < len(v.Content); i += 2 {
		k, val := v.Content[i], resolve(v.Content[i+1])
		if seen[k.Value] {
			p.add("field", f.Path, k.Line, "duplicate key %q", k.Value)
			ok = false
			continue
		}
		seen[k.Value] = true
		switch k.Value {
		case "expr":
			src, good := scalarExpr(p, "field", f.Path, val)
			f.Expr, ok = src, ok && good
		case "default":
			src, good := scalarExpr(p, "field", f.Path+" default", val)
			f.Default, ok = src, ok && good
		case "required":
			if val.Kind != yaml.ScalarNode || val.ShortTag() != "!!bool" {
				p.add("field", f.Path, val.Line, "required must be true or false")
				ok = false
				continue
			}
			f.Required = val.Value == "true"
		case "on_error":
			if val.Value != OnErrorFail && val.Value != OnErrorOmit {
				p.add("field", f.Path, val.Line, "on_error must be %s or %s", OnErrorFail, OnErrorOmit)
				ok = false
				continue
			}
			f.OnError = val.Value
		case "flag":
			if err := checkPath(val.Value); val.Kind != yaml.ScalarNode || err != nil {
				p.add("field", f.Path, val.Line, "flag must be an output path")
				ok = false
				continue
			}
			f.Flag = val.Value
		case "flag_value":
			if val.Kind != yaml.ScalarNode {
				p.add("field", f.Path, val.Line, "flag_value must be a string, a boolean or an integer")
				ok = false
				continue
			}
			switch val.ShortTag() {
			case "!!str":
				f.FlagValue = val.Value
			case "!!bool":
				f.FlagValue = val.Value == "true"
			case "!!int":
				n, err := strconv.ParseInt(val.Value, 0, 64)
				if err != nil {
					p.add("field", f.Path, val.Line, "flag_value: %v", err)
					ok = false
					continue
				}
				f.FlagValue = n
			default:
				p.add("field", f.Path, val.Line, "flag_value must be a string, a boolean or an integer")
				ok = false
			}
		default:
			p.add("field", f.Path, k.Line, "unknown key %q (want expr, required, default, on_error, flag, flag_value)", k.Value)
			ok = false
		}
	}
	if !seen["expr"] {
		p.add("field", f.Path, v.Line, "expr is missing")
		return false
	}
	if f.FlagValue != nil && f.Flag == "" {
		p.add("field", f.Path, v.Line, "flag_value needs a flag (the path it is set at)")
		ok = false
	}
	if f.Flag != "" && f.OnError != OnErrorOmit {
		p.add("field", f.Path, v.Line, "flag needs on_error: omit (it marks the records whose field was dropped)")
		ok = false
	}
	return ok
}

// parseRepairs reads `repair:`, a list of repair names.
func parseRepairs(p *problems, v *yaml.Node) []string {
	if v.Kind != yaml.SequenceNode {
		p.add("repair", "", v.Line, "must be a list, e.g. [sanitize_metadata_keys]")
		return nil
	}
	known := validate.RepairNames()
	var out []string
	for _, item := range v.Content {
		if item.Kind != yaml.ScalarNode || !slices.Contains(known, item.Value) {
			p.add("repair", item.Value, item.Line, "unknown repair (known: %s)", strings.Join(known, ", "))
			continue
		}
		if !slices.Contains(out, item.Value) {
			out = append(out, item.Value)
		}
	}
	slices.Sort(out)
	return out
}

// validIdent reports whether s is a plain identifier (an account key an
// expression can name directly).
func validIdent(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		if !(r == '_' || unicode.IsLetter(r) || i > 0 && unicode.IsDigit(r)) {
			return false
		}
	}
	return true
}

// scalarExpr returns the expression source of a YAML value, which must be a
// non-empty scalar. Numbers and booleans are accepted as the constant
// expressions they spell; timestamps are refused because `2019-01-01` would
// silently compile as subtraction.
func scalarExpr(p *problems, section, key string, v *yaml.Node) (string, bool) {
	if v.Kind != yaml.ScalarNode {
		p.add(section, key, v.Line, "the expression must be a YAML string, not a %s", kindName(v.Kind))
		return "", false
	}
	switch v.ShortTag() {
	case "!!str", "!!int", "!!float", "!!bool":
	case "!!null":
		p.add(section, key, v.Line, "the expression is empty")
		return "", false
	default:
		p.add(section, key, v.Line, "the expression has YAML type %s; quote it", v.ShortTag())
		return "", false
	}
	if strings.TrimSpace(v.Value) == "" {
		p.add(section, key, v.Line, "the expression is empty")
		return "", false
	}
	if len(v.Value) > MaxExprLen {
		p.add(section, key, v.Line, "the expression is %d bytes, the limit is %d", len(v.Value), MaxExprLen)
		return "", false
	}
	return v.Value, true
}

func kindName(k yaml.Kind) string {
	switch k {
	case yaml.MappingNode:
		return "mapping"
	case yaml.SequenceNode:
		return "sequence"
	case yaml.DocumentNode:
		return "document"
	case yaml.AliasNode:
		return "alias"
	default:
		return "scalar"
	}
}

// parseFilters reads the ordered `filters:` list of {name, when} items.
func parseFilters(p *problems, v *yaml.Node) []Filter {
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
		return nil // "filters:" with nothing under it
	}
	if v.Kind != yaml.SequenceNode {
		p.add("filters", "", v.Line, "must be a list of {name, when} items")
		return nil
	}
	var filters []Filter
	names := map[string]int{}
	for idx, item := range v.Content {
		item = resolve(item)
		label := fmt.Sprintf("#%d", idx+1)
		if item.Kind != yaml.MappingNode {
			p.add("filter", label, item.Line, "must be a mapping with name and when")
			continue
		}
		var f Filter
		f.Line = item.Line
		var whenNode *yaml.Node
		seen := map[string]bool{}
		// Name the item by its name in every message, when it has one.
		for i := 0; i+1 < len(item.Content); i += 2 {
			if k, val := item.Content[i], resolve(item.Content[i+1]); k.Value == "name" && val.Kind == yaml.ScalarNode && validName(val.Value) {
				label = val.Value
			}
		}
		for i := 0; i+1 < len(item.Content); i += 2 {
			k, val := item.Content[i], resolve(item.Content[i+1])
			if seen[k.Value] {
				p.add("filter", label, k.Line, "duplicate key %q", k.Value)
				continue
			}
			seen[k.Value] = true
			switch k.Value {
			case "name":
				if val.Kind != yaml.ScalarNode || val.ShortTag() != "!!str" || !validName(val.Value) {
					p.add("filter", label, val.Line, "name %q must match [a-z0-9_-]{1,%d}", val.Value, maxNameLen)
					continue
				}
				f.Name = val.Value
			case "when":
				whenNode = val
			default:
				p.add("filter", label, k.Line, "unknown key %q (want name, when)", k.Value)
			}
		}
		if f.Name != "" {
			if first, dup := names[f.Name]; dup {
				p.add("filter", label, f.Line, "duplicate filter name (first on line %d)", first)
				continue
			}
			names[f.Name] = f.Line
		} else if !seen["name"] {
			p.add("filter", label, f.Line, "name is missing")
		}
		if whenNode == nil {
			p.add("filter", label, f.Line, "when is missing")
			continue
		}
		src, ok := scalarExpr(p, "filter", label, whenNode)
		if !ok || f.Name == "" {
			continue
		}
		f.When = src
		filters = append(filters, f)
	}
	return filters
}

// parseRequired reads the `required:` list of output paths.
func parseRequired(p *problems, v *yaml.Node) []Field {
	if v.Kind == yaml.ScalarNode && v.ShortTag() == "!!null" {
		return nil
	}
	if v.Kind != yaml.SequenceNode {
		p.add("required", "", v.Line, "must be a list of output paths")
		return nil
	}
	var out []Field
	seen := map[string]int{}
	for _, item := range v.Content {
		item = resolve(item)
		if item.Kind != yaml.ScalarNode || item.ShortTag() != "!!str" {
			p.add("required", "", item.Line, "items must be output paths (strings)")
			continue
		}
		if err := checkPath(item.Value); err != nil {
			p.add("required", item.Value, item.Line, "%v", err)
			continue
		}
		if first, dup := seen[item.Value]; dup {
			p.add("required", item.Value, item.Line, "listed twice (first on line %d)", first)
			continue
		}
		seen[item.Value] = item.Line
		out = append(out, Field{Path: item.Value, Line: item.Line})
	}
	return out
}

// checkRequired makes sure every required path can be produced: it must be a
// field or the parent object of one. Anything else could never be satisfied
// and would dead-letter every record.
func checkRequired(p *problems, doc *document) {
	if len(doc.required) == 0 || len(doc.fields) == 0 {
		return
	}
	for _, r := range doc.required {
		ok := false
		for _, f := range doc.fields {
			if f.Path == r.Path || strings.HasPrefix(f.Path, r.Path+".") {
				ok = true
				break
			}
		}
		if !ok {
			p.add("required", r.Path, r.Line, "not produced by any field")
		}
	}
}

// checkPath validates the shape of an output path.
func checkPath(path string) error {
	if path == "" {
		return errors.New("empty output path")
	}
	for _, seg := range strings.Split(path, ".") {
		if seg == "" {
			return errors.New("empty path segment (leading, trailing or double dot)")
		}
		if strings.IndexFunc(seg, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
			return fmt.Errorf("path segment %q contains whitespace or control characters", seg)
		}
	}
	return nil
}

// validName reports whether s is a valid target or filter name:
// [a-z0-9_-]{1,64}. Such a name is safe as a NATS subject token and as a
// metric label value.
func validName(s string) bool {
	if s == "" || len(s) > maxNameLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
